"""``callscope serve`` refuses configurations that would expose an open ingest endpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.cli import _load, app


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _load()
    return CliRunner()


def test_open_server_will_not_bind_a_public_address(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALLSCOPE_INGEST_TOKEN", raising=False)
    result = runner.invoke(app, ["--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "CALLSCOPE_INGEST_TOKEN" in result.output


def test_inline_workers_need_one_http_process(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLSCOPE_INGEST_TOKEN", "agents:abc")
    result = runner.invoke(
        app,
        ["--data-dir", str(tmp_path), "serve", "--workers-inline", "1", "--http-workers", "2"],
    )
    assert result.exit_code == 2
    assert "--http-workers 1" in result.output
