"""Right to be forgotten: remove one person from every place callscope keeps data.

Order matters for "nothing half-done": everything is checked (store reachable, directories
readable) before anything is deleted, and each step is idempotent, so a run interrupted
midway is finished by running it again. The person is found by participant identity or
email (case-insensitive) in the warehouse; their session ids then lead to the raw records,
the archive and the queue, which are also searched for the email/identity itself (a queued
call not yet in the warehouse). Destinations callscope exported to (CRM, Slack...) cannot be
reached from here: an outbox line records what each one still owes, for their sinks to
drain. The audit entry names the person only by a salted-free SHA-256 of the lower-cased
identifier, so the audit log does not itself keep what was forgotten.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from callscope.governance.audit import AuditLog
from callscope.governance.clock import SYSTEM, Clock
from callscope.store.base import Store


class ForgetError(Exception):
    """Forget cannot start; one-line ``str()``. Nothing was deleted."""


@runtime_checkable
class PurgeableQueue(Protocol):
    def purge(self, predicate: Callable[[str, bytes], bool]) -> list[str]: ...


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
        out.append(f"  outbox entries added: {self.outbox_entries}")
        if not self.removed_anything:
            out.append("  nothing left to remove (already forgotten, or never seen)")
        return out


def _mentions(data: bytes, needles: Iterable[str]) -> bool:
    low = data.lower()
    return any(n and n.lower().encode("utf-8") in low for n in needles)


def _forget_raw(raw_dir: Path, needles: list[str]) -> list[str]:
    removed: list[str] = []
    if not raw_dir.exists():
        return removed
    for path in sorted(p for p in raw_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if not _mentions(data, needles) and not any(n in path.name for n in needles):
            continue
        lines = data.splitlines(keepends=True)
        kept = [ln for ln in lines if not _mentions(ln, needles)]
        if len(lines) > 1 and kept and not any(n in path.name for n in needles):
            # One record per line: keep the other people's records.
            tmp = path.with_name(path.name + ".forget-tmp")
            tmp.write_bytes(b"".join(kept))
            os.replace(tmp, path)
        else:
            path.unlink()
        removed.append(str(path.relative_to(raw_dir)))
    return removed


def _forget_archive(
    archive_dir: Path, needles: list[str], session_ids: set[str]
) -> tuple[int, list[str]]:
    rows, files = 0, list[str]()
    if not archive_dir.exists():
        return rows, files
    for path in sorted(archive_dir.rglob("*.parquet")):
        table = pq.read_table(path)
        doomed = pa.array([False] * table.num_rows)
        for name in table.column_names:
            col = table.column(name)
            if name == "session_id" and session_ids:
                doomed = pc.or_(
                    doomed, pc.fill_null(pc.is_in(col, pa.array(sorted(session_ids))), False)
                )
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                lowered = pc.utf8_lower(col)
                for needle in needles:
                    hit = pc.fill_null(pc.match_substring(lowered, needle.lower()), False)
                    doomed = pc.or_(doomed, hit)
        n = pc.sum(pc.cast(doomed, pa.int64())).as_py() or 0
        if not n:
            continue
        rows += n
        files.append(str(path.relative_to(archive_dir)))
        kept = table.filter(pc.invert(doomed))
        if kept.num_rows:
            tmp = path.with_name(path.name + ".forget-tmp")
            pq.write_table(kept, tmp)
            os.replace(tmp, path)
        else:
            path.unlink()
    return rows, files


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
    raw_dir: Path | None,
    archive_dir: Path | None,
    queue: object | None,
    outbox: Path,
    audit: AuditLog,
    actor: str = "cli",
    clock: Clock = SYSTEM,
) -> ForgetReport:
    needle = who.strip()
    if not needle or len(needle) < 3:
        raise ForgetError("forget: give an email or participant id of at least 3 characters")
    if queue is not None and not isinstance(queue, PurgeableQueue):
        raise ForgetError(f"forget: the {type(queue).__name__} backend cannot purge messages")
    if not store.ping():
        raise ForgetError(f"forget: store {store.url} is not reachable; nothing was deleted")
    for d in (raw_dir, archive_dir):
        if d is not None and d.exists() and not os.access(d, os.R_OK | os.W_OK | os.X_OK):
            raise ForgetError(f"forget: {d} is not writable; nothing was deleted")

    report = ForgetReport(subject_hash(needle))
    deletion = store.delete_participant(needle)
    report.session_ids = list(deletion.session_ids)
    report.table_rows = dict(deletion.rows)
    needles = [needle, *report.session_ids]
    if raw_dir is not None:
        report.raw_files = _forget_raw(raw_dir, needles)
    if archive_dir is not None:
        report.archive_rows, report.archive_files = _forget_archive(
            archive_dir, [needle], set(report.session_ids)
        )
    if isinstance(queue, PurgeableQueue):
        ids = set(report.session_ids)
        report.queue_messages = queue.purge(
            lambda sid, payload: sid in ids or _mentions(payload, [needle])
        )
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
