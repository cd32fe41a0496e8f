"""``callscope queue``: look at the backlog and the dead-letter queue, replay failures.

Exit codes: 0 ok; 1 nothing matched (replay of an unknown session) or the queue is
unreachable; 2 usage or configuration error.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from callscope.queue import Queue, QueueUnavailable, open_queue

out = Console()
err = Console(stderr=True)

queue_app = typer.Typer(
    name="queue",
    help="Inspect the queue and its dead-letter queue; replay failed sessions.",
    no_args_is_help=True,
)


def _fail(message: str, code: int) -> typer.Exit:
    from callscope.cli.context import fail_line

    fail_line(message)
    return typer.Exit(code)


def _open() -> Queue:
    try:
        from callscope.cli.context import settings

        cfg = settings()
    except ImportError:  # the core commands are optional for this sub-app
        from callscope.config import ConfigError, load_settings

        try:
            cfg = load_settings()
        except ConfigError as exc:
            raise _fail(str(exc), 2) from None
    try:
        return open_queue(cfg)
    except QueueUnavailable as exc:
        raise _fail(f"queue unavailable: {exc}", 1) from None
    except Exception as exc:
        raise _fail(f"cannot open queue: {exc}", 2) from None


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


@queue_app.command("stats")
def stats_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """Messages ready, delayed (backing off), in flight and dead."""
    q = _open()
    try:
        s = q.stats()
    except QueueUnavailable as exc:
        raise _fail(f"queue unavailable: {exc}", 1) from None
    finally:
        q.close()
    if as_json:
        import orjson

        body = {
            "ready": s.ready,
            "delayed": s.delayed,
            "leased": s.leased,
            "dead": s.dead,
            "oldest_ready_age_s": s.oldest_ready_age_s,
        }
        out.print_json(orjson.dumps(body).decode())
        return
    table = Table(title=f"queue {q!r}", title_justify="left")
    for col in ("ready", "delayed", "in flight", "dead", "oldest ready"):
        table.add_column(col, justify="right")
    dead = f"[red]{s.dead}[/]" if s.dead else "0"
    table.add_row(str(s.ready), str(s.delayed), str(s.leased), dead, _age(s.oldest_ready_age_s))
    out.print(table)


@queue_app.command("dlq")
def dlq_cmd(
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Rows to show.")] = 20,
) -> None:
    """The most recent dead letters, with the reason each one failed."""
    q = _open()
    try:
        rows = q.dead_letters(limit)
    except QueueUnavailable as exc:
        raise _fail(f"queue unavailable: {exc}", 1) from None
    finally:
        q.close()
    if not rows:
        out.print("dead-letter queue is empty")
        return
    table = Table(title=f"dead letters (newest {len(rows)})", title_justify="left")
    table.add_column("session_id", overflow="fold")
    table.add_column("rev", justify="right")
    table.add_column("attempts", justify="right")
    table.add_column("failed at (UTC)")
    table.add_column("reason", overflow="fold")
    for d in rows:
        when = dt.datetime.fromtimestamp(d.failed_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        table.add_row(d.session_id, str(d.revision), str(d.attempts), when, d.reason)
    out.print(table)


@queue_app.command("replay")
def replay_cmd(
    session_id: Annotated[str | None, typer.Argument(help="Session to replay.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
) -> None:
    """Move dead letters back to the queue (attempts reset)."""
    if (session_id is None) == (not all_):
        raise _fail("give a SESSION_ID or --all (not both)", 2)
    q = _open()
    try:
        moved = q.replay(None if all_ else session_id)
    except QueueUnavailable as exc:
        raise _fail(f"queue unavailable: {exc}", 1) from None
    finally:
        q.close()
    if session_id is not None and moved == 0:
        raise _fail(f"{session_id}: not in the dead-letter queue", 1)
    _audit_replay(session_id or "all", moved)
    out.print(f"replayed {moved} session{'s' if moved != 1 else ''}")


def _audit_replay(target: str, moved: int) -> None:
    """Replays re-run analysis on people's calls, so each one goes to the audit log."""
    import os

    from callscope.cli.context import settings
    from callscope.governance.audit import AuditError, AuditLog, default_audit_path

    try:
        log = AuditLog(default_audit_path(settings().data_dir))
        log.append(
            "replay",
            actor=os.environ.get("USER") or "cli",
            target=target,
            details={"count": moved},
        )
    except (AuditError, OSError) as exc:
        raise _fail(f"replayed {moved}, but the audit log was not written: {exc}", 1) from None


def register(app: typer.Typer) -> None:
    app.add_typer(queue_app, name="queue")
