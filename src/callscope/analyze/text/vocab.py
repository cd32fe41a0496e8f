"""The phrases a profile teaches the engine, read generically from whatever fields it declares.

Normalisation needs them (fusing "docu sign" into the profile's "docusign") and so does the
ASR-noise tool that splits them. Read through this one accessor so both work with every
profile shape: fields with per-value synonyms, or the older fixed ``signals`` lists.
"""

from __future__ import annotations

from typing import Any

from callscope.analyze.text.normalize import normalize


def _value_synonyms(values: Any) -> list[str]:
    out: list[str] = []
    if not isinstance(values, dict):
        return out
    for spec in values.values():
        syns = spec if isinstance(spec, list) else getattr(spec, "synonyms", None)
        if syns is None and isinstance(spec, dict):
            syns = spec.get("synonyms")
        out.extend(s for s in syns or [] if isinstance(s, str))
    return out


def _collect(profile: Any) -> list[str]:
    phrases: list[str] = []
    fields = getattr(profile, "fields", None)
    if isinstance(fields, dict):
        for spec in fields.values():
            phrases.extend(_value_synonyms(getattr(spec, "values", None)))
            phrases.extend(s for s in getattr(spec, "synonyms", None) or [] if isinstance(s, str))
    signals = getattr(profile, "signals", None)
    if signals is not None and hasattr(signals, "model_dump"):
        for values in signals.model_dump().values():
            phrases.extend(_value_synonyms(values))
    for attr in ("vendor_names", "features"):
        extra = getattr(profile, attr, None)
        if isinstance(extra, list):
            phrases.extend(s for s in extra if isinstance(s, str))
        elif isinstance(extra, dict):
            phrases.extend(_value_synonyms(extra))
    for attr in ("company", "product"):
        value = getattr(profile, attr, None)
        if isinstance(value, str) and value:
            phrases.append(value)
    return phrases


# id(profile) -> (profile, phrases); the profile is kept so its id cannot be reused meanwhile.
_CACHE: dict[int, tuple[Any, tuple[str, ...]]] = {}


def profile_phrases(profile: Any) -> tuple[str, ...]:
    """Every synonym, vendor name and product phrase of ``profile``, lower case, de-duplicated."""
    hit = _CACHE.get(id(profile))
    if hit is not None and hit[0] is profile:
        return hit[1]
    phrases = tuple(dict.fromkeys(low for low in (normalize(p) for p in _collect(profile)) if low))
    if len(_CACHE) > 32:
        _CACHE.clear()
    _CACHE[id(profile)] = (profile, phrases)
    return phrases
