"""Right to be forgotten: remove one person from every place callscope keeps data.

Order matters for "nothing half-done": everything is opened and checked (store reachable,
raw store and archive reachable, queue purgeable) before anything is deleted, and the
warehouse, where the person's session ids are found, is cleaned last; so a run interrupted
midway still finds the same sessions when run again, and finishes. The person is found by
participant identity or email (case-insensitive); their session ids then lead to the raw
records, the archive and the queue (any backend), which are also searched for the
email/identity itself (a queued call not yet in the warehouse). The dashboard's rollups are
rebuilt afterwards, so no aggregate still counts the person. Destinations callscope exported
to (CRM, Slack...) cannot be reached from here: an outbox line records what each one still
owes, for their sinks to drain. The audit entry names the person only by a SHA-256 of the
lower-cased identifier, so the audit log does not itself keep what was forgotten.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscope.governance.audit import AuditLog
from callscope.governance.clock import SYSTEM, Clock
from callscope.governance.locations import delete_where, forget_raw, mentions
from callscope.governance.queue_purge import can_purge, purge_queue
from callscope.sinks.erasure import queue_forget
from callscope.store.archive import Archive
from callscope.store.base import Store
from callscope.store.raw import RawStore


class ForgetError(Exception):
    """Forget cannot start; one-line ``str()``. Nothing was deleted."""


def subject_hash(who: str) -> str:
    return "sha256:" + hashlib.sha256(who.strip().lower().encode("utf-8")).hexdigest()


@dataclass
class ForgetReport:
    who_hash: str
    session_ids: list[str] = field(default_factory=list)
    table_rows: dict[str, int] = field(default_factory=dict)
    raw_files: list[str] = field(default_factory=list)
    archive_rows: int = 0
    archive_files: list[str] = field(default_factory=list)
    queue_messages: list[str] = field(default_factory=list)
    queue_note: str = ""
    rollups_refreshed: bool = False
    outbox_entries: int = 0

    @property
    def removed_anything(self) -> bool:
        return bool(self.table_rows or self.raw_files or self.archive_rows or self.queue_messages)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.who_hash,
            "sessions": self.session_ids,
            "table_rows": self.table_rows,
            "raw_files": self.raw_files,
            "archive_rows": self.archive_rows,
            "archive_files": self.archive_files,
            "queue_messages": self.queue_messages,
            "queue_note": self.queue_note,
            "rollups_refreshed": self.rollups_refreshed,
            "outbox_entries": self.outbox_entries,
        }

    def lines(self) -> list[str]:
        out = [f"forget {self.who_hash}"]
        out.append(
            f"  sessions: {len(self.session_ids)}"
            + (f" ({', '.join(self.session_ids)})" if self.session_ids else "")
        )
        for table, n in sorted(self.table_rows.items()):
            out.append(f"  table {table}: {n} rows")
        out.append(f"  raw files: {len(self.raw_files)}")
        out.append(f"  archive: {self.archive_rows} rows in {len(self.archive_files)} files")
        out.append(f"  queue messages: {len(self.queue_messages)}")
        if self.queue_note:
            out.append(f"  warning: {self.queue_note}")
        if self.rollups_refreshed:
            out.append("  dashboard rollups rebuilt")
        out.append(f"  outbox entries added: {self.outbox_entries}")
        if not self.removed_anything:
            out.append("  nothing left to remove (already forgotten, or never seen)")
        return out


def _find_sessions(store: Store, who: str) -> list[str]:
    """The sessions ``Store.delete_participant`` will delete, found without deleting."""
    rows = store.fetch(
        "SELECT session_id FROM sessions WHERE participant_identity = ? "
        "OR LOWER(user_email) = LOWER(?) "
        "UNION SELECT session_id FROM leads WHERE LOWER(email) = LOWER(?)",
        [who, who, who],
    )
    return sorted({str(r["session_id"]) for r in rows})


def _record_outbox(outbox: Path, who: str, session_ids: list[str], at: str) -> int:
    """One pending deletion per person, for the destinations' sinks to drain."""
    outbox.parent.mkdir(parents=True, exist_ok=True)
    key = subject_hash(who)
    if outbox.exists():
        for raw in outbox.read_text(encoding="utf-8").splitlines():
            if raw.strip() and json.loads(raw).get("subject") == key:
                return 0
    entry = {"subject": key, "who": who, "session_ids": session_ids, "at": at, "status": "pending"}
    with open(outbox, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")
    return 1


def forget(
    who: str,
    *,
    store: Store,
    raw: RawStore | None,
    archive: Archive | None,
    queue: object | None,
    outbox: Path,
    audit: AuditLog,
    actor: str = "cli",
    clock: Clock = SYSTEM,
    refresh_dashboard: bool = True,
) -> ForgetReport:
    needle = who.strip()
    if not needle or len(needle) < 3:
        raise ForgetError("forget: give an email or participant id of at least 3 characters")
    if queue is not None and not can_purge(queue):
        raise ForgetError(f"forget: the {type(queue).__name__} backend cannot purge messages")
    ping = getattr(queue, "ping", None)
    if callable(ping) and not ping():
        raise ForgetError(f"forget: queue {queue!r} is not reachable; nothing was deleted")
    if not store.ping():
        raise ForgetError(f"forget: store {store.url} is not reachable; nothing was deleted")

    report = ForgetReport(subject_hash(needle))
    ids = set(_find_sessions(store, needle))
    if raw is not None:
        report.raw_files = forget_raw(raw, ids, [needle])
    if archive is not None:
        gone = delete_where(archive, [needle], ids)
        report.archive_rows, report.archive_files = gone.rows, gone.files
    if queue is not None:
        purged = purge_queue(queue, lambda sid, payload: sid in ids or mentions(payload, [needle]))
        report.queue_messages, report.queue_note = purged.session_ids, purged.note
    queue_forget(store, needle, ids)  # destinations that received the person (sinks drain it)
    deletion = store.delete_participant(needle)
    report.session_ids = sorted(ids | set(deletion.session_ids))
    report.table_rows = dict(deletion.rows)
    if refresh_dashboard:
        from callscope.store.rollups import refresh_rollups

        # Always, not only when rows went now: a run that stopped after the delete and
        # before this rebuild leaves nothing to delete the second time, only this to do.
        refresh_rollups(store, full=True)
        report.rollups_refreshed = True
    found = sorted(set(report.session_ids) | set(report.queue_messages))
    if report.removed_anything:
        report.outbox_entries = _record_outbox(outbox, needle, found, clock.now().isoformat())
    audit.append(
        "forget",
        actor=actor,
        target=report.who_hash,
        details={k: v for k, v in report.as_dict().items() if k != "subject"},
    )
    return report
