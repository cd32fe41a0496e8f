"""Portable placeholders: ``?`` and ``:name`` in, each driver's own style out.

DuckDB takes ``?``; psycopg takes ``%s`` (and needs a literal ``%`` doubled). Named ``:name``
placeholders become positional ones in order of appearance, so one query string runs on both.
String literals, quoted identifiers, comments and ``::`` casts are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from callscope.store.base import Params, StoreError


@lru_cache(maxsize=512)
def translate(sql: str, style: str) -> tuple[str, tuple[str, ...] | None]:
    """Return ``(sql for the driver, named parameters in order or None when positional)``."""
    mark = "%s" if style == "psycopg" else "?"
    out: list[str] = []
    names: list[str] = []
    positional = False
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote inside a literal
                        j += 2
                        continue
                    break
                j += 1
            chunk = sql[i : j + 1]
            out.append(chunk.replace("%", "%%") if style == "psycopg" else chunk)
            i = j + 1
        elif ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            out.append(sql[i:j])
            i = j
        elif ch == ":" and sql.startswith("::", i):
            out.append("::")
            i += 2
        elif ch == ":" and i + 1 < n and (sql[i + 1].isalpha() or sql[i + 1] == "_"):
            j = i + 1
            while j < n and (sql[j].isalnum() or sql[j] == "_"):
                j += 1
            names.append(sql[i + 1 : j])
            out.append(mark)
            i = j
        elif ch == "?":
            positional = True
            out.append(mark)
            i += 1
        elif ch == "%" and style == "psycopg":
            out.append("%%")
            i += 1
        else:
            out.append(ch)
            i += 1
    if positional and names:
        raise StoreError("query mixes ? and :name placeholders; use one style")
    return "".join(out), (tuple(names) if names else None)


def bind(sql: str, params: Params, style: str) -> tuple[str, list[Any]]:
    """Translate ``sql`` and order ``params`` for the driver."""
    text, names = translate(sql, style)
    if names is None:
        if isinstance(params, Mapping):
            if params:
                raise StoreError("named parameters given but the query has no :name placeholder")
            return text, []
        return text, list(params)
    if not isinstance(params, Mapping):
        raise StoreError("query uses :name placeholders; pass a mapping of parameters")
    missing = [k for k in names if k not in params]
    if missing:
        raise StoreError(f"missing query parameter(s): {', '.join(sorted(set(missing)))}")
    return text, [params[k] for k in names]


def check_table(name: str, known: Sequence[str]) -> str:
    if name not in known:
        raise StoreError(f"unknown table {name!r} (one of {', '.join(known)})")
    return name


# Named queries: the warehouse SQL other stages need, kept beside the schema it reads so a
# column rename is one edit here. Portable (DuckDB and PostgreSQL run them as they are).
QUERIES: dict[str, str] = {
    "analyzer_versions": "SELECT session_id, analyzer_versions FROM sessions",
    "warehouse_summary": (
        "SELECT count(*) AS calls, "
        "sum(CASE WHEN lead_tier = 'tier_1' THEN 1 ELSE 0 END) AS tier_1, "
        "sum(CASE WHEN lead_tier = 'tier_2' THEN 1 ELSE 0 END) AS tier_2, "
        "sum(CASE WHEN hot_lead THEN 1 ELSE 0 END) AS hot_leads, "
        "sum(CASE WHEN meeting_booked THEN 1 ELSE 0 END) AS meetings, "
        "avg(e2e_latency_p95_ms) AS p95_latency_ms, avg(cost_usd) AS cost_per_call "
        "FROM sessions"
    ),
    "session_ids": "SELECT session_id FROM sessions",
    "signals_of_session": (
        "SELECT field, value, value_num, evidence, turn, profile FROM signals "
        "WHERE session_id = :session_id ORDER BY field, value"
    ),
    "signal_values": (
        "SELECT profile, field, value, sessions, avg_value_num, meetings_booked, "
        "avg_lead_score, first_seen, last_seen FROM v_signal_values "
        "WHERE (CAST(:field AS TEXT) IS NULL OR field = :field) "
        "ORDER BY field, sessions DESC, value"
    ),
}


def named(name: str) -> str:
    """The SQL of a named query; a clear error for a name that does not exist."""
    try:
        return QUERIES[name]
    except KeyError:
        raise StoreError(f"unknown named query {name!r} (one of {', '.join(QUERIES)})") from None
