"""Everything the dashboard reads from the active profile, in one place.

Field labels, value labels, numeric bands and tiers, through the profile interface of
docs/profiles.md (``profile.fields``, ``profile.value_label()``, ``scoring.tier_ids()``).
"""

from __future__ import annotations

from typing import Any

from callscope.profile import Profile
from callscope.store.panels import Band
from callscope.store.queries import Tiers

_DEFAULT_LABELS = {
    "team_size": "Team size",
    "monthly_volume": "Monthly volume",
    "integrations": "Integrations",
    "current_tool": "Current tool",
    "competitors": "Competitors",
    "objections": "Objections",
    "use_case": "Use case",
    "industry": "Industry",
    "budget_authority": "Budget authority",
    "timeline": "Timeline",
}
COMPONENT_LABELS = {
    "e2e": "End-to-end latency",
    "eou": "End-of-utterance delay",
    "stt": "STT (transcription delay)",
    "llm_ttft": "LLM time to first token",
    "llm_tps": "LLM tokens per second",
    "tts_ttfb": "TTS time to first byte",
}


def field_names(profile: Profile) -> list[str]:
    return list(profile.fields)


def has_field(profile: Profile, name: str) -> bool:
    return name in profile.fields


def field_label(profile: Profile, name: str) -> str:
    if name in profile.fields:
        return profile.field_label(name)
    return _DEFAULT_LABELS.get(name, name.replace("_", " ").capitalize())


def value_label(profile: Profile, field: str, value: str) -> str:
    """The display label of one value id of ``field`` (falls back to the id, readable)."""
    if field in profile.fields:
        return profile.value_label(field, value)
    return value.replace("_", " ")


def bands(profile: Profile, field: str) -> list[Band]:
    """Numeric bands of ``field`` (team size, volume): the profile's own, in order."""
    spec = profile.fields.get(field)
    out = []
    for b in spec.bands if spec else []:
        lo = None if b.min == float("-inf") else b.min
        out.append(Band(b.label, lo, b.max))
    return out


def tiers(profile: Profile) -> Tiers:
    return Tiers.of(profile)


def tier_label(profile: Profile, tier: str) -> str:
    return profile.scoring.tier_label(tier)


def tier_class(profile: Profile, tier: str | None) -> str:
    """The tag colour of a tier by its rank: the best, one between, or the below-tiers one."""
    ids = profile.scoring.tier_ids()
    if not tier or tier == ids[-1]:
        return "tier-below"
    return "tier-top" if tier == ids[0] else "tier-mid"


def relabel(spec: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """Chart labels that are value ids (``field``), field names (``@fields``) or tier ids
    (``@tiers``), named."""
    field = spec.get("field")
    if not field or not spec.get("labels"):
        return spec
    ids = list(spec["labels"])
    if field == "@fields":
        names = [field_label(profile, i) for i in ids]
    elif field == "@tiers":
        names = [tier_label(profile, i) for i in ids]
    else:
        names = [value_label(profile, str(field), i) if i != "other" else i for i in ids]
    return {**spec, "labels": names, "ids": ids}
