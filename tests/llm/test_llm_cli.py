"""``callscope llm-compare`` against the local OpenAI-compatible server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.cli import _load, app
from tests.llm.conftest import FakeLLMServer, Reply, dev_case, openai_reply
from tests.llm.test_llm_backend import GOOD, SUMMARY

runner = CliRunner()
_load()


def _write(tmp_path: Path, *names: str) -> Path:
    for name in names:
        record, _ = dev_case(name)
        (tmp_path / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")
    return tmp_path


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, server: FakeLLMServer) -> FakeLLMServer:
    monkeypatch.setenv("CALLSCOPE_LLM_API_KEY", "sk-test-not-a-real-key")
    monkeypatch.setenv("CALLSCOPE_LLM_MAX_RETRIES", "0")
    return server


def test_compare_table(env: FakeLLMServer, tmp_path: Path) -> None:
    env.script.extend(
        [Reply(body=openai_reply(json.dumps(GOOD))), Reply(body=openai_reply(json.dumps(SUMMARY)))]
    )
    env.default = Reply(503, {"error": {"message": "overloaded", "type": "server_error"}})
    folder = _write(tmp_path, "dev_001", "dev_004")
    args = ["llm-compare", str(folder), "--backend", "openai", "--model", "gpt-4.1-mini"]
    result = runner.invoke(app, [*args, "--base-url", f"{env.url}/v1"])
    assert result.exit_code == 0, result.output
    assert "timeline" in result.output  # dev_001: the LLM's timeline differs from offline
    assert "no: HTTP 503 (InternalServerError)" in result.output  # dev_004 fell back
    assert "1/2 sessions used the LLM answer" in result.output


def test_compare_json_and_bad_input(env: FakeLLMServer, tmp_path: Path) -> None:
    env.script.extend(
        [Reply(body=openai_reply(json.dumps(GOOD))), Reply(body=openai_reply(json.dumps(SUMMARY)))]
    )
    folder = _write(tmp_path, "dev_001")
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    args = ["llm-compare", str(folder), "--backend", "openai", "--model", "gpt-4.1-mini"]
    result = runner.invoke(app, [*args, "--base-url", f"{env.url}/v1", "-f", "json"])
    assert result.exit_code == 1
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert len(lines) == 1 and lines[0]["sales"]["timeline"] == "this_month"
    assert "broken.json" in result.output


def test_compare_needs_a_backend(env: FakeLLMServer, tmp_path: Path) -> None:
    result = runner.invoke(app, ["llm-compare", str(_write(tmp_path, "dev_004"))])
    assert result.exit_code == 2
    assert "llm-compare needs --backend anthropic|openai" in result.output
    result = runner.invoke(app, ["llm-compare", str(tmp_path), "--backend", "anthropic"])
    assert result.exit_code == 2 and "needs llm_model" in result.output
