"""Retention: what the warehouse keeps, for how long (periods from ``profile.retention``).

- ``pii_redact_days`` (30): free text of calls older than this is run through the redactor
  (transcript turns, tool-call arguments/outputs/queries, the call summary).
- ``transcripts_days`` (90): transcript rows of older calls are written to the archive
  (``open_archive(url)``: Parquet on a directory or S3, partitioned by the call's date, text
  already redacted) and deleted from the warehouse.
- ``metrics_days`` (365): per-turn/per-event metric rows of older days are folded into
  ``metrics_daily`` (count, sum, min, max per day, metric, component, unit) and deleted.
  Whole UTC days only, so a day is aggregated exactly once.

Every run (dry or not) is audited. A dry run reads, counts and prints, and writes nothing.
A run that changed anything rebuilds the dashboard rollups, which hold derived text (failed
knowledge-base queries) and aggregates of the rows just removed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from callscope.governance.audit import AuditLog
from callscope.governance.clock import SYSTEM, Clock
from callscope.governance.locations import archive_with_day
from callscope.governance.redact import redact_record, redact_text, redact_value
from callscope.governance.subject import EMAIL_DIGEST, email_digest
from callscope.governance.telemetry import retain_telemetry
from callscope.profile.model import Retention
from callscope.store.archive import Archive
from callscope.store.base import Store
from callscope.store.raw import RawStore
from callscope.store.telemetry import TelemetryStore

METRICS_DAILY_DDL = (
    "CREATE TABLE IF NOT EXISTS metrics_daily (day DATE NOT NULL, metric TEXT, component TEXT, "
    "unit TEXT, n BIGINT NOT NULL, total DOUBLE PRECISION, min_value DOUBLE PRECISION, "
    "max_value DOUBLE PRECISION)"
)


@dataclass
class RetentionReport:
    now: datetime
    dry_run: bool
    pii_cutoff: datetime
    transcripts_cutoff: datetime
    metrics_cutoff: datetime
    redacted_turns: int = 0
    redacted_tool_calls: int = 0
    redacted_summaries: int = 0
    redacted_analyses: int = 0
    redacted_identities: int = 0
    redacted_raw: int = 0
    archived_sessions: list[str] = field(default_factory=list)
    archived_rows: int = 0
    archive_files: list[str] = field(default_factory=list)
    metric_rows: int = 0
    metric_days: int = 0
    rollups_refreshed: bool = False
    redacted_outcomes: int = 0
    telemetry_redacted: int = 0
    telemetry_deleted: int = 0
    audio_deleted: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.redacted_turns
            or self.redacted_tool_calls
            or self.redacted_summaries
            or self.redacted_analyses
            or self.redacted_identities
            or self.redacted_raw
            or self.archived_rows
            or self.metric_rows
            or self.redacted_outcomes
            or self.telemetry_redacted
            or self.telemetry_deleted
            or self.audio_deleted
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "dry_run": self.dry_run,
            "pii_cutoff": self.pii_cutoff.isoformat(),
            "transcripts_cutoff": self.transcripts_cutoff.isoformat(),
            "metrics_cutoff": self.metrics_cutoff.isoformat(),
            "redacted_turns": self.redacted_turns,
            "redacted_tool_calls": self.redacted_tool_calls,
            "redacted_summaries": self.redacted_summaries,
            "redacted_analyses": self.redacted_analyses,
            "redacted_identities": self.redacted_identities,
            "redacted_raw_records": self.redacted_raw,
            "archived_sessions": len(self.archived_sessions),
            "archived_rows": self.archived_rows,
            "archive_files": self.archive_files,
            "metric_rows_aggregated": self.metric_rows,
            "metric_days": self.metric_days,
            "rollups_refreshed": self.rollups_refreshed,
            "redacted_outcomes": self.redacted_outcomes,
            "telemetry_redacted": self.telemetry_redacted,
            "telemetry_deleted": self.telemetry_deleted,
            "audio_deleted": self.audio_deleted,
        }

    def lines(self) -> list[str]:
        verb = "would" if self.dry_run else "did"
        return [
            f"retention at {self.now.isoformat()} ({'dry run' if self.dry_run else 'applied'})",
            f"  PII redaction (calls before {self.pii_cutoff.date()}): {verb} redact "
            f"{self.redacted_turns} turns, {self.redacted_tool_calls} tool calls, "
            f"{self.redacted_summaries} summaries, {self.redacted_analyses} analyses, "
            f"{self.redacted_identities} caller emails/names, {self.redacted_raw} raw records, "
            f"{self.redacted_outcomes} outcome emails, {self.telemetry_redacted} telemetry rows; "
            f"{verb} delete {self.audio_deleted} audio recordings",
            f"  transcripts (calls before {self.transcripts_cutoff.date()}): {verb} archive "
            f"{self.archived_rows} turns of {len(self.archived_sessions)} calls",
            f"  metrics (before {self.metrics_cutoff.date()}): {verb} fold "
            f"{self.metric_rows} rows into {self.metric_days} daily aggregates",
            f"  telemetry (spans, logs, recordings, metric points past their period): {verb} "
            f"delete {self.telemetry_deleted} rows",
        ]


def _start_of_day(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _as_json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _redact_pii(store: Store, report: RetentionReport, dry_run: bool) -> None:
    cutoff = report.pii_cutoff
    turns = store.fetch(
        "SELECT t.session_id, t.turn_index, t.text FROM transcripts t JOIN sessions s "
        "ON s.session_id = t.session_id WHERE s.started_at < ? AND t.text IS NOT NULL",
        [cutoff],
    )
    for row in turns:
        new = redact_text(row["text"])
        if new != row["text"]:
            report.redacted_turns += 1
            if not dry_run:
                store.execute(
                    "UPDATE transcripts SET text = ? WHERE session_id = ? AND turn_index = ?",
                    [new, row["session_id"], row["turn_index"]],
                )
    calls = store.fetch(
        "SELECT c.session_id, c.call_index, c.query, CAST(c.arguments AS TEXT) AS arguments, "
        "CAST(c.output AS TEXT) AS output FROM tool_calls c JOIN sessions s "
        "ON s.session_id = c.session_id WHERE s.started_at < ?",
        [cutoff],
    )
    for row in calls:
        args = json.loads(row["arguments"]) if row["arguments"] else None
        out = json.loads(row["output"]) if row["output"] else None
        new_args, new_out = redact_value(args), redact_value(out)
        new_query = redact_text(row["query"]) if row["query"] else row["query"]
        if (new_query, new_args, new_out) == (row["query"], args, out):
            continue
        report.redacted_tool_calls += 1
        if not dry_run:
            store.execute(
                "UPDATE tool_calls SET query = ?, arguments = CAST(? AS JSON), "
                "output = CAST(? AS JSON) WHERE session_id = ? AND call_index = ?",
                [
                    new_query,
                    _as_json(new_args),
                    _as_json(new_out),
                    row["session_id"],
                    row["call_index"],
                ],
            )
    summaries = store.fetch(
        "SELECT session_id, summary FROM sessions WHERE started_at < ? AND summary IS NOT NULL",
        [cutoff],
    )
    for row in summaries:
        new = redact_text(row["summary"])
        if new != row["summary"]:
            report.redacted_summaries += 1
            if not dry_run:
                store.execute(
                    "UPDATE sessions SET summary = ? WHERE session_id = ?", [new, row["session_id"]]
                )


def _redact_analysis(store: Store, report: RetentionReport, dry_run: bool) -> None:
    """Evidence quotes and extracted fields in the analysis JSON, and who the caller was."""
    cutoff = report.pii_cutoff
    for table, key_cols, col in (
        ("sessions", ("session_id",), "analysis"),
        ("analysis_results", ("session_id", "module", "analyzer_version"), "result"),
    ):
        keys = ", ".join(f"x.{k}" for k in key_cols)
        rows = store.fetch(
            f"SELECT {keys}, CAST(x.{col} AS TEXT) AS body FROM {table} x JOIN sessions s "
            f"ON s.session_id = x.session_id WHERE s.started_at < ? AND x.{col} IS NOT NULL",
            [cutoff],
        )
        for row in rows:
            old = json.loads(row["body"])
            new = redact_value(old)
            if new == old:
                continue
            report.redacted_analyses += 1
            if not dry_run:
                where = " AND ".join(f"{k} = ?" for k in key_cols)
                store.execute(
                    f"UPDATE {table} SET {col} = CAST(? AS JSON) WHERE {where}",
                    [_as_json(new), *(row[k] for k in key_cols)],
                )
    for table, cols in (("sessions", ("user_email", "user_name")), ("leads", ("email", "name"))):
        present = " OR ".join(f"x.{c} IS NOT NULL" for c in cols)
        rows = store.fetch(
            f"SELECT x.session_id FROM {table} x JOIN sessions s ON s.session_id = x.session_id "
            f"WHERE s.started_at < ? AND ({present})",
            [cutoff],
        )
        report.redacted_identities += len(rows)
        if rows and not dry_run:
            sets = ", ".join(f"{c} = NULL" for c in cols)
            store.execute(
                f"UPDATE {table} SET {sets} WHERE session_id IN "
                f"(SELECT session_id FROM sessions WHERE started_at < ?)",
                [cutoff],
            )


def _redact_outcomes(store: Store, report: RetentionReport, dry_run: bool) -> None:
    """Outcomes imported by email: after the PII period the email goes. An outcome with no
    session link is first linked to the caller's latest call before it, so the label it
    gives the scorer survives; one matching no call keeps only its figures."""
    cutoff = report.pii_cutoff
    old = "email IS NOT NULL AND COALESCE(occurred_at, imported_at) < ?"
    found = store.fetch(f"SELECT COUNT(*) AS n FROM outcomes WHERE {old}", [cutoff])
    report.redacted_outcomes = int(found[0]["n"] or 0)
    if dry_run or not report.redacted_outcomes:
        return
    store.execute(
        "UPDATE outcomes SET session_id = (SELECT s.session_id FROM sessions s "
        "WHERE LOWER(s.user_email) = LOWER(outcomes.email) AND (outcomes.occurred_at IS NULL "
        "OR s.started_at <= outcomes.occurred_at) ORDER BY s.started_at DESC LIMIT 1) "
        f"WHERE session_id IS NULL AND {old}",
        [cutoff],
    )
    store.execute(f"UPDATE outcomes SET email = NULL WHERE {old}", [cutoff])


def _retain_telemetry(
    telemetry: TelemetryStore | None, raw: RawStore | None, report: RetentionReport, dry_run: bool
) -> None:
    if telemetry is None:
        return
    done = retain_telemetry(
        telemetry,
        raw,
        pii_before=report.pii_cutoff.timestamp(),
        transcripts_before=report.transcripts_cutoff.timestamp(),
        metrics_before=report.metrics_cutoff.timestamp(),
        dry_run=dry_run,
    )
    report.telemetry_redacted = sum(done.rows_rewritten.values())
    report.telemetry_deleted = done.rows_deleted
    report.audio_deleted = len(done.audio_deleted)


def _redact_raw(raw: RawStore | None, report: RetentionReport, dry_run: bool) -> None:
    """Original records of old calls rewritten through ``redact_record`` (same key)."""
    if raw is None:
        return
    import gzip

    import orjson

    last_day = (report.pii_cutoff - timedelta(days=1)).date()
    for obj in raw.iter(until=last_day):
        try:
            data = orjson.loads(obj.data)
        except orjson.JSONDecodeError:
            continue
        if not isinstance(data, dict):
            continue
        new = redacted_original(data)
        if new == data:
            continue
        report.redacted_raw += 1
        if not dry_run:
            blob = orjson.dumps(new, option=orjson.OPT_SORT_KEYS)
            raw.objects.put(obj.key, gzip.compress(blob, mtime=0), "application/gzip")


def redacted_original(data: dict[str, Any]) -> dict[str, Any]:
    """A raw record as kept after the PII period: text redacted, the caller's contact gone."""
    out = redact_record(data)
    participant = out.get("participant")
    if isinstance(participant, dict):
        kept = {k: v for k, v in participant.items() if k not in ("email", "name", "metadata")}
        email = (data.get("participant") or {}).get("email")
        if isinstance(email, str) and email.strip():
            # Only a digest stays, so `forget --email` still finds the call after this.
            kept[EMAIL_DIGEST] = email_digest(email)
        out["participant"] = kept
    return out


