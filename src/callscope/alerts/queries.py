"""Every warehouse query the alert rules run, by name, through the store's public API.

Portable SQL only (``?`` placeholders, no dialect functions), so DuckDB and PostgreSQL
answer the same; percentiles and hour-of-day slots are computed in Python on small results.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

from callscope.store.base import Store
from callscope.store.schema import ALERT_STATE, Table

_TYPES = {"text": "TEXT", "int": "INTEGER", "ts": "TIMESTAMPTZ", "json": "JSON"}


def ensure_state_table(store: Store) -> None:
    """Create ``alert_state`` in a warehouse migrated before the table existed."""
    store.execute(_create(ALERT_STATE))


def _create(table: Table) -> str:
    cols = [f"{c.name} {_TYPES[c.type]}{' NOT NULL' if c.not_null else ''}" for c in table.columns]
    cols.append(f"PRIMARY KEY ({', '.join(table.primary_key)})")
    return f"CREATE TABLE IF NOT EXISTS {table.name} ({', '.join(cols)})"


def _table_exists(store: Store, name: str) -> bool:
    rows = store.fetch(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = ?", [name]
    )
    return bool(rows and rows[0]["n"])


# -- sessions ------------------------------------------------------------------------------

SESSION_COLUMNS = """agent_name, started_at, error_count, e2e_latency_avg_ms,
       llm_input_tokens, llm_output_tokens, cost_usd, packet_loss_pct, jitter_ms"""


def window_sessions(store: Store, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """The per-call facts of every session that started in ``[since, until)``."""
    return store.fetch(
        f"SELECT {SESSION_COLUMNS} FROM sessions WHERE started_at >= ? AND started_at < ? "
        "ORDER BY started_at",
        [since, until],
    )


def token_baseline(store: Store, since: datetime, until: datetime) -> dict[str, tuple[float, int]]:
    """Per agent: (average LLM tokens per call, calls) over ``[since, until)``."""
    rows = store.fetch(
        """SELECT agent_name, COUNT(*) AS calls,
                  AVG(COALESCE(llm_input_tokens, 0) + COALESCE(llm_output_tokens, 0)) AS tokens
           FROM sessions WHERE started_at >= ? AND started_at < ?
           GROUP BY agent_name""",
        [since, until],
    )
    return {
        str(r["agent_name"]): (float(r["tokens"] or 0), int(r["calls"]))
        for r in rows
        if r["agent_name"] is not None
    }


@dataclass(frozen=True)
class AgentActivity:
    agent: str
    last_started_at: datetime
    recent_sessions: int  # in the lookback window


def agent_activity(store: Store, since: datetime, until: datetime) -> list[AgentActivity]:
    """Agents with a session in ``[since, until)``: their latest start and how many."""
    rows = store.fetch(
        """SELECT agent_name, MAX(started_at) AS last_started_at, COUNT(*) AS n
           FROM sessions WHERE started_at >= ? AND started_at < ? AND agent_name IS NOT NULL
           GROUP BY agent_name ORDER BY agent_name""",
        [since, until],
    )
    return [AgentActivity(str(r["agent_name"]), r["last_started_at"], int(r["n"])) for r in rows]


def last_session(store: Store, agent: str) -> AgentActivity | None:
    rows = store.fetch(
        "SELECT MAX(started_at) AS last_started_at FROM sessions WHERE agent_name = ?", [agent]
    )
    last = rows[0]["last_started_at"] if rows else None
    return None if last is None else AgentActivity(agent, last, 0)


def hour_slot_history(store: Store, agent: str, at: datetime, days: int) -> tuple[int, int]:
    """(sessions in this clock hour on each of the previous ``days`` days, days with traffic)."""
    hour = at.replace(minute=0, second=0, microsecond=0)
    slots: list[Any] = []
    for d in range(1, days + 1):
        slots += [hour - timedelta(days=d), hour - timedelta(days=d) + timedelta(hours=1)]
    where = " OR ".join(["(started_at >= ? AND started_at < ?)"] * days)
    in_slot = store.fetch(
        f"SELECT COUNT(*) AS n FROM sessions WHERE agent_name = ? AND ({where})", [agent, *slots]
    )
    day_rows = store.fetch(
        "SELECT started_at FROM sessions WHERE agent_name = ? AND started_at >= ? "
        "AND started_at < ?",
        [agent, hour - timedelta(days=days), hour],
    )
    active_days = {(hour - r["started_at"]).days for r in day_rows}
    return int(in_slot[0]["n"]), len(active_days)


# -- tools and destinations ------------------------------------------------------------------


def tool_failures(store: Store, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per agent tool: calls and errors (``tool_calls.is_error``) in ``[since, until)``."""
    return store.fetch(
        """SELECT name, COUNT(*) AS calls,
                  SUM(CASE WHEN is_error THEN 1 ELSE 0 END) AS failures
           FROM tool_calls WHERE started_at >= ? AND started_at < ? AND name IS NOT NULL
           GROUP BY name ORDER BY name""",
        [since, until],
    )


def destination_failures(store: Store, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Per destination: deliveries attempted in the window and how many did not succeed."""
    if not _table_exists(store, "sink_deliveries"):
        return []  # no destination has run yet
    return store.fetch(
        """SELECT sink AS name, COUNT(*) AS calls,
                  SUM(CASE WHEN status = 'delivered' THEN 0 ELSE 1 END) AS failures,
                  MAX(last_error) AS last_error
           FROM sink_deliveries WHERE last_attempt_at >= ? AND last_attempt_at < ?
           GROUP BY sink ORDER BY sink""",
        [since, until],
    )


# -- alert state -----------------------------------------------------------------------------

_STATE_COLUMNS = (
    "dedup_key, rule, status, incident, since, last_fired_at, last_seen_at, resolved_at, "
    "severity, channel, payload"
)


def load_states(store: Store) -> list[dict[str, Any]]:
    rows = store.fetch(f"SELECT {_STATE_COLUMNS} FROM alert_state")
    for r in rows:
        payload = r.get("payload")
        if isinstance(payload, str | bytes):
            r["payload"] = orjson.loads(payload)
    return rows


def save_states(store: Store, rows: Sequence[dict[str, Any]]) -> None:
    for r in rows:
        store.execute(
            f"""INSERT INTO alert_state ({_STATE_COLUMNS})
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (dedup_key) DO UPDATE SET rule = excluded.rule,
                  status = excluded.status, incident = excluded.incident,
                  since = excluded.since, last_fired_at = excluded.last_fired_at,
                  last_seen_at = excluded.last_seen_at, resolved_at = excluded.resolved_at,
                  severity = excluded.severity, channel = excluded.channel,
                  payload = excluded.payload""",
            [
                r["dedup_key"],
                r["rule"],
                r["status"],
                r["incident"],
                r["since"],
                r["last_fired_at"],
                r["last_seen_at"],
                r["resolved_at"],
                r["severity"],
                r["channel"],
                orjson.dumps(r.get("payload") or {}, default=str).decode(),
            ],
        )


def recent_history(store: Store, limit: int = 50) -> list[dict[str, Any]]:
    return store.fetch(
        "SELECT id, fired_at, rule, severity, channel, message FROM alerts_history "
        "ORDER BY fired_at DESC, id LIMIT ?",
        [limit],
    )
