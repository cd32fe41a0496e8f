"""POST /v1/sessions:batch: JSON arrays and JSON Lines, with per-item results."""

from __future__ import annotations

import gzip
from typing import Any

import orjson
from fastapi.testclient import TestClient

from callscope.queue.sqlite import SqliteQueue
from tests.ingest.conftest import AUTH, records

URL = "/v1/sessions:batch"
LINES = {**AUTH, "Content-Type": "application/x-ndjson"}


def _ids(queue: SqliteQueue) -> set[str]:
    return {m.session_id for m in queue.lease(10_000)}


def test_json_array_all_accepted(client: TestClient, queue: SqliteQueue) -> None:
    recs = records(50)
    resp = client.post(URL, content=orjson.dumps(recs), headers=AUTH)
    assert resp.status_code == 202, resp.text
    data = resp.json()
    assert data["accepted"] == 50 and data["rejected"] == 0
    assert [r["index"] for r in data["results"]] == list(range(50))
    assert _ids(queue) == {r["session_id"] for r in recs}


def test_json_lines_gzip(client: TestClient, queue: SqliteQueue) -> None:
    recs = records(20)
    lines = b"\n".join(orjson.dumps(r) for r in recs) + b"\n"
    resp = client.post(
        URL, content=gzip.compress(lines), headers={**LINES, "Content-Encoding": "gzip"}
    )
    assert resp.status_code == 202, resp.text
    assert resp.json()["accepted"] == 20
    assert _ids(queue) == {r["session_id"] for r in recs}


def test_bad_items_are_reported_and_good_ones_kept(client: TestClient, queue: SqliteQueue) -> None:
    good = records(3)
    missing_start: dict[str, Any] = dict(good[1])
    missing_start.pop("started_at")
    missing_start["session_id"] = "bad-one"
    lines = [
        orjson.dumps(good[0]),
        b'{"schema_version": "1", broken',
        orjson.dumps(missing_start),
        b"42",
        orjson.dumps(good[2]),
    ]
    resp = client.post(URL, content=b"\n".join(lines), headers=LINES)
    assert resp.status_code == 202, resp.text
    data = resp.json()
    assert (data["accepted"], data["rejected"]) == (2, 3)
    by_index = {r["index"]: r for r in data["results"]}
    assert by_index[1]["error"] == "malformed_json"
    assert by_index[2]["error"] == "schema" and by_index[2]["field"] == "started_at"
    assert by_index[2]["session_id"] == "bad-one"
    assert by_index[3]["error"] == "not_an_object"
    assert _ids(queue) == {good[0]["session_id"], good[2]["session_id"]}


def test_resent_batch_is_all_duplicates(client: TestClient) -> None:
    recs = records(10)
    assert client.post(URL, content=orjson.dumps(recs), headers=AUTH).status_code == 202
    again = client.post(URL, content=orjson.dumps(recs), headers=AUTH)
    assert again.status_code == 200
    assert again.json()["duplicate"] == 10


def test_same_session_twice_in_one_batch(client: TestClient) -> None:
    rec = records(1)[0]
    resp = client.post(URL, content=orjson.dumps([rec, rec]), headers=AUTH)
    assert [r["status"] for r in resp.json()["results"]] == ["accepted", "duplicate"]


def test_malformed_array_is_400(client: TestClient) -> None:
    resp = client.post(URL, content=b'[{"a": 1}, ', headers=AUTH)
    assert resp.status_code == 400 and resp.json()["error"] == "malformed_json"


def test_empty_array_is_400(client: TestClient) -> None:
    resp = client.post(URL, content=b"[]", headers=AUTH)
    assert resp.status_code == 400 and resp.json()["error"] == "empty"


def test_empty_batch_body_is_400(client: TestClient) -> None:
    resp = client.post(URL, content=b"\n\n", headers=LINES)
    assert resp.status_code == 400 and resp.json()["error"] == "empty"


def test_batch_wrong_content_type_is_415(client: TestClient) -> None:
    resp = client.post(URL, content=b"[]", headers={**AUTH, "Content-Type": "text/csv"})
    assert resp.status_code == 415


def test_batch_needs_a_token(client: TestClient) -> None:
    resp = client.post(
        URL, content=orjson.dumps(records(1)), headers={"Content-Type": "application/json"}
    )
    assert resp.status_code == 401
