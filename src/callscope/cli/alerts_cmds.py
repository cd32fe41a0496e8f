"""``callscope alerts``: evaluate the windowed alert rules now, in a loop, or look at them.

Exit codes: 0 ok; 1 a rule could not be evaluated (its open alerts are left as they were)
or the warehouse is unreachable; 2 usage or configuration error.
"""

from __future__ import annotations

import signal
import threading
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlsplit

import orjson
import typer
from rich.table import Table

from callscope.cli.context import err, fail_line, out, profile_or_exit, settings

alerts_app = typer.Typer(
    name="alerts",
    help="Windowed alert rules: agent down, error rate, latency, backlog, cost, tokens...",
    no_args_is_help=True,
)

StoreOpt = Annotated[str | None, typer.Option("--url", help="Store URL (default: config).")]


def _store(url: str | None) -> Any:
    from callscope.store import open_store
    from callscope.store.rows import tool_kinds_of

    target = url or settings().resolved_store_url()
    try:
        return open_store(target, tool_kinds=tool_kinds_of(profile_or_exit()))
    except Exception as exc:
        fail_line(f"cannot open warehouse {target}: {exc}")
        raise typer.Exit(1) from None


def _queue(no_queue: bool) -> tuple[Any, str]:
    """The queue whose backlog is judged; unreachable, the backlog rule reports the error."""
    if no_queue:
        return None, "queue"
    from callscope.queue import open_queue

    url = settings().resolved_queue_url()
    try:
        return open_queue(url), queue_name(url)
    except Exception as exc:
        err.print(f"[yellow]warning:[/] queue {url}: {exc}", highlight=False)
        return None, url


def queue_name(url: str) -> str:
    """The queue's URL without credentials or options: it names the backlog alert."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}{parts.path}"


def _at(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        fail_line(f"--at: not an ISO time: {value!r}")
        raise typer.Exit(2) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


NoQueueOpt = Annotated[
    bool, typer.Option("--no-queue", help="Skip the queue_backlog rule (no queue here).")
]


@alerts_app.command("check")
def check_cmd(
    at: Annotated[
        str | None, typer.Option("--at", help="Evaluate as of this ISO time (replays).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    no_queue: NoQueueOpt = False,
    url: StoreOpt = None,
) -> None:
    """One evaluation pass now: fire what newly holds, resolve what cleared."""
    from callscope.alerts.engine import AlertEngine

    when = _at(at)
    store = _store(url)
    queue, queue_name = _queue(no_queue)
    try:
        engine = AlertEngine(store, profile_or_exit(), queue=queue, queue_name=queue_name)
        result = engine.check(when)
    finally:
        if queue is not None:
            queue.close()
        store.close()
    if as_json:
        typer.echo(orjson.dumps(result.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        for key in result.fired:
            out.print(f"fired     {key}", highlight=False)
        for key in result.resolved:
            out.print(f"resolved  {key}", highlight=False)
        out.print(
            f"{len(result.fired)} fired, {len(result.resolved)} resolved, "
            f"{len(result.held)} still firing, {len(result.suppressed)} in cooldown",
            highlight=False,
        )
    for rule, why in result.errors.items():
        fail_line(f"{rule}: {why}")
    if result.errors:
        raise typer.Exit(1)


@alerts_app.command("run")
def run_cmd(
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval", min=1, help="Seconds between passes (profile alerts.interval_s)."
        ),
    ] = None,
    no_queue: NoQueueOpt = False,
    url: StoreOpt = None,
) -> None:
    """Evaluate the rules every interval until stopped (SIGTERM / Ctrl-C)."""
    from callscope.alerts.engine import AlertEngine

    store = _store(url)
    queue, queue_name = _queue(no_queue)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        engine = AlertEngine(store, profile_or_exit(), queue=queue, queue_name=queue_name)
        err.print("callscope alerts: evaluating the windowed rules", highlight=False)
        engine.run_forever(stop, interval)
    except KeyboardInterrupt:
        stop.set()
    finally:
        if queue is not None:
            queue.close()
        store.close()


@alerts_app.command("status")
def status_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    url: StoreOpt = None,
) -> None:
    """Alert keys that are firing or in cooldown, and the latest alerts_history rows."""
    from callscope.alerts import queries

    store = _store(url)
    try:
        queries.ensure_state_table(store)
        states = [s for s in queries.load_states(store) if s["status"] != "resolved"]
        recent = queries.recent_history(store, 20)
    finally:
        store.close()
    if as_json:
        body = {"open": states, "recent": recent}
        typer.echo(orjson.dumps(body, default=str, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table("key", "status", "severity", "channel", "since", "last fired", title="Open")
    for s in sorted(states, key=lambda s: str(s["dedup_key"])):
        table.add_row(
            s["dedup_key"],
            s["status"],
            s["severity"] or "",
            s["channel"] or "",
            str(s["since"] or "")[:19],
            str(s["last_fired_at"] or "")[:19],
        )
    out.print(table)
    history = Table("fired at", "rule", "severity", "message", title="Recent alerts")
    for r in recent:
        history.add_row(str(r["fired_at"])[:19], r["rule"], r["severity"] or "", r["message"][:90])
    out.print(history)


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app)
