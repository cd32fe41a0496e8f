"""Governance commands: redact, retention run, forget, audit verify.

Exit codes: 0 done; 1 the check failed (tampered audit log) or a step failed midway;
2 usage or configuration error (nothing was changed).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from callscope.cli.context import out, profile_or_exit, settings
from callscope.governance.audit import AuditError, AuditLog, default_audit_path

retention_app = typer.Typer(help="Apply the profile's retention periods.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)


def fail_line(message: object) -> None:
    from callscope.cli.context import fail_line as core_fail_line

    core_fail_line(message if isinstance(message, BaseException) else str(message))


def _audit(data_dir: Path) -> AuditLog:
    return AuditLog(default_audit_path(data_dir))


def _actor() -> str:
    return os.environ.get("USER") or "cli"


def _open_location(kind: str, url: str, *, create: bool = True) -> Any:
    """``open_raw`` / ``open_archive`` (a directory or s3://), or exit 2 before any change.

    With ``create=False`` a local directory that does not exist gives None (nothing there).
    """
    from callscope.store import StoreError
    from callscope.store.archive import open_archive
    from callscope.store.raw import open_raw

    local = url.removeprefix("file://")
    if not create and "://" not in local and not Path(local).expanduser().exists():
        return None
    try:
        return open_raw(url) if kind == "raw store" else open_archive(url)
    except StoreError as exc:
        fail_line(f"{kind} {url}: {exc}; nothing was changed")
        raise typer.Exit(2) from None


def _open_queue_for_forget(cfg: Any) -> Any:
    """The configured queue, or None when the embedded one was never created."""
    from callscope.queue import QueueUnavailable, open_queue

    try:
        qurl = cfg.resolved_queue_url()
        if cfg.queue == "sqlite" and not qurl.startswith(("redis", "sqs", "http")):
            path = qurl.removeprefix("sqlite:///") if qurl.startswith("sqlite:") else qurl
            if not Path(path).exists():
                return None
        return open_queue(cfg)
    except QueueUnavailable as exc:
        fail_line(f"queue unavailable: {exc}; nothing was deleted")
        raise typer.Exit(2) from None
    except Exception as exc:
        fail_line(f"cannot open queue: {str(exc).splitlines()[0]}; nothing was deleted")
        raise typer.Exit(2) from None


def _open_telemetry(data_dir: Path) -> Any:
    """The LiveKit telemetry store, or None when no observability upload ever arrived."""
    from callscope.store.telemetry import TelemetryStore, telemetry_path

    path = telemetry_path(data_dir)
    return TelemetryStore(path) if path.exists() else None


def _compact(queue: Any, store: Any) -> list[str]:
    """Deleted rows must leave the files too: compact the queue now (it is still open)."""
    from callscope.governance.compact import compact_queue

    done = [f"queue {step}" for step in compact_queue(queue)] if queue is not None else []
    return done


def _compact_warehouse(store: Any) -> list[str]:
    """The DuckDB warehouse is rewritten after it is closed (PostgreSQL: see the docs)."""
    from callscope.governance.compact import compact_duckdb

    path = getattr(store, "path", None)
    if not isinstance(path, str) or path == ":memory:" or not store.url.startswith("duckdb"):
        return []
    try:
        return ["warehouse rewritten"] if compact_duckdb(path) else []
    except Exception as exc:  # the deletion is done; compaction can be repeated
        fail_line(f"warehouse compaction failed (run forget again to retry): {exc}")
        return []


def redact() -> None:
    """Read text on stdin, write it with every PII value replaced by [REDACTED_<KIND>]."""
    from callscope.governance.redact import redact as redact_fn

    for line in sys.stdin:
        sys.stdout.write(redact_fn(line).text)
    sys.stdout.flush()


@retention_app.command("run")
def retention_run(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print, change nothing.")] = False,
) -> None:
    """Redact PII after pii_redact_days, archive transcripts, fold old metrics."""
    from callscope.governance.retention import run_retention
    from callscope.store import StoreError, open_store

    cfg = settings()
    profile = profile_or_exit()
    try:
        store = open_store(cfg.resolved_store_url(), migrate=not dry_run)
    except StoreError as exc:
        fail_line(exc)
        raise typer.Exit(2) from None
    try:
        # A dry run writes nothing, not even the archive's directory.
        archive = None if dry_run else _open_location("archive", cfg.resolved_archive_url())
        raw = _open_location("raw store", cfg.resolved_raw_url(), create=False)
    except typer.Exit:
        store.close()
        raise
    if dry_run:
        try:
            store.count("sessions")
        except StoreError:
            store.close()
            out.print(
                f"store {store.url} has no callscope schema yet: nothing to retain",
                highlight=False,
            )
            return
    telemetry = _open_telemetry(cfg.data_dir)
    try:
        report = run_retention(
            store,
            profile.retention,
            archive=archive,
            audit=_audit(cfg.data_dir),
            dry_run=dry_run,
            actor=_actor(),
            raw=raw,
            telemetry=telemetry,
        )
    except (StoreError, AuditError, OSError) as exc:
        fail_line(exc)
        raise typer.Exit(1) from None
    finally:
        store.close()
        if telemetry is not None:
            telemetry.close()
    if report.changed and not dry_run:
        # Redacted and deleted rows must leave the file's free blocks too.
        compacted = _compact_warehouse(store)
        if compacted:
            out.print(f"  compacted: {', '.join(compacted)}", highlight=False)
    for line in report.lines():
        out.print(line, highlight=False)


def forget(
    email: Annotated[str | None, typer.Option("--email", help="The person's email.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="The person's phone.")] = None,
    participant: Annotated[
        str | None, typer.Option("--participant", help="The LiveKit participant identity.")
    ] = None,
) -> None:
    """Remove one person from every table, the raw store, the archive and the queue,
    scrub them from other people's calls, then compact the embedded stores."""
    from callscope.governance.forget import ForgetError
    from callscope.governance.forget import forget as forget_fn
    from callscope.governance.subject import Subject
    from callscope.store import StoreError, open_store

    given = [v.strip() for v in (email, phone, participant) if v and v.strip()]
    if not given:
        fail_line("forget: give --email, --phone and/or --participant")
        raise typer.Exit(2)
    # An email or identity may sit in either column: each is looked up as both.
    keys = [v.strip() for v in (email, participant) if v and v.strip()]
    subject = Subject.of(emails=[k for k in keys if "@" in k], identities=keys)
    subject.phones = Subject.of(phones=[phone] if phone else []).phones
    cfg = settings()
    try:
        store = open_store(cfg.resolved_store_url())
    except StoreError as exc:
        fail_line(exc)
        raise typer.Exit(2) from None
    queue = None
    telemetry = None
    compacted: list[str] = []
    try:
        raw = _open_location("raw store", cfg.resolved_raw_url(), create=False)
        archive = _open_location("archive", cfg.resolved_archive_url(), create=False)
        queue = _open_queue_for_forget(cfg)
        telemetry = _open_telemetry(cfg.data_dir)
        report = forget_fn(
            subject if len(given) > 1 or phone else given[0],
            store=store,
            raw=raw,
            archive=archive,
            queue=queue,
            outbox=cfg.data_dir / "governance" / "forget_outbox.jsonl",
            audit=_audit(cfg.data_dir),
            actor=_actor(),
            telemetry=telemetry,
        )
        compacted = _compact(queue, store)
    except ForgetError as exc:
        fail_line(exc)
        raise typer.Exit(2) from None
    except typer.Exit:
        raise
    except Exception as exc:  # S3, broker or store failure after deleting began
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        fail_line(f"forget stopped midway, run it again to finish: {first}")
        raise typer.Exit(1) from None
    finally:
        store.close()
        if queue is not None:
            queue.close()
        if telemetry is not None:
            telemetry.close()
    compacted += _compact_warehouse(store)
    for line in report.lines():
        out.print(line, highlight=False)
    if compacted:
        out.print(f"  compacted: {', '.join(compacted)}", highlight=False)


@audit_app.command("verify")
def audit_verify(
    path: Annotated[Path | None, typer.Option("--path", help="Audit log file.")] = None,
) -> None:
    """Check the hash chain; exit 1 if an entry was edited, reordered or removed."""
    log = AuditLog(path) if path else _audit(settings().data_dir)
    try:
        result = log.verify()
    except AuditError as exc:
        fail_line(exc)
        raise typer.Exit(1) from None
    if result.ok:
        out.print(f"audit log {log.path}: {result.entries} entries, chain intact", highlight=False)
        return
    where = f" (line {result.line})" if result.line else ""
    fail_line(f"audit log {log.path} TAMPERED{where}: {result.problem}")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(retention_app, name="retention")
    app.add_typer(audit_app, name="audit")
    app.command()(redact)
    app.command()(forget)
