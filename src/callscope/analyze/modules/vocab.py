"""Small accessors over the profile and upstream results shared by the insight analyzers.

The profile interface is being reshaped (``profile.fields`` replaces ``profile.signals``) and
the sales signals move under ``signals.*``; reading through these helpers keeps that change a
single edit here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from callscope.analyze.registry import Result
from callscope.analyze.view import CallView, Turn
from callscope.profile.model import Profile


def synonyms(profile: Profile, field: str) -> dict[str, list[str]]:
    """``value id -> spoken synonyms`` of one profile field (new ``fields`` or old ``signals``)."""
    fields = getattr(profile, "fields", None)
    if isinstance(fields, Mapping) and field in fields:
        values = getattr(fields[field], "values", None) or {}
        return {vid: list(getattr(spec, "synonyms", []) or []) for vid, spec in values.items()}
    signals = getattr(profile, "signals", None)
    found = getattr(signals, field, None)
    return {k: list(v) for k, v in found.items()} if isinstance(found, Mapping) else {}


def scored_fields(profile: Profile) -> list[str]:
    """The fields the rule score reads, in profile order."""
    points = getattr(profile.scoring, "points", None)
    if isinstance(points, Mapping):
        return list(points)
    return ["team_size", "monthly_volume", "integrations", "timeline", "budget_authority"]


def signal(upstream: Mapping[str, Result], field: str) -> Any:
    """A signal's value: ``signals.<field>`` when present, else ``sales.<field>``."""
    signals = upstream.get("signals")
    if isinstance(signals, Mapping) and field in signals:
        return signals[field]
    sales = upstream.get("sales") or {}
    return sales.get(field)


def evidence(upstream: Mapping[str, Result], field: str) -> list[dict[str, Any]]:
    """``[{quote, turn}]`` behind a signal (``signal_evidence`` first, then sales evidence)."""
    for section, key in (("signal_evidence", field), ("sales", None)):
        found = upstream.get(section)
        if not isinstance(found, Mapping):
            continue
        items = found.get(field) if key else (found.get("evidence") or {}).get(field)
        if isinstance(items, list):
            return [i for i in items if isinstance(i, Mapping) and "quote" in i]  # type: ignore[misc]
    return []


def known(value: Any) -> bool:
    return value not in (None, [], "", {})


def caller_turns(view: CallView) -> list[Turn]:
    return [t for t in view.turns if t.is_user and t.text.strip()]


def dig(data: Mapping[str, Any], dotted: str) -> Any:
    """``dig(out, "lead.tier")``: a nested value, ``None`` when any step is missing."""
    cur: Any = data
    for part in dotted.split("."):
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def matches(actual: Any, wanted: Any) -> bool:
    """One rule condition: equal, contained (list actual), any-of (list wanted), or a range."""
    if isinstance(wanted, Mapping):
        if not isinstance(actual, int | float) or isinstance(actual, bool):
            return False
        lo, hi = wanted.get("min"), wanted.get("max")
        return (lo is None or actual >= lo) and (hi is None or actual <= hi)
    if isinstance(wanted, list):
        return any(matches(actual, w) for w in wanted)
    if isinstance(actual, list):
        return wanted in actual
    return bool(actual == wanted)


def rule_holds(when: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    return all(matches(dig(data, key), wanted) for key, wanted in when.items())


def clip(text: str, limit: int = 240) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def first_of(items: Sequence[Any]) -> Any:
    return items[0] if items else None
