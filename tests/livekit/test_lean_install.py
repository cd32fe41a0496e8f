"""``pip install callscope`` in an agent: the collector only, small, fast to import, and it works.

Builds the wheel from this tree, installs it (base, no extras) into a fresh virtualenv from
the machine's configured package index, checks what it pulled in and how long
``import callscope.collect`` takes, then installs livekit-agents there too and runs a real
``AgentSession`` with ``attach`` sending over HTTP to a local server. The venv's Python runs
isolated (``-I``): nothing of this tree or of the dev environment is importable there.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from tests.livekit.conftest import ROOT, CaptureServer

pytestmark = pytest.mark.slow

MAX_ADDED_BYTES = 30 * 1024 * 1024
# The budget is 150 ms of wall time on an idle machine. This machine's CPUs are shared, so
# the wall clock mostly measures waiting for a core: the test holds the import's CPU time to
# half the budget (the margin), best of five runs, and prints both.
MAX_IMPORT_CPU_MS = 75.0
SERVER_ONLY = ("duckdb", "pyarrow", "numpy", "scikit-learn", "fastapi", "boto3", "sqlalchemy")
PIP = [sys.executable, "-m", "pip"]


def _run(args: list[str], timeout: float = 240) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-4000:])
    return done.stdout


def _site_bytes(venv: Path) -> int:
    site = next((venv / "lib").glob("python3*/site-packages"))
    return sum(p.stat().st_size for p in site.rglob("*") if p.is_file())


def _pip_install(venv: Path, *what: str) -> None:
    # the dev venv's pip installs into the bare venv; --no-compile: pyc files are written on
    # first import, as in an agent image built without them
    _run([*PIP, "--python", str(venv / "bin" / "python"), "install", "-q", "--no-compile", *what])


IMPORT_PROBE = """
import sys, time
t, c = time.perf_counter(), time.process_time()
import callscope.collect
wall, cpu = (time.perf_counter() - t) * 1000, (time.process_time() - c) * 1000
print(wall, cpu, callscope.collect.__file__, sorted({m.split('.')[0] for m in sys.modules}))
"""

AGENT = """
import asyncio, sys
from pathlib import Path
from callscope.collect import DeliveryOptions, attach
from callscope.devtools.simulate import DEFAULT_SCRIPT, SalesAgent, new_session, run_session

async def main(url: str, spool: str) -> None:
    session = new_session()
    collector = attach(session, session_id="room-lean", transport=url, agent_name="ava",
                       options=DeliveryOptions(spool_dir=Path(spool), fsync=False))
    collector.note_signal("team_size", 12)
    await session.start(SalesAgent())
    await run_session(session, DEFAULT_SCRIPT)
    assert await asyncio.to_thread(collector.flush, 20)

asyncio.run(main(sys.argv[1], sys.argv[2]))
heavy = {"duckdb", "fastapi", "sklearn", "pyarrow", "sqlalchemy", "boto3", "structlog", "typer"}
print(sorted(heavy & {m.split('.')[0] for m in sys.modules}))
"""


def test_base_wheel_is_the_collector_and_runs_a_real_agent_session(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    _run([*PIP, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("callscope-*.whl")
    venv = tmp_path / "agent-venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = str(venv / "bin" / "python")
    before = _site_bytes(venv)
    _pip_install(venv, str(wheel))
    added = _site_bytes(venv) - before
    assert added <= MAX_ADDED_BYTES, f"base install added {added / 1e6:.1f} MB"
    installed = _run(
        [
            python,
            "-I",
            "-c",
            "import importlib.metadata as m; "
            "print('\\n'.join(sorted(d.metadata['Name'].lower() "
            "for d in m.distributions())))",
        ]
    ).split()
    assert not set(SERVER_ONLY) & set(installed), installed
    assert {"callscope", "orjson", "httpx"} <= set(installed)

    walls, cpus = [], []
    for _ in range(5):
        wall, cpu, where, loaded = _run([python, "-I", "-c", IMPORT_PROBE]).split(" ", 3)
        walls.append(float(wall))
        cpus.append(float(cpu))
    assert where.startswith(str(venv))  # the installed wheel, not this tree
    assert "pydantic" not in loaded and "httpx" not in loaded  # httpx loads when it sends
    print(
        f"base install: +{added / 1e6:.1f} MB; import callscope.collect: "
        f"{min(walls):.1f} ms wall, {min(cpus):.1f} ms CPU (best of 5)"
    )
    assert min(cpus) < MAX_IMPORT_CPU_MS, (cpus, walls)

    # the command line names the extra it needs, in one line
    cli = subprocess.run(
        [str(venv / "bin" / "callscope"), "summary"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert cli.returncode == 2 and cli.stdout == ""
    assert cli.stderr.strip().splitlines() == [
        "callscope: this needs the 'server' extra (module 'typer' is not installed): "
        "pip install 'callscope[server]'"
    ]

    _pip_install(venv, "livekit-agents==1.8.9")
    script = tmp_path / "agent.py"
    script.write_text(textwrap.dedent(AGENT))
    with CaptureServer() as server:
        out = _run([python, "-I", str(script), server.url, str(tmp_path / "spool")], 180)
    assert out.strip().splitlines()[-1] == "[]"  # nothing of the pipeline was imported
    (req,) = [r for r in server.requests if r.path == "/v1/sessions"]
    record = json.loads(gzip.decompress(req.body))
    assert record["session_id"] == "room-lean" and record["discovered_signals"] == {"team_size": 12}
    users = [i for i in record["transcript"]["items"] if i.get("role") == "user"]
    assert len(users) == 6
    assert {t["name"] for t in record["tool_calls"]} == {
        "unleash_search_knowledge",
        "book_sales_meeting",
    }


def test_server_extra_in_a_fresh_venv_runs_the_whole_pipeline(tmp_path: Path) -> None:
    """``pip install 'callscope[server]'`` from the configured index alone, then ingest ->
    queue -> worker -> warehouse with the installed commands (nothing of this tree)."""
    import os
    import time

    import httpx
    from tests.governance.conftest import DEV
    from tests.reliability.procs import free_port

    wheels = tmp_path / "wheels"
    _run([*PIP, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(wheels), str(ROOT)])
    (wheel,) = wheels.glob("callscope-*.whl")
    venv = tmp_path / "server-venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    _pip_install(venv, f"{wheel}[server]")
    cli = str(venv / "bin" / "callscope")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "CALLSCOPE_DATA_DIR": str(tmp_path / "data"),
        "CALLSCOPE_INGEST_TOKEN": "load:lean-token",
    }
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")  # noqa: SIM115
    serve = subprocess.Popen(
        [cli, "serve", "--no-dashboard", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    log.close()
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
        record = json.loads((DEV / "dev_003.json").read_text())["record"]
        resp = httpx.post(
            f"{url}/v1/sessions", json=record, headers={"Authorization": "Bearer lean-token"}
        )
        assert resp.status_code == 202, resp.text
    finally:
        serve.terminate()
        serve.wait(timeout=20)
    worked = subprocess.run(
        [cli, "worker", "--once"], env=env, capture_output=True, text=True, timeout=180
    )
    said = worked.stdout + worked.stderr
    assert worked.returncode == 0 and "processed 1 sessions" in said and "dead-lettered 0" in said
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-I", "-c", "import callscope; print(callscope.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert where.stdout.startswith(str(venv))
