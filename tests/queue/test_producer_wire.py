"""Direct-to-broker: the collector's real transports -> the queue -> the real worker -> DuckDB.

The producer wire format (``callscope.queue.wire``) is what the collector's ``redis://`` and
``sqs://`` transports send; the queue backends adopt it on ``lease`` with the same dedup,
revision, priority, retry and DLQ semantics as ``enqueue``.
"""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import pytest
import redis

from callscope.collect.transports import Envelope, Transport, transport_from_url
from callscope.profile import load_profile
from callscope.queue import MAX_ATTEMPTS, PRIORITY_HOT, Queue, open_queue
from callscope.queue.redis_streams import RedisStreamsQueue
from callscope.queue.sqs import SqsQueue
from callscope.queue.wire import WireError, decode_producer_message
from callscope.store import open_store
from callscope.store.base import Store
from callscope.worker import Worker

PROFILE = load_profile()
ACCOUNT = "123456789012"


def _records(dev_cases: list[Path], n: int) -> list[dict[str, Any]]:
    return [json.loads(p.read_text())["record"] for p in dev_cases[:n]]


def _envelope(record: dict[str, Any]) -> Envelope:
    # What the collector's encoder hands its transport: the record's gzip-compressed JSON.
    return Envelope(record["session_id"], gzip.compress(orjson.dumps(record)))


@dataclass
class Pipe:
    transport: Transport
    queue: Queue
    store: Store
    worker: Worker


def _pipe(transport: Transport, queue: Queue, tmp_path: Path) -> Pipe:
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    return Pipe(transport, queue, store, Worker(queue, store, PROFILE, batch_size=10))


def _close(p: Pipe) -> None:
    p.worker.close()
    p.transport.reset()
    p.queue.close()
    p.store.close()


def _sessions(store: Store) -> list[tuple[str, int]]:
    rows = store.fetch("SELECT session_id, revision FROM sessions ORDER BY session_id")
    return [(r["session_id"], r["revision"]) for r in rows]


# --- Redis ---------------------------------------------------------------------------------


@pytest.fixture
def redis_pipe(redis_url: str, tmp_path: Path) -> Iterator[Pipe]:
    port = urlsplit(redis_url).port
    # The collector's stream is the queue's default stream name: no extra configuration.
    p = _pipe(
        transport_from_url(f"redis://127.0.0.1:{port}/callscope"),
        open_queue(redis_url),
        tmp_path,
    )
    yield p
    _close(p)


def test_redis_collector_records_are_processed_once_then_dedup_and_revision(
    redis_pipe: Pipe, dev_cases: list[Path]
) -> None:
    recs = _records(dev_cases, 3)
    for rec in recs:
        redis_pipe.transport.send(_envelope(rec))
    assert redis_pipe.worker.run_once().processed == 3
    assert _sessions(redis_pipe.store) == sorted((r["session_id"], 1) for r in recs)

    # The collector re-sends after a crash (acknowledged but not unspooled): a duplicate.
    redis_pipe.transport.send(_envelope(recs[0]))
    assert redis_pipe.queue.stats().ready == 1
    assert redis_pipe.worker.run_once().processed == 3
    assert redis_pipe.queue.stats().ready == 0

    # A changed record is a new revision and is processed again, replacing the first.
    changed = {**recs[1], "close_reason": "user_hangup"}
    redis_pipe.transport.send(_envelope(changed))
    assert redis_pipe.worker.run_once().processed == 4
    assert dict(_sessions(redis_pipe.store))[changed["session_id"]] == 2
    assert len(_sessions(redis_pipe.store)) == 3
    assert redis_pipe.queue.dead_letters() == []


def test_redis_hot_leads_are_leased_first(redis_pipe: Pipe, dev_cases: list[Path]) -> None:
    normal, by_hint, by_field = _records(dev_cases, 3)
    redis_pipe.transport.send(_envelope(normal))
    # The agent noted the hot lead (collector.note_signal): the record itself says so.
    hinted = {**by_hint, "discovered_signals": {"hot_lead": True}}
    redis_pipe.transport.send(_envelope(hinted))
    # Another producer says it in the wire format's own field.
    r = redis.Redis.from_url(redis_pipe.queue.url)  # type: ignore[attr-defined]
    r.xadd(
        "callscope",
        {
            "session_id": by_field["session_id"],
            "payload": orjson.dumps(by_field),
            "priority": "hot",
        },
    )
    r.close()
    first = redis_pipe.queue.lease(1)
    second = redis_pipe.queue.lease(1)
    third = redis_pipe.queue.lease(1)
    hot = {hinted["session_id"], by_field["session_id"]}
    assert {first[0].session_id, second[0].session_id} == hot
    assert first[0].priority == second[0].priority == PRIORITY_HOT
    assert third[0].session_id == normal["session_id"]


