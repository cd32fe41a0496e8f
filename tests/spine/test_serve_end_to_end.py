"""``callscope serve`` as a user runs it: ingest API, inline worker and dashboard in one process.

A record POSTed to the API is analyzed by the inline worker and shows up in the dashboard's
session list and overview numbers, on the embedded defaults (SQLite queue, DuckDB).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_post_then_see_it_on_the_dashboard(tmp_path: Path, dev_cases: list[Path]) -> None:
    port = _free_port()
    env = {**os.environ, "CALLSCOPE_DATA_DIR": str(tmp_path), "CALLSCOPE_DASHBOARD_AUTH": "false"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "callscope", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not become ready"
            time.sleep(0.2)
        records = [json.loads(c.read_text())["record"] for c in dev_cases[:3]]
        for rec in records:
            r = httpx.post(f"{base}/v1/sessions", json=rec, timeout=10)
            assert r.status_code == 202, r.text
        assert httpx.post(f"{base}/v1/sessions", json=records[0], timeout=10).status_code == 200
        wanted = {r["session_id"] for r in records}
        seen: set[str] = set()
        while time.monotonic() < deadline + 60 and seen != wanted:
            page = httpx.get(f"{base}/api/sessions", timeout=10)
            assert page.status_code == 200, page.text
            seen = {s["session_id"] for s in page.json()["sessions"]}
            time.sleep(0.3)
        assert seen == wanted
        api = httpx.get(
            f"{base}/api/overview", params={"start": "2026-01-01", "end": "2026-12-31"}, timeout=10
        )
        assert api.status_code == 200, api.text
        numbers = api.json()
        booked = sum(
            json.loads(c.read_text())["expected"]["tools.meeting_booked"] for c in dev_cases[:3]
        )
        assert (numbers["calls"], numbers["meetings_booked"]) == (3, booked)
        overview = httpx.get(f"{base}/", timeout=10)
        assert overview.status_code == 200 and "text/html" in overview.headers["content-type"]
        metrics = httpx.get(f"{base}/metrics", timeout=10).text
        assert "callscope_" in metrics
    finally:
        proc.terminate()
        proc.wait(timeout=30)
