"""Rollup tables that let every dashboard view answer in milliseconds over millions of calls.

Grain: one row per (UTC day, agent name, agent version, lead tier) — the dashboard's filter
dimensions — so any filter combination is a small GROUP BY over a few thousand rows.
Latency percentiles cannot be added up across groups, so latencies are kept as log-scale
histograms (buckets 5 % wide) and percentiles are read from the merged histogram: the answer
is within half a bucket (±2.5 %) of the exact one, for any filter.

Refresh is incremental: the days touched by sessions processed since the last refresh are
deleted and recomputed from the base tables (idempotent, so overlap is harmless). Portable SQL
run through ``Store.execute`` — the same statements on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from callscope.store.base import Store, StoreError

log = logging.getLogger(__name__)

BUCKET_BASE = 1.05
_LN_BASE = math.log(BUCKET_BASE)
# Re-read sessions processed this long before the watermark: rows committed late by a
# concurrent worker (processed_at set before commit) are still picked up.
OVERLAP = timedelta(minutes=2)
# More touched days than this and a full rebuild is cheaper than day-by-day.
FULL_REBUILD_DAYS = 45
UNKNOWN = "(unknown)"

DIMS = "day, agent_name, agent_version, tier"
_DIM_COLS = (
    "day DATE NOT NULL, agent_name TEXT NOT NULL, agent_version TEXT NOT NULL, tier TEXT NOT NULL"
)

DAILY_COUNTERS: tuple[str, ...] = (
    "calls",
    "error_calls",
    "errors",
    "tool_errors",
    "meetings",
    "meeting_failed",
    "hot",
    "engaged",
    "score_sum",
    "duration_sum",
    "cost_sum",
    "cost_calls",
    "kb_searches",
    "kb_failed",
    "calls_with_search",
    "positive",
    "neutral",
    "negative",
    "natural_endings",
    "interruptions",
    "cov_team_size",
    "cov_volume",
    "cov_use_case",
    "cov_industry",
    "cov_authority",
    "cov_timeline",
    "cov_current_tool",
    "cov_integrations",
    "cov_competitors",
    "cov_objections",
    "turns_sum",
    "agent_turns_sum",
    "engagement_sum",
    "engagement_calls",
    "tokens_sum",
    "sat_sum",
    "sat_calls",
    "satisfied",
)
_FLOAT_COUNTERS = frozenset({"duration_sum", "cost_sum", "engagement_sum", "sat_sum"})
# Bumped whenever a rollup table changes shape: older rollups are dropped and rebuilt.
ROLLUP_SCHEMA = "2"

DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS dash_state (key TEXT PRIMARY KEY, value TEXT)",
    f"CREATE TABLE IF NOT EXISTS dash_daily ({_DIM_COLS}, "
    + ", ".join(
        f"{c} {'DOUBLE PRECISION' if c in _FLOAT_COUNTERS else 'BIGINT'} NOT NULL"
        for c in DAILY_COUNTERS
    )
    + f", PRIMARY KEY ({DIMS}))",
    f"CREATE TABLE IF NOT EXISTS dash_latency ({_DIM_COLS}, component TEXT NOT NULL, "
    f"bucket INTEGER NOT NULL, n BIGINT NOT NULL, PRIMARY KEY ({DIMS}, component, bucket))",
    f"CREATE TABLE IF NOT EXISTS dash_labels ({_DIM_COLS}, kind TEXT NOT NULL, "
    f"label TEXT NOT NULL, n BIGINT NOT NULL, total DOUBLE PRECISION, "
    f"PRIMARY KEY ({DIMS}, kind, label))",
    f"CREATE TABLE IF NOT EXISTS dash_kb_failed ({_DIM_COLS}, query TEXT NOT NULL, "
    "n BIGINT NOT NULL, sessions BIGINT NOT NULL, last_at TIMESTAMPTZ, example_session TEXT, "
    f"PRIMARY KEY ({DIMS}, query))",
    f"CREATE TABLE IF NOT EXISTS dash_kb_queries ({_DIM_COLS}, query TEXT NOT NULL, "
    "n BIGINT NOT NULL, failed BIGINT NOT NULL, results_sum BIGINT NOT NULL, "
    "results_n BIGINT NOT NULL, sessions BIGINT NOT NULL, last_at TIMESTAMPTZ, "
    f"example_session TEXT, PRIMARY KEY ({DIMS}, query))",
    # Indexes on the base tables for the views that read them directly (session list, hot
    # leads, live feed). Additive: they do not change what the store writes.
    "CREATE INDEX IF NOT EXISTS ix_dash_sessions_processed_at ON sessions (processed_at)",
    "CREATE INDEX IF NOT EXISTS ix_dash_sessions_score ON sessions (lead_score, started_at)",
)
# What the session list's search box matches (the same expression is indexed on PostgreSQL).
SEARCH_TEXT = (
    "LOWER(COALESCE(session_id, '') || ' ' || COALESCE(user_email, '') || ' ' || "
    "COALESCE(user_name, '') || ' ' || COALESCE(company, ''))"
)
ROLLUP_TABLES: tuple[str, ...] = (
    "dash_daily",
    "dash_latency",
    "dash_labels",
    "dash_kb_failed",
    "dash_kb_queries",
)

# The sessions of the refreshed window with the dimension columns normalised.
_BASE = f"""
SELECT s.session_id, CAST(s.started_at AS DATE) AS day,
       COALESCE(s.agent_name, '{UNKNOWN}') AS agent_name,
       COALESCE(s.agent_version, '{UNKNOWN}') AS agent_version,
       COALESCE(s.lead_tier, 'unqualified') AS tier
