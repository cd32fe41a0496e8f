"""Calls in progress, from LiveKit's session-start webhooks, and the last hour of calls.

A session record reaches the warehouse only after its call ends, so "current calls active"
cannot be read from ``sessions``. The ingest app's verified webhooks (``room_started``,
``participant_joined``; ``room_finished``, ``participant_left``) are recorded here in one
small table, ``live_calls``; a room counts as active while it has started, not ended, has
no processed session yet, and started less than :data:`MAX_CALL_AGE` ago (so a lost ending
webhook cannot keep a call "active" forever). Portable SQL through ``Store.execute``.
"""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from callscope.store.base import Store, StoreError

log = logging.getLogger(__name__)

STARTING_EVENTS = frozenset({"room_started", "participant_joined"})
ENDING_EVENTS = frozenset({"room_finished", "participant_left"})
MAX_CALL_AGE = timedelta(hours=4)
RETENTION = timedelta(days=2)
LAST_HOUR = timedelta(hours=1)

DDL: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS live_calls (room TEXT PRIMARY KEY, room_sid TEXT, "
    "started_at TIMESTAMPTZ NOT NULL, ended_at TIMESTAMPTZ, last_event TEXT NOT NULL, "
    "last_at TIMESTAMPTZ NOT NULL)",
    # For BI tools: the same "active" rule as active_calls(), minus the age cut-off's "now".
    "CREATE OR REPLACE VIEW v_live_calls AS SELECT l.room, l.room_sid, l.started_at, "
    "l.last_event, l.last_at FROM live_calls l WHERE l.ended_at IS NULL AND NOT EXISTS "
    "(SELECT 1 FROM sessions s WHERE s.session_id = l.room)",
)
_ready: set[int] = set()
_guard = threading.Lock()


def ensure_live(store: Store) -> None:
    with _guard:
        if id(store) in _ready:
            return
        for stmt in DDL:
            store.execute(stmt)
        _ready.add(id(store))


def _utc(at: datetime | None) -> datetime:
    if at is None:
        return datetime.now(UTC)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def record_room_event(
    store: Store, event: str, room: str, room_sid: str = "", at: datetime | None = None
) -> bool:
    """Note one verified LiveKit webhook; False (logged) when the warehouse refused it.

    Never raises a store error: a webhook must not fail because the dashboard's table did.
    """
    if not room or (event not in STARTING_EVENTS and event not in ENDING_EVENTS):
        return False
    now = _utc(at)
    try:
        ensure_live(store)
        if event in STARTING_EVENTS:
            # A re-join after a participant left re-opens the call; the first start is kept.
            store.execute(
                "INSERT INTO live_calls (room, room_sid, started_at, ended_at, last_event, "
                "last_at) VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT (room) DO UPDATE SET "
                "ended_at = NULL, last_event = excluded.last_event, last_at = excluded.last_at",
                (room, room_sid or None, now, event, now),
            )
        else:
            store.execute(
                "UPDATE live_calls SET ended_at = ?, last_event = ?, last_at = ? "
                "WHERE room = ? AND ended_at IS NULL",
                (now, event, now, room),
            )
        store.execute("DELETE FROM live_calls WHERE last_at < ?", (now - RETENTION,))
    except StoreError as exc:
        log.warning("live call event %s for %s not recorded: %s", event, room, exc)
        return False
    return True


def active_calls(store: Store, now: datetime | None = None) -> dict[str, Any]:
    """``{"count", "rooms": [{room, started_at}], "source"}`` for the "current calls" panel."""
    now = _utc(now)
    ensure_live(store)
    rows = store.fetch(
        "SELECT l.room, l.started_at FROM live_calls l WHERE l.ended_at IS NULL "
        "AND l.started_at >= ? AND NOT EXISTS "
        "(SELECT 1 FROM sessions s WHERE s.session_id = l.room) ORDER BY l.started_at DESC",
        (now - MAX_CALL_AGE,),
    )
    seen = store.fetch("SELECT COUNT(*) AS n FROM live_calls")[0]["n"]
    return {
        "count": len(rows),
        "rooms": [{"room": r["room"], "started_at": r["started_at"]} for r in rows[:20]],
        # No webhook ever recorded: the number is unknown, not zero.
        "source": "livekit_webhooks" if seen else "none",
    }


def last_hour(store: Store, now: datetime | None = None) -> dict[str, Any]:
    """Calls that ended in the hour before ``now``: latency, token and cost rates.

    ``processed_at`` bounds the scan through its index; ``ended_at`` keeps a reprocessing run
    of old calls out of "the last hour".
    """
    now = _utc(now)
    lo = now - LAST_HOUR
    row = store.fetch(
        "SELECT COUNT(*) AS calls, AVG(e2e_latency_avg_ms) AS avg_latency, "
        "SUM(COALESCE(llm_input_tokens, 0) + COALESCE(llm_output_tokens, 0)) AS tokens, "
        "SUM(cost_usd) AS cost, SUM(CASE WHEN COALESCE(error_count, 0) > 0 THEN 1 ELSE 0 END) "
        "AS error_calls FROM sessions WHERE processed_at >= ? AND ended_at >= ? AND ended_at <= ?",
        (lo, lo, now),
    )[0]
    calls = int(row["calls"] or 0)
    tokens = float(row["tokens"] or 0)
    cost = float(row["cost"] or 0)
    return {
        "as_of": now.isoformat().replace("+00:00", "Z"),
        "calls": calls,
        "avg_latency_ms": round(float(row["avg_latency"]), 1)
        if row["avg_latency"] is not None
        else None,
        "tokens_per_minute": round(tokens / 60.0, 1),
        "cost_per_hour": round(cost, 4),
        "error_rate_pct": round(100.0 * int(row["error_calls"] or 0) / calls, 2) if calls else 0.0,
    }
