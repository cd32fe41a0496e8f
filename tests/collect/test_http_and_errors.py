"""HTTP status handling, refusals, and the one-line errors for bad arguments."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from callscope.collect import TransportConfigError, attach, transport_from_url
from callscope.collect.spool import decode_spool
from callscope.collect.transports import parse_retry_after
from callscope.devtools.simulate import new_session
from tests.collect.backends import IngestServer
from tests.collect.conftest import DictJob


def test_bearer_token_and_gzip(make_delivery: Any) -> None:
    server = IngestServer(token="s3cret").start()
    try:
        d = make_delivery(server.url, token="s3cret")
        d.submit(DictJob("tok-1"))
        assert d.flush(10)
        hdrs = server.requests[-1]["headers"]
        assert hdrs["authorization"] == "Bearer s3cret"
        assert hdrs["content-encoding"] == "gzip"
        assert hdrs["x-callscope-session-id"] == "tok-1"
        assert len(server.received()["tok-1"]) == 1
    finally:
        server.stop()


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(ingest: IngestServer, make_delivery: Any, status: int) -> None:
    ingest.script = [(status, {"Retry-After": "1"})]
    d = make_delivery(ingest.url, backoff_base_s=0.01, backoff_cap_s=0.02)
    t0 = time.monotonic()
    d.submit(DictJob("ra-1"))
    deadline = time.monotonic() + 10
    while "ra-1" not in ingest.received() and time.monotonic() < deadline:
        time.sleep(0.02)
    elapsed = time.monotonic() - t0
    assert len(ingest.received()["ra-1"]) == 1
    assert elapsed >= 0.95  # waited as told, not our 10 ms backoff
    assert len(ingest.requests) == 2


def test_duplicate_200_counts_as_delivered(ingest: IngestServer, make_delivery: Any) -> None:
    d = make_delivery(ingest.url)
    job = DictJob("dup-1")
    d.submit(job)
    d.submit(job)
    assert d.flush(10)
    assert len(ingest.received()["dup-1"]) == 1  # the second POST got 200 duplicate
    assert d.stats().delivered == 2 and d.stats().rejected == 0


def test_permanent_4xx_is_rejected_once_and_kept(
    ingest: IngestServer, make_delivery: Any, caplog: pytest.LogCaptureFixture
) -> None:
    ingest.script = [(422, {}), (400, {})]
    d = make_delivery(ingest.url)
    with caplog.at_level(logging.WARNING, logger="callscope.collect"):
        d.submit(DictJob("bad-1"))
        d.submit(DictJob("bad-2"))
        d.submit(DictJob("good-1"))
        assert d.flush(10)
    assert len(ingest.requests) == 3  # refused records are not retried
    assert d.stats().rejected == 2 and d.stats().delivered == 1
    rejected = d.spool.rejected()
    assert sorted(decode_spool(p.read_bytes()).session_id for p in rejected) == ["bad-1", "bad-2"]
    assert "HTTP 422" in (rejected[0].with_name(rejected[0].name + ".reason.txt")).read_text()
    messages = [r.getMessage() for r in caplog.records]
    # a burst of refusals: one warning when it starts, one summary when it ends
    assert sum("refused" in m and "failing" in m for m in messages) == 1
    assert not any("bad-2" in m for m in messages)
    assert any("2 record(s) refused" in m for m in messages)


def test_connection_refused_burst_logged_once(
    make_delivery: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    server = IngestServer()  # never started: connection refused
    d = make_delivery(server.url)
    with caplog.at_level(logging.WARNING, logger="callscope.collect"):
        for i in range(5):
            d.submit(DictJob(f"down-{i}"))
        assert not d.flush(1.0)
        time.sleep(0.5)
    failing = [r for r in caplog.records if "failing" in r.getMessage()]
    assert len(failing) == 1
    assert d.stats().attempts_failed >= 2 and d.stats().spooled_waiting >= 4


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x/y", "unknown scheme 'ftp'"),
        ("not a url", "expected a URL"),
        ("sqs://host-only", "expected sqs://HOST/ACCOUNT_ID/QUEUE_NAME"),
        ("redis://127.0.0.1:6379", "expected redis://HOST:PORT/STREAM"),
        ("file://", "needs a directory path"),
    ],
)
def test_bad_transport_urls_fail_at_attach_with_one_line(url: str, message: str) -> None:
    with pytest.raises(TransportConfigError) as info:
        transport_from_url(url)
    assert message in str(info.value) and "\n" not in str(info.value)


async def test_empty_session_id_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="session_id must be a non-empty string"):
        attach(new_session(), session_id=" ", transport=f"file://{tmp_path}")


def test_retry_after_http_date() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 - 30) == 30.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_sqs_large_record_is_gzip_base64(backend_sqs: Any, make_delivery: Any) -> None:
    d = make_delivery(backend_sqs.url)
    big = "turn " * 80_000  # ~400 KB of JSON: over the SQS raw limit
    d.submit(DictJob("big-1", padding=big))
    d.submit(DictJob("small-1"))
    assert d.flush(15)
    got = backend_sqs.received()
    assert got["big-1"][0]["padding"] == big and len(got["small-1"]) == 1
    encodings = [a.get("content_encoding", {}).get("StringValue") for a in backend_sqs.attributes]
    assert "gzip+base64" in encodings and None in encodings


def test_redis_entry_fields(collect_redis: Any, make_delivery: Any) -> None:
    from tests.collect.backends import RedisBackend

    backend = RedisBackend(collect_redis, "fields-test")
    d = make_delivery(backend.url)
    d.submit(DictJob("r-1"))
    assert d.flush(10)
    backend.received()
    assert set(backend.fields[0]) == {b"session_id", b"payload"}
    assert backend.fields[0][b"session_id"] == b"r-1"