FROM sessions s
WHERE s.started_at >= :lo AND s.started_at < :hi
"""

# The quality analyzer's 0..10 satisfaction proxy, where the analysis carries one.
_SATISFACTION = "CAST(s.analysis->'quality'->>'satisfaction_proxy' AS DOUBLE PRECISION)"

_DAILY_SELECT = f"""
SELECT CAST(s.started_at AS DATE),
       COALESCE(s.agent_name, '{UNKNOWN}'), COALESCE(s.agent_version, '{UNKNOWN}'),
       COALESCE(s.lead_tier, 'unqualified'),
       COUNT(*),
       SUM(CASE WHEN COALESCE(s.error_count, 0) > 0 THEN 1 ELSE 0 END),
       SUM(COALESCE(s.error_count, 0)),
       SUM(COALESCE(s.tool_error_count, 0)),
       SUM(CASE WHEN s.meeting_booked THEN 1 ELSE 0 END),
       SUM(CASE WHEN t.meeting_failed > 0 AND NOT COALESCE(s.meeting_booked, FALSE)
                THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.hot_lead THEN 1 ELSE 0 END),
       SUM(CASE WHEN COALESCE(s.user_turns, 0) >= 3 THEN 1 ELSE 0 END),
       SUM(COALESCE(s.lead_score, 0)),
       SUM(COALESCE(s.duration_seconds, 0)),
       SUM(COALESCE(s.cost_usd, 0)),
       SUM(CASE WHEN s.cost_usd IS NOT NULL THEN 1 ELSE 0 END),
       SUM(COALESCE(s.kb_searches, 0)),
       SUM(COALESCE(s.kb_failed_searches, 0)),
       SUM(CASE WHEN COALESCE(s.kb_searches, 0) > 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.sentiment = 'positive' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.sentiment = 'neutral' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.sentiment = 'negative' THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.natural_ending THEN 1 ELSE 0 END),
       SUM(COALESCE(s.interruptions, 0)),
       SUM(CASE WHEN l.team_size IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.monthly_volume IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.use_case IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.industry IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.budget_authority IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.timeline IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN l.current_tool IS NOT NULL THEN 1 ELSE 0 END),
       SUM(COALESCE(g.has_integration, 0)),
       SUM(COALESCE(g.has_competitor, 0)),
       SUM(COALESCE(g.has_objection, 0)),
       SUM(COALESCE(s.turn_count, 0)),
       SUM(COALESCE(s.agent_turns, 0)),
       SUM(COALESCE(s.engagement_score, 0)),
       SUM(CASE WHEN s.engagement_score IS NOT NULL THEN 1 ELSE 0 END),
       SUM(COALESCE(s.llm_input_tokens, 0) + COALESCE(s.llm_output_tokens, 0)),
       SUM(COALESCE({_SATISFACTION}, 0)),
       SUM(CASE WHEN {_SATISFACTION} IS NOT NULL THEN 1 ELSE 0 END),
       SUM(CASE WHEN s.natural_ending AND COALESCE(s.sentiment, '') <> 'negative'
                THEN 1 ELSE 0 END)
