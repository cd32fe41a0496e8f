"""Embedded queue on one SQLite file (WAL): the zero-infrastructure default.

One row per ``session_id`` holds the latest revision, so dedup, revisions and the DLQ are
plain column updates. Every write runs in a ``BEGIN IMMEDIATE`` transaction, which takes
SQLite's single write lock up front: two worker processes leasing at once are serialised by
the database itself, so a live lease is never handed out twice. The ingest server and any
number of worker processes may share the file; WAL lets readers (``stats``) run alongside.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from callscope.queue._common import check_item, check_lease_args, new_token
from callscope.queue.base import (
    MAX_ATTEMPTS,
    PRIORITY_NORMAL,
    DeadLetter,
    EnqueueItem,
    EnqueueOutcome,
    EnqueueResult,
    Message,
    QueueStats,
    QueueUnavailable,
    backoff_seconds,
    content_hash,
    normalize_items,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    session_id   TEXT PRIMARY KEY,
    seq          INTEGER NOT NULL,
    hash         TEXT NOT NULL,
    revision     INTEGER NOT NULL,
    priority     INTEGER NOT NULL,
    state        TEXT NOT NULL,          -- ready | leased | done | dead
    attempts     INTEGER NOT NULL,       -- deliveries of this revision
    available_at REAL NOT NULL,          -- ready: deliverable from; leased: lease expiry
    enqueued_at  REAL NOT NULL,
    receipt      TEXT,                   -- token of the current delivery
    payload      BLOB,                   -- dropped once acked; the hash keeps dedup working
    reason       TEXT,
    failed_at    REAL
);
CREATE INDEX IF NOT EXISTS ix_live ON messages(priority DESC, seq)
    WHERE state IN ('ready', 'leased');
CREATE INDEX IF NOT EXISTS ix_dead ON messages(failed_at) WHERE state = 'dead';
CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), v INTEGER NOT NULL);
INSERT OR IGNORE INTO counter (id, v) VALUES (1, 0);
"""

_UPSERT = """
INSERT INTO messages (session_id, seq, hash, revision, priority, state, attempts,
                      available_at, enqueued_at, receipt, payload, reason, failed_at)
VALUES (?, ?, ?, ?, ?, 'ready', 0, ?, ?, NULL, ?, NULL, NULL)
ON CONFLICT(session_id) DO UPDATE SET
    seq = excluded.seq, hash = excluded.hash, revision = excluded.revision,
    priority = excluded.priority, state = 'ready', attempts = 0,
    available_at = excluded.available_at, enqueued_at = excluded.enqueued_at,
    receipt = NULL, payload = excluded.payload, reason = NULL, failed_at = NULL
"""

# SQLite limits bound parameters per statement; stay well under the oldest default (999).
_IN_CHUNK = 500


