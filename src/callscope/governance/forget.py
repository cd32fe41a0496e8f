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
from callscope.governance.queue_purge import can_purge, purge_queue
from callscope.governance.scrub import (
    ScrubReport,
    delete_outcomes,
    delete_own,
    forget_in_archive,
    forget_in_raw,
    learn_from_warehouse,
    own_sessions,
    scan_raw,
    scrub_warehouse,
    session_hashes,
    warehouse_mentions,
)
from callscope.governance.subject import Subject
from callscope.governance.telemetry import (
    TelemetryChange,
    forget_audio_keys,
    forget_in_telemetry,
)
from callscope.sinks.erasure import queue_forget
from callscope.store.archive import Archive
from callscope.store.base import Store
from callscope.store.raw import RawStore
from callscope.store.telemetry import TelemetryStore


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
    raw_rewritten: list[str] = field(default_factory=list)
    archive_scrubbed: int = 0
    rows_scrubbed: dict[str, int] = field(default_factory=dict)
    mentioning_sessions: int = 0
    telemetry_rows: int = 0
    telemetry_scrubbed: int = 0
    audio_files: list[str] = field(default_factory=list)

    @property
    def removed_anything(self) -> bool:
        return bool(
            self.table_rows
            or self.raw_files
            or self.archive_rows
            or self.queue_messages
            or self.raw_rewritten
            or self.archive_scrubbed
            or self.rows_scrubbed
            or self.telemetry_rows
            or self.telemetry_scrubbed
            or self.audio_files
        )

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
            "raw_rewritten": self.raw_rewritten,
            "archive_scrubbed": self.archive_scrubbed,
            "rows_scrubbed": self.rows_scrubbed,
            "mentioning_sessions": self.mentioning_sessions,
            "telemetry_rows": self.telemetry_rows,
            "telemetry_scrubbed": self.telemetry_scrubbed,
            "audio_files": len(self.audio_files),
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
        out.append(
            f"  telemetry: {self.telemetry_rows} rows deleted, {self.telemetry_scrubbed} "
            f"scrubbed; audio recordings deleted: {len(self.audio_files)}"
        )
        out.append(
            f"  other people's calls mentioning them: {self.mentioning_sessions} "
            f"(rows scrubbed {sum(self.rows_scrubbed.values())}, raw records rewritten "
            f"{len(self.raw_rewritten)}, archived rows scrubbed {self.archive_scrubbed})"
        )
        if self.queue_note:
            out.append(f"  warning: {self.queue_note}")
        if self.rollups_refreshed:
            out.append("  dashboard rollups rebuilt")
        out.append(f"  outbox entries added: {self.outbox_entries}")
        if not self.removed_anything:
            out.append("  nothing left to remove (already forgotten, or never seen)")
        return out


def subject_for(who: str) -> Subject:
    """A bare identifier: an email, a phone number, or a participant identity (or email)."""
    text = who.strip()
    if "@" in text:
        return Subject.of(emails=[text], identities=[text])
    digits = sum(c.isdigit() for c in text)
    if digits >= 7 and digits >= len(text.replace(" ", "")) * 0.6:
        return Subject.of(phones=[text])
    return Subject.of(identities=[text])


def _record_outbox(outbox: Path, key: str, session_ids: list[str], at: str) -> int:
    """One pending deletion per person, for the destinations' sinks to drain.

    Only what a destination needs to find its copy: the hashed identifier and hashed session
    ids (destinations keyed by the plain value look it up in their own data by hashing).
    """
    outbox.parent.mkdir(parents=True, exist_ok=True)
    if outbox.exists():
        for raw in outbox.read_text(encoding="utf-8").splitlines():
            if raw.strip() and json.loads(raw).get("subject") == key:
                return 0
    entry = {
        "subject": key,
        "session_hashes": session_hashes(session_ids),
        "at": at,
        "status": "pending",
    }
    with open(outbox, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True) + "\n")
    return 1


def pending_deletions(outbox: Path) -> list[dict[str, Any]]:
    """What destinations still owe (for the sinks' dispatcher)."""
    if not outbox.exists():
        return []
    return [json.loads(x) for x in outbox.read_text(encoding="utf-8").splitlines() if x.strip()]


def confirm_deletion(outbox: Path, subject: str) -> bool:
    """A destination confirmed: the entry leaves the outbox (rewritten atomically)."""
    entries = pending_deletions(outbox)
    kept = [e for e in entries if e.get("subject") != subject]
    if len(kept) == len(entries):
        return False
    tmp = outbox.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in kept), encoding="utf-8")
    tmp.replace(outbox)
    return True