def _archive_transcripts(
    store: Store, archive: Archive | None, report: RetentionReport, dry_run: bool
) -> None:
    rows = store.fetch(
        # Every column: what leaves the warehouse must be whole in the archive.
        "SELECT t.*, s.started_at AS call_started_at FROM transcripts t "
        "JOIN sessions s ON s.session_id = t.session_id WHERE s.started_at < ? "
        "ORDER BY t.session_id, t.turn_index",
        [report.transcripts_cutoff],
    )
    report.archived_rows = len(rows)
    report.archived_sessions = sorted({str(r["session_id"]) for r in rows})
    if dry_run or not rows:
        return
    if archive is None:
        raise ValueError("retention: an archive is needed to move transcripts out")
    # Archived text is redacted whatever the PII period says: cold storage is long-lived.
    redacted = [{**r, "text": redact_text(r["text"]) if r["text"] else r["text"]} for r in rows]
    report.archive_files = archive_with_day(archive, "transcripts", redacted, "call_started_at")
    # Delete only after every file is durably written: a crash before here re-archives
    # (duplicates in cold storage are harmless), never loses a transcript.
    for sid in report.archived_sessions:
        store.execute("DELETE FROM transcripts WHERE session_id = ?", [sid])


def _fold_metrics(store: Store, report: RetentionReport, dry_run: bool) -> None:
    found = store.fetch(
        "SELECT COUNT(*) AS n, COUNT(DISTINCT CAST(ts AS DATE)) AS days FROM metrics WHERE ts < ?",
        [report.metrics_cutoff],
    )
    report.metric_rows = int(found[0]["n"] or 0)
    report.metric_days = int(found[0]["days"] or 0)
    if dry_run or not report.metric_rows:
        return
    store.execute(METRICS_DAILY_DDL)
    store.execute(
        "INSERT INTO metrics_daily (day, metric, component, unit, n, total, min_value, "
        "max_value) SELECT CAST(ts AS DATE), metric, component, unit, COUNT(*), SUM(value), "
        "MIN(value), MAX(value) FROM metrics WHERE ts < ? GROUP BY CAST(ts AS DATE), metric, "
        "component, unit",
        [report.metrics_cutoff],
    )
    store.execute("DELETE FROM metrics WHERE ts < ?", [report.metrics_cutoff])


