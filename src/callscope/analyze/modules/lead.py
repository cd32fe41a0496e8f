"""Lead scoring: the profile's rule model over the fields the engine read.

``score = round(100 * points / max_points)``; points per value or band, tiers and the
hot-lead line all come from ``profile.scoring``. This is the only scorer: queue priority,
the warehouse and the sinks call :func:`score_signals`. Confidence says how much of the
score rests on stated facts rather than unknowns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscope.analyze.registry import registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile
from callscope.profile.scoring import confidence, known_scored, score_signals

__all__ = ["analyze_lead", "score_signals"]

VERSION = "2.0.0"


@registry.register("lead", VERSION, requires=("sales",))
def analyze_lead(view: CallView, profile: Profile, upstream: Mapping[str, Any]) -> dict[str, Any]:
    sales = upstream["sales"]
    signals = sales.get("signals", sales)
    result = score_signals(signals, profile)
    known = known_scored(signals, profile)
    result["confidence"] = confidence(known, len(profile.scoring.points))
    result["signals_known"] = known
    return result
