"""The ``insights:`` section of a profile: business vocabulary of the insight analyzers.

Everything an insight needs that is a business word rather than language structure lives
here: the product's features, the cue phrases of buying signals and stakeholders, battlecards
per competitor, routing of leads to owners, the next-best-action rule table, and the cost
budget. Every list is optional; an empty section turns the matching insight off (empty
lists / nulls in the output), never into an error.

Rules (``routing``, ``next_best_actions``) hold ``when``: a mapping of dotted analysis-output
keys (``lead.tier``, ``tools.meeting_booked``, ``sales.industry``, ``insights.location``) to a
wanted value. A scalar must equal the value (or be contained in it when the value is a list),
a list means any of its items, and ``{min, max}`` bounds a number. All conditions must hold;
the first matching rule wins.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Priority = Literal["high", "medium", "low"]
BUYING_SIGNAL_KINDS = (
    "asked_pricing",
    "asked_rollout",
    "named_start_date",
    "asked_contract",
    "asked_trial_extension",
    "requested_demo",
    "other",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FeatureSpec(_Strict):
    label: str
    synonyms: list[str] = Field(default_factory=list)


class Rule(_Strict):
    when: dict[str, Any] = Field(default_factory=dict)


class RoutingRule(Rule):
    owner: str


class ActionRule(Rule):
    action: str
    priority: Priority | None = None
    follow_up_days: int | None = Field(default=None, ge=0)


class Budget(_Strict):
    cost_per_hour_usd: float | None = Field(default=None, gt=0)
    cost_per_call_usd: float | None = Field(default=None, gt=0)


class Impact(_Strict):
    """Assumptions for ROI when no outcomes are recorded (each reported as an assumption)."""

    average_deal_usd: float = Field(default=0.0, ge=0)
    human_cost_per_hour_usd: float = Field(default=0.0, ge=0)
    baseline_trial_conversion: float = Field(default=0.0, ge=0, le=1)


class InsightsConfig(_Strict):
    features: dict[str, FeatureSpec] = Field(default_factory=dict)
    buying_signals: dict[str, list[str]] = Field(default_factory=dict)
    stakeholders: dict[str, list[str]] = Field(default_factory=dict)
    switching_barriers: dict[str, list[str]] = Field(default_factory=dict)
    # objection ids of the sales signals that are switching barriers when raised
    barrier_objections: list[str] = Field(default_factory=list)
    interest: dict[Priority, list[str]] = Field(default_factory=dict)
    urgency: dict[Priority, list[str]] = Field(default_factory=dict)
    urgency_from_timeline: dict[str, Priority] = Field(default_factory=dict)
    location_metadata_keys: list[str] = Field(default_factory=lambda: ["location", "city"])
    battlecards: dict[str, str] = Field(default_factory=dict)
    routing: list[RoutingRule] = Field(default_factory=list)
    default_owner: str | None = None
    next_best_actions: list[ActionRule] = Field(default_factory=list)
    default_action: str = "Follow up by email"
    budget: Budget = Field(default_factory=Budget)
    impact: Impact = Field(default_factory=Impact)
    # rule-score fields behind the lead sub-scores company_fit / urgency / authority
    lead_inputs: dict[str, list[str]] = Field(default_factory=dict)
    # sales fields that count towards discovery completion; empty: every scored signal
    discovery_fields: list[str] = Field(default_factory=list)

    @field_validator("buying_signals")
    @classmethod
    def _known_kinds(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = sorted(set(value) - set(BUYING_SIGNAL_KINDS))
        if unknown:
            raise ValueError(f"unknown buying signal kinds {unknown} (use {BUYING_SIGNAL_KINDS})")
        return value
