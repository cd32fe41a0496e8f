"""The profile's ``alerts:`` section: every rule's threshold, window, route and cooldown.

Each rule is named as operators and routes refer to it (``agent_down``, ``hot_lead`` ...).
A rule can be switched off (``enabled: false``), re-routed (``channel:``, matched by the
``routes`` of the sinks config) and re-graded (``severity:``). Thresholds left ``null`` fall
back to the profile's ``thresholds:`` section, so one latency or error-rate figure drives the
dashboard, the per-call analysis and the alerts alike.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warning", "error", "critical"]

# The channels rules publish on; the sinks config routes each to its destinations.
ONCALL, OPS, SALES, PRODUCT, ENGINEERING = "oncall", "ops", "sales", "product", "engineering"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleConfig(_Strict):
    enabled: bool = True
    channel: str = OPS
    severity: Severity = "warning"
    # A key that fired is not fired again for this long after its last notification; still
    # true once the cooldown ends, it fires then (flap damping, never a lost incident).
    cooldown_minutes: float = Field(default=30.0, ge=0)


class CriticalRule(RuleConfig):
    channel: str = ONCALL
    severity: Severity = "critical"


class AgentDown(CriticalRule):
    silence_minutes: float = Field(default=10.0, gt=0)
    # "Recent traffic": at least this many sessions in the lookback before the silence.
    lookback_minutes: float = Field(default=60.0, gt=0)
    min_recent_sessions: int = Field(default=3, ge=1)
    # Quiet hours are learned: an hour of day (UTC) in which this agent averaged fewer than
    # ``quiet_below_per_hour`` sessions over the days of history it has does not page.
    history_days: int = Field(default=14, ge=1)
    min_history_days: int = Field(default=3, ge=1)
    quiet_below_per_hour: float = Field(default=1.0, ge=0)


class ErrorRate(RuleConfig):
    above_pct: float | None = None  # None: the profile's thresholds.error_rate_pct
    window_minutes: float = Field(default=15.0, gt=0)
    min_calls: int = Field(default=5, ge=1)


class ErrorRateCritical(ErrorRate):
    channel: str = ONCALL
    severity: Severity = "critical"
    above_pct: float | None = 10.0
    window_minutes: float = Field(default=5.0, gt=0)


class Latency(RuleConfig):
    above_ms: float | None = None  # None: the profile's thresholds.e2e_latency_ms
    window_minutes: float = Field(default=15.0, gt=0)
    min_calls: int = Field(default=5, ge=1)


class LatencyCritical(Latency):
    channel: str = ONCALL
    severity: Severity = "critical"
    above_ms: float | None = 2000.0
    window_minutes: float = Field(default=5.0, gt=0)


class QueueBacklog(CriticalRule):
    above: int = Field(default=100, ge=0)


class ApiFailures(CriticalRule):
    window_minutes: float = Field(default=15.0, gt=0)
    min_failures: int = Field(default=3, ge=1)
    min_failure_pct: float = Field(default=50.0, ge=0, le=100)


class TokenSpike(RuleConfig):
    factor: float = Field(default=2.0, gt=1)
    window_minutes: float = Field(default=15.0, gt=0)
    min_calls: int = Field(default=3, ge=1)
    baseline_days: float = Field(default=7.0, gt=0)
    min_baseline_calls: int = Field(default=20, ge=1)


class CostBurn(RuleConfig):
    budget_usd_per_hour: float | None = None  # None: no budget, the rule stays silent
    window_minutes: float = Field(default=60.0, gt=0)


class ConnectionDegraded(RuleConfig):
    # The share of the window's calls (p90) at or below these is healthy.
    packet_loss_p90_pct: float = Field(default=3.0, ge=0)
    jitter_p90_ms: float = Field(default=40.0, ge=0)
    window_minutes: float = Field(default=15.0, gt=0)
    min_calls: int = Field(default=5, ge=1)


class BusinessRule(RuleConfig):
    channel: str = SALES
    severity: Severity = "info"


class HotLead(BusinessRule):
    score_above: float | None = None  # None: the profile's scoring.hot_lead_above
    # Participant metadata keys that may carry the CRM's lead id (a returning caller).
    crm_id_keys: list[str] = Field(
        default_factory=lambda: ["salesforce_lead_id", "sf_lead_id", "crm_lead_id"]
    )


class BookingFailed(BusinessRule):
    severity: Severity = "critical"


class PerCall(RuleConfig):
    channel: str = ENGINEERING


class Rules(_Strict):
    agent_down: AgentDown = Field(default_factory=AgentDown)
    error_rate_critical: ErrorRateCritical = Field(default_factory=ErrorRateCritical)
    latency_critical: LatencyCritical = Field(default_factory=LatencyCritical)
    queue_backlog: QueueBacklog = Field(default_factory=QueueBacklog)
    api_failures: ApiFailures = Field(default_factory=ApiFailures)
    latency_sustained: Latency = Field(default_factory=Latency)
    error_rate_high: ErrorRate = Field(default_factory=ErrorRate)
    token_spike: TokenSpike = Field(default_factory=TokenSpike)
    cost_burn: CostBurn = Field(default_factory=CostBurn)
    connection_degraded: ConnectionDegraded = Field(default_factory=ConnectionDegraded)
    hot_lead: HotLead = Field(default_factory=HotLead)
    meeting_booked: BusinessRule = Field(default_factory=BusinessRule)
    competitor_mentioned: BusinessRule = Field(default_factory=BusinessRule)
    meeting_booking_failed: BookingFailed = Field(default_factory=BookingFailed)
    latency_breach: PerCall = Field(default_factory=PerCall)
    interruptions: PerCall = Field(default_factory=lambda: PerCall(channel=PRODUCT))
    negative_sentiment: PerCall = Field(default_factory=lambda: PerCall(channel=PRODUCT))


class AlertsConfig(_Strict):
    rules: Rules = Field(default_factory=Rules)
    # How often ``callscope alerts run`` (and serve's inline loop) evaluates the rules.
    interval_s: float = Field(default=60.0, gt=0)
    # competitor id -> the recommendation shown in competitor_mentioned alerts. The analysis'
    # own ``next_step.battlecards`` (when the insights module writes them) win over these.
    battlecards: dict[str, str] = Field(default_factory=dict)
    # Base URL of the CRM for lead links, e.g. https://acme.my.salesforce.com
    salesforce_url: str | None = None
