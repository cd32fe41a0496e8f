"""The profile's rule model: points per value or band, the score, the tier, the hot line.

The only lead scorer. The lead analyzer, queue priority (on the ingest path, so it lives
here and not among the analyzers), the warehouse and the sinks all call :func:`score_signals`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscope.profile.model import FieldSpec, Profile


def _is_num(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def field_points(spec: FieldSpec, rule: dict[str, int] | int, value: Any, combine: str) -> int:
    """Points one field's value earns under its scoring rule."""
    if isinstance(rule, int):  # yes/no: points when true
        return rule if value is True else 0
    if spec.kind == "number":
        band = spec.band_for(float(value)) if _is_num(value) else None
        return rule.get(band.label, 0) if band else 0
    if spec.kind == "many_of":
        earned = [rule.get(v, 0) for v in value or [] if isinstance(v, str)]
        return (sum(earned) if combine == "sum" else max(earned, default=0)) if earned else 0
    return rule.get(str(value), 0) if value is not None else 0


def score_signals(signals: Mapping[str, Any], profile: Profile) -> dict[str, Any]:
    """Points, score, tier and hot-lead flag for a set of field values."""
    scoring = profile.scoring
    breakdown = {
        fname: field_points(
            profile.fields[fname], rule, signals.get(fname), scoring.combine.get(fname, "max")
        )
        for fname, rule in scoring.points.items()
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


def known_scored(signals: Mapping[str, Any], profile: Profile) -> int:
    return sum(1 for k in profile.scoring.points if signals.get(k) not in (None, [], ""))


def confidence(known: int, scored: int) -> str:
    share = known / scored if scored else 0.0
    return "high" if share >= 0.8 else "medium" if share >= 0.4 else "low"
