"""``callscope serve``: the ingest service (and, optionally, workers in the same process)."""

from __future__ import annotations

import os
import threading
from typing import Annotated, Any

import typer

from callscope.cli.context import current, err, fail_line, profile_or_exit, settings
from callscope.config import Settings
from callscope.ingest.auth import is_loopback
from callscope.masking import mask_url
from callscope.profile.model import Profile


def _fail(message: str) -> None:
    fail_line(message)


def _store_for_readyz(url: str, inline_workers: int, profile: Profile) -> Any:
    """The warehouse ``/readyz`` checks, or ``None``.

    DuckDB allows one writer process: a stand-alone ingest server must not hold the file the
    worker writes, so it checks the warehouse only when the workers run inline.
    """
    if ("://" not in url or url.startswith("duckdb")) and inline_workers == 0:
        return None
    from callscope.store import open_store

    # Stand-alone, the workers own migrations; inline, this process is the worker.
    from callscope.store.memory import memory_limit_for
    from callscope.store.rows import tool_kinds_of

    return open_store(
        url,
        migrate=inline_workers > 0,
        tool_kinds=tool_kinds_of(profile),
        duckdb_memory_limit=memory_limit_for("dashboard"),
    )


def serve(
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8780,
    workers_inline: Annotated[
        int | None,
        typer.Option(
            "--workers-inline",
            min=0,
            help="Also run the analytics worker in this process with N analysis processes "
            "(0: run `callscope worker` separately; default: 1 with a DuckDB warehouse and "
            "the dashboard on, since DuckDB allows one writing process).",
        ),
    ] = None,
    dashboard: Annotated[
        bool,
        typer.Option("--dashboard/--no-dashboard", help="Serve the web dashboard too."),
    ] = True,
    http_workers: Annotated[
        int,
        typer.Option(
            "--http-workers",
            min=1,
            help="uvicorn worker processes for the HTTP side (each group-commits on its own).",
        ),
    ] = 1,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Run the ingest service (POST /v1/sessions[:batch], /healthz, /readyz, /metrics) and
    the dashboard (/, /engineering, /revops, /executive, /knowledge-base, /sessions)."""
    cfg = settings()
    workers_inline = _checked_layout(cfg, host, workers_inline, dashboard, http_workers)
    profile = profile_or_exit()
    try:
        store = _store_for_readyz(cfg.resolved_store_url(), workers_inline, profile)
    except Exception as exc:
        _fail(f"cannot open warehouse {cfg.resolved_store_url()}: {exc}")
        raise typer.Exit(2) from None

    stop = threading.Event()
    worker_thread: threading.Thread | None = None
    if workers_inline:
        worker_thread = _start_inline_worker(cfg, store, profile, workers_inline, stop)
    err.print(
        f"callscope ingest on http://{host}:{port}/v1/sessions "
        f"(queue {mask_url(cfg.resolved_queue_url())}, "
        f"{'token auth' if cfg.ingest_tokens() else 'open to localhost only'})"
        + (f"; dashboard on http://{host}:{port}/" if dashboard and store is not None else ""),
        highlight=False,
    )
    try:
        if http_workers > 1:
            _run_http_workers(host, port, http_workers, log_level)
        else:
            _run_http(cfg, store, profile, host, port, dashboard=dashboard, log_level=log_level)
    finally:
        stop.set()
        if worker_thread is not None:
            worker_thread.join(timeout=30)
        if store is not None:
            store.close()


def _checked_layout(
    cfg: Settings, host: str, workers_inline: int | None, dashboard: bool, http_workers: int
) -> int:
    """The inline worker count, or exit 2 for a layout that cannot work (before any bind)."""
    store_url = cfg.resolved_store_url()
    duckdb = "://" not in store_url or store_url.startswith("duckdb")
    if workers_inline is None:
        workers_inline = 1 if duckdb and dashboard else 0
    if dashboard and duckdb and workers_inline == 0:
        _fail(
            "the dashboard needs the DuckDB warehouse in this process (DuckDB allows one "
            "writer): drop --workers-inline 0, use a PostgreSQL warehouse, or --no-dashboard"
        )
        raise typer.Exit(2)
    if not cfg.ingest_tokens() and not is_loopback(host):
        _fail(
            f"refusing to bind {host} without an ingest token: set "
            "CALLSCOPE_INGEST_TOKEN (e.g. 'agents:<secret>') or bind 127.0.0.1"
        )
        raise typer.Exit(2)
    if dashboard:
        from callscope.dashboard.auth import refuse_bind

        refusal = refuse_bind(cfg, host)
        if refusal:
            _fail(refusal)
            raise typer.Exit(2)
    if http_workers > 1 and workers_inline:
        _fail("--workers-inline needs --http-workers 1 (one warehouse writer)")
        raise typer.Exit(2)
    return workers_inline


def _start_inline_worker(
    cfg: Settings, store: Any, profile: Profile, concurrency: int, stop: threading.Event
) -> threading.Thread:
    """The analytics worker and the inline alert engine, on threads of this process."""
    from callscope.alerts.engine import start_inline
    from callscope.cli.core import pipeline_hooks
    from callscope.queue import open_queue
    from callscope.store.raw import open_raw_store
    from callscope.worker import Worker

    try:
        worker_queue = open_queue(cfg.resolved_queue_url())
    except Exception as exc:
        _fail(f"cannot open queue {cfg.resolved_queue_url()}: {exc}")
        raise typer.Exit(2) from None
    worker = Worker(
        worker_queue,
        store,
        profile,
        raw_store=open_raw_store(cfg.resolved_raw_url()),
        batch_size=cfg.worker_batch_size,
        visibility_timeout=cfg.visibility_timeout_s,
        concurrency=concurrency,
        profile_source=cfg.profile,
        settings=cfg,
        hooks=pipeline_hooks(),
    )

    def _run_worker() -> None:
        from callscope.masking import error_line, is_backend_error

        with worker:
            while not stop.is_set():
                try:
                    worker.run_forever(stop)
                except Exception as exc:
                    if not is_backend_error(exc):
                        raise
                    # The broker is down or refuses us: say so once a retry, keep
                    # serving (ingest answers 503), and try again shortly.
                    err.print(f"worker: {error_line(exc)}; retrying in 5s", highlight=False)
                    stop.wait(5.0)

    thread = threading.Thread(target=_run_worker, name="callscope-worker", daemon=True)
    thread.start()
    start_inline(store, profile, worker_queue, stop)
    return thread


def _run_http_workers(host: str, port: int, http_workers: int, log_level: str) -> None:
    """Several uvicorn processes need an import string; each builds its app from the env."""
    import uvicorn

    cli = current()
    for key, value in (
        ("CALLSCOPE_DATA_DIR", cli.data_dir),
        ("CALLSCOPE_PROFILE", cli.profile_source),
        ("CALLSCOPE_CONFIG", cli.config_file),
    ):
        if value:
            os.environ[key] = value
    uvicorn.run(
        "callscope.ingest.factory:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=http_workers,
        loop="uvloop",
        http="httptools",
        log_level=log_level,
        access_log=False,
    )


def _run_http(
    cfg: Settings,
    store: Any,
    profile: Profile,
    host: str,
    port: int,
    *,
    dashboard: bool,
    log_level: str,
) -> None:
    import uvicorn

    from callscope.ingest.app import create_app

    app_ = create_app(cfg, store=store, profile=profile)
    if dashboard and store is not None:
        from callscope.dashboard import create_dashboard_router

        app_.include_router(create_dashboard_router(cfg, store, profile=profile))
    uvicorn.run(
        app_,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        log_level=log_level,
        access_log=False,
    )


def register(app: typer.Typer) -> None:
    app.command()(serve)
