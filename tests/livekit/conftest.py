"""LiveKit's own observability upload against a real ``callscope serve``.

The agent runs in its own process (``tests/livekit/agent_job.py``): livekit-agents' telemetry
providers are process-global. ``callscope serve`` runs with the dashboard and its inline
worker, so a call that lands is in the warehouse and readable at ``/api/sessions/<id>``.
"""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.reliability.procs import IngestServer, make_env

API_KEY = "lk-test-key"
API_SECRET = "lk-test-secret-0123456789-abcdefghij"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestServer]:
    data = tmp_path_factory.mktemp("lk-serve")
    env = make_env(
        data,
        CALLSCOPE_LIVEKIT_API_KEY=API_KEY,
        CALLSCOPE_LIVEKIT_API_SECRET=API_SECRET,
        CALLSCOPE_DASHBOARD_AUTH="false",
    )
    server = IngestServer(env, data, args=())
    server.start(timeout=60)
    server.data_dir = data  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


def run_agent(
    url: str, room: str, job_id: str, audio: Path | None = None, secret: str = API_SECRET
) -> subprocess.CompletedProcess[str]:
    """One livekit-agents job whose observability URL is ``url``; LiveKit's uploader sends."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "CALLSCOPE_"))}
    env.update(
        LIVEKIT_OBSERVABILITY_URL=url,
        LIVEKIT_API_KEY=API_KEY,
        LIVEKIT_API_SECRET=secret,
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    )
    args = [sys.executable, "-m", "tests.livekit.agent_job", room, job_id]
    if audio is not None:
        args.append(str(audio))
    done = subprocess.run(
        args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def wait_for_session(
    base: str, session_id: str, ready: Any = None, timeout: float = 45.0
) -> dict[str, Any]:
    """``/api/sessions/<id>`` once it exists and ``ready(view)`` holds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        resp = httpx.get(f"{base}/api/sessions/{session_id}", timeout=5)
        if resp.status_code == 200:
            last = resp.json()
            if ready is None or ready(last):
                return dict(last)
        time.sleep(0.3)
    raise AssertionError(f"session {session_id} not ready in {timeout}s; last view: {last}")


@dataclass
class Captured:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class CaptureServer:
    """Answers 200 to everything and keeps each request, to replay LiveKit's exact bytes."""

    requests: list[Captured] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n)
                owner.requests.append(Captured(self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> CaptureServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@pytest.fixture
def capture() -> Iterator[CaptureServer]:
    server = CaptureServer()
    try:
        yield server
    finally:
        server.close()
