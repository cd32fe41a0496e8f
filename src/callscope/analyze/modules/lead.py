"""Lead scoring: the profile's rule model over the sales signals.

``score = round(100 * points / max_points)``; tiers and the hot-lead line come from the
profile. Confidence says how much of the score rests on stated facts rather than unknowns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscope.analyze.registry import registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile, Scoring

VERSION = "1.0.0"
_SCORED = ("team_size", "monthly_volume", "integrations", "timeline", "budget_authority")


def score_signals(sales: Mapping[str, Any], scoring: Scoring) -> dict[str, Any]:
    """Points, score, tier and hot-lead flag for a set of sales signals."""
    team, volume = sales.get("team_size"), sales.get("monthly_volume")
    integrations = [i for i in sales.get("integrations") or [] if isinstance(i, str)]
    breakdown = {
        "team_size": Scoring.band_points(scoring.team_size, team if _is_num(team) else None),
        "monthly_volume": Scoring.band_points(
            scoring.monthly_volume, volume if _is_num(volume) else None
        ),
        "integrations": max((scoring.integrations.get(i, 0) for i in integrations), default=0),
        "timeline": scoring.timeline.get(str(sales.get("timeline")), 0),
        "budget_authority": scoring.budget_authority.get(str(sales.get("budget_authority")), 0),
    }
    points = sum(breakdown.values())
    score = max(0, min(100, round(100 * points / scoring.max_points)))
    return {
        "score": score,
        "tier": scoring.tier_for(score),
        "points": points,
        "max_points": scoring.max_points,
        "hot_lead": score > scoring.hot_lead_above,
        "breakdown": breakdown,
    }


def _is_num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _known(sales: Mapping[str, Any]) -> int:
    return sum(1 for k in _SCORED if sales.get(k) not in (None, [], ""))


@registry.register("lead", VERSION, requires=("sales",))
def analyze_lead(view: CallView, profile: Profile, upstream: Mapping[str, Any]) -> dict[str, Any]:
    sales = upstream["sales"]
    result = score_signals(sales, profile.scoring)
    known = _known(sales)
    result["confidence"] = "high" if known >= 4 else "medium" if known >= 2 else "low"
    result["signals_known"] = known
    return result