def run_retention(
    store: Store,
    retention: Retention,
    *,
    archive: Archive | None,
    audit: AuditLog,
    clock: Clock = SYSTEM,
    dry_run: bool = False,
    actor: str = "cli",
    refresh_dashboard: bool = True,
    raw: RawStore | None = None,
    telemetry: TelemetryStore | None = None,
) -> RetentionReport:
    """Apply ``retention``; ``archive`` (``open_archive(url)``) may be None for a dry run."""
    now = clock.now()
    report = RetentionReport(
        now=now,
        dry_run=dry_run,
        pii_cutoff=now - timedelta(days=retention.pii_redact_days),
        transcripts_cutoff=now - timedelta(days=retention.transcripts_days),
        metrics_cutoff=_start_of_day(now - timedelta(days=retention.metrics_days)),
    )
    if not dry_run and archive is None:
        raise ValueError("retention: an archive is needed unless dry_run")
    try:
        _redact_pii(store, report, dry_run)
        _redact_outcomes(store, report, dry_run)  # before the callers' emails go
        _redact_analysis(store, report, dry_run)
        _redact_raw(raw, report, dry_run)
        _retain_telemetry(telemetry, raw, report, dry_run)
        _archive_transcripts(store, archive, report, dry_run)
        _fold_metrics(store, report, dry_run)
        if refresh_dashboard and not dry_run and report.changed:
            from callscope.store.rollups import refresh_rollups

            # Redacted queries and deleted transcript/metric rows also leave the rollups
            # (failed-search texts, latency histograms of archived days).
            refresh_rollups(store, full=True)
            report.rollups_refreshed = True
    except BaseException as exc:
        audit.append(
            "retention.failed",
            actor=actor,
            target=store.url,
            details={**report.as_dict(), "error": str(exc).splitlines()[0][:300]},
        )
        raise
    audit.append(
        "retention.dry_run" if dry_run else "retention.run",
        actor=actor,
        target=store.url,
        details=report.as_dict(),
    )
    return report
