"""``callscope serve --workers-inline N``: one process takes sessions in and analyses them."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.reliability.procs import IngestServer, Loader, make_env, sessions, stored

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def _processed(metrics_text: str) -> float:
    match = re.search(r'callscope_processed_total\{outcome="ok"\} ([0-9.e+]+)', metrics_text)
    return float(match.group(1)) if match else 0.0


def test_inline_worker_processes_what_ingest_accepts(tmp_path: Path) -> None:
    env = make_env(tmp_path / "data")
    server = IngestServer(env, tmp_path, args=["--workers-inline", "1"])
    server.start()
    recs = sessions(60, seed=505)
    loader = Loader(server.url)
    try:
        loader.send_batches(recs, 30, time.monotonic() + 30)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = httpx.get(f"{server.url}/metrics", timeout=5).text
            if _processed(text) >= len(recs):
                break
            time.sleep(0.2)
        ready = httpx.get(f"{server.url}/readyz", timeout=5).json()
    finally:
        server.stop()
    assert _processed(text) == len(recs)
    assert ready["checks"] == {"queue": "ok", "store": "ok"}
    assert "callscope_queue_depth 0.0" in text
    ids, rows = stored(env)
    assert ids == {r["session_id"] for r in recs} and rows == len(recs)