FROM sessions s
"""
_SIGNAL_FLAGS = """
    MAX(CASE WHEN ls.kind = 'integration' THEN 1 ELSE 0 END) AS has_integration,
    MAX(CASE WHEN ls.kind = 'competitor' THEN 1 ELSE 0 END) AS has_competitor,
    MAX(CASE WHEN ls.kind = 'objection' THEN 1 ELSE 0 END) AS has_objection"""
_MEETING_FAILED = """
    SUM(CASE WHEN NOT COALESCE(tc.ok, FALSE) THEN 1 ELSE 0 END) AS meeting_failed"""
_IN_RANGE = "s.started_at >= :lo AND s.started_at < :hi"


def _daily_sql(lateral: bool) -> str:
    if lateral:
        # One day's sessions: per-session index lookups beat scanning the child tables.
        joins = f"""
LEFT JOIN leads l ON l.session_id = s.session_id
LEFT JOIN LATERAL (SELECT {_SIGNAL_FLAGS} FROM lead_signals ls
                   WHERE ls.session_id = s.session_id) g ON TRUE
LEFT JOIN LATERAL (SELECT {_MEETING_FAILED} FROM tool_calls tc
                   WHERE tc.session_id = s.session_id AND tc.kind = 'meeting') t ON TRUE
"""
    else:
        joins = f"""
LEFT JOIN leads l ON l.session_id = s.session_id
LEFT JOIN (SELECT ls.session_id, {_SIGNAL_FLAGS}
           FROM lead_signals ls JOIN sessions s ON s.session_id = ls.session_id
           WHERE {_IN_RANGE} GROUP BY ls.session_id) g ON g.session_id = s.session_id
LEFT JOIN (SELECT tc.session_id, {_MEETING_FAILED}
           FROM tool_calls tc JOIN sessions s ON s.session_id = tc.session_id
           WHERE {_IN_RANGE} AND tc.kind = 'meeting' GROUP BY tc.session_id) t
       ON t.session_id = s.session_id