class SqliteQueue:
    """The ``Queue`` protocol on a local SQLite file, safe across threads and processes."""

    def __init__(
        self,
        path: str | Path,
        *,
        clock: Callable[[], float] = time.time,
        busy_timeout_s: float = 30.0,
        retry_base_s: float = 2.0,
        synchronous: str = "NORMAL",
    ) -> None:
        self.path = str(path)
        self._clock = clock
        self._retry_base = retry_base_s
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if synchronous.upper() not in {"OFF", "NORMAL", "FULL", "EXTRA"}:
            raise ValueError(f"queue: unknown sqlite synchronous mode {synchronous!r}")
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(
                self.path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            # WAL + NORMAL survives a process crash; FULL also survives power loss.
            self._db.execute(f"PRAGMA synchronous = {synchronous.upper()}")
            with self._lock:
                self._db.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
        except sqlite3.DatabaseError as exc:
            raise QueueUnavailable(f"sqlite queue {self.path}: {exc}") from None

    # -- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise QueueUnavailable(f"sqlite queue {self.path}: {exc}") from None
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            try:
                self._db.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._db.execute("ROLLBACK")
                raise QueueUnavailable(f"sqlite queue {self.path}: {exc}") from None

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._db.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                raise QueueUnavailable(f"sqlite queue {self.path}: {exc}") from None

    # -- producer side -------------------------------------------------------------------

    def enqueue(
        self, session_id: str, payload: bytes, *, priority: int = PRIORITY_NORMAL
    ) -> EnqueueResult:
        return self.enqueue_many([(session_id, payload, priority)])[0]

    def enqueue_many(self, items: Sequence[EnqueueItem]) -> list[EnqueueResult]:
        triples = normalize_items(items)
        for sid, payload, _ in triples:
            check_item(sid, payload)
        if not triples:
            return []
        hashes = [content_hash(bytes(p)) for _, p, _ in triples]
        now = self._clock()
        results: list[EnqueueResult] = []
        with self._tx() as db:
            known: dict[str, tuple[str, int]] = {}
            sids = list(dict.fromkeys(sid for sid, _, _ in triples))
            for i in range(0, len(sids), _IN_CHUNK):
                chunk = sids[i : i + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                for sid, h, rev in db.execute(
                    "SELECT session_id, hash, revision FROM messages "
                    f"WHERE session_id IN ({marks})",
                    chunk,
                ):
                    known[sid] = (h, rev)
            rows: list[tuple[object, ...]] = []
            for (sid, payload, prio), h in zip(triples, hashes, strict=True):
                prev = known.get(sid)
                if prev is not None and prev[0] == h:
                    results.append(EnqueueResult(sid, EnqueueOutcome.DUPLICATE, prev[1]))
                    continue
                rev = 1 if prev is None else prev[1] + 1
                known[sid] = (h, rev)
                outcome = EnqueueOutcome.ACCEPTED if prev is None else EnqueueOutcome.REVISION
                results.append(EnqueueResult(sid, outcome, rev))
                rows.append((sid, h, rev, prio, now, now, bytes(payload)))
            if rows:
                (top,) = db.execute(
                    "UPDATE counter SET v = v + ? WHERE id = 1 RETURNING v", (len(rows),)
                ).fetchone()
                first = top - len(rows) + 1
                db.executemany(
                    _UPSERT,
                    [(r[0], first + i, *r[1:]) for i, r in enumerate(rows)],
                )
        return results

    # -- consumer side -------------------------------------------------------------------

    def lease(self, max_messages: int, *, visibility_timeout: float = 60.0) -> list[Message]:
        check_lease_args(max_messages, visibility_timeout)
        now = self._clock()
        out: list[Message] = []
        with self._tx() as db:
            # Bounded: each pass either fills the batch or dead-letters expired poison leases.
            for _ in range(8):
                want = max_messages - len(out)
                if want <= 0:
                    break
                rows = db.execute(
                    "SELECT session_id, state, attempts FROM messages "
                    "WHERE state IN ('ready', 'leased') AND available_at <= ? "
                    "ORDER BY priority DESC, seq LIMIT ?",
                    (now, want),
                ).fetchall()
                if not rows:
                    break
                for sid, state, attempts in rows:
                    if state == "leased" and attempts >= MAX_ATTEMPTS:
                        # A worker died holding it MAX_ATTEMPTS times: most likely it kills
                        # the worker, so stop feeding it to the fleet.
                        db.execute(
                            "UPDATE messages SET state = 'dead', receipt = NULL, reason = ?, "
                            "failed_at = ? WHERE session_id = ?",
                            (f"lease expired after {attempts} deliveries", now, sid),
                        )
                        continue
                    receipt = new_token()
                    row = db.execute(
                        "UPDATE messages SET state = 'leased', attempts = attempts + 1, "
                        "receipt = ?, available_at = ? WHERE session_id = ? "
                        "RETURNING payload, revision, attempts, priority, enqueued_at",
                        (receipt, now + visibility_timeout, sid),
                    ).fetchone()
                    payload, revision, n, prio, enq = row
                    out.append(Message(sid, bytes(payload), revision, n, prio, receipt, enq))
                if len(rows) < want:
                    break
        return out

    def ack(self, message: Message) -> None:
        with self._tx() as db:
            # The receipt check makes a stale ack (the lease expired and someone else holds
            # a newer delivery, or a newer revision replaced it) a no-op.
            db.execute(
                "UPDATE messages SET state = 'done', payload = NULL, receipt = NULL, "
                "reason = NULL WHERE session_id = ? AND receipt = ? AND state = 'leased'",
                (message.session_id, message.receipt),
            )

    def nack(self, message: Message, reason: str) -> None:
        now = self._clock()
        with self._tx() as db:
            row = db.execute(
                "SELECT attempts FROM messages WHERE session_id = ? AND receipt = ? "
                "AND state = 'leased'",
                (message.session_id, message.receipt),
            ).fetchone()
            if row is None:
                return
            (attempts,) = row
            if attempts >= MAX_ATTEMPTS:
                self._bury(db, message.session_id, f"{reason} (after {attempts} attempts)", now)
                return
            delay = backoff_seconds(attempts, base=self._retry_base)
            db.execute(
                "UPDATE messages SET state = 'ready', receipt = NULL, available_at = ?, "
                "reason = ? WHERE session_id = ?",
                (now + delay, reason, message.session_id),
            )

    def dead_letter(self, message: Message, reason: str) -> None:
        now = self._clock()
        with self._tx() as db:
            row = db.execute(
                "SELECT 1 FROM messages WHERE session_id = ? AND receipt = ? AND state = 'leased'",
                (message.session_id, message.receipt),
            ).fetchone()
            if row is not None:
                self._bury(db, message.session_id, reason, now)

    @staticmethod
    def _bury(db: sqlite3.Connection, session_id: str, reason: str, now: float) -> None:
        db.execute(
            "UPDATE messages SET state = 'dead', receipt = NULL, reason = ?, failed_at = ? "
            "WHERE session_id = ?",
            (reason, now, session_id),
        )

    # -- operations ----------------------------------------------------------------------

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        rows = self._read(
            "SELECT session_id, revision, attempts, reason, failed_at, payload FROM messages "
            "WHERE state = 'dead' ORDER BY failed_at DESC, seq DESC LIMIT ?",
            (max(0, limit),),
        )
        return [DeadLetter(s, r, a, why, f, bytes(p)) for s, r, a, why, f, p in rows]

    def replay(self, session_id: str | None = None) -> int:
        now = self._clock()
        sql = (
            "UPDATE messages SET state = 'ready', attempts = 0, available_at = ?, "
            "reason = NULL, failed_at = NULL WHERE state = 'dead'"
        )
        params: tuple[object, ...] = (now,)
        if session_id is not None:
            sql += " AND session_id = ?"
            params = (now, session_id)
        with self._tx() as db:
            return db.execute(sql, params).rowcount

    def purge(self, predicate: Callable[[str, bytes], bool]) -> list[str]:
        """Delete every message (any state, dead letters included) whose ``(session_id,
        payload)`` matches; returns their session ids. Used by the right to be forgotten."""
        with self._tx() as db:
            rows = db.execute("SELECT session_id, payload, reason FROM messages").fetchall()
            doomed = [
                sid
                for sid, payload, reason in rows
                if predicate(sid, bytes(payload or b"") + (reason or "").encode())
            ]
            for sid in doomed:
                db.execute("DELETE FROM messages WHERE session_id = ?", (sid,))
        return doomed

    def stats(self) -> QueueStats:
        now = self._clock()
        rows = self._read(
            "SELECT "
            " COALESCE(SUM(state = 'ready' OR available_at <= ?), 0),"
            " COALESCE(SUM(state = 'leased' AND available_at > ?), 0),"
            " COALESCE(SUM(state = 'ready' AND available_at > ?), 0),"
            " MIN(CASE WHEN state = 'ready' OR available_at <= ? THEN enqueued_at END) "
            "FROM messages WHERE state IN ('ready', 'leased')",
            (now, now, now, now),
        )
        ready, leased, delayed, oldest = rows[0]
        (dead,) = self._read("SELECT COUNT(*) FROM messages WHERE state = 'dead'")[0]
        age = None if oldest is None else max(0.0, now - float(oldest))
        return QueueStats(
            ready=int(ready),
            leased=int(leased),
            dead=int(dead),
            oldest_ready_age_s=age,
            delayed=int(delayed),
        )

    def ping(self) -> bool:
        try:
            self._read("SELECT 1")
        except QueueUnavailable:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"SqliteQueue({self.path!r})"