def _check_ready(store: Store, queue: object | None) -> None:
    if queue is not None and not can_purge(queue):
        raise ForgetError(f"forget: the {type(queue).__name__} backend cannot purge messages")
    ping = getattr(queue, "ping", None)
    if callable(ping) and not ping():
        raise ForgetError(f"forget: queue {queue!r} is not reachable; nothing was deleted")
    if not store.ping():
        raise ForgetError(f"forget: store {store.url} is not reachable; nothing was deleted")


def _forget_audio(
    raw: RawStore | None,
    telemetry: TelemetryStore | None,
    tel: TelemetryChange | None,
    store: Store,
    subject: Subject,
    own: set[str],
    found: ScrubReport,
    report: ForgetReport,
) -> None:
    """The audio of their calls and of calls that mention them: a recording cannot be
    redacted. Done while the warehouse still shows which calls those are (a rerun of a
    stopped forget finds them again)."""
    if raw is None:
        return
    mentioning = (
        (warehouse_mentions(store, subject) - own)
        | found.mentioning_sessions
        | (tel.mentioning_sessions if tel else set())
    )
    report.audio_files = raw.delete_audio_of(own | mentioning)
    if telemetry is not None:
        forget_audio_keys(telemetry, set(report.audio_files))


def forget(
    who: str | Subject,
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
    telemetry: TelemetryStore | None = None,
) -> ForgetReport:
    subject = subject_for(who) if isinstance(who, str) else who
    label = (
        who
        if isinstance(who, str)
        else "|".join(sorted(subject.lookup_keys) + sorted(subject.phones))
    )
    if len(label.strip()) < 3:
        raise ForgetError("forget: give an email, phone or participant id of at least 3 characters")
    _check_ready(store, queue)
    report = ForgetReport(subject_hash(label))
    found = ScrubReport()
    own = own_sessions(store, subject)
    learn_from_warehouse(store, subject, own)
    if raw is not None:
        own |= scan_raw(raw, subject, own)
        forget_in_raw(raw, subject, own, found)
    if archive is not None:
        forget_in_archive(archive, subject, own, found)
    tel = forget_in_telemetry(telemetry, subject, own) if telemetry is not None else None
    if queue is not None:
        purged = purge_queue(
            queue,
            lambda sid, payload: (
                sid in own or subject.mentioned_in(payload.decode("utf-8", "replace"))
            ),
            tombstones=sorted(own | subject.emails | subject.identities),
        )
        report.queue_messages, report.queue_note = purged.session_ids, purged.note
    # destinations that received the person (the sinks process drains it)
    queue_forget(store, label, own)
    _forget_audio(raw, telemetry, tel, store, subject, own, found, report)
    # Their own calls go first, so what still mentions them is someone else's call.
    delete_own(store, own, found)
    delete_outcomes(store, subject, found)
    scrub_warehouse(store, subject, found)
    if telemetry is not None:
        telemetry.compact()  # deleted rows leave no bytes in the file's free pages
    report.session_ids = sorted(own)
    report.table_rows = dict(found.rows_deleted)
    report.raw_files = sorted(found.raw_deleted)
    report.raw_rewritten = sorted(found.raw_rewritten)
    report.archive_rows = found.archive_deleted
    report.archive_scrubbed = found.archive_scrubbed
    report.archive_files = sorted(found.archive_files)
    report.rows_scrubbed = dict(found.rows_scrubbed)
    report.mentioning_sessions = len(
        found.mentioning_sessions | (tel.mentioning_sessions if tel else set())
    )
    if tel is not None:
        report.telemetry_rows = tel.rows_deleted
        report.telemetry_scrubbed = sum(tel.rows_rewritten.values())
    if refresh_dashboard:
        from callscope.store.rollups import refresh_rollups

        # Always, not only when rows went now: a run that stopped after the delete and
        # before this rebuild leaves nothing to delete the second time, only this to do.
        refresh_rollups(store, full=True)
        report.rollups_refreshed = True
    touched = sorted(own | set(report.queue_messages))
    if report.removed_anything:
        report.outbox_entries = _record_outbox(
            outbox, report.who_hash, touched, clock.now().isoformat()
        )
    audit.append(
        "forget",
        actor=actor,
        target=report.who_hash,
        # Counts only: object keys and session ids may spell the person (room names).
        details={
            k: len(v) if isinstance(v, list) else v
            for k, v in report.as_dict().items()
            if k not in ("subject", "sessions")
        }
        | {"sessions": session_hashes(report.session_ids)},
    )
    return report