def test_redis_gzip_base64_and_malformed_messages(
    redis_pipe: Pipe, redis_url: str, dev_cases: list[Path]
) -> None:
    good, compressed, invalid = _records(dev_cases, 3)
    r = redis.Redis.from_url(redis_url)
    packed = base64.b64encode(gzip.compress(orjson.dumps(compressed)))
    r.xadd(
        "callscope",
        {
            "session_id": compressed["session_id"],
            "payload": packed,
            "content_encoding": "gzip+base64",
        },
    )
    r.xadd("callscope", {"payload": orjson.dumps(good)})  # no session_id
    r.xadd("callscope", {"session_id": "b64", "payload": "%%%", "content_encoding": "gzip+base64"})
    r.xadd("callscope", {"session_id": "nojson", "payload": "{not json"})
    r.xadd("callscope", {"session_id": "zip", "payload": "x", "content_encoding": "brotli"})
    # Decodes fine but is no SessionRecord: the worker's own check parks it.
    invalid = {"schema_version": "9", "session_id": "badrec"}
    r.xadd("callscope", {"session_id": "badrec", "payload": orjson.dumps(invalid)})
    r.close()
    redis_pipe.transport.send(_envelope(good))

    stats = redis_pipe.worker.run_once()
    assert (stats.processed, stats.dead_lettered) == (2, 1)
    assert _sessions(redis_pipe.store) == sorted(
        [(good["session_id"], 1), (compressed["session_id"], 1)]
    )
    reasons = {d.session_id: d.reason for d in redis_pipe.queue.dead_letters()}
    assert len(reasons) == 5
    assert "schema_version" in reasons.pop("badrec")
    text = " | ".join(reasons.values())
    for why in ("no session_id", "not valid base64", "not JSON", "unknown content_encoding"):
        assert why in text
    assert "session_id 'nojson'" in text
    # Parked with the payload kept; nothing is lost.
    assert all(k.startswith("foreign:") for k in reasons)
    q = redis_pipe.queue.stats()
    assert (q.ready, q.leased, q.dead) == (0, 0, 5)


def test_redis_adopted_message_retries_then_dlq_and_replays(redis_url: str) -> None:
    class Clock:
        now = 1_700_000_000.0

        def __call__(self) -> float:
            return self.now

    clock = Clock()
    q = RedisStreamsQueue.from_url(f"{redis_url}?stream=agents", clock=clock)
    port = urlsplit(redis_url).port
    transport = transport_from_url(f"redis://127.0.0.1:{port}/agents")  # ?stream= lines up
    rec = {"schema_version": "1", "session_id": "s1", "transcript": {"items": []}}
    transport.send(_envelope(rec))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        [m] = q.lease(5)
        assert (m.session_id, m.revision, m.attempts) == ("s1", 1, attempt)
        q.nack(m, "store down")
        clock.now += 400
    [dead] = q.dead_letters()
    assert dead.session_id == "s1" and "store down (after 3 attempts)" in dead.reason
    assert q.replay("s1") == 1
    [m] = q.lease(5)
    q.ack(m)
    transport.send(_envelope(rec))  # identical re-send after processing: dropped
    assert q.lease(5) == []
    assert q.stats().ready == 0
    transport.reset()
    q.close()


# --- SQS -----------------------------------------------------------------------------------


@pytest.fixture
def sqs_pipe(moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipe]:
    name = f"cs{uuid.uuid4().hex[:8]}"
    queue = open_queue(
        f"sqs://{name}?endpoint={moto_endpoint}&create=1&dedup={tmp_path / 'dedup.sqlite3'}",
        retry_base_s=0.4,
    )
    # The collector talks to the same queue: its URL minus https, endpoint from the env.
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_endpoint)
    p = _pipe(
        transport_from_url(f"sqs://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{name}"),
        queue,
        tmp_path,
    )
    yield p
    _close(p)


def _sqs_client(queue: Queue) -> Any:
    assert isinstance(queue, SqsQueue)
    return queue._sqs


