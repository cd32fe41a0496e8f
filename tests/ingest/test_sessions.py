"""POST /v1/sessions: accepted, duplicate, and the bad-input catalogue (one test per case)."""

from __future__ import annotations

import gzip
import sqlite3
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from callscope.config import Settings
from callscope.contract.parse import parse_record
from callscope.ingest.app import create_app
from callscope.queue.base import PRIORITY_HOT
from callscope.queue.sqlite import SqliteQueue
from tests.ingest.conftest import AUTH, TOKEN, body, records

URL = "/v1/sessions"


def _error(resp: Any, status: int, reason: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    data: dict[str, Any] = resp.json()
    assert set(data) == {"error", "message", "field"}
    assert data["error"] == reason
    assert "\n" not in data["message"] and data["message"]
    return data


def _queued(queue: SqliteQueue) -> dict[str, bytes]:
    return {m.session_id: m.payload for m in queue.lease(1000)}


# -- accepted ------------------------------------------------------------------------------


def test_accepted_record_is_in_the_queue_before_the_answer(
    client: TestClient, queue: SqliteQueue
) -> None:
    rec = records(1)[0]
    resp = client.post(URL, content=body(rec), headers=AUTH)
    assert resp.status_code == 202, resp.text
    assert resp.json()["session_id"] == rec["session_id"]
    assert resp.json()["status"] == "accepted"
    queued = _queued(queue)
    assert parse_record(queued[rec["session_id"]]).session_id == rec["session_id"]


def test_identical_resend_is_a_duplicate_and_a_change_is_a_revision(
    client: TestClient, queue: SqliteQueue
) -> None:
    rec = records(1)[0]
    assert client.post(URL, content=body(rec), headers=AUTH).status_code == 202
    # Same content with different whitespace and key order is still the same record.
    pretty = orjson.dumps(dict(reversed(list(rec.items()))), option=orjson.OPT_INDENT_2)
    dup = client.post(URL, content=pretty, headers=AUTH)
    assert dup.status_code == 200 and dup.json()["status"] == "duplicate"
    rec["close_reason"] = "participant_disconnected_again"
    rev = client.post(URL, content=body(rec), headers=AUTH)
    assert rev.status_code == 202 and rev.json()["status"] == "revision"
    assert rev.json()["revision"] == 2


def test_gzip_body_is_accepted(client: TestClient, queue: SqliteQueue) -> None:
    rec = records(1)[0]
    resp = client.post(
        URL, content=gzip.compress(body(rec)), headers={**AUTH, "Content-Encoding": "gzip"}
    )
    assert resp.status_code == 202, resp.text
    assert rec["session_id"] in _queued(queue)


def test_labeled_dev_case_is_accepted_as_its_record(
    client: TestClient, queue: SqliteQueue, dev_cases: list[Path]
) -> None:
    raw = dev_cases[0].read_bytes()
    resp = client.post(URL, content=raw, headers=AUTH)
    assert resp.status_code == 202, resp.text
    payload = _queued(queue)[resp.json()["session_id"]]
    assert "expected" not in orjson.loads(payload)  # gold labels never enter the pipeline


def test_rotated_tokens_both_work(client: TestClient) -> None:
    a, b = records(2)
    assert client.post(URL, content=body(a), headers=AUTH).status_code == 202
    old = {**AUTH, "Authorization": "Bearer previous-token"}
    assert client.post(URL, content=body(b), headers=old).status_code == 202


def test_hot_lead_signals_get_hot_priority_and_lease_first(
    client: TestClient, queue: SqliteQueue
) -> None:
    cold, hot = records(2)
    hot["discovered_signals"] = {
        "team_size": 40,
        "monthly_volume": 300,
        "integrations": ["salesforce"],
        "timeline": "this_week",
        "budget_authority": "decision_maker",
    }
    assert client.post(URL, content=body(cold), headers=AUTH).json()["priority"] == 0
    assert client.post(URL, content=body(hot), headers=AUTH).json()["priority"] == PRIORITY_HOT
    assert queue.lease(1)[0].session_id == hot["session_id"]


def test_priority_header_wins(client: TestClient, queue: SqliteQueue) -> None:
    rec = records(1)[0]
    resp = client.post(URL, content=body(rec), headers={**AUTH, "X-Callscope-Priority": "7"})
    assert resp.json()["priority"] == 7
    assert queue.lease(1)[0].priority == 7


def test_open_server_accepts_loopback_clients_only(tmp_path: Path, queue: SqliteQueue) -> None:
    app = create_app(Settings(data_dir=tmp_path), queue=queue)
    rec = records(1)[0]
    headers = {"Content-Type": "application/json"}
    with TestClient(app, client=("127.0.0.1", 40000)) as local:
        assert local.post(URL, content=body(rec), headers=headers).status_code == 202
    with TestClient(app, client=("10.1.2.3", 40000)) as remote:
        _error(remote.post(URL, content=body(rec), headers=headers), 401, "unauthorized")


# -- 400 -----------------------------------------------------------------------------------


def test_malformed_json(client: TestClient) -> None:
    _error(
        client.post(URL, content=b'{"schema_version": "1",', headers=AUTH), 400, "malformed_json"
    )


def test_bad_gzip(client: TestClient) -> None:
    _error(
        client.post(
            URL,
            content=b"\x1f\x8b\x08\x00not-gzip-at-all",
            headers={**AUTH, "Content-Encoding": "gzip"},
        ),
        400,
        "bad_gzip",
    )


def test_truncated_gzip(client: TestClient) -> None:
    data = gzip.compress(body(records(1)[0]))
    _error(
        client.post(
            URL, content=data[: len(data) // 2], headers={**AUTH, "Content-Encoding": "gzip"}
        ),
        400,
        "bad_gzip",
    )


def test_non_utf8(client: TestClient) -> None:
    _error(client.post(URL, content=b'{"session_id": "caf\xe9"}', headers=AUTH), 400, "encoding")


def test_not_an_object(client: TestClient) -> None:
    _error(client.post(URL, content=b"[1, 2, 3]", headers=AUTH), 400, "not_an_object")
    _error(client.post(URL, content=b'"just a string"', headers=AUTH), 400, "not_an_object")


def test_empty_body(client: TestClient) -> None:
    _error(client.post(URL, content=b"", headers=AUTH), 400, "empty")
    _error(client.post(URL, content=b"   \n", headers=AUTH), 400, "empty")


def test_deeply_nested_json(client: TestClient) -> None:
    rec = body(records(1)[0])
    nested = rec[:-1] + b', "deep": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    _error(client.post(URL, content=nested, headers=AUTH), 400, "malformed_json")


def test_raw_nul_byte(client: TestClient) -> None:
    rec = body(records(1)[0]).replace(b'"close_reason"', b'"close\x00reason"')
    _error(client.post(URL, content=rec, headers=AUTH), 400, "malformed_json")


def test_escaped_nul_in_a_string_is_stored_safely(client: TestClient, queue: SqliteQueue) -> None:
    rec = records(1)[0]
    rec["close_reason"] = "bad\u0000agent"
    assert client.post(URL, content=body(rec), headers=AUTH).status_code == 202
    stored = parse_record(_queued(queue)[rec["session_id"]])
    assert stored.close_reason == "bad\u0000agent"


def test_huge_integer_is_stored_safely(client: TestClient, queue: SqliteQueue) -> None:
    rec = body(records(1)[0])
    huge = rec[:-1] + b', "usage_total": 123456789012345678901234567890123}'
    assert client.post(URL, content=huge, headers=AUTH).status_code == 202
    (payload,) = _queued(queue).values()
    assert orjson.loads(payload)["usage_total"] == pytest.approx(1.2345678901234568e32)


def test_number_overflowing_a_double(client: TestClient) -> None:
    rec = body(records(1)[0])
    inf = rec[:-1] + b', "x": 1e999}'
    _error(client.post(URL, content=inf, headers=AUTH), 400, "malformed_json")


# -- 401 / 413 / 415 / 422 / 429 / 503 -------------------------------------------------------


def test_missing_token(client: TestClient) -> None:
    _error(
        client.post(URL, content=body(records(1)[0]), headers={"Content-Type": "application/json"}),
        401,
        "unauthorized",
    )


def test_wrong_token(client: TestClient) -> None:
    _error(
        client.post(
            URL, content=body(records(1)[0]), headers={**AUTH, "Authorization": f"Bearer {TOKEN}x"}
        ),
        401,
        "unauthorized",
    )


def test_not_a_bearer_scheme(client: TestClient) -> None:
    _error(
        client.post(
            URL, content=body(records(1)[0]), headers={**AUTH, "Authorization": f"Basic {TOKEN}"}
        ),
        401,
        "unauthorized",
    )


def test_over_5mb_refused(client: TestClient, queue: SqliteQueue) -> None:
    rec = records(1)[0]
    rec["padding"] = "x" * (5 * 1024 * 1024)
    _error(client.post(URL, content=body(rec), headers=AUTH), 413, "too_large")
    assert _queued(queue) == {}


def test_over_5mb_without_content_length_refused_while_streaming(client: TestClient) -> None:
    chunk = b" " * (256 * 1024)

    def stream() -> Iterator[bytes]:
        yield from (chunk for _ in range(64))  # 16 MB, chunked: no Content-Length

    _error(client.post(URL, content=stream(), headers=AUTH), 413, "too_large")


def test_decompression_bomb_refused(client: TestClient) -> None:
    # ~100 KB of gzip that would inflate to 100 MB.
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    bomb = b"".join(comp.compress(b"\0" * (1024 * 1024)) for _ in range(100)) + comp.flush()
    assert len(bomb) < 200_000
    _error(
        client.post(URL, content=bomb, headers={**AUTH, "Content-Encoding": "gzip"}),
        413,
        "too_large",
    )


def test_wrong_content_type(client: TestClient) -> None:
    _error(
        client.post(
            URL,
            content=body(records(1)[0]),
            headers={**AUTH, "Content-Type": "application/x-www-form-urlencoded"},
        ),
        415,
        "unsupported_media_type",
    )


def test_unsupported_content_encoding(client: TestClient) -> None:
    _error(
        client.post(URL, content=body(records(1)[0]), headers={**AUTH, "Content-Encoding": "br"}),
        415,
        "unsupported_encoding",
    )


def test_schema_error_names_the_field(client: TestClient) -> None:
    rec = records(1)[0]
    del rec["started_at"]
    data = _error(client.post(URL, content=body(rec), headers=AUTH), 422, "schema")
    assert data["field"] == "started_at"


def test_nested_schema_error_names_the_path(client: TestClient) -> None:
    rec = records(1)[0]
    rec["tool_calls"] = [{"name": "ok"}, {"arguments": {}}]
    data = _error(client.post(URL, content=body(rec), headers=AUTH), 422, "schema")
    assert data["field"] == "tool_calls[1].name"


def test_unsupported_schema_version(client: TestClient) -> None:
    rec = records(1)[0]
    rec["schema_version"] = "9"
    data = _error(client.post(URL, content=body(rec), headers=AUTH), 422, "schema_version")
    assert data["field"] == "schema_version"


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path, queue: SqliteQueue) -> None:
    # 60/min with a 10 s burst: 10 sessions pass at once, the 11th waits about a second.
    cfg = Settings(data_dir=tmp_path, ingest_token=TOKEN, rate_limit_per_minute=60)
    with TestClient(create_app(cfg, queue=queue)) as c:
        statuses = [c.post(URL, content=body(r), headers=AUTH).status_code for r in records(11)]
        assert statuses[:10] == [202] * 10
        resp = c.post(URL, content=body(records(12)[11]), headers=AUTH)
    _error(resp, 429, "rate_limited")
    assert int(resp.headers["Retry-After"]) >= 1


def test_queue_unavailable_answers_503_with_retry_after(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    q = SqliteQueue(path, busy_timeout_s=0.05)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock forever
    try:
        cfg = Settings(data_dir=tmp_path, ingest_token=TOKEN)
        with TestClient(create_app(cfg, queue=q)) as c:
            resp = c.post(URL, content=body(records(1)[0]), headers=AUTH)
            ready = c.get("/readyz")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    _error(resp, 503, "queue_unavailable")
    assert int(resp.headers["Retry-After"]) > 0
    assert ready.status_code in (200, 503)  # reads still work under WAL; writes do not
    q.close()


def test_session_report_is_accepted(client: TestClient, queue: SqliteQueue) -> None:
    pytest.importorskip("callscope.contract.session_report")
    rec = records(1)[0]
    report = {
        "job_id": "AJ_123",
        "room_id": "RM_1",
        "room": rec["session_id"],
        "events": [],
        "chat_history": rec["transcript"],
        "usage": [],
        "timestamp": 1_760_000_000.0,
        "duration_ms": 60_000,
    }
    resp = client.post(URL, content=orjson.dumps(report), headers=AUTH)
    assert resp.status_code == 202, resp.text
    assert resp.json()["session_id"] == rec["session_id"]