"""
    return (
        f"INSERT INTO dash_daily ({DIMS}, {', '.join(DAILY_COUNTERS)}) {_DAILY_SELECT}"
        f"{joins} WHERE {_IN_RANGE} GROUP BY 1, 2, 3, 4"
    )


def _child(table: str, alias: str, lateral: bool, where: str = "") -> str:
    """Join one child table to the window's sessions ``b``.

    ``lateral``: a correlated subquery per session that the planner may not flatten
    (``OFFSET 0``), so PostgreSQL looks each session up by index instead of scanning the
    whole child table for a one-day refresh. DuckDB decorrelates it into a hash join anyway.
    """
    cond = f" AND {where}" if where else ""
    if lateral:
        return (
            f"CROSS JOIN LATERAL (SELECT * FROM {table} {alias} "
            f"WHERE {alias}.session_id = b.session_id{cond} OFFSET 0) {alias}"
        )
    return f"JOIN {table} {alias} ON {alias}.session_id = b.session_id{cond}"


def _bucket(expr: str) -> str:
    # Values below 1 share bucket 0; latencies are in ms and token rates in tokens/s.
    return f"CAST(FLOOR(LN(GREATEST({expr}, 1.0)) / {_LN_BASE!r}) AS INTEGER)"


# Per-turn component latencies (ms) from the transcript rows; LLM throughput from metrics.
_TURN_COMPONENTS: dict[str, str] = {
    "e2e": "e2e_latency_ms",
    "eou": "end_of_turn_delay_ms",
    "stt": "transcription_delay_ms",
    "llm_ttft": "llm_ttft_ms",
    "tts_ttfb": "tts_ttfb_ms",
}
_DIMS_B = "b.day, b.agent_name, b.agent_version, b.tier"


def _values(alias: str, col: str, names: list[str]) -> str:
    rows = ", ".join(f"('{n}')" for n in names)
    return f"(VALUES {rows}) AS {alias}({col})"


def _case(selector: str, mapping: dict[str, str]) -> str:
    whens = " ".join(f"WHEN '{k}' THEN {v}" for k, v in mapping.items())
    return f"(CASE {selector} {whens} END)"


_TPS = "m.unit = 'tokens/s'"


def _latency_sql(lateral: bool) -> str:
    # One pass over the transcript rows, unpivoted into one value per component.
    value = _case("c.component", {k: f"tr.{v}" for k, v in _TURN_COMPONENTS.items()})
    turns = (
        f"SELECT {_DIMS_B}, c.component AS component, {_bucket(value)} AS bucket "
        f"FROM ({_BASE}) b {_child('transcripts', 'tr', lateral)} "
        f"CROSS JOIN {_values('c', 'component', list(_TURN_COMPONENTS))} "
        f"WHERE {value} IS NOT NULL"
    )
    tps = (
        f"SELECT {_DIMS_B}, 'llm_tps' AS component, {_bucket('m.value')} AS bucket "
        f"FROM ({_BASE}) b "
        f"{_child('metrics', 'm', lateral, where=_TPS)} "
        "WHERE m.value IS NOT NULL"
    )
    return (
        f"INSERT INTO dash_latency ({DIMS}, component, bucket, n) "
        f"SELECT {DIMS}, component, bucket, COUNT(*) FROM ({turns} UNION ALL {tps}) x "
        f"GROUP BY {DIMS}, component, bucket"
    )


def _band(expr: str, edges: Sequence[float], unit: str) -> str:
    """A CASE expression naming the band a value falls in ("< 1 %", "1–2 %", ...)."""
    whens = [f"WHEN {expr} IS NULL THEN 'unknown'"]
    lo: float | None = None
    for edge in edges:
        label = f"< {edge:g}{unit}" if lo is None else f"{lo:g}–{edge:g}{unit}"
        whens.append(f"WHEN {expr} < {edge!r} THEN '{label}'")
        lo = edge
    whens.append(f"ELSE '≥ {lo:g}{unit}'")
    return "CASE " + " ".join(whens) + " END"


PACKET_LOSS_EDGES = (0.5, 1.0, 2.0, 5.0)
JITTER_EDGES = (10.0, 20.0, 30.0, 50.0)

# Keyed JSON objects of the performance analyzer, unnested per dialect: the only statements
# that differ between DuckDB and PostgreSQL (json_keys vs jsonb_each_text).
_JSON_MAPS = {"cost_provider": "cost_by_provider", "error_source": "errors_by_source"}


def _json_map_sql(dialect: str) -> list[str]:
    out = []
    for kind, key in _JSON_MAPS.items():
        obj = f"s.analysis->'performance'->'{key}'"
        if dialect == "postgres":
            out.append(
                f"SELECT {_DIMS_B}, '{kind}' AS kind, e.k AS label, "
                "CAST(e.v AS DOUBLE PRECISION) AS amount "
                f"FROM ({_BASE}) b JOIN sessions s ON s.session_id = b.session_id "
                f"CROSS JOIN LATERAL jsonb_each_text(CASE WHEN jsonb_typeof({obj}) = 'object' "
                f"THEN {obj} ELSE '{{}}'::jsonb END) AS e(k, v)"
            )
        else:
            out.append(
                f"SELECT day, agent_name, agent_version, tier, '{kind}' AS kind, k AS label, "
                "TRY_CAST(obj->>k AS DOUBLE) AS amount FROM ("
                f"SELECT {_DIMS_B}, {obj} AS obj, UNNEST(json_keys({obj})) AS k "
                f"FROM ({_BASE}) b JOIN sessions s ON s.session_id = b.session_id "
                f"WHERE json_type({obj}) = 'OBJECT') j"
            )
    return out


_SESSION_LABELS: dict[str, str] = {
    "browser": "s.device_browser",
    "os": "s.device_os",
    "region": "s.device_location",
    "packet_loss": _band("s.packet_loss_pct", PACKET_LOSS_EDGES, " %"),
    "jitter": _band("s.jitter_ms", JITTER_EDGES, " ms"),
    "close_reason": "s.close_reason",
}
_LEAD_LABELS: dict[str, str] = {
    k: f"l.{k}" for k in ("use_case", "industry", "current_tool", "timeline")
}


def _labels_sql(dialect: str, lateral: bool) -> str:
    # Session attributes: one pass over the window's sessions, unpivoted per kind.
    label = _case("k.kind", _SESSION_LABELS)
    lead_label = _case("k.kind", _LEAD_LABELS)
    parts = [
        f"SELECT {_DIMS_B}, k.kind AS kind, COALESCE({label}, 'unknown') AS label, "
        f"1.0 AS amount FROM ({_BASE}) b JOIN sessions s ON s.session_id = b.session_id "
        f"CROSS JOIN {_values('k', 'kind', list(_SESSION_LABELS))}",
        f"SELECT {_DIMS_B}, ls.kind AS kind, ls.value AS label, 1.0 AS amount "
        f"FROM ({_BASE}) b {_child('lead_signals', 'ls', lateral)}",
        f"SELECT {_DIMS_B}, 'tool_error' AS kind, COALESCE(tc.name, 'unknown') AS label, "
        f"1.0 AS amount FROM ({_BASE}) b {_child('tool_calls', 'tc', lateral)} "
        "WHERE tc.is_error OR NOT COALESCE(tc.ok, TRUE)",
        f"SELECT {_DIMS_B}, k.kind AS kind, {lead_label} AS label, 1.0 AS amount "
        f"FROM ({_BASE}) b JOIN leads l ON l.session_id = b.session_id "
        f"CROSS JOIN {_values('k', 'kind', list(_LEAD_LABELS))} WHERE {lead_label} IS NOT NULL",
        # Every tool call by name (the tool-usage breakdown).
        f"SELECT {_DIMS_B}, 'tool' AS kind, COALESCE(tc.name, 'unknown') AS label, "
        f"1.0 AS amount FROM ({_BASE}) b {_child('tool_calls', 'tc', lateral)}",
        # Raw lead scores and team sizes: the dashboard bins them with the profile's bands.
        f"SELECT {_DIMS_B}, 'lead_score' AS kind, CAST(s.lead_score AS TEXT) AS label, "
        f"1.0 AS amount FROM ({_BASE}) b JOIN sessions s ON s.session_id = b.session_id "
        "WHERE s.lead_score IS NOT NULL",
        f"SELECT {_DIMS_B}, 'team_size' AS kind, CAST(l.team_size AS TEXT) AS label, "
        f"1.0 AS amount FROM ({_BASE}) b JOIN leads l ON l.session_id = b.session_id "
        "WHERE l.team_size IS NOT NULL",
        # Average end-to-end latency per region (total / n): geographic performance.
        f"SELECT {_DIMS_B}, 'region_e2e' AS kind, COALESCE(s.device_location, 'unknown') "
        "AS label, s.e2e_latency_avg_ms AS amount "
        f"FROM ({_BASE}) b JOIN sessions s ON s.session_id = b.session_id "
        "WHERE s.e2e_latency_avg_ms IS NOT NULL",
        *_json_map_sql(dialect),
    ]
    return (
        f"INSERT INTO dash_labels ({DIMS}, kind, label, n, total) "
        f"SELECT {DIMS}, kind, label, COUNT(*), SUM(amount) "
        "FROM (" + " UNION ALL ".join(parts) + f") x GROUP BY {DIMS}, kind, label"
    )


def _kb_failed_sql(lateral: bool) -> str:
    failed = "(tc.is_error OR tc.found = FALSE OR tc.total_results = 0)"
    return f"""
