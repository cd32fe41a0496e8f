"""Queue priority of a record: hot leads are analyzed (and alerted on) first.

Cheap on purpose (it runs on the ingest path): it reads only what the live agent already
noted in ``discovered_signals`` or an explicit ``priority``, scored with the profile's rule
model (:func:`callscope.profile.scoring.score_signals`), never the transcript.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from callscope.profile.model import Profile
from callscope.profile.scoring import score_signals
from callscope.queue.base import PRIORITY_HOT, PRIORITY_NORMAL

# Names live agents use for the default fields in their own notes.
_ALIASES = {"integration_needs": "integrations", "decision_timeline": "timeline"}


def _noted_values(signals: Mapping[str, Any], profile: Profile) -> dict[str, Any]:
    """The agent's notes as field values: known fields only, ids lower-cased."""
    values: dict[str, Any] = {}
    for key, value in signals.items():
        fname = _ALIASES.get(key, key)
        spec = profile.fields.get(fname)
        if spec is None or (fname in values and value is None):
            continue
        if spec.kind == "many_of":
            items = [value] if isinstance(value, str) else value
            values[fname] = [str(i).lower() for i in items] if isinstance(items, list) else []
        elif spec.kind in ("one_of",) and value is not None:
            values[fname] = str(value)
        else:
            values[fname] = value
    return values


def _squash(value: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(value or "").lower())


def quick_score(signals: Mapping[str, Any], profile: Profile) -> int:
    """The rule model over the agent's own notes (0..100)."""
    return int(score_signals(_noted_values(signals, profile), profile)["score"])


def priority_for(record: Mapping[str, Any], profile: Profile) -> int:
    explicit = record.get("priority")
    if isinstance(explicit, int) and not isinstance(explicit, bool):
        return explicit
    if explicit in ("hot", "hot_lead", "high"):
        return PRIORITY_HOT
    signals = record.get("discovered_signals")
    if not isinstance(signals, Mapping) or not signals:
        return PRIORITY_NORMAL
    # "tier_1", "Tier 1", "tier1": the best tier however the agent spelled it
    best = _squash(profile.scoring.tier_ids()[0])
    if signals.get("hot_lead") is True or _squash(signals.get("qualification_tier")) == best:
        return PRIORITY_HOT
    score = quick_score(signals, profile)
    return PRIORITY_HOT if score > profile.scoring.hot_lead_above else PRIORITY_NORMAL
