"""Real processes for the no-loss tests: the ingest server and workers as subprocesses."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from callscope.generate import generate_records

CLI = str(Path(sys.executable).parent / "callscope")
# The worker command; overridable to try these tests against another worker build.
WORKER = os.environ.get("CALLSCOPE_TEST_WORKER_CMD", f"{CLI} worker").split()
TOKEN = "reliability-token"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLSCOPE_")}
    env.update(
        CALLSCOPE_DATA_DIR=str(data_dir),
        CALLSCOPE_INGEST_TOKEN=f"load:{TOKEN}",
        CALLSCOPE_RATE_LIMIT_PER_MINUTE="10000000",
        CALLSCOPE_LOG_LEVEL="WARNING",
    )
    env.update(extra)
    return env


def sessions(n: int, seed: int) -> list[dict[str, Any]]:
    return list(generate_records(n, seed=seed))


class IngestServer:
    """``callscope serve`` on a free port; ``kill9`` and ``start`` again on the same port."""

    # Ingest only by default: with the dashboard on, a DuckDB warehouse makes serve drain the
    # queue with an inline worker, and these tests check what the queue holds.
    def __init__(
        self, env: dict[str, str], log_dir: Path, args: Sequence[str] = ("--no-dashboard",)
    ) -> None:
        self.env = env
        self.args = list(args)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self, timeout: float = 30.0) -> None:
        self.starts += 1
        log = open(self.log_dir / f"ingest-{self.starts}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [CLI, "serve", "--port", str(self.port), *self.args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"ingest server exited {self.proc.returncode}, see {self.log_dir}"
                )
            try:
                if httpx.get(f"{self.url}/healthz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"ingest server did not come up in {timeout}s, see {self.log_dir}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@dataclass
class Loader:
    """Sends sessions until each one is acknowledged (202/200), retrying through outages."""

    url: str
    acked: set[str] = field(default_factory=set)
    statuses: dict[int, int] = field(default_factory=dict)
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def send_batches(
        self, recs: Sequence[dict[str, Any]], size: int, deadline: float, on_progress: Any = None
    ) -> None:
        with httpx.Client(base_url=self.url, timeout=10.0, headers=HEADERS) as client:
            for start in range(0, len(recs), size):
                chunk = recs[start : start + size]
                payload = orjson.dumps(chunk)
                while True:
                    if time.monotonic() > deadline:
                        raise TimeoutError("load did not finish in time")
                    try:
                        resp = client.post("/v1/sessions:batch", content=payload)
                    except httpx.HTTPError:
                        self.connection_errors += 1
                        time.sleep(0.05)
                        continue
                    self._count(resp.status_code)
                    if resp.status_code in (200, 202):
                        results = resp.json()["results"]
                        assert all(r["status"] != "rejected" for r in results), results
                        with self.lock:
                            self.acked.update(r["session_id"] for r in results)
                        break
                    assert resp.status_code in (429, 503), resp.text
                    time.sleep(min(1.0, float(resp.headers.get("Retry-After", "1")) / 10))
                if on_progress is not None:
                    on_progress(len(self.acked))

    def send_singles(self, recs: Iterable[dict[str, Any]], deadline: float) -> None:
        with httpx.Client(base_url=self.url, timeout=10.0, headers=HEADERS) as client:
            for rec in recs:
                payload = orjson.dumps(rec)
                while True:
                    if time.monotonic() > deadline:
                        raise TimeoutError("load did not finish in time")
                    try:
                        resp = client.post("/v1/sessions", content=payload)
                    except httpx.HTTPError:
                        self.connection_errors += 1
                        time.sleep(0.05)
                        continue
                    self._count(resp.status_code)
                    if resp.status_code in (200, 202):
                        with self.lock:
                            self.acked.add(resp.json()["session_id"])
                        break
                    assert resp.status_code in (429, 503), resp.text
                    time.sleep(0.05)


def run_worker_once(
    env: dict[str, str], timeout: float = 120.0, extra: Sequence[str] = ()
) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(
        [*WORKER, "--once", *extra],
        env=env,
        timeout=timeout,
        capture_output=True,
        check=False,
    )
    output = done.stderr.decode(errors="replace")
    assert done.returncode in (0, 1) and "Traceback" not in output, output[-2000:]
    return done


def start_worker(
    env: dict[str, str], log_path: Path, extra: Sequence[str] = ()
) -> subprocess.Popen[bytes]:
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen([*WORKER, *extra], env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return proc


def stored(env: dict[str, str]) -> tuple[set[str], int]:
    """Session ids in the warehouse and the number of session rows (duplicates show here)."""
    from callscope.store import open_store

    url = env.get("CALLSCOPE_STORE_URL") or (
        f"duckdb:///{Path(env['CALLSCOPE_DATA_DIR']) / 'warehouse.duckdb'}"
    )
    store = open_store(url)
    try:
        return store.session_ids(), store.count("sessions")
    finally:
        store.close()