INSERT INTO dash_kb_failed ({DIMS}, query, n, sessions, last_at, example_session)
SELECT {_DIMS_B}, LOWER(TRIM(tc.query)), COUNT(*), COUNT(DISTINCT tc.session_id),
       MAX(tc.started_at), MAX(tc.session_id)
FROM ({_BASE}) b {_child("tool_calls", "tc", lateral, where="tc.kind = 'kb_search'")}
WHERE tc.query IS NOT NULL AND TRIM(tc.query) <> '' AND {failed}
GROUP BY {_DIMS_B}, LOWER(TRIM(tc.query))
"""


def _kb_queries_sql(lateral: bool) -> str:
    failed = "(tc.is_error OR tc.found = FALSE OR tc.total_results = 0)"
    return f"""
INSERT INTO dash_kb_queries ({DIMS}, query, n, failed, results_sum, results_n, sessions,
                             last_at, example_session)
SELECT {_DIMS_B}, LOWER(TRIM(tc.query)), COUNT(*),
       SUM(CASE WHEN {failed} THEN 1 ELSE 0 END),
       SUM(COALESCE(tc.total_results, 0)),
       SUM(CASE WHEN tc.total_results IS NOT NULL THEN 1 ELSE 0 END),
       COUNT(DISTINCT tc.session_id), MAX(tc.started_at), MAX(tc.session_id)
