"""Business impact from outcomes: conversion, assisted revenue, pipeline, ROI.

Measured figures come from the ``outcomes`` table joined to the calls. When there are no
outcomes, ROI falls back to the profile's ``insights.impact`` assumptions, and every figure
taken from an assumption is named in ``assumptions`` so no view presents a guess as a fact.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

from callscope.outcomes.store import labeled_calls
from callscope.profile.model import Profile
from callscope.store.base import Store


@dataclass
class BusinessImpact:
    calls: int = 0
    calls_with_outcome: int = 0
    trial_to_paid: float | None = None
    assisted_revenue: float | None = None
    pipeline_influenced: float | None = None
    time_to_value_days: float | None = None
    escalation_rate: float | None = None
    return_caller_rate: float | None = None
    cost_usd: float = 0.0
    value_usd: float | None = None
    roi_pct: float | None = None
    measured: bool = False
    assumptions: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_TOTALS = """
SELECT COUNT(*) AS calls, COALESCE(SUM(cost_usd), 0) AS cost,
       COUNT(DISTINCT LOWER(user_email)) AS callers,
       SUM(CASE WHEN lead_tier IN ({tiers}) THEN 1 ELSE 0 END) AS qualified
FROM sessions
"""
_RETURNING = """
SELECT COUNT(*) AS returning FROM (
  SELECT LOWER(user_email) AS e FROM sessions
  WHERE user_email IS NOT NULL AND user_email <> ''
  GROUP BY LOWER(user_email) HAVING COUNT(*) > 1
) AS r
"""
_TRIALS = """
SELECT COUNT(DISTINCT COALESCE(o.email, o.session_id)) AS with_outcome,
       COUNT(DISTINCT CASE WHEN o.trial_converted THEN COALESCE(o.email, o.session_id) END)
         AS converted,
       SUM(CASE WHEN o.closed_won THEN o.amount ELSE 0 END) AS won,
       SUM(CASE WHEN o.closed_won IS NULL THEN o.amount ELSE 0 END) AS open_pipeline
FROM outcomes AS o
WHERE o.email IN (SELECT LOWER(user_email) FROM sessions)
   OR o.session_id IN (SELECT session_id FROM sessions)
"""
_TIME_TO_VALUE = """
SELECT MIN(s.started_at) AS first_call, MIN(o.occurred_at) AS converted_at
FROM outcomes AS o
JOIN sessions AS s ON LOWER(s.user_email) = o.email OR s.session_id = o.session_id
WHERE (o.trial_converted OR o.closed_won) AND o.occurred_at IS NOT NULL
GROUP BY COALESCE(o.email, o.session_id)
"""


def _escalated(analysis: dict[str, Any]) -> bool:
    actions = analysis.get("actions") or {}
    owners = actions.get("owners") or []
    return "sales" in owners or bool(actions.get("needs_attention"))


def _totals(store: Store, qualified_tiers: list[str]) -> dict[str, Any]:
    # The profile names its qualified tiers; they are bound, never spelled in the SQL.
    tiers = qualified_tiers or [""]
    sql = _TOTALS.format(tiers=", ".join("?" for _ in tiers))
    return store.fetch(sql, tuple(tiers))[0]


def business_impact(store: Store, profile: Profile) -> BusinessImpact:
    assumptions = profile.insights.impact
    t = _totals(store, profile.scoring.qualified_ids())
    out = BusinessImpact(calls=int(t["calls"] or 0), cost_usd=round(float(t["cost"] or 0), 2))
    callers = int(t["callers"] or 0)
    returning = int(store.fetch(_RETURNING)[0]["returning"] or 0)
    out.return_caller_rate = round(returning / callers, 3) if callers else None
    labeled = labeled_calls(store)
    out.calls_with_outcome = len(labeled)
    if labeled:
        out.escalation_rate = round(sum(_escalated(c.analysis) for c in labeled) / len(labeled), 3)
    trials = store.fetch(_TRIALS)[0]
    with_outcome = int(trials["with_outcome"] or 0)
    if with_outcome:
        out.measured = True
        out.trial_to_paid = round(int(trials["converted"] or 0) / with_outcome, 3)
        out.assisted_revenue = round(float(trials["won"] or 0), 2)
        out.pipeline_influenced = round(float(trials["open_pipeline"] or 0), 2)
        days = [
            (r["converted_at"] - r["first_call"]).total_seconds() / 86400
            for r in store.fetch(_TIME_TO_VALUE)
            if r["first_call"] is not None and r["converted_at"] >= r["first_call"]
        ]
        out.time_to_value_days = round(median(days), 1) if days else None
        out.value_usd = out.assisted_revenue
    else:
        qualified = int(t["qualified"] or 0)
        out.trial_to_paid = assumptions.baseline_trial_conversion or None
        out.value_usd = round(
            qualified * assumptions.baseline_trial_conversion * assumptions.average_deal_usd, 2
        )
        out.assumptions = [
            f"trial_to_paid = {assumptions.baseline_trial_conversion} "
            "(profile insights.impact.baseline_trial_conversion)",
            "value = qualified leads x trial_to_paid x average deal "
            f"${assumptions.average_deal_usd} (profile insights.impact.average_deal_usd)",
        ]
    if out.cost_usd and out.value_usd is not None:
        out.roi_pct = round((out.value_usd - out.cost_usd) / out.cost_usd * 100, 1)
    return out
