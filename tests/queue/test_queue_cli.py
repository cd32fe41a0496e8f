"""``callscope queue stats | dlq | replay`` against a real SQLite queue file."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from callscope.cli import queue_cmds
from callscope.queue import SqliteQueue


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setattr(queue_cmds.out, "width", 200)  # no folding inside the table
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """Keeps ``queue`` a sub-command even when it is the only one."""

    queue_cmds.register(root)
    return root


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(tmp_path))
    for var in ("CALLSCOPE_QUEUE", "CALLSCOPE_QUEUE_URL", "CALLSCOPE_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    q = SqliteQueue(tmp_path / "queue.sqlite3")
    q.enqueue_many([("ok-1", b"a"), ("ok-2", b"b"), ("bad-1", b"c"), ("bad-2", b"d")])
    for m in q.lease(10):
        if m.session_id.startswith("bad"):
            q.dead_letter(m, f"unreadable payload in {m.session_id}")
        elif m.session_id == "ok-2":
            q.ack(m)
    q.close()
    return tmp_path


runner = CliRunner()


def test_stats_table_and_json(app: typer.Typer, data_dir: Path) -> None:
    res = runner.invoke(app, ["queue", "stats"])
    assert res.exit_code == 0, res.output
    assert "in flight" in res.output and "dead" in res.output
    res = runner.invoke(app, ["queue", "stats", "--json"])
    assert res.exit_code == 0
    assert '"dead": 2' in res.output and '"leased": 1' in res.output


def test_dlq_lists_reasons(app: typer.Typer, data_dir: Path) -> None:
    res = runner.invoke(app, ["queue", "dlq", "--limit", "5"])
    assert res.exit_code == 0, res.output
    assert "bad-1" in res.output and "bad-2" in res.output
    assert "unreadable payload in bad-1" in res.output
    res = runner.invoke(app, ["queue", "dlq", "--limit", "0"])
    assert res.exit_code == 2


def test_replay_one_all_and_unknown(app: typer.Typer, data_dir: Path) -> None:
    res = runner.invoke(app, ["queue", "replay", "bad-1"])
    assert res.exit_code == 0 and "replayed 1 session" in res.output
    res = runner.invoke(app, ["queue", "replay", "bad-1"])
    assert res.exit_code == 1 and "not in the dead-letter queue" in res.output
    res = runner.invoke(app, ["queue", "replay", "--all"])
    assert res.exit_code == 0 and "replayed 1 session" in res.output
    res = runner.invoke(app, ["queue", "dlq"])
    assert "empty" in res.output
    q = SqliteQueue(data_dir / "queue.sqlite3")
    assert sorted(m.session_id for m in q.lease(10)) == ["bad-1", "bad-2"]
    q.close()


@pytest.mark.parametrize("args", [["queue", "replay"], ["queue", "replay", "x", "--all"]])
def test_replay_usage_errors(app: typer.Typer, data_dir: Path, args: list[str]) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2
    assert "SESSION_ID or --all" in res.output


def test_unreachable_queue_exits_1(
    app: typer.Typer, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CALLSCOPE_QUEUE", "redis")
    monkeypatch.setenv("CALLSCOPE_QUEUE_URL", f"redis://127.0.0.1:{port}/0")
    res = runner.invoke(app, ["queue", "stats"])
    assert res.exit_code == 1
    assert "queue unavailable" in res.output


def test_registered_in_the_real_cli(data_dir: Path) -> None:
    from callscope import cli

    if not any(g.name == "queue" for g in cli.app.registered_groups):
        cli._load()
    res = runner.invoke(cli.app, ["queue", "stats", "--json"])
    assert res.exit_code == 0, res.output
    assert '"ready": 0' in res.output
