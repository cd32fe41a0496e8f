"""Backend-specific behaviour the shared contract cannot express."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import redis

from callscope.aws import handle_sqs_event
from callscope.queue import EnqueueOutcome, QueueUnavailable, SqliteQueue, open_queue
from callscope.queue.redis_streams import RedisStreamsQueue
from callscope.queue.sqs import SqsQueue

# --- SQLite ------------------------------------------------------------------------------

_WORKER = """
import json, pathlib, sys, time
from callscope.queue.sqlite import SqliteQueue
q = SqliteQueue(sys.argv[1])
print("ready", flush=True)
go = pathlib.Path(sys.argv[2])
for _ in range(2000):
    if go.exists():
        break
    time.sleep(0.005)
got = []
for _ in range(10000):
    batch = q.lease(3, visibility_timeout=300)
    if not batch:
        break
    for m in batch:
        got.append(m.session_id)
        q.ack(m)
    # A worker does work between leases; without it one process can drain the queue before
    # the other is scheduled on a busy machine, and the test would not exercise contention.
    time.sleep(0.002)
print(json.dumps(got), flush=True)
"""


def test_sqlite_two_processes_lease_concurrently_without_double_delivery(tmp_path: Path) -> None:
    db = tmp_path / "q.sqlite3"
    q = SqliteQueue(db)
    n = 600
    q.enqueue_many([(f"s{i:04d}", f"p{i}".encode()) for i in range(n)])
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(db), str(go)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    go.touch()
    results: list[list[str]] = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0
        results.append(json.loads(out.strip().splitlines()[-1]))
    a, b = (set(r) for r in results)
    assert len(results[0]) == len(a) and len(results[1]) == len(b)
    assert not a & b, "a live lease was handed to both processes"
    assert a | b == {f"s{i:04d}" for i in range(n)}
    assert a and b, "both workers should have had a share"
    s = q.stats()
    assert (s.ready, s.leased, s.dead) == (0, 0, 0)


def test_sqlite_ingest_and_worker_share_one_file(tmp_path: Path) -> None:
    ingest = SqliteQueue(tmp_path / "q.sqlite3")
    worker = SqliteQueue(tmp_path / "q.sqlite3")
    ingest.enqueue("s1", b"one")
    [m] = worker.lease(5)
    assert ingest.enqueue("s1", b"one").outcome is EnqueueOutcome.DUPLICATE
    worker.ack(m)
    assert ingest.stats().leased == 0


def test_sqlite_unusable_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "not-a-db.sqlite3"
    bad.write_bytes(b"this is not a sqlite database at all, just text" * 20)
    with pytest.raises(QueueUnavailable, match=r"not-a-db\.sqlite3"):
        SqliteQueue(bad)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///rel/q.sqlite3", "rel/q.sqlite3"),
        ("sqlite:////ABS/q.sqlite3", "/ABS/q.sqlite3"),
        ("plain/q.sqlite3", "plain/q.sqlite3"),
    ],
)
def test_open_queue_sqlite_urls(
    url: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    url = url.replace("/ABS", str(tmp_path))
    q = open_queue(url)
    assert isinstance(q, SqliteQueue)
    assert q.path == expected.replace("/ABS", str(tmp_path))
    q.close()


def test_open_queue_from_settings(tmp_path: Path) -> None:
    from callscope.config import load_settings

    q = open_queue(load_settings(data_dir=tmp_path))
    assert isinstance(q, SqliteQueue) and Path(q.path) == tmp_path / "queue.sqlite3"
    q.close()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "empty queue URL"),
        ("kafka://x", "unsupported queue URL"),
        ("sqlite:///", "no database"),
    ],
)
def test_open_queue_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_queue(url)


# --- Redis -------------------------------------------------------------------------------


def test_redis_restart_during_processing_loses_nothing(redis_server: Any, redis_url: str) -> None:
    q = RedisStreamsQueue(redis_url, stream="restart")
    q.enqueue_many([(f"s{i}", f"p{i}".encode()) for i in range(40)])
    in_flight = q.lease(10, visibility_timeout=60)
    q.ack(in_flight[0])
    redis_server.stop()
    try:
        with pytest.raises(QueueUnavailable):
            q.enqueue("late", b"x")
        with pytest.raises(QueueUnavailable):
            q.lease(5)
        assert not q.ping()
    finally:
        redis_server.start()
    # The refused enqueue was not half-written: the retry is a fresh accept.
    assert q.enqueue("late", b"x").outcome is EnqueueOutcome.ACCEPTED
    # Leases taken before the restart are still valid (the PEL is in the AOF).
    for m in in_flight[1:]:
        q.ack(m)
    done = {m.session_id for m in in_flight}
    for _ in range(20):
        batch = q.lease(10, visibility_timeout=60)
        if not batch:
            break
        for m in batch:
            assert m.session_id not in done
            done.add(m.session_id)
            q.ack(m)
    assert done == {f"s{i}" for i in range(40)} | {"late"}
    s = q.stats()
    assert (s.ready, s.leased, s.dead) == (0, 0, 0)


def test_redis_xautoclaim_takes_over_a_dead_consumers_lease(redis_url: str) -> None:
    dead = RedisStreamsQueue(redis_url, stream="claim", consumer="worker-a")
    alive = RedisStreamsQueue(redis_url, stream="claim", consumer="worker-b")
    dead.enqueue("s1", b"x")
    [orphan] = dead.lease(1, visibility_timeout=0.2)
    dead.close()  # the worker process is gone
    assert alive.lease(1, visibility_timeout=0.2) == []  # not idle long enough yet
    time.sleep(0.3)
    [taken] = alive.lease(1, visibility_timeout=0.2)
    assert (taken.session_id, taken.attempts) == ("s1", 2)
    r = redis.Redis.from_url(redis_url)
    [pending] = r.xpending_range("{claim}:normal", "workers", "-", "+", 10)
    assert pending["consumer"] == b"worker-b"
    alive.ack(orphan)  # the dead worker's receipt no longer acks anything
    assert alive.stats().leased == 1
    alive.ack(taken)
    assert alive.stats().leased == 0
    r.close()


def test_redis_url_options(redis_url: str) -> None:
    q = open_queue(f"{redis_url}?stream=custom&group=g1")
    assert isinstance(q, RedisStreamsQueue) and (q.stream, q.group) == ("custom", "g1")
    q.enqueue("s1", b"x")
    assert redis.Redis.from_url(redis_url).xlen("{custom}:normal") == 1
    q.close()


# --- SQS ---------------------------------------------------------------------------------


def test_sqs_messages_feed_the_lambda_handler(
    moto_endpoint: str, tmp_path: Path, dev_cases: list[Path]
) -> None:
    """SqsQueue's own messages through the Lambda pipeline: revisions 2 then 1 keep 2."""
    from callscope.pipeline import Pipeline
    from callscope.profile import load_profile
    from callscope.store import open_store
    from callscope.store.raw import open_raw

    q = SqsQueue.create("lambda-e2e", endpoint_url=moto_endpoint, dedup_path=tmp_path / "d.db")
    rec = json.loads(dev_cases[0].read_text())["record"]
    sid = rec["session_id"]
    q.enqueue(sid, json.dumps({**rec, "close_reason": "first"}).encode())
    q.enqueue(sid, json.dumps({**rec, "close_reason": "second"}).encode())
    q.enqueue("s2", b"\x00\xff binary")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    raw = sqs.receive_message(
        QueueUrl=q.queue_url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )["Messages"]
    # Re-shape as the Lambda event source mapping does (camelCase keys).
    records = [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m["Attributes"],
            "messageAttributes": {
                k: {"stringValue": v["StringValue"], "dataType": v["DataType"]}
                for k, v in m["MessageAttributes"].items()
            },
            "eventSource": "aws:sqs",
        }
        for m in raw
    ]
    revs = {r["messageId"]: int(r["messageAttributes"]["rev"]["stringValue"]) for r in records}
    records.sort(key=lambda r: -revs[r["messageId"]])  # the newer revision first
    binary = next(
        r["messageId"] for r in records if r["messageAttributes"]["sid"]["stringValue"] == "s2"
    )
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    pipeline = Pipeline(store, load_profile(), raw_store=open_raw(str(tmp_path / "raw")))
    out = handle_sqs_event({"Records": records}, pipeline=pipeline)
    assert out == {"batchItemFailures": [{"itemIdentifier": binary}]}  # not a record
    got = store.fetch("SELECT revision, close_reason FROM sessions")
    assert got == [{"revision": 2, "close_reason": "second"}]
    store.close()
    q.close()


