"""No-loss under crashes: every acknowledged session ends up in the warehouse exactly once.

Real processes throughout: ``callscope serve`` and ``callscope worker`` run as subprocesses
and are killed with SIGKILL; Redis is a real ``redis-server`` restarted mid-run.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from callscope.queue.sqlite import SqliteQueue
from tests.reliability.procs import (
    HEADERS,
    IngestServer,
    Loader,
    make_env,
    run_worker_once,
    sessions,
    start_worker,
    stored,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _assert_exactly_once(env: dict[str, str], acked: set[str], sent: set[str]) -> None:
    ids, rows = stored(env)
    assert acked <= ids, f"{len(acked - ids)} acknowledged sessions lost"
    assert ids <= sent
    assert rows == len(ids), "a session was stored more than once"


def test_kill9_ingest_during_5000_sessions(tmp_path: Path) -> None:
    env = make_env(tmp_path / "data")
    server = IngestServer(env, tmp_path)
    server.start()
    recs = sessions(5000, seed=101)
    batched, singles = recs[:4700], recs[4700:]
    loader = Loader(server.url)
    deadline = time.monotonic() + 150
    killed = threading.Event()

    def kill_midway(acked: int) -> None:
        if acked >= 1500 and not killed.is_set():
            killed.set()
            server.kill9()
            server.start()

    try:
        singles_thread = threading.Thread(target=loader.send_singles, args=(singles, deadline))
        singles_thread.start()
        loader.send_batches(batched, 100, deadline, on_progress=kill_midway)
        singles_thread.join(timeout=max(1.0, deadline - time.monotonic()))
        assert not singles_thread.is_alive()
    finally:
        server.stop()
    assert killed.is_set() and server.starts == 2
    assert loader.connection_errors > 0  # requests really were cut off by the kill
    sent = {r["session_id"] for r in recs}
    assert loader.acked == sent  # the loader retried until every session was acknowledged
    # The server's job ends at the queue (the worker tests below carry sessions on into the
    # warehouse): every acknowledged session is queued once, and resends of sessions whose
    # answer was lost in the crash were recognised as duplicates, not new revisions.
    queue = SqliteQueue(Path(env["CALLSCOPE_DATA_DIR"]) / "queue.sqlite3")
    try:
        leased = queue.lease(10_000)
    finally:
        queue.close()
    assert len(leased) == len({m.session_id for m in leased})
    assert {m.session_id for m in leased} == loader.acked
    assert {m.revision for m in leased} == {1}


def test_kill9_worker_mid_batch(tmp_path: Path) -> None:
    env = make_env(
        tmp_path / "data", CALLSCOPE_VISIBILITY_TIMEOUT_S="2", CALLSCOPE_WORKER_BATCH_SIZE="100"
    )
    server = IngestServer(env, tmp_path)
    server.start()
    recs = sessions(1000, seed=202)
    loader = Loader(server.url)
    try:
        loader.send_batches(recs, 250, time.monotonic() + 60)
    finally:
        server.stop()
    queue = SqliteQueue(Path(env["CALLSCOPE_DATA_DIR"]) / "queue.sqlite3")
    worker = start_worker(env, tmp_path / "worker-1.log")
    try:
        deadline = time.monotonic() + 60
        # Kill once the worker holds a lease and has already finished at least one batch.
        while time.monotonic() < deadline:
            stats = queue.stats()
            if stats.leased > 0 and stats.ready <= len(recs) - 200:
                break
            assert worker.poll() is None, (tmp_path / "worker-1.log").read_text()[-2000:]
            time.sleep(0.02)
        else:
            pytest.fail("worker never got going")
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        in_flight = queue.stats().leased
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert in_flight > 0  # the kill really interrupted a batch
    queue.close()
    time.sleep(2.2)  # the dead worker's leases expire
    run_worker_once(env)
    sent = {r["session_id"] for r in recs}
    _assert_exactly_once(env, loader.acked, sent)
    assert stored(env)[0] == sent


@pytest.mark.services
def test_redis_restart_during_processing(tmp_path: Path, redis_server: Any, redis_url: str) -> None:
    env = make_env(
        tmp_path / "data",
        CALLSCOPE_QUEUE="redis",
        CALLSCOPE_QUEUE_URL=redis_url,
        CALLSCOPE_VISIBILITY_TIMEOUT_S="3",
    )
    server = IngestServer(env, tmp_path)
    server.start()
    recs = sessions(1200, seed=303)
    loader = Loader(server.url)
    worker = start_worker(env, tmp_path / "worker.log")
    restarted = threading.Event()

    def restart_midway(acked: int) -> None:
        if acked >= 500 and not restarted.is_set():
            restarted.set()
            redis_server.restart()

    try:
        loader.send_batches(recs, 100, time.monotonic() + 120, on_progress=restart_midway)
    finally:
        server.stop()
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except Exception:
            worker.kill()
            worker.wait()
    assert restarted.is_set()
    run_worker_once(env, extra=("--visibility-timeout", "3"))
    sent = {r["session_id"] for r in recs}
    assert loader.acked == sent
    _assert_exactly_once(env, loader.acked, sent)


def test_10x_burst_is_accepted_or_refused_never_lost(tmp_path: Path) -> None:
    # Steady rate 20 sessions/s (a 10 s bucket of 200); the burst comes at 10x that.
    env = make_env(tmp_path / "data", CALLSCOPE_RATE_LIMIT_PER_MINUTE="1200")
    server = IngestServer(env, tmp_path)
    server.start()
    recs = sessions(600, seed=404)
    accepted: set[str] = set()
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def fire(part: list[dict[str, Any]]) -> None:
        with httpx.Client(base_url=server.url, headers=HEADERS, timeout=10) as client:
            for rec in part:
                started = time.monotonic()
                resp = client.post("/v1/sessions", content=orjson.dumps(rec))
                with lock:
                    statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1
                    if resp.status_code == 202:
                        accepted.add(resp.json()["session_id"])
                    else:
                        assert resp.status_code in (429, 503), resp.text
                        assert int(resp.headers["Retry-After"]) >= 1
                # 4 senders at 50/s each: 200 sessions/s, 10x the steady rate, for 3 s.
                time.sleep(max(0.0, 0.02 - (time.monotonic() - started)))

    try:
        threads = [threading.Thread(target=fire, args=(recs[i::4],)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        server.stop()
    assert statuses.get(429, 0) > 0, statuses  # the limit did bite
    assert 200 <= len(accepted) < len(recs), statuses
    queue = SqliteQueue(Path(env["CALLSCOPE_DATA_DIR"]) / "queue.sqlite3")
    try:
        queued = {m.session_id for m in queue.lease(10_000)}
    finally:
        queue.close()
    assert queued == accepted
