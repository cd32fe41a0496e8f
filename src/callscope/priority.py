"""Queue priority of a record: hot leads are analyzed (and alerted on) first.

Cheap on purpose (it runs on the ingest path): it reads only what the live agent already
noted in ``discovered_signals`` or an explicit ``priority``, scored with the profile's rule
model, never the transcript.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscope.profile.model import Profile
from callscope.queue.base import PRIORITY_HOT, PRIORITY_NORMAL


def quick_score(signals: Mapping[str, Any], profile: Profile) -> int:
    """The rule model over the agent's own notes (0..100)."""
    s = profile.scoring
    points = 0
    for key, bands in (("team_size", s.team_size), ("monthly_volume", s.monthly_volume)):
        value = signals.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            points += s.band_points(bands, float(value))
    integrations = signals.get("integrations") or signals.get("integration_needs") or []
    if isinstance(integrations, str):
        integrations = [integrations]
    if isinstance(integrations, list):
        points += max([s.integrations.get(str(i).lower(), 0) for i in integrations] or [0])
    timeline = signals.get("timeline") or signals.get("decision_timeline")
    points += s.timeline.get(str(timeline), 0) if timeline else 0
    authority = signals.get("budget_authority")
    points += s.budget_authority.get(str(authority), 0) if authority else 0
    return round(100 * points / s.max_points)


def priority_for(record: Mapping[str, Any], profile: Profile) -> int:
    explicit = record.get("priority")
    if isinstance(explicit, int) and not isinstance(explicit, bool):
        return explicit
    if explicit in ("hot", "hot_lead", "high"):
        return PRIORITY_HOT
    signals = record.get("discovered_signals")
    if not isinstance(signals, Mapping) or not signals:
        return PRIORITY_NORMAL
    if signals.get("hot_lead") is True or str(signals.get("qualification_tier", "")).lower() in (
        "tier_1",
        "tier 1",
        "tier1",
    ):
        return PRIORITY_HOT
    score = quick_score(signals, profile)
    return PRIORITY_HOT if score > profile.scoring.hot_lead_above else PRIORITY_NORMAL
