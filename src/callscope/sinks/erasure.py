"""Erasure reaches the destinations: ``callscope forget`` queues, ``callscope sinks run`` drains.

``queue_forget`` runs inside forget, before the warehouse rows go: it finds every destination
that was sent one of the person's sessions (``sink_deliveries``), and queues one request per
destination in ``sink_erasures`` with the identifiers that destination may hold (emails,
participant identities, session ids). The dispatcher drains the table with the same retries
as deliveries. Once a request is done (or the destination cannot delete anything, a Slack
message), its identifiers are set to NULL: the row keeps only the subject's SHA-256 and the
outcome, so the outbox is not itself a copy of what was forgotten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from callscope.sinks.base import ErasureRequest
from callscope.store.base import Store

DDL = """CREATE TABLE IF NOT EXISTS sink_erasures (
  id TEXT NOT NULL PRIMARY KEY,
  sink TEXT NOT NULL,
  subject TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  identifiers TEXT,
  created_at TIMESTAMPTZ NOT NULL,
  last_attempt_at TIMESTAMPTZ,
  done_at TIMESTAMPTZ,
  next_attempt_at TIMESTAMPTZ,
  last_error TEXT
)"""

TERMINAL_CLEARED = ("done", "unsupported")  # statuses whose identifiers are gone


def ensure_table(store: Store) -> None:
    store.execute(DDL)


def subject_hash(who: str) -> str:
    return "sha256:" + hashlib.sha256(who.strip().lower().encode("utf-8")).hexdigest()


def _chunks(items: Sequence[str], n: int = 200) -> Iterable[Sequence[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _receivers(store: Store, session_ids: Sequence[str]) -> list[str]:
    """Destinations that were sent (or tried) any of these sessions."""
    from callscope.sinks.dispatch import ensure_tables

    ensure_tables(store)
    sinks: set[str] = set()
    for chunk in _chunks(list(session_ids)):
        where = " OR ".join("event_id LIKE ?" for _ in chunk)
        rows = store.fetch(
            f"SELECT DISTINCT sink FROM sink_deliveries WHERE kind = 'lead' AND ({where})",
            [f"lead:{sid}@%" for sid in chunk],
        )
        sinks.update(str(r["sink"]) for r in rows)
    return sorted(sinks)


def _identifiers(store: Store, who: str, session_ids: Sequence[str]) -> dict[str, list[str]]:
    ids: set[str] = {who.strip()}
    emails: set[str] = set()
    for chunk in _chunks(list(session_ids)):
        marks = ", ".join("?" * len(chunk))
        for r in store.fetch(
            "SELECT s.user_email, s.participant_identity, l.email FROM sessions s "
            f"LEFT JOIN leads l ON l.session_id = s.session_id WHERE s.session_id IN ({marks})",
            list(chunk),
        ):
            for key in ("user_email", "participant_identity", "email"):
                if r.get(key):
                    ids.add(str(r[key]))
    emails = {i for i in ids if "@" in i}
    return {
        "user_ids": sorted(ids),
        "emails": sorted(emails),
        "session_ids": sorted(set(session_ids)),
    }


def queue_forget(
    store: Store, who: str, session_ids: Iterable[str], now: datetime | None = None
) -> int:
    """Queue the person's deletion at every destination that received them; the count queued."""
    ensure_table(store)
    ids = sorted(set(session_ids))
    if not ids:
        return 0
    subject = subject_hash(who)
    identifiers = json.dumps(_identifiers(store, who, ids), sort_keys=True)
    added = 0
    for sink in _receivers(store, ids):
        key = hashlib.sha256(f"{sink}\n{subject}\n{','.join(ids)}".encode()).hexdigest()[:32]
        added += store.execute(
            "INSERT INTO sink_erasures (id, sink, subject, status, attempts, identifiers, "
            "created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (id) DO NOTHING",
            [key, sink, subject, identifiers, now or datetime.now(UTC)],
        )
    return added


def due(store: Store, sink: str, now: datetime, limit: int) -> list[tuple[ErasureRequest, int]]:
    """Pending (or due-for-retry) requests of ``sink`` with the attempts used so far."""
    ensure_table(store)
    rows = store.fetch(
        "SELECT id, sink, subject, identifiers, attempts FROM sink_erasures WHERE sink = ? AND "
        "(status = 'pending' OR (status = 'retry' AND next_attempt_at <= ?)) "
        "ORDER BY created_at, id LIMIT ?",
        [sink, now, limit],
    )
    out = []
    for r in rows:
        data: dict[str, Any] = json.loads(r["identifiers"] or "{}")
        request = ErasureRequest(
            id=str(r["id"]),
            sink=str(r["sink"]),
            subject=str(r["subject"]),
            user_ids=tuple(data.get("user_ids", ())),
            emails=tuple(data.get("emails", ())),
            session_ids=tuple(data.get("session_ids", ())),
        )
        out.append((request, int(r["attempts"])))
    return out


def pending_sinks(store: Store) -> list[str]:
    ensure_table(store)
    rows = store.fetch(
        "SELECT DISTINCT sink FROM sink_erasures WHERE status IN ('pending', 'retry')"
    )
    return sorted(str(r["sink"]) for r in rows)


def record(
    store: Store,
    request_id: str,
    status: str,
    attempts: int,
    error: str | None,
    now: datetime,
    next_at: datetime | None,
) -> None:
    """The outcome; a finished request forgets its identifiers."""
    clear = status in TERMINAL_CLEARED
    store.execute(
        "UPDATE sink_erasures SET status = ?, attempts = ?, last_error = ?, last_attempt_at = ?, "
        "next_attempt_at = ?, done_at = ?, "
        f"identifiers = {'NULL' if clear else 'identifiers'} WHERE id = ?",
        [status, attempts, error, now, next_at, now if clear else None, request_id],
    )


def counts(store: Store) -> dict[str, dict[str, int]]:
    ensure_table(store)
    out: dict[str, dict[str, int]] = {}
    for r in store.fetch("SELECT sink, status, COUNT(*) AS n FROM sink_erasures GROUP BY 1, 2"):
        out.setdefault(str(r["sink"]), {})[str(r["status"])] = int(r["n"])
    return out
