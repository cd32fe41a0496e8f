"""LiveKit webhooks: count calls whose session record never arrived (a collector that died).

LiveKit calls ``POST /v1/livekit/webhook`` with a JWT in ``Authorization`` signed with the
project's API secret, carrying the SHA-256 of the body. ``room_finished`` and
``participant_left`` mark a room as ended; if no record with ``session_id`` equal to the room
name arrives within the grace period, the room is counted as a missing record.

State lives in a small SQLite file (``<data_dir>/livekit_rooms.sqlite3``) that the dashboard
can read without the queue:

``rooms(room TEXT PRIMARY KEY, room_sid TEXT, ended_at REAL, last_event TEXT,
status TEXT, resolved_at REAL)`` where ``status`` is ``waiting`` (inside the grace period),
``received`` (its record arrived), ``missing`` (counted in ``callscope_missing_records_total``)
or ``late`` (counted missing, then the record arrived after all).
``records_seen(session_id TEXT PRIMARY KEY, seen_at REAL)`` remembers recent records so a
record that arrives before the webhook still matches; rows older than a day are pruned.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from livekit.api import TokenVerifier, WebhookEvent, WebhookReceiver

from callscope.ingest import metrics

ENDING_EVENTS = frozenset({"room_finished", "participant_left"})
_SEEN_RETENTION_S = 24 * 3600.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    room TEXT PRIMARY KEY,
    room_sid TEXT,
    ended_at REAL NOT NULL,
    last_event TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'waiting',
    resolved_at REAL
);
CREATE INDEX IF NOT EXISTS rooms_status ON rooms (status, ended_at);
CREATE TABLE IF NOT EXISTS records_seen (
    session_id TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
"""


class WebhookError(Exception):
    """A webhook that cannot be trusted or read; ``str()`` is one line."""


@dataclass(frozen=True)
class RoomStatus:
    room: str
    status: str
    ended_at: float
    last_event: str


def verify_webhook(
    body: bytes, authorization: str | None, api_key: str, api_secret: str
) -> WebhookEvent:
    """The event, if the JWT is signed with our secret and carries this body's hash."""
    if not authorization:
        raise WebhookError("missing Authorization header")
    token = authorization.strip()
    if token.lower().startswith("bearer "):
        token = token[7:].strip()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookError("webhook body is not UTF-8") from None
    receiver = WebhookReceiver(TokenVerifier(api_key, api_secret))
    try:
        return receiver.receive(text, token)
    except Exception as exc:  # pyjwt, protobuf and hash errors all mean "do not trust"
        raise WebhookError(
            f"webhook rejected: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None


class RoomTracker:
    """Rooms that ended, matched against records that arrived; thread-safe."""

    def __init__(self, path: Path, grace_s: float) -> None:
        self.path = path
        self.grace_s = grace_s
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # Losing the last few rows in a power cut only skews a metric, never data.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def room_ended(self, room: str, room_sid: str, event: str, at: float | None = None) -> None:
        if not room:
            return
        now = time.time() if at is None else at
        with self._lock:
            seen = self._db.execute(
                "SELECT 1 FROM records_seen WHERE session_id = ?", (room,)
            ).fetchone()
            status = "received" if seen else "waiting"
            # The first ending event starts the grace period; later ones only note the event.
            self._db.execute(
                "INSERT INTO rooms (room, room_sid, ended_at, last_event, status, resolved_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(room) DO UPDATE SET "
                "last_event = excluded.last_event",
                (room, room_sid, now, event, status, now if seen else None),
            )

    def records_arrived(self, session_ids: Iterable[str], at: float | None = None) -> None:
        ids = [(sid,) for sid in session_ids]
        if not ids:
            return
        now = time.time() if at is None else at
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO records_seen (session_id, seen_at) VALUES (?, ?) "
                "ON CONFLICT(session_id) DO UPDATE SET seen_at = excluded.seen_at",
                [(sid, now) for (sid,) in ids],
            )
            self._db.executemany(
                "UPDATE rooms SET status = CASE status WHEN 'missing' THEN 'late' "
                "ELSE 'received' END, resolved_at = ? "
                "WHERE room = ? AND status IN ('waiting', 'missing')",
                [(now, sid) for (sid,) in ids],
            )
            self._db.execute("COMMIT")

    def sweep(self, now: float | None = None) -> int:
        """Mark rooms past the grace period without a record as missing; returns how many."""
        now = time.time() if now is None else now
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            cur = self._db.execute(
                "UPDATE rooms SET status = 'missing', resolved_at = ? "
                "WHERE status = 'waiting' AND ended_at <= ?",
                (now, now - self.grace_s),
            )
            newly = cur.rowcount
            self._db.execute(
                "DELETE FROM records_seen WHERE seen_at < ?", (now - _SEEN_RETENTION_S,)
            )
            self._db.execute("COMMIT")
        metrics.record_missing_records(newly)
        return newly

    def rooms(self, status: str | None = None, limit: int = 1000) -> list[RoomStatus]:
        query = "SELECT room, status, ended_at, last_event FROM rooms"
        args: tuple[object, ...] = ()
        if status:
            query += " WHERE status = ?"
            args = (status,)
        query += " ORDER BY ended_at DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*args, limit)).fetchall()
        return [RoomStatus(r[0], r[1], r[2], r[3]) for r in rows]

    def missing_count(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM rooms WHERE status = 'missing'").fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
