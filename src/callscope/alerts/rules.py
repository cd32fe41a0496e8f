"""Per-call alert rules, evaluated by the worker on each analysed session.

Rules are pure functions of the analysis and the profile's thresholds (the strategy's
"real-time alerts": hot leads to sales, latency and error breaches to engineering, unhappy
callers and failed bookings to the team that can fix them). Each alert has a deterministic
id (``rule:session_id``) so reprocessing a session never fires it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callscope.profile.model import Profile


@dataclass(frozen=True)
class Alert:
    rule: str
    severity: str  # info | warning | critical
    session_id: str
    message: str
    channel: str  # sales | engineering | product
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        return f"{self.rule}:{self.session_id}"


Rule = Callable[[str, Mapping[str, Any], Profile], "Alert | None"]


def _section(analysis: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = analysis.get(name)
    return value if isinstance(value, Mapping) else {}


def hot_lead(sid: str, analysis: Mapping[str, Any], profile: Profile) -> Alert | None:
    lead = _section(analysis, "lead")
    score = lead.get("score")
    if not isinstance(score, int | float) or score <= profile.scoring.hot_lead_above:
        return None
    sales = _section(analysis, "sales")
    booked = bool(_section(analysis, "tools").get("meeting_booked"))
    facts = ", ".join(
        f"{k.replace('_', ' ')} {v}"
        for k, v in (
            ("team", sales.get("team_size")),
            ("volume/mo", sales.get("monthly_volume")),
            ("integrations", "/".join(sales.get("integrations") or []) or None),
            ("timeline", sales.get("timeline")),
        )
        if v
    )
    return Alert(
        "hot_lead",
        "info",
        sid,
        f"Hot lead (score {score:.0f}{', meeting booked' if booked else ''}): {facts}",
        "sales",
        {"score": score, "meeting_booked": booked},
    )


def latency_breach(sid: str, analysis: Mapping[str, Any], profile: Profile) -> Alert | None:
    e2e = _section(analysis, "performance").get("e2e_latency_ms")
    if not isinstance(e2e, Mapping):
        return None
    p95 = e2e.get("p95")
    limit = profile.thresholds.e2e_latency_ms
    if not isinstance(p95, int | float) or p95 <= limit:
        return None
    severity = "critical" if p95 > 2 * limit else "warning"
    return Alert(
        "latency_breach",
        severity,
        sid,
        f"End-to-end latency p95 {p95:.0f} ms over the {limit:.0f} ms threshold",
        "engineering",
        {"p95_ms": p95, "threshold_ms": limit},
    )


def many_interruptions(sid: str, analysis: Mapping[str, Any], profile: Profile) -> Alert | None:
    n = _section(analysis, "quality").get("interruptions")
    limit = profile.thresholds.interruptions_per_call
    if not isinstance(n, int) or n <= limit:
        return None
    return Alert(
        "interruptions",
        "warning",
        sid,
        f"{n} interruptions in one call (threshold {limit})",
        "product",
        {"interruptions": n},
    )


def unhappy_caller(sid: str, analysis: Mapping[str, Any], profile: Profile) -> Alert | None:
    if _section(analysis, "sentiment").get("overall") != "negative":
        return None
    objections = _section(analysis, "sales").get("objections") or []
    return Alert(
        "negative_sentiment",
        "warning",
        sid,
        "Caller ended the call unhappy"
        + (f" (objections: {', '.join(objections)})" if objections else ""),
        "product",
        {"objections": list(objections)},
    )


def booking_failed(sid: str, analysis: Mapping[str, Any], profile: Profile) -> Alert | None:
    actions = _section(analysis, "actions")
    tools = _section(analysis, "tools")
    failed = actions.get("meeting_failed") or tools.get("meeting_failed")
    if not failed or tools.get("meeting_booked"):
        return None
    return Alert(
        "meeting_booking_failed",
        "critical",
        sid,
        "The caller asked for a meeting and booking failed: follow up by hand",
        "sales",
        {},
    )


DEFAULT_RULES: tuple[Rule, ...] = (
    hot_lead,
    latency_breach,
    many_interruptions,
    unhappy_caller,
    booking_failed,
)


def evaluate(
    session_id: str,
    analysis: Mapping[str, Any],
    profile: Profile,
    rules: tuple[Rule, ...] = DEFAULT_RULES,
) -> list[Alert]:
    """Every alert the rules raise for one analysed call."""
    return [a for a in (rule(session_id, analysis, profile) for rule in rules) if a is not None]
