"""Whatever a client sends, the answer is a JSON 2xx/4xx, never a 500."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callscope.config import Settings
from callscope.ingest.app import create_app
from callscope.queue.sqlite import SqliteQueue
from tests.ingest.conftest import AUTH, TOKEN, records

_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@pytest.fixture(scope="module")
def fuzz_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp: Path = tmp_path_factory.mktemp("fuzz")
    queue = SqliteQueue(tmp / "q.sqlite3")
    cfg = Settings(data_dir=tmp, ingest_token=TOKEN, rate_limit_per_minute=10_000_000)
    with TestClient(create_app(cfg, queue=queue)) as c:
        yield c
    queue.close()


def _check(resp: Any) -> None:
    assert resp.status_code < 500, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    if resp.status_code >= 400:
        assert set(resp.json()) == {"error", "message", "field"}


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=300), gz=st.booleans(), batch=st.booleans())
def test_random_bytes(fuzz_client: TestClient, raw: bytes, gz: bool, batch: bool) -> None:
    headers = {**AUTH, "Content-Encoding": "gzip"} if gz else AUTH
    url = "/v1/sessions:batch" if batch else "/v1/sessions"
    _check(fuzz_client.post(url, content=raw, headers=headers))


_BASE = records(1, seed=99)[0]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.sampled_from(sorted(_BASE)), value=_json, compress=st.booleans())
def test_mutated_records(fuzz_client: TestClient, key: str, value: Any, compress: bool) -> None:
    rec = dict(_BASE, session_id=f"fuzz-{abs(hash((key, repr(value)))) % 10**9}")
    rec[key] = value
    data = orjson.dumps(rec)
    headers = AUTH
    if compress:
        data, headers = gzip.compress(data), {**AUTH, "Content-Encoding": "gzip"}
    _check(fuzz_client.post("/v1/sessions", content=data, headers=headers))
    _check(fuzz_client.post("/v1/sessions:batch", content=orjson.dumps([rec, value]), headers=AUTH))
