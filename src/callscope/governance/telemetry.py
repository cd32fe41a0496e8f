"""Forget and retention for what LiveKit's observability upload left: telemetry and audio.

The telemetry store (``observability.sqlite3``) holds each job's recording (the protobuf
header, whose ``session_summary`` is the session report's JSON, and the chat history), its
OTLP spans (LiveKit puts every prompt, reply and tool argument in span attributes), logs and
metric points. The call's audio sits in the raw store beside its records.

- Forget: every row and the audio of the person's own sessions go. Other jobs' rows that
  mention them are rewritten through :meth:`Subject.scrub`; the audio of such a call is
  deleted, because a recording cannot be redacted (their name or number is spoken in it).
  Spans and logs of a job whose recording never arrived belong to no known session: they are
  scrubbed where they mention the person, like anyone else's.
- Retention: after ``pii_redact_days`` text is redacted in place and the audio deleted (a
  voice cannot be redacted); after ``transcripts_days`` recordings, spans and logs go (the
  session page's waterfall goes with them); after ``metrics_days`` metric points go.

The file is compacted (``VACUUM``) afterwards, so no deleted byte stays in its free pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from livekit.protocol.metrics import MetricsRecordingHeader

from callscope.governance.redact import redact_value
from callscope.governance.subject import Subject
from callscope.store.raw import RawStore
from callscope.store.telemetry import KEYS, TEXT_COLUMNS, TelemetryStore

Transform = Callable[[Any], Any]


@dataclass
class TelemetryChange:
    """What one forget or retention pass did to the telemetry store and the audio."""

    deleted_jobs: list[str] = field(default_factory=list)
    rows_deleted: int = 0
    rows_rewritten: dict[str, int] = field(default_factory=dict)
    audio_deleted: list[str] = field(default_factory=list)
    mentioning_sessions: set[str] = field(default_factory=set)

    @property
    def changed(self) -> bool:
        return bool(self.rows_deleted or self.rows_rewritten or self.audio_deleted)


def _json_cell(raw: str | bytes, transform: Transform) -> str | bytes:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        new = str(transform(text))
        return new.encode("utf-8") if isinstance(raw, bytes) else new
    out = orjson.dumps(transform(value))
    return out if isinstance(raw, bytes) else out.decode("utf-8")


def _header_cell(raw: bytes, transform: Transform) -> bytes:
    """The header's text lives in ``session_summary`` (JSON) and the room's tags."""
    header = MetricsRecordingHeader.FromString(raw)
    if header.session_summary:
        summary = _json_cell(header.session_summary, transform)
        header.session_summary = summary if isinstance(summary, str) else summary.decode()
    for tag, value in list(header.room_tags.items()):
        header.room_tags[tag] = str(transform(value))
    return header.SerializeToString()


def _rewritten(table: str, row: dict[str, Any], transform: Transform) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for col in TEXT_COLUMNS.get(table, ()):
        old = row.get(col)
        if old is None or col in ("session_id", "audio_key"):
            continue
        if table == "recordings" and col == "header":
            new: Any = _header_cell(bytes(old), transform)
        elif col in ("attributes", "chat_history"):
            new = _json_cell(old, transform)
        else:
            new = transform(old)
        if new != old:
            changes[col] = new
    return changes


def _rewrite(
    tel: TelemetryStore, table: str, row: dict[str, Any], transform: Transform, out: TelemetryChange
) -> bool:
    changes = _rewritten(table, row, transform)
    if changes:
        tel.update(table, {k: row[k] for k in KEYS[table]}, changes)
        out.rows_rewritten[table] = out.rows_rewritten.get(table, 0) + 1
    return bool(changes)


def _mentions(row: dict[str, Any], subject: Subject) -> bool:
    for col, value in row.items():
        if col in ("age",) or value is None:
            continue
        text = bytes(value).decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
        if subject.mentioned_in(text):
            return True
    return False


def forget_in_telemetry(tel: TelemetryStore, subject: Subject, own: set[str]) -> TelemetryChange:
    """Delete the person's jobs and audio; scrub every other row that mentions them."""
    out = TelemetryChange()
    recordings = tel.rows("recordings")
    session_of = {str(r["job_id"]): str(r["session_id"]) for r in recordings}
    own_jobs = sorted(j for j, sid in session_of.items() if sid in own)
    # A recording not processed yet names no participant: its content decides.
    mentioned_jobs = {str(r["job_id"]) for r in recordings if _mentions(r, subject)} - set(own_jobs)
    out.rows_deleted = tel.delete_jobs(own_jobs)
    out.deleted_jobs = own_jobs
    for table in ("recordings", "spans", "logs"):
        for row in tel.rows(table):
            if _mentions(row, subject) and _rewrite(tel, table, row, subject.scrub, out):
                mentioned_jobs.add(str(row["job_id"]))
    out.mentioning_sessions = {session_of[j] for j in mentioned_jobs if j in session_of}
    # The audio goes with the warehouse's view of who is mentioned (forget does it); the
    # file is compacted once that is done too (``compact``).
    return out


def retain_telemetry(
    tel: TelemetryStore,
    raw: RawStore | None,
    *,
    pii_before: float,
    transcripts_before: float,
    metrics_before: float,
    dry_run: bool,
) -> TelemetryChange:
    """Apply the retention periods (Unix times) to the telemetry store and the audio."""
    out = TelemetryChange()
    for table in ("recordings", "spans", "logs"):
        for row in tel.rows(table, before=pii_before):
            if dry_run:
                if _rewritten(table, row, redact_value):
                    out.rows_rewritten[table] = out.rows_rewritten.get(table, 0) + 1
            else:
                _rewrite(tel, table, row, redact_value, out)
    if raw is not None:
        out.audio_deleted = _expire_audio(tel, raw, pii_before, dry_run)
    for table, before in (
        ("recordings", transcripts_before),
        ("spans", transcripts_before),
        ("logs", transcripts_before),
        ("metric_points", metrics_before),
    ):
        if dry_run:
            out.rows_deleted += len(tel.rows(table, before=before))
        else:
            out.rows_deleted += tel.delete_older(table, before)
    if out.changed and not dry_run:
        tel.compact()
    return out


def forget_audio_keys(tel: TelemetryStore, gone: set[str]) -> None:
    """Recordings whose audio was deleted stop offering it (no dead player on the page)."""
    for row in tel.rows("recordings"):
        if row.get("audio_key") in gone:
            tel.update("recordings", {"job_id": row["job_id"]}, {"audio_key": None})


def _expire_audio(
    tel: TelemetryStore, raw: RawStore, pii_before: float, dry_run: bool
) -> list[str]:
    """Audio of calls from days before the PII cutoff (a voice cannot be redacted)."""
    last_day = (datetime.fromtimestamp(pii_before, UTC) - timedelta(days=1)).date()
    doomed = [key for _, _, key in raw.audio(until=last_day)]
    if doomed and not dry_run:
        raw.objects.delete(doomed)
        forget_audio_keys(tel, set(doomed))
    return doomed