def test_sqs_open_queue_by_name_and_url(moto_endpoint: str, tmp_path: Path) -> None:
    q = open_queue(f"sqs://byname?endpoint={moto_endpoint}&create=1&dedup={tmp_path}/d.db")
    assert isinstance(q, SqsQueue)
    q.enqueue("s1", b"x")
    q.close()
    again = open_queue(q.queue_url, dedup_path=tmp_path / "d.db")
    assert isinstance(again, SqsQueue)
    assert again.enqueue("s1", b"x").outcome is EnqueueOutcome.DUPLICATE
    [m] = again.lease(1)
    assert m.payload == b"x"
    again.close()


def test_sqs_oversized_payload_is_refused_before_sending(
    moto_endpoint: str, tmp_path: Path
) -> None:
    q = SqsQueue.create("big", endpoint_url=moto_endpoint, dedup_path=tmp_path / "d.db")
    with pytest.raises(ValueError, match="exceeds the SQS message limit"):
        q.enqueue_many([("ok", b"small"), ("huge", b"x" * 300_000)])
    assert q.stats().ready == 0
    assert q.enqueue("ok", b"small").outcome is EnqueueOutcome.ACCEPTED
    q.close()


def test_sqs_unreachable_endpoint_is_queue_unavailable(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    q = SqsQueue(
        f"http://127.0.0.1:{port}/123456789012/nowhere",
        endpoint_url=f"http://127.0.0.1:{port}",
        dedup_path=tmp_path / "d.db",
    )
    with pytest.raises(QueueUnavailable):
        q.enqueue("s1", b"x")
    assert not q.ping()
    # Nothing was recorded as sent: once SQS is back, the retry is not a "duplicate".
    row = q._db.execute("SELECT COUNT(*) FROM sessions").fetchone()
    assert row == (0,)
    q.close()


def test_sqs_without_redrive_policy_still_dead_letters_expiring_leases(
    moto_endpoint: str, tmp_path: Path
) -> None:
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1")
    for name in ("bare", "bare-hot", "bare-dlq"):
        sqs.create_queue(QueueName=name)  # no RedrivePolicy: made by hand
    url = sqs.get_queue_url(QueueName="bare")["QueueUrl"]
    q = SqsQueue(url, client=sqs, dedup_path=tmp_path / "d.db")
    q.enqueue("s1", b"kills workers")
    for _ in range(3):
        assert len(q.lease(1, visibility_timeout=1)) == 1
        time.sleep(1.1)
    assert q.lease(1, visibility_timeout=1) == []
    [dead] = q.dead_letters()
    assert dead.session_id == "s1" and "lease expired after 3 deliveries" in dead.reason
    assert dead.attempts == 3
    q.close()


def test_redis_purge_forgets_every_trace(redis_url: str) -> None:
    q = RedisStreamsQueue(redis_url, stream="purge")
    q.enqueue_many(
        [("keep", b"other caller"), ("live", b"jane@example.com"), ("dead", b"x"), ("done", b"y")]
    )
    by_sid = {m.session_id: m for m in q.lease(10)}
    q.dead_letter(by_sid["dead"], "bad record from jane@example.com")
    q.ack(by_sid["done"])
    gone = q.purge(lambda sid, payload: b"jane@" in payload or sid == "done")
    assert gone == ["dead", "done", "live"]
    assert q.dead_letters() == []
    assert (q.stats().leased, q.stats().dead) == (1, 0)  # only "keep" is left, in flight
    q.ack(by_sid["keep"])
    # Dedup state went too: the same payload is a fresh accept, not a duplicate.
    assert q.enqueue("done", b"y").outcome is EnqueueOutcome.ACCEPTED
    r = redis.Redis.from_url(redis_url)
    assert not r.hexists("{purge}:data", "live") and r.xlen("{purge}:normal") == 1
    r.close()
