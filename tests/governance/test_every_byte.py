"""Forget and retention hold in every stored byte, through the real path.

Marisol (dev_001's caller) calls twice: once through LiveKit's own observability upload
(livekit-agents' uploader: recording header, chat history, audio, OTLP spans/logs/metrics)
and once as a SessionRecord posted to ``/v1/sessions``. Oluwaseun (dev_002) calls once and
mentions her by name and email, and says a card number and an SSN. ``callscope serve``
ingests, queues and (inline worker) analyses into the warehouse, raw store and telemetry
store. Then ``retention run`` and ``forget --email`` run as an operator runs them, and every
file under the data dir is read raw, decompressed and dumped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from typer.testing import CliRunner

from tests.governance.conftest import DEV
from tests.governance.scan import scan
from tests.livekit.agent_job import make_ogg
from tests.livekit.conftest import API_KEY, API_SECRET, run_agent, wait_for_session
from tests.reliability.procs import HEADERS, IngestServer, make_env

pytestmark = pytest.mark.slow

MARISOL = ["marisol", "hillcountryhomes", "echeverr", "80 contracts a month"]
CARD, SSN = "4111 1111 1111 1111", "536-22-8891"
OTHER_PHRASE = "immigration law practice in Boston"


def _record(name: str) -> dict[str, Any]:
    rec: dict[str, Any] = json.loads((DEV / f"{name}.json").read_text())["record"]
    return rec


def _oluwaseun_mentioning_marisol() -> dict[str, Any]:
    rec = _record("dev_002")
    rec["transcript"]["items"].append(
        {
            "id": "planted-1",
            "type": "message",
            "role": "user",
            "content": [
                "oh and my friend Marisol Echeverria at marisol@hillcountryhomes.com wants a "
                f"demo too. for billing my card is {CARD} and my SSN is {SSN}"
            ],
        }
    )
    return rec


def _cli(data: Path, args: list[str]) -> str:
    from callscope.cli import _load, app

    _load()
    result = CliRunner().invoke(app, args, env={"CALLSCOPE_DATA_DIR": str(data)})
    assert result.exit_code == 0, result.output
    return result.output


def _ingest(tmp_path: Path, data: Path) -> None:
    env = make_env(
        data,
        CALLSCOPE_LIVEKIT_API_KEY=API_KEY,
        CALLSCOPE_LIVEKIT_API_SECRET=API_SECRET,
        CALLSCOPE_DASHBOARD_AUTH="false",
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    server = IngestServer(env, logs, args=())  # dashboard on: its inline worker analyses
    server.start(timeout=60)
    try:
        audio = tmp_path / "call.ogg"
        make_ogg(audio)
        run_agent(server.url, "room-lk-7731", "AJ_7731", audio=audio)
        for rec in (_record("dev_001"), _oluwaseun_mentioning_marisol()):
            resp = httpx.post(
                f"{server.url}/v1/sessions", content=orjson.dumps(rec), headers=HEADERS
            )
            assert resp.status_code == 202, resp.text
        wait_for_session(
            server.url, "room-lk-7731", lambda v: bool((v.get("livekit") or {}).get("outcome"))
        )
        wait_for_session(server.url, "room-dev_001")
        wait_for_session(server.url, "room-dev_002")
    finally:
        server.stop()


def test_retention_and_forget_leave_no_byte_of_the_person(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _ingest(tmp_path, data)
    before = scan(data)
    # The test can fail: everything looked for is there before.
    for needle in [*MARISOL, CARD, SSN, OTHER_PHRASE]:
        assert before.hits(needle), needle
    assert any(p.endswith(".audio.ogg") for p in before.views)
    assert "observability.sqlite3#decoded" in before.hits("lk.pii.user_input")

    started = time.perf_counter()
    retained = _cli(data, ["retention", "run"])
    forgot = _cli(data, ["forget", "--email", "marisol@hillcountryhomes.com"])
    took = time.perf_counter() - started
    assert "room-dev_001" in forgot, forgot

    after = scan(data)
    left = {needle: after.hits(needle) for needle in [*MARISOL, CARD, SSN]}
    assert left == {needle: [] for needle in left}, (retained, forgot, left)
    assert not any(p.endswith(".audio.ogg") for p in after.views)
    # Oluwaseun's call is still there, with what he said (but not his card or SSN).
    assert after.hits(OTHER_PHRASE)
    print(
        f"\nscanned {after.files} files, {after.bytes_raw} bytes raw + "
        f"{after.bytes_decoded} decoded; retention + forget {took:.2f}s"
    )


def test_retention_ages_out_telemetry_and_audio(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from callscope.governance.audit import AuditLog
    from callscope.governance.clock import Clock
    from callscope.governance.retention import run_retention
    from callscope.profile.model import Retention
    from callscope.store import open_store
    from callscope.store.archive import open_archive
    from callscope.store.raw import open_raw
    from callscope.store.telemetry import TelemetryStore, telemetry_path

    data = tmp_path / "data"
    _ingest(tmp_path, data)
    tel = TelemetryStore(telemetry_path(data))
    raw = open_raw(str(data / "raw"))
    assert list(raw.audio()) and tel.rows("spans")
    store = open_store(f"duckdb:///{data / 'warehouse.duckdb'}")
    audit = AuditLog(data / "audit" / "audit.jsonl")
    kwargs: dict[str, Any] = {
        "archive": open_archive(str(data / "archive")),
        "audit": audit,
        "raw": raw,
        "telemetry": tel,
    }
    try:
        # 40 days on: past the PII period only. Text is redacted, the audio goes.
        soon = Clock.fixed(datetime.now(UTC) + timedelta(days=40))
        report = run_retention(store, Retention(), clock=soon, **kwargs)
        assert report.audio_deleted == 1 and report.telemetry_redacted > 0
        assert not list(raw.audio()) and tel.rows("spans")
        blob = telemetry_path(data).read_bytes()
        assert b"hillcountryhomes" not in blob.lower() and b"lk.pii.user_input" in blob
        # 100 days on: past the transcripts period. Recordings, spans and logs go.
        later = Clock.fixed(datetime.now(UTC) + timedelta(days=100))
        report = run_retention(store, Retention(), clock=later, **kwargs)
        assert report.telemetry_deleted > 0
        assert not tel.rows("spans") and not tel.rows("logs") and not tel.rows("recordings")
        assert b"lk.pii.user_input" not in telemetry_path(data).read_bytes()
    finally:
        store.close()
        tel.close()
