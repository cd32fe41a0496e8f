"""LiveKit webhooks signed with livekit-api's own tooling; missing-record counting."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from google.protobuf.json_format import MessageToJson
from livekit.api import AccessToken, WebhookEvent
from livekit.protocol import models

from callscope.config import Settings
from callscope.ingest import metrics
from callscope.ingest.app import create_app
from callscope.queue.sqlite import SqliteQueue
from tests.ingest.conftest import AUTH, TOKEN, body, records

KEY, SECRET = "APIcallscopeTest", "a-livekit-secret-of-reasonable-length-123456"
URL = "/v1/livekit/webhook"


def _event(kind: str, room: str) -> bytes:
    event = WebhookEvent(
        event=kind,
        id=f"EV_{room}_{kind}",
        created_at=int(time.time()),
        room=models.Room(name=room, sid=f"RM_{room}"),
    )
    return MessageToJson(event).encode()


def _sign(data: bytes, secret: str = SECRET, key: str = KEY) -> str:
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return AccessToken(key, secret).with_sha256(digest).with_ttl(timedelta(minutes=5)).to_jwt()


@pytest.fixture
def lk(tmp_path: Path, queue: SqliteQueue) -> Iterator[TestClient]:
    cfg = Settings(
        data_dir=tmp_path,
        ingest_token=TOKEN,
        livekit_api_key=KEY,
        livekit_api_secret=SECRET,
        livekit_missing_grace_s=0.2,
    )
    with TestClient(create_app(cfg, queue=queue)) as c:
        yield c


def _post(c: TestClient, data: bytes, auth: str | None) -> int:
    headers = {"Content-Type": "application/webhook+json"}
    if auth is not None:
        headers["Authorization"] = auth
    return c.post(URL, content=data, headers=headers).status_code


def test_signed_webhook_is_accepted(lk: TestClient) -> None:
    data = _event("room_started", "room-a")
    assert _post(lk, data, _sign(data)) == 200


def test_unsigned_webhook_is_refused(lk: TestClient) -> None:
    assert _post(lk, _event("room_finished", "room-a"), None) == 401


def test_webhook_signed_with_another_secret_is_refused(lk: TestClient) -> None:
    data = _event("room_finished", "room-a")
    assert _post(lk, data, _sign(data, secret="not-our-secret-but-long-enough-000000")) == 401


def test_tampered_webhook_body_is_refused(lk: TestClient) -> None:
    data = _event("room_finished", "room-a")
    token = _sign(data)
    assert _post(lk, _event("room_finished", "room-b"), token) == 401


def test_webhooks_are_404_when_not_configured(client: TestClient) -> None:
    data = _event("room_finished", "room-a")
    assert _post(client, data, _sign(data)) == 404


def test_room_without_record_counts_as_missing(lk: TestClient, tmp_path: Path) -> None:
    delivered, lost, early = records(3, seed=23)
    # A record that arrives before the webhook still matches its room.
    assert lk.post("/v1/sessions", content=body(early), headers=AUTH).status_code == 202
    for rec in (delivered, lost, early):
        data = _event("room_finished", rec["session_id"])
        assert _post(lk, data, _sign(data)) == 200
    assert lk.post("/v1/sessions", content=body(delivered), headers=AUTH).status_code == 202
    before = _missing()
    time.sleep(0.3)  # past the grace period
    lk.get("/metrics")  # a scrape sweeps; a background task does too
    assert _missing() - before == 1
    with sqlite3.connect(tmp_path / "livekit_rooms.sqlite3") as db:
        status = dict(db.execute("SELECT room, status FROM rooms").fetchall())
    assert status == {
        delivered["session_id"]: "received",
        lost["session_id"]: "missing",
        early["session_id"]: "received",
    }
    # The collector recovered and sent it after all: the room is marked late, not recounted.
    assert lk.post("/v1/sessions", content=body(lost), headers=AUTH).status_code == 202
    lk.get("/metrics")
    assert _missing() - before == 1
    with sqlite3.connect(tmp_path / "livekit_rooms.sqlite3") as db:
        (late,) = db.execute(
            "SELECT status FROM rooms WHERE room = ?", (lost["session_id"],)
        ).fetchone()
    assert late == "late"


def _missing() -> float:
    return metrics.REGISTRY.get_sample_value("callscope_missing_records_total") or 0.0
