"""What the observability routes answer to bad input and a queue that is down (LiveKit's view)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from google.rpc import status_pb2
from livekit.agents.telemetry.traces import _parse_retry_delay
from livekit.protocol.metrics import MetricsRecordingHeader
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from tests.livekit.conftest import API_KEY, API_SECRET

from callscope.config import Settings
from callscope.contract.session_report import record_from_recording
from callscope.ingest.app import create_app
from callscope.queue.base import QueueUnavailable
from callscope.queue.sqlite import SqliteQueue
from callscope.store.raw import open_raw_store
from callscope.store.telemetry import TelemetryStore, telemetry_path
from livekit import api

TOKEN = (
    api.AccessToken(API_KEY, API_SECRET)
    .with_observability_grants(api.ObservabilityGrants(write=True))
    .to_jwt()
)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SUMMARY = {
    "job_id": "AJ_1",
    "room_id": "RM_1",
    "room": "room-unit",
    "timestamp": 1_790_000_000.0,
    "duration_ms": 4000,
    "usage": None,
    "tags": ["vip"],
    "close_reason": "CR_USER_INITIATED",
}
CHAT = {
    "items": [
        {
            "id": "i1",
            "type": "message",
            "role": "user",
            "content": ["hello"],
            "created_at": 1_789_999_997.0,
            "metrics": {},
        },
        {
            "id": "i2",
            "type": "message",
            "role": "assistant",
            "content": ["hi there"],
            "created_at": 1_789_999_998.0,
            "metrics": {"llm_node_ttft": 0.4},
        },
    ]
}


def _header(**summary: Any) -> MetricsRecordingHeader:
    return MetricsRecordingHeader(
        room_id="RM_1",
        job_id="AJ_1",
        duration=4000,
        session_summary=orjson.dumps({**SUMMARY, **summary}).decode(),
    )


def _form(header: bytes, chat: bytes = orjson.dumps(CHAT), audio: bytes | None = None) -> Any:
    files: dict[str, Any] = {
        "header": ("header.binpb", header, "application/protobuf"),
        "chat_history": ("chat_history.json", chat, "application/json"),
    }
    if audio is not None:
        files["audio"] = ("recording.ogg", audio, "audio/ogg")
    return files


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        livekit_api_key=API_KEY,
        livekit_api_secret=API_SECRET,
        rate_limit_per_minute=60_000,
    )


@pytest.fixture
def client(settings: Settings, tmp_path: Path) -> Iterator[TestClient]:
    queue = SqliteQueue(tmp_path / "queue.sqlite3")
    with TestClient(create_app(settings, queue=queue)) as c:
        c.queue = queue  # type: ignore[attr-defined]
        yield c
    queue.close()


def test_recording_is_queued_once_with_audio_beside_it(client: TestClient, tmp_path: Path) -> None:
    form = _form(_header().SerializeToString(), audio=b"OggS-fake-audio")
    first = client.post("/observability/recordings/v0", files=form, headers=AUTH)
    assert first.status_code == 202 and first.json()["status"] == "accepted"
    again = client.post("/observability/recordings/v0", files=form, headers=AUTH)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    (msg,) = client.queue.lease(10, visibility_timeout=30)  # type: ignore[attr-defined]
    record = orjson.loads(msg.payload)
    assert record["session_id"] == "room-unit" and record["tags"] == ["vip"]
    assert record["close_reason"] == "user_initiated"
    assert record["transcript"]["items"][1]["metrics"] == {"llm_node_ttft": 0.4}
    key = record["livekit_recording"]["audio"]["key"]
    raw = open_raw_store(str(tmp_path / "raw"))
    assert raw.get_audio(key) == b"OggS-fake-audio"
    assert raw.delete("room-unit") == 1 and raw.get_audio(key) is None  # forget takes it


def test_outcome_logged_after_the_recording_makes_a_revision(
    client: TestClient, settings: Settings
) -> None:
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    client.post(
        "/observability/recordings/v0", files=_form(_header().SerializeToString()), headers=AUTH
    )
    req = ExportLogsServiceRequest()
    scope_logs = req.resource_logs.add().scope_logs.add()
    scope_logs.scope.name = "evaluations"
    rec = scope_logs.log_records.add(time_unix_nano=1, body=AnyValue(string_value="outcome"))
    outcome = AnyValue()
    outcome.kvlist_value.values.add(key="outcome", value=AnyValue(string_value="fail"))
    rec.attributes.extend(
        [
            KeyValue(key="outcome", value=outcome),
            KeyValue(key="job_id", value=AnyValue(string_value="AJ_1")),
        ]
    )
    body = gzip.compress(req.SerializeToString())
    headers = {**AUTH, "Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"}
    for _ in range(2):  # the exporter's retry stores nothing twice
        assert (
            client.post("/observability/logs/otlp/v0", content=body, headers=headers).status_code
            == 200
        )
    msgs = client.queue.lease(10, visibility_timeout=30)  # type: ignore[attr-defined]
    assert [m.revision for m in msgs] == [2]
    assert orjson.loads(msgs[0].payload)["outcome"] == {"outcome": "fail"}
    assert len(TelemetryStore(telemetry_path(settings.data_dir)).logs("AJ_1")) == 1


@pytest.mark.parametrize(
    ("files", "status", "reason"),
    [
        ({"chat_history": ("c.json", b"{}", "application/json")}, 400, "missing_header"),
        ({"header": ("h.binpb", b"\xff\xff\xff", "application/protobuf")}, 400, "bad_header"),
        (_form(_header().SerializeToString(), chat=b"{not json"), 400, "bad_chat_history"),
        (
            _form(MetricsRecordingHeader(session_summary="[1]").SerializeToString()),
            400,
            "bad_header",
        ),
    ],
)
def test_bad_recordings_are_refused_without_retry(
    client: TestClient, files: Any, status: int, reason: str
) -> None:
    resp = client.post("/observability/recordings/v0", files=files, headers=AUTH)
    assert resp.status_code == status and resp.json()["error"] == reason
    assert _parse_retry_delay(resp.content) is None  # LiveKit will not retry a 4xx
    assert client.queue.stats().ready == 0  # type: ignore[attr-defined]


def test_wrong_media_type_and_garbage_otlp(client: TestClient) -> None:
    assert (
        client.post(
            "/observability/recordings/v0",
            content=b"{}",
            headers={**AUTH, "Content-Type": "application/json"},
        ).status_code
        == 415
    )
    resp = client.post(
        "/observability/traces/otlp/v0",
        content=b"\xff\x00garbage",
        headers={**AUTH, "Content-Type": "application/x-protobuf"},
    )
    assert resp.status_code == 400
    assert status_pb2.Status.FromString(resp.content).message.startswith("bad_otlp")


def test_queue_down_answers_503_with_retry_info_livekit_reads(settings: Settings) -> None:
    def broken() -> Any:
        raise QueueUnavailable("redis is down")

    with TestClient(create_app(settings, queue_factory=broken)) as c:
        resp = c.post(
            "/observability/recordings/v0",
            files=_form(_header().SerializeToString()),
            headers=AUTH,
        )
    assert resp.status_code == 503 and resp.headers["Retry-After"] == "5"
    assert _parse_retry_delay(resp.content) == 5.0  # LiveKit's own parser: it will retry


def test_not_configured_is_404(tmp_path: Path) -> None:
    with TestClient(
        create_app(Settings(data_dir=tmp_path), queue=SqliteQueue(tmp_path / "q"))
    ) as c:
        resp = c.post("/observability/recordings/v0", files=_form(b""), headers=AUTH)
    assert resp.status_code == 404


def test_record_from_recording_is_deterministic_and_header_fills_gaps() -> None:
    summary = {k: v for k, v in SUMMARY.items() if k not in ("room_id", "duration_ms")}
    header = {
        "room_id": "RM_9",
        "job_id": "AJ_1",
        "duration": 2500,
        "session_summary": orjson.dumps(summary).decode(),
    }
    one = record_from_recording(header, CHAT, annotations={"outcome": {"outcome": "success"}})
    two = record_from_recording(header, CHAT, annotations={"outcome": {"outcome": "success"}})
    assert orjson.dumps(one, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        two, option=orjson.OPT_SORT_KEYS
    )
    assert one["duration_seconds"] == 2.5 and one["livekit_report"]["room_id"] == "RM_9"
    assert one["outcome"] == {"outcome": "success"}
    assert date.fromisoformat(one["started_at"][:10]).year == 2026
