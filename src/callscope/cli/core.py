"""Core commands: schema, analyze, ingest, worker, generate, summary.

Exit codes scripts can rely on: 0 everything worked; 1 some input was rejected or a step
failed (the good inputs were still processed); 2 usage or configuration error.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.table import Table

from callscope.cli.context import (
    CliContext,
    err,
    fail,
    fail_line,
    out,
    profile_or_exit,
    profile_source,
    progress,
    settings,
)
from callscope.config import ConfigError, Settings
from callscope.contract.errors import RecordError
from callscope.store.memory import Role

__all__ = ["err", "fail_line", "out", "profile_or_exit", "progress", "register", "settings"]


def _open_queue(cfg: Settings) -> Any:
    from callscope.queue import open_queue

    try:
        return open_queue(cfg.resolved_queue_url())
    except Exception as exc:
        fail(f"cannot open queue {cfg.resolved_queue_url()}: {exc}", 2)


def _open_store(cfg: Settings, *, read_only: bool = False, role: Role = "bulk") -> Any:
    from callscope.store import open_store
    from callscope.store.memory import memory_limit_for
    from callscope.store.rows import tool_kinds_of

    try:
        return open_store(
            cfg.resolved_store_url(),
            read_only=read_only,
            tool_kinds=tool_kinds_of(profile_or_exit()),
            duckdb_memory_limit=memory_limit_for(role),
        )
    except Exception as exc:
        fail(f"cannot open warehouse {cfg.resolved_store_url()}: {exc}", 2)


def pipeline_hooks() -> Any:
    """The pipeline's metrics callbacks: the Prometheus registry of the ingest service."""
    from callscope.ingest import metrics
    from callscope.pipeline import Hooks

    return Hooks(analyzer_error=metrics.record_analyzer_error, processed=metrics.record_processed)


def _global(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile",
            help="Profile YAML or bundled name (env CALLSCOPE_PROFILE).",
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option("--config", help="YAML config file (also CALLSCOPE_CONFIG)."),
    ] = None,
    data_dir: Annotated[
        str | None,
        typer.Option(
            "--data-dir",
            help="Embedded queue, warehouse, raw store (env CALLSCOPE_DATA_DIR).",
        ),
    ] = None,
) -> None:
    """Analytics pipeline for LiveKit voice agents."""
    from callscope.logs import configure_logging

    ctx.obj = CliContext(profile_source=profile, config_file=config, data_dir=data_dir)
    configure_logging()
    if profile is not None:
        profile_or_exit(profile)  # a broken profile fails at start, not mid-pipeline


def schema() -> None:
    """Print the JSON Schema of SessionRecord v1."""
    from callscope.contract.record import SessionRecord

    sys.stdout.write(
        orjson.dumps(SessionRecord.model_json_schema(), option=orjson.OPT_INDENT_2).decode() + "\n"
    )


