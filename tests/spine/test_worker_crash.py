"""A worker killed with SIGKILL mid-batch loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from callscope.generate import generate_records
from callscope.queue import open_queue
from callscope.store import open_store

N = 2000


def _acked(queue_path: Path) -> int:
    # Read-only peek at the embedded queue from another process, as an operator would.
    total = open_queue(f"sqlite:///{queue_path}").stats()
    return N - total.ready - total.leased - total.dead - total.delayed


@pytest.mark.slow
def test_kill_9_mid_batch_then_restart_stores_every_session_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    queue_path = data / "queue.sqlite3"
    queue = open_queue(f"sqlite:///{queue_path}")
    ids = set()
    batch = []
    for rec in generate_records(N, seed=3):
        ids.add(rec["session_id"])
        batch.append((rec["session_id"], orjson.dumps(rec), 0))
    queue.enqueue_many(batch)
    queue.close()

    env = {**os.environ, "CALLSCOPE_DATA_DIR": str(data)}
    cmd = [
        sys.executable,
        "-m",
        "callscope",
        "worker",
        "--batch-size",
        "50",
        "--visibility-timeout",
        "2",
    ]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _acked(queue_path) < 300:
        assert first.poll() is None, first.stderr.read() if first.stderr else ""
        assert time.monotonic() < deadline, "worker made no progress"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert _acked(queue_path) < N, "the worker finished before it could be killed"

    second = subprocess.run([*cmd, "--once"], env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 0, second.stderr

    store = open_store(f"duckdb:///{data / 'warehouse.duckdb'}")
    try:
        assert store.session_ids() == ids
        assert store.count("sessions") == N
        rows = store.fetch("SELECT count(DISTINCT session_id) AS n, count(*) AS m FROM leads")
        assert rows[0]["n"] == rows[0]["m"] == N
    finally:
        store.close()
    stats = open_queue(f"sqlite:///{queue_path}").stats()
    assert (stats.ready, stats.leased, stats.dead) == (0, 0, 0)
