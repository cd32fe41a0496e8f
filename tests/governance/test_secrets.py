"""No credential in any output; backend failures are one line; dashboard sessions really end.

The password-grep test runs the real ``callscope`` CLI in subprocesses (serve, worker,
ingest) against a real Redis that wants a password, a PostgreSQL URL nothing listens on and
an SQS endpoint nothing listens on, each URL carrying a planted secret, and greps everything
they print.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from callscope.cli import _load, app
from callscope.generate import generate_records
from callscope.masking import error_line, mask_text

PLANTED = "Pl4nted-S3cret-xyz"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_with_password(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not on PATH (apt-get install -y redis-server)")
    port = _port()
    workdir = tmp_path_factory.mktemp("redis-auth")
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--requirepass",
            "the-right-one",
            "--dir",
            str(workdir),
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def _cli(data_dir: Path, env: dict[str, str], *args: str, timeout: float = 120) -> str:
    full = {**os.environ, **env, "CALLSCOPE_DATA_DIR": str(data_dir)}
    done = subprocess.run(
        [sys.executable, "-c", "from callscope.cli import main; main()", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return f"[exit {done.returncode}]\n{done.stdout}\n{done.stderr}"


def _serve_output(data_dir: Path, env: dict[str, str]) -> str:
    """Start ``serve``, wait for it to answer /healthz, stop it; everything it printed."""
    port = _port()
    full = {**os.environ, **env, "CALLSCOPE_DATA_DIR": str(data_dir)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from callscope.cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--log-level",
            "info",
        ],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        record = orjson.dumps(next(iter(generate_records(1, seed=5))))
        httpx.post(f"http://127.0.0.1:{port}/v1/sessions", content=record, timeout=10)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            output, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
    return output


def test_no_command_prints_a_planted_password(tmp_path: Path, redis_with_password: int) -> None:
    records = tmp_path / "in.jsonl"
    records.write_bytes(b"\n".join(orjson.dumps(r) for r in generate_records(3, seed=2)))
    redis_env = {
        "CALLSCOPE_QUEUE": "redis",
        "CALLSCOPE_QUEUE_URL": f"redis://:{PLANTED}@127.0.0.1:{redis_with_password}/0",
    }
    pg_env = {"CALLSCOPE_STORE_URL": f"postgresql://callscope:{PLANTED}@127.0.0.1:{_port()}/db"}
    sqs_env = {
        "CALLSCOPE_QUEUE": "sqs",
        "CALLSCOPE_QUEUE_URL": f"sqs://jobs?region=us-east-1&endpoint=http://127.0.0.1:{_port()}",
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": PLANTED,
        "AWS_MAX_ATTEMPTS": "1",
    }
    outputs = {
        "worker/redis": _cli(tmp_path / "a", redis_env, "worker", "--once"),
        "ingest/redis": _cli(tmp_path / "a", redis_env, "ingest", str(records)),
        "queue stats/redis": _cli(tmp_path / "a", redis_env, "queue", "stats"),
        "worker/postgres": _cli(tmp_path / "b", pg_env, "worker", "--once"),
        "ingest/sqs": _cli(tmp_path / "c", sqs_env, "ingest", str(records)),
        "worker/sqs": _cli(tmp_path / "c", sqs_env, "worker", "--once"),
        "serve/redis": _serve_output(
            tmp_path / "d", {**redis_env, "CALLSCOPE_INGEST_TOKEN": f"agents:{PLANTED}"}
        ),
    }
    for name, text in outputs.items():
        assert PLANTED not in text, f"{name} printed the password:\n{text}"
        assert "Traceback" not in text, f"{name} printed a traceback:\n{text}"
    # Every failing backend got its one-line error, exit 2.
    for name in ("worker/redis", "ingest/redis", "worker/postgres", "ingest/sqs"):
        text = outputs[name]
        assert text.startswith("[exit 2]"), f"{name}: {text}"
        errors = [ln for ln in text.splitlines() if ln.startswith("error:")]
        assert len(errors) == 1, f"{name}: {text}"
    assert "redis://:***@127.0.0.1" in outputs["serve/redis"]


def test_mask_text_covers_urls_pairs_and_errors() -> None:
    assert mask_text("postgresql://u:p@ss@db/x") == "postgresql://u:***@db/x"
    assert mask_text("rediss://:pw@h:6380/0 and https://h:8080/p") == (
        "rediss://:***@h:6380/0 and https://h:8080/p"
    )
    assert mask_text("s3://b?aws_secret_access_key=K&r=1") == "s3://b?aws_secret_access_key=***&r=1"
    assert error_line(ConnectionError(f"redis://:{PLANTED}@h\nmore")) == (
        "ConnectionError: redis://:***@h"
    )


def test_dashboard_without_auth_refuses_a_public_bind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load()
    monkeypatch.setenv("CALLSCOPE_INGEST_TOKEN", "agents:abc")
    monkeypatch.setenv("CALLSCOPE_DASHBOARD_AUTH", "false")
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "CALLSCOPE_DASHBOARD_AUTH=false" in result.output