def analyze(
    files: Annotated[
        list[Path], typer.Argument(help="Record files (JSON or JSON Lines) or directories.")
    ],
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="json (one object per line) or table")
    ] = "json",
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=0, help="Processes (0: one per core).")
    ] = 0,
) -> None:
    """Analyze records and print one result per session, in input order."""
    from callscope.batch import analyze_paths, default_jobs
    from callscope.contract.parse import expand_paths

    if fmt not in ("json", "table"):
        fail_line(f"--format must be json or table, not {fmt!r}")
        raise typer.Exit(2)
    prof = profile_or_exit()
    source = profile_source()
    failures = 0
    rows: list[dict[str, Any]] = []
    write = sys.stdout.buffer.write
    outcomes = analyze_paths(
        expand_paths(files), prof, profile_source=source, jobs=jobs or default_jobs()
    )
    seen: dict[str, str] = {}
    for outcome in outcomes:
        if outcome.result is None:
            failures += 1
            fail_line(outcome.error or "unreadable record")
            continue
        sid = str(outcome.result.get("session_id"))
        if sid in seen:
            # One session, one result: a second copy is reported, not printed twice.
            failures += 1
            fail_line(
                f"{outcome.source}: duplicate session_id {sid!r} "
                f"(already analyzed from {seen[sid]}) at session_id"
            )
            continue
        seen[sid] = outcome.source
        if fmt == "json":
            write(orjson.dumps(outcome.result) + b"\n")
        else:
            rows.append(outcome.result)
    if fmt == "table":
        from callscope.cli.analysis_table import analysis_table

        out.print(analysis_table(rows, prof))
    sys.stdout.flush()
    raise typer.Exit(1 if failures else 0)


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Record files or directories (SessionRecord or SessionReport)."),
    ],
) -> None:
    """Validate records and put them on the queue (dedup by session_id)."""
    from callscope.contract.parse import canonical_payload, expand_paths, read_path
    from callscope.priority import priority_for

    cfg = settings()
    prof = profile_or_exit()
    queue = _open_queue(cfg)
    files = expand_paths(paths)
    counts: dict[str, int] = {"accepted": 0, "duplicate": 0, "revision": 0, "rejected": 0}
    with progress() as bar:
        task = bar.add_task("ingest", total=len(files))
        for path in files:
            batch: list[tuple[str, bytes, int]] = []
            for item in read_path(path):
                if isinstance(item, RecordError):
                    counts["rejected"] += 1
                    fail_line(item)
                    continue
                payload = canonical_payload(item)
                data = item._source or {}
                batch.append((item.session_id, payload, priority_for(data, prof)))
            for result in _enqueue(queue, batch):
                counts[result] += 1
            bar.advance(task)
    queue.close()
    _print_counts("ingest", counts)
    raise typer.Exit(1 if counts["rejected"] else 0)


def worker(
    once: Annotated[bool, typer.Option("--once", help="Stop when the queue is empty.")] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, help="Analysis processes.")
    ] = 1,
    batch_size: Annotated[int | None, typer.Option("--batch-size", min=1)] = None,
    visibility_timeout: Annotated[
        float | None,
        typer.Option("--visibility-timeout", help="Seconds a lease lasts before redelivery."),
    ] = None,
) -> None:
    """Lease sessions from the queue, run every analyzer, write the warehouse, ack."""
    import signal

    from callscope.store.raw import open_raw_store
    from callscope.worker import Worker

    cfg = settings()
    prof = profile_or_exit()
    queue = _open_queue(cfg)
    # Appending batches needs a small DuckDB buffer pool (it spills past it): this keeps
    # a long-running worker's RSS under 300 MB.
    store = _open_store(cfg, role="worker")
    raw = open_raw_store(cfg.resolved_raw_url())
    try:
        w = Worker(
            queue,
            store,
            prof,
            raw_store=raw,
            batch_size=batch_size or cfg.worker_batch_size,
            visibility_timeout=visibility_timeout or cfg.visibility_timeout_s,
            concurrency=concurrency,
            profile_source=profile_source(),
            settings=cfg,
            hooks=pipeline_hooks(),
        )
    except ConfigError as exc:  # e.g. an LLM backend without a model or key
        fail_line(exc)
        raise typer.Exit(2) from None
    try:
        if once:
            total = queue.stats().ready
            with progress() as bar:
                task = bar.add_task("analyze", total=total or None)
                stats = w.run_once(on_batch=lambda n: bar.advance(task, n))
        else:
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            signal.signal(signal.SIGINT, lambda *_: stop.set())
            err.print("worker running; Ctrl-C to stop")
            stats = w.run_forever(stop)
    finally:
        w.close()
        queue.close()
        store.close()
    err.print(
        f"processed {stats.processed} sessions in {stats.elapsed_s:.1f}s "
        f"({stats.rate:.0f}/s), dead-lettered {stats.dead_lettered}, "
        f"retried {stats.retried}"
    )
    if stats.module_errors:
        err.print(f"analyzer module errors: {stats.module_errors}")
    raise typer.Exit(1 if stats.retried else 0)