FROM ({_BASE}) b {_child("tool_calls", "tc", lateral, where="tc.kind = 'kb_search'")}
WHERE tc.query IS NOT NULL AND TRIM(tc.query) <> ''
GROUP BY {_DIMS_B}, LOWER(TRIM(tc.query))
"""


def dialect_of(store: Store) -> str:
    return "postgres" if store.url.lower().startswith("postgres") else "duckdb"


def inserts(dialect: str, lateral: bool = False) -> tuple[str, ...]:
    """The statements that fill every rollup for the window ``[:lo, :hi)``."""
    return (
        _daily_sql(lateral),
        _latency_sql(lateral),
        _labels_sql(dialect, lateral),
        _kb_failed_sql(lateral),
        _kb_queries_sql(lateral),
    )


@dataclass(frozen=True)
class RefreshResult:
    days: int
    full: bool
    watermark: datetime | None


_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(store: Store) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(id(store), threading.Lock())


_ensured: set[int] = set()


def ensure_rollups(store: Store) -> None:
    """Create the rollup tables and indexes (once per store object)."""
    if id(store) in _ensured:
        return
    _drop_stale(store)
    for stmt in DDL:
        store.execute(stmt)
    if dialect_of(store) == "postgres":
        # Substring search over 1M sessions needs a trigram index on PostgreSQL (DuckDB scans
        # fast enough). pg_trgm is a trusted extension; without it search still works, slower.
        try:
            store.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            store.execute(
                "CREATE INDEX IF NOT EXISTS ix_dash_sessions_search ON sessions "
                f"USING gin (({SEARCH_TEXT}) gin_trgm_ops)"
            )
        except StoreError as exc:
            log.warning("no trigram index for session search: %s", exc)
    _ensured.add(id(store))


def _drop_stale(store: Store) -> None:
    """Drop rollups built by an older layout; the next refresh rebuilds them in full."""
    store.execute(DDL[0])
    rows = store.fetch("SELECT value FROM dash_state WHERE key = 'schema'")
    if rows and rows[0]["value"] == ROLLUP_SCHEMA:
        return
    for table in ROLLUP_TABLES:
        store.execute(f"DROP TABLE IF EXISTS {table}")
    store.execute("DELETE FROM dash_state")
    store.execute("INSERT INTO dash_state (key, value) VALUES ('schema', ?)", (ROLLUP_SCHEMA,))


def _as_dt(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise TypeError(f"not a timestamp: {value!r}")


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    lo = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return lo, lo + timedelta(days=1)


def get_watermark(store: Store) -> datetime | None:
    rows = store.fetch("SELECT value FROM dash_state WHERE key = 'watermark'")
    return _as_dt(rows[0]["value"]) if rows and rows[0]["value"] else None


def _set_watermark(store: Store, value: datetime) -> None:
    store.execute("DELETE FROM dash_state WHERE key = 'watermark'")
    store.execute(
        "INSERT INTO dash_state (key, value) VALUES ('watermark', ?)", (value.isoformat(),)
    )


def _recompute(store: Store, lo: datetime, hi: datetime, *, lateral: bool = False) -> None:
    lo_day, hi_day = lo.date(), hi.date()
    for table in ROLLUP_TABLES:
        store.execute(f"DELETE FROM {table} WHERE day >= ? AND day < ?", (lo_day, hi_day))
    for stmt in inserts(dialect_of(store), lateral):
        store.execute(stmt, {"lo": lo, "hi": hi})


def refresh_rollups(store: Store, *, full: bool = False) -> RefreshResult:
    """Bring the rollups up to date with the sessions table; cheap when nothing changed.

    Call after the worker writes (or let the dashboard call it on a timer). ``full=True``
    rebuilds everything, e.g. after deletions (which do not move the watermark).
    """
    with _lock_for(store):
        ensure_rollups(store)
        newest = store.fetch("SELECT MAX(processed_at) AS m FROM sessions")
        top = _as_dt(newest[0]["m"]) if newest else None
        mark = None if full else get_watermark(store)
        if top is None:
            if full:
                for table in ROLLUP_TABLES:
                    store.execute(f"DELETE FROM {table}")
            return RefreshResult(days=0, full=full, watermark=None)
        if mark is not None and top <= mark:
            return RefreshResult(days=0, full=False, watermark=mark)
        if mark is None:
            return _full(store, top)
        touched = sorted(
            {
                _as_date(r["d"])
                for r in store.fetch(
                    "SELECT DISTINCT CAST(started_at AS DATE) AS d FROM sessions "
                    "WHERE processed_at > ? AND started_at IS NOT NULL",
                    (mark - OVERLAP,),
                )
            }
        )
        if len(touched) > FULL_REBUILD_DAYS:
            return _full(store, top)
        lateral = dialect_of(store) == "postgres"
        for day in touched:
            _recompute(store, *_day_bounds(day), lateral=lateral)
        _set_watermark(store, top)
        return RefreshResult(days=len(touched), full=False, watermark=top)


def _full(store: Store, top: datetime) -> RefreshResult:
    span = store.fetch("SELECT MIN(started_at) AS lo, MAX(started_at) AS hi FROM sessions")[0]
    lo_ts, hi_ts = _as_dt(span["lo"]), _as_dt(span["hi"])
    for table in ROLLUP_TABLES:
        store.execute(f"DELETE FROM {table}")
    days = 0
    if lo_ts is not None and hi_ts is not None:
        _recompute(store, _day_bounds(lo_ts.date())[0], _day_bounds(hi_ts.date())[1])
        days = (hi_ts.date() - lo_ts.date()).days + 1
    _set_watermark(store, top)
    return RefreshResult(days=days, full=True, watermark=top)


def bucket_value(bucket: int) -> float:
    """The representative value of a histogram bucket (its geometric middle)."""
    return float(BUCKET_BASE ** (bucket + 0.5))


def percentile_from_hist(hist: Sequence[tuple[int, int]], q: float) -> float | None:
    """``q``-quantile of a histogram given as sorted ``(bucket, count)`` pairs."""
    total = sum(n for _, n in hist)
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for bucket, n in hist:
        seen += n
        if seen >= rank:
            return bucket_value(bucket)
    return bucket_value(hist[-1][0])
