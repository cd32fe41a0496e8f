"""Everything the dashboard reads from the active profile, in one place.

Field labels, value labels, numeric bands and tiers. The profile interface of
docs/profiles.md (``profile.fields``, ``profile.label()``, ``scoring.tier_ids()``) is used
when the profile has it; until then the same answers are derived from today's profile
(``profile.signals`` dicts, ``scoring`` bands and tiers). Adapting to the new interface is
an edit to this module only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscope.profile import Profile
from callscope.store.panels import Band, Tiers

# Fields today's profile has without a ``signals`` vocabulary (numbers read by scoring).
_NUMBER_FIELDS = ("team_size", "monthly_volume")
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


def _fields(profile: Profile) -> Mapping[str, Any] | None:
    fields = getattr(profile, "fields", None)
    return fields if isinstance(fields, Mapping) else None


def field_names(profile: Profile) -> list[str]:
    fields = _fields(profile)
    if fields is not None:
        return list(fields)
    names = list(_NUMBER_FIELDS)
    names += list(type(profile.signals).model_fields)
    return names


def has_field(profile: Profile, name: str) -> bool:
    return name in field_names(profile)


def field_label(profile: Profile, name: str) -> str:
    fields = _fields(profile)
    if fields is not None and name in fields:
        return str(getattr(fields[name], "label", name))
    return _DEFAULT_LABELS.get(name, name.replace("_", " ").capitalize())


def value_label(profile: Profile, field: str, value: str) -> str:
    """The display label of one value id of ``field`` (falls back to the id, readable)."""
    label = getattr(profile, "label", None)
    if callable(label):
        try:
            return str(label(field, value))
        except (KeyError, ValueError):
            pass
    return value.replace("_", " ")


def bands(profile: Profile, field: str) -> list[Band]:
    """Numeric bands of ``field`` (team size, volume): the profile's own, in order."""
    fields = _fields(profile)
    raw: Any = None
    if fields is not None and field in fields:
        raw = getattr(fields[field], "bands", None)
    if raw is None:
        raw = getattr(profile.scoring, field, None)
    out = []
    for b in raw or []:
        lo, hi = getattr(b, "min", None), getattr(b, "max", None)
        name = getattr(b, "label", None) or (f"{lo:g}+" if hi is None else f"{lo:g}–{hi:g}")
        out.append(Band(str(name), lo, hi))
    return out


def tiers(profile: Profile) -> Tiers:
    scoring = profile.scoring
    ids_fn = getattr(scoring, "tier_ids", None)
    if callable(ids_fn):
        ids = tuple(str(t) for t in ids_fn())
    else:
        ranked = sorted(scoring.tiers.items(), key=lambda kv: -kv[1])
        ids = (*(t for t, _ in ranked), scoring.below_tiers)
    return Tiers(ids=ids, qualified=ids[:-1])


def tier_label(profile: Profile, tier: str) -> str:
    fn = getattr(profile.scoring, "tier_label", None)
    if callable(fn):
        return str(fn(tier))
    return tier.replace("_", " ")


def relabel(spec: dict[str, Any], profile: Profile) -> dict[str, Any]:
    """Chart labels that are value ids (``field``) or field names (``@fields``), named."""
    field = spec.get("field")
    if not field or not spec.get("labels"):
        return spec
    ids = list(spec["labels"])
    if field == "@fields":
        names = [field_label(profile, i) for i in ids]
    else:
        names = [value_label(profile, str(field), i) if i != "other" else i for i in ids]
    return {**spec, "labels": names, "ids": ids}