def reprocess(
    since: Annotated[
        str | None, typer.Option(help="First call day (YYYY-MM-DD) to re-analyze.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Last call day (YYYY-MM-DD).")] = None,
    all_sessions: Annotated[
        bool,
        typer.Option(
            "--all", help="Also sessions already analyzed with the current analyzer versions."
        ),
    ] = False,
) -> None:
    """Re-run the analyzers over history from the raw store (new versions, A/B)."""
    from datetime import date

    from callscope.pipeline import registry_for
    from callscope.pipeline.reprocess import reprocess as run_reprocess
    from callscope.store.raw import open_raw_store

    try:
        lo = date.fromisoformat(since) if since else None
        hi = date.fromisoformat(until) if until else None
    except ValueError as exc:
        fail_line(f"--since/--until: {exc}")
        raise typer.Exit(2) from None
    cfg = settings()
    prof = profile_or_exit()
    try:
        reg = registry_for(prof, cfg)
    except ConfigError as exc:
        fail_line(exc)
        raise typer.Exit(2) from None
    store = _open_store(cfg)
    raw = open_raw_store(cfg.resolved_raw_url())
    try:
        with progress() as bar:
            task = bar.add_task("reprocess", total=None)
            stats = run_reprocess(
                raw,
                store,
                prof,
                reg,
                since=lo,
                until=hi,
                only_changed=not all_sessions,
                on_batch=lambda n: bar.advance(task, n),
            )
    finally:
        store.close()
    err.print(
        f"reprocessed {stats.reprocessed} of {stats.seen} sessions "
        f"({stats.skipped_current} already current, {stats.unreadable} unreadable, "
        f"{stats.failed} failed)"
    )
    raise typer.Exit(1 if stats.unreadable or stats.failed else 0)


def generate(
    n: Annotated[int, typer.Option("--n", min=1, help="How many calls.")] = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("demo-data"),
    days: Annotated[
        int, typer.Option("--days", min=1, help="Spread calls over the last N days.")
    ] = 30,
    per_file: Annotated[
        int, typer.Option("--per-file", min=1, help="Records per JSON Lines file.")
    ] = 1000,
) -> None:
    """Generate realistic synthetic calls (SessionRecord v1, JSON Lines)."""
    from datetime import UTC, datetime

    from callscope.generate import generate_record

    prof = profile_or_exit()
    out_dir.mkdir(parents=True, exist_ok=True)
    anchor = datetime.now(UTC)
    with progress() as bar:
        task = bar.add_task("generate", total=n)
        for start in range(0, n, per_file):
            stop = min(n, start + per_file)
            path = out_dir / f"calls-{seed:04d}-{start // per_file:05d}.jsonl"
            tmp = path.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                for i in range(start, stop):
                    fh.write(
                        orjson.dumps(
                            generate_record(i, seed=seed, profile=prof, start=anchor, days=days)
                        )
                        + b"\n"
                    )
            tmp.replace(path)
            bar.advance(task, stop - start)
    err.print(f"wrote {n} calls to {out_dir}")


def summary() -> None:
    """A short table of what the warehouse holds."""
    cfg = settings()
    # The qualifying tiers (every tier but the below-tiers one), named by the profile.
    tiers = profile_or_exit().scoring.tier_ids()[:-1]
    store = _open_store(cfg, read_only=True)
    try:
        rows = store.query("warehouse_summary")
    finally:
        store.close()
    keys = ["calls", *tiers, "hot_leads", "meetings", "p95_latency_ms", "cost_per_call"]
    table = Table(title="callscope warehouse")
    for key in keys:
        table.add_column(key.replace("_", " "), justify="right")
    r = rows[0] if rows else {}
    table.add_row(*[_fmt(r.get(k)) for k in keys])
    out.print(table)


def register(app: typer.Typer) -> None:
    app.callback()(_global)
    app.command()(schema)
    app.command()(analyze)
    app.command()(ingest)
    app.command()(worker)
    app.command()(reprocess)
    app.command()(generate)
    app.command()(summary)


def _enqueue(queue: Any, batch: list[tuple[str, bytes, int]]) -> list[str]:
    if not batch:
        return []
    if hasattr(queue, "enqueue_many"):
        results = queue.enqueue_many(batch)
    else:
        results = [queue.enqueue(sid, payload, priority=prio) for sid, payload, prio in batch]
    return [str(r.outcome) for r in results]


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _print_counts(what: str, counts: dict[str, int]) -> None:
    err.print(f"{what}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
