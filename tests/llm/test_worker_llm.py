"""The worker runs the LLM registry the settings ask for, in-process and in its pool."""

from __future__ import annotations

import json
from pathlib import Path

import orjson
import pytest

from callscope.config import load_settings
from callscope.profile import load_profile
from callscope.queue.sqlite import SqliteQueue
from callscope.store import open_store
from callscope.worker import Worker
from tests.llm.conftest import FakeLLMServer, Reply

DEV = Path(__file__).resolve().parents[3] / "shared" / "evals" / "dev"


@pytest.mark.parametrize("concurrency", [1, 2])
def test_worker_uses_llm_backend_and_falls_back_without_losing_the_call(
    tmp_path: Path, server: FakeLLMServer, concurrency: int
) -> None:
    server.default = Reply(500, {"error": {"message": "overloaded", "type": "server_error"}})
    settings = load_settings(
        analysis_backend="openai",
        llm_model="gpt-4.1-mini",
        llm_base_url=f"{server.url}/v1",
        llm_api_key="test",
        llm_max_retries=0,
        llm_timeout_s=2,
    )
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    records = [json.loads(p.read_text())["record"] for p in sorted(DEV.glob("dev_*.json"))[:4]]
    for rec in records:
        queue.enqueue(rec["session_id"], orjson.dumps(rec))
    worker = Worker(queue, store, load_profile(), settings=settings, concurrency=concurrency)
    try:
        assert worker.run_once().processed == 4
    finally:
        worker.close()
    rows = store.fetch(
        "SELECT module, analyzer_version FROM analysis_results WHERE module = ?", ("sales",)
    )
    assert len(rows) == 4 and all("llm" in r["analyzer_version"] for r in rows)
    assert server.seen, "the LLM server was never asked"
    # The offline fallback kept every call's signals: tiers are still there.
    tiers = store.fetch("SELECT lead_tier FROM sessions")
    assert len(tiers) == 4 and all(t["lead_tier"] for t in tiers)
    store.close()
    queue.close()