def test_sqs_collector_records_dedup_revision_and_large_bodies(
    sqs_pipe: Pipe, dev_cases: list[Path]
) -> None:
    recs = _records(dev_cases, 3)
    # Over 240 KB of JSON: the collector sends it gzip+base64 with content_encoding.
    big = {**recs[2], "agent_notes": "lorem ipsum dolor sit amet " * 12_000}
    assert len(orjson.dumps(big)) > 240 * 1024
    for rec in [*recs[:2], big]:
        sqs_pipe.transport.send(_envelope(rec))
    assert sqs_pipe.worker.run_once().processed == 3
    assert _sessions(sqs_pipe.store) == sorted((r["session_id"], 1) for r in recs)
    stored = sqs_pipe.store.fetch(
        "SELECT count(*) AS n FROM sessions WHERE session_id = ?", (big["session_id"],)
    )
    assert stored == [{"n": 1}]

    sqs_pipe.transport.send(_envelope(recs[0]))  # identical re-send: a duplicate
    sqs_pipe.transport.send(_envelope({**recs[1], "close_reason": "user_hangup"}))
    assert sqs_pipe.worker.run_once().processed == 4
    assert dict(_sessions(sqs_pipe.store)) == {
        recs[0]["session_id"]: 1,
        recs[1]["session_id"]: 2,
        recs[2]["session_id"]: 1,
    }
    assert sqs_pipe.queue.dead_letters() == []


def test_sqs_hot_leads_first_and_malformed_to_dlq(sqs_pipe: Pipe, dev_cases: list[Path]) -> None:
    normal, hinted, wired = _records(dev_cases, 3)
    assert isinstance(sqs_pipe.queue, SqsQueue)
    url = sqs_pipe.queue.queue_url
    sqs = _sqs_client(sqs_pipe.queue)
    sqs_pipe.transport.send(_envelope(normal))
    sqs_pipe.transport.send(_envelope({**hinted, "discovered_signals": {"hot_lead": True}}))
    attrs = {
        "session_id": {"DataType": "String", "StringValue": wired["session_id"]},
        "priority": {"DataType": "Number", "StringValue": "10"},
    }
    sqs.send_message(
        QueueUrl=url, MessageBody=orjson.dumps(wired).decode(), MessageAttributes=attrs
    )
    first, second = sqs_pipe.queue.lease(1), sqs_pipe.queue.lease(1)
    got = {first[0].session_id, second[0].session_id}
    assert got == {hinted["session_id"], wired["session_id"]}
    for m in (*first, *second):
        sqs_pipe.queue.ack(m)

    sqs.send_message(QueueUrl=url, MessageBody="{}")  # no session_id attribute
    sqs.send_message(
        QueueUrl=url,
        MessageBody="not base64 !",
        MessageAttributes={
            "session_id": {"DataType": "String", "StringValue": "b64"},
            "content_encoding": {"DataType": "String", "StringValue": "gzip+base64"},
        },
    )
    stats = sqs_pipe.worker.run_once()
    assert (stats.processed, stats.dead_lettered) == (1, 0)
    dead = sqs_pipe.queue.dead_letters()
    assert len(dead) == 2 and all(d.session_id.startswith("foreign:") for d in dead)
    [no_sid] = [d.reason for d in dead if "no session_id" in d.reason]
    [b64] = [d.reason for d in dead if "not valid base64" in d.reason]
    assert "session_id 'b64'" in b64 and "session_id '" not in no_sid
    assert sorted(s for s, _ in _sessions(sqs_pipe.store)) == [normal["session_id"]]


# --- the format itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"payload": b"{}"}, "no session_id"),
        ({"session_id": "x" * 600, "payload": b"{}"}, "longer than 512"),
        ({"session_id": "a"}, "no payload"),
        ({"session_id": "a", "payload": b"[1]"}, "not a record object"),
        ({"session_id": "a", "payload": b'{"session_id": "b"}'}, "does not match"),
        ({"session_id": "a", "payload": b"abc", "content_encoding": "gzip"}, "not valid gzip"),
        (
            {
                "session_id": "a",
                "payload": gzip.compress(b"{}")[:-6],
                "content_encoding": "gzip",
            },
            "truncated gzip",
        ),
        (
            {
                "session_id": "a",
                "payload": gzip.compress(b" " * (6 * 1024 * 1024)),
                "content_encoding": "gzip",
            },
            "over the 5,242,880-byte limit",
        ),
    ],
)
def test_wire_errors_are_one_line(fields: dict[str, Any], why: str) -> None:
    with pytest.raises(WireError, match=why) as exc:
        decode_producer_message(
            fields.get("session_id"),
            fields.get("payload"),
            fields.get("content_encoding"),
        )
    assert "\n" not in str(exc.value)


def test_wire_priority_and_canonical_payload() -> None:
    m = decode_producer_message("a", b'{"b": 1, "a": {"y": 2, "x": 1}}', None, "junk")
    # A bad priority hint never costs the record; keys are sorted so re-sends dedup.
    assert (m.priority, m.payload) == (0, b'{"a":{"x":1,"y":2},"b":1}')
    assert decode_producer_message("a", b"{}", "identity", b"hot").priority == PRIORITY_HOT
    assert decode_producer_message("a", b"{}", None, "250").priority == 100
    tier = b'{"discovered_signals": {"qualification_tier": "Tier 1"}}'
    assert decode_producer_message("a", tier).priority == PRIORITY_HOT
