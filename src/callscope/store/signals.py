"""The long-form ``signals`` table: one row per profile field value of a call.

Read from the analysis output's ``signals.<field>`` and ``signal_evidence.<field>`` (every
profile); until an analysis carries them, from the ``sales`` section and its ``evidence``.
A profile adding a field therefore adds rows, never a column or a migration.

Value kinds: an id (``one_of``) or ids (``many_of``, one row each), a number (``value_num``
too), yes/no (``"true"``/``"false"``, ``value_num`` 1/0), quotes (``text``, one row each).
Unknown values (null, empty lists) have no row.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any

from callscope.store.base import ProcessedSession

# Keys of the legacy ``sales`` section that are structure, not profile fields.
_NOT_FIELDS = frozenset({"evidence", "bant", "pain_points", "decision_makers", "next_steps"})


def signal_values(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """Field -> value of one analysis (``signals``, else the ``sales`` fields)."""
    given = analysis.get("signals")
    if isinstance(given, dict):
        return given
    sales = analysis.get("sales")
    if not isinstance(sales, dict):
        return {}
    return {k: v for k, v in sales.items() if k not in _NOT_FIELDS and not isinstance(v, dict)}


def signal_evidence(analysis: Mapping[str, Any]) -> dict[str, Any]:
    """Field -> [{quote, turn}] (``signal_evidence``, else ``sales.evidence``)."""
    given = analysis.get("signal_evidence")
    if isinstance(given, dict):
        return given
    sales = analysis.get("sales")
    evidence = sales.get("evidence") if isinstance(sales, dict) else None
    return evidence if isinstance(evidence, dict) else {}


def _scalar(value: Any) -> tuple[str, float | None] | None:
    """(value as text, number) of one scalar, or None when it has no row."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return ("true" if value else "false"), (1.0 if value else 0.0)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return None
        num = float(value)
        return (str(int(num)) if num.is_integer() else repr(num)), num
    text = str(value).replace("\x00", "").strip()
    return (text, None) if text else None


def _values(value: Any) -> Iterator[tuple[str, float | None]]:
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, dict):  # a quote kept as {quote, turn}
            item = item.get("quote")
        got = _scalar(item)
        if got is not None:
            yield got


def _first_evidence(evidence: Any) -> tuple[str | None, int | None]:
    if isinstance(evidence, list):
        for e in evidence:
            if isinstance(e, dict) and isinstance(e.get("quote"), str):
                turn = e.get("turn")
                ok = isinstance(turn, int) and not isinstance(turn, bool) and abs(turn) < 2**31
                return e["quote"].replace("\x00", ""), (turn if ok else None)
    return None, None


def signal_rows(p: ProcessedSession, consent: bool) -> Iterator[dict[str, Any]]:
    """The ``signals`` rows of one processed session.

    Without analytics consent nothing was read from the words, and no quote may be kept.
    """
    if not consent:
        return
    values, evidence = signal_values(p.analysis), signal_evidence(p.analysis)
    sid, started = p.record.session_id, p.record.started_at
    for name, value in values.items():
        field = str(name)
        quote, turn = _first_evidence(evidence.get(name))
        seen: set[str] = set()
        for text, num in _values(value):
            if text in seen:
                continue
            seen.add(text)
            yield {
                "session_id": sid,
                "field": field,
                "value": text,
                "value_num": num,
                "evidence": quote,
                "turn": turn,
                "profile": p.profile,
                "started_at": started,
            }
