"""Forget and retention on S3 (moto), queue purge on every backend, the dashboard after a
forget, and the audit trail of replay/forget/retention through the CLI."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from callscope.governance.audit import AuditLog
from callscope.governance.clock import Clock
from callscope.governance.forget import forget
from callscope.governance.queue_purge import purge_sqs
from callscope.queue.sqlite import SqliteQueue
from callscope.store import Store, open_store
from callscope.store.archive import open_archive
from callscope.store.queries import Range, hot_leads, sessions_list, totals
from callscope.store.raw import open_raw
from callscope.store.rollups import refresh_rollups
from tests.governance.conftest import DEV
from tests.governance.helpers import object_text
from tests.store.conftest import load_dev

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
EMAIL = "kholloway@peachtreefamilycare.org"  # dev_007's booked-meeting email
GONE = load_dev(DEV / "dev_007.json").session_id
KEPT = load_dev(DEV / "dev_001.json").session_id


def _load(store: Store, ages: dict[str, int], now: datetime = NOW) -> None:
    batch = []
    for name, age in ages.items():
        start = now - timedelta(days=age)
        batch.append(
            load_dev(
                DEV / f"{name}.json",
                started_at=start.isoformat(),
                ended_at=(start + timedelta(minutes=5)).isoformat(),
            )
        )
    store.write(batch)


@pytest.fixture
def duck(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CALLSCOPE_S3_ENDPOINT_URL", moto_endpoint)
    name = f"gov-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=name)
    return name


def _bucket_hits(endpoint: str, bucket: str, needle: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=endpoint)
    hits = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            blob = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            if needle.lower().encode() in object_text(obj["Key"], blob).lower():
                hits.append(obj["Key"])
    return hits


def _cli(data_dir: Path, args: list[str], **env: str) -> tuple[int, str]:
    from callscope.cli import _load as load_commands
    from callscope.cli import app

    load_commands()
    result = CliRunner().invoke(app, args, env={"CALLSCOPE_DATA_DIR": str(data_dir), **env})
    return result.exit_code, result.output


def test_retention_and_forget_on_s3_leave_no_trace_in_the_bucket(
    duck: Store, bucket: str, moto_endpoint: str, tmp_path: Path
) -> None:
    # the CLI runs on the system clock
    _load(duck, {"dev_007": 120, "dev_001": 100, "dev_003": 5}, now=datetime.now(UTC))
    raw = open_raw(f"s3://{bucket}/raw")
    for name in ("dev_007", "dev_001", "dev_003"):
        rec = json.loads((DEV / f"{name}.json").read_text())["record"]
        raw.put(rec["session_id"], 1, NOW - timedelta(days=3), json.dumps(rec).encode())
    # a record not in the warehouse yet, found only by its content
    late = json.loads((DEV / "dev_001.json").read_text())["record"]
    late.update(session_id="late-call", participant={"identity": "x", "email": EMAIL.upper()})
    raw.put("late-call", 1, NOW, json.dumps(late).encode())
    env = {
        "CALLSCOPE_STORE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "CALLSCOPE_RAW_URL": f"s3://{bucket}/raw",
        "CALLSCOPE_ARCHIVE_URL": f"s3://{bucket}/archive",
    }
    duck.close()
    code, output = _cli(tmp_path, ["retention", "run"], **env)
    assert code == 0 and "applied" in output, output
    archive = open_archive(f"s3://{bucket}/archive")
    archived = archive.read("transcripts")
    assert set(archived.column("session_id").to_pylist()) == {GONE, KEPT}
    assert _bucket_hits(moto_endpoint, bucket, EMAIL)  # raw records still name the person

    code, output = _cli(tmp_path, ["forget", "--email", EMAIL], **env)
    assert code == 0, output
    assert "raw files: 2" in output and "dashboard rollups rebuilt" in output
    assert _bucket_hits(moto_endpoint, bucket, EMAIL) == []
    assert _bucket_hits(moto_endpoint, bucket, GONE) == []
    # everyone else is still there
    assert sorted({o.session_id for o in raw.iter()}) == sorted(
        [KEPT, load_dev(DEV / "dev_003.json").session_id]
    )
    assert set(archive.read("transcripts").column("session_id").to_pylist()) == {KEPT}
    code, output = _cli(tmp_path, ["audit", "verify"], **env)
    assert code == 0 and "2 entries" in output, output


def test_forget_removes_the_person_from_the_dashboard(duck: Store, tmp_path: Path) -> None:
    _load(duck, {"dev_007": 3, "dev_001": 2, "dev_003": 1})
    refresh_rollups(duck)
    day = (NOW - timedelta(days=3)).date()
    rng = Range(day - timedelta(days=1), NOW.date())
    before = totals(duck, rng)
    assert before["calls"] == 3
    assert GONE in {r["session_id"] for r in sessions_list(duck, rng, limit=50)}
    assert GONE in {r["session_id"] for r in hot_leads(duck, rng, limit=50)}
    assert sessions_list(duck, rng, q="holloway")

    report = forget(
        EMAIL,
        store=duck,
        raw=None,
        archive=None,
        queue=None,
        outbox=tmp_path / "outbox.jsonl",
        audit=AuditLog(tmp_path / "audit.jsonl"),
        clock=Clock.fixed(NOW),
    )
    assert report.session_ids == [GONE] and report.rollups_refreshed
    after = totals(duck, rng)
    assert after["calls"] == 2
    assert after["meetings"] == before["meetings"] - 1
    listed = {r["session_id"] for r in sessions_list(duck, rng, limit=50)}
    assert GONE not in listed and KEPT in listed
    assert GONE not in {r["session_id"] for r in hot_leads(duck, rng, limit=50)}
    assert sessions_list(duck, rng, q="holloway") == []
    day_rows = duck.fetch(
        "SELECT SUM(calls) AS n FROM dash_daily WHERE day = ?", [date.fromordinal(day.toordinal())]
    )
    assert int(day_rows[0]["n"] or 0) == 0


def _person_payload(sid: str) -> bytes:
    return json.dumps({"session_id": sid, "participant": {"email": EMAIL}}).encode()


def test_forget_purges_redis_streams(redis_url: str, duck: Store, tmp_path: Path) -> None:
    from callscope.queue.redis_streams import RedisStreamsQueue

    q = RedisStreamsQueue(redis_url, stream=f"g{uuid.uuid4().hex[:8]}")
    try:
        q.enqueue("p-dead", _person_payload("p-dead"))
        [dead] = q.lease(1)
        q.dead_letter(dead, "bad record")
        q.enqueue("p-ready", _person_payload("p-ready"))
        q.enqueue("other", b'{"participant": {"email": "someone@else.com"}}')
        report = forget(
            EMAIL,
            store=duck,
            raw=None,
            archive=None,
            queue=q,
            outbox=tmp_path / "outbox.jsonl",
            audit=AuditLog(tmp_path / "audit.jsonl"),
        )
        assert report.queue_messages == ["p-dead", "p-ready"]
        assert q.dead_letters() == []
        stats = q.stats()
        assert (stats.ready, stats.dead) == (1, 0)
    finally:
        q.close()


def test_forget_purges_sqs_queue_hot_queue_dlq_and_producer_messages(
    moto_endpoint: str, duck: Store, tmp_path: Path
) -> None:
    from callscope.queue.sqs import SqsQueue

    q = SqsQueue.create(
        f"g{uuid.uuid4().hex[:8]}", endpoint_url=moto_endpoint, dedup_path=tmp_path / "d.db"
    )
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint)
    try:
        # dead first, while it is the only message: no other lease left hiding anything
        q.enqueue("p-dead", _person_payload("p-dead"))
        [dead] = q.lease(1)
        q.dead_letter(dead, "bad record")
        q.enqueue("p-normal", _person_payload("p-normal"))
        q.enqueue("p-hot", _person_payload("p-hot"), priority=10)
        for i in range(12):  # more than one receive batch of other people's calls
            q.enqueue(f"other-{i}", json.dumps({"n": i, "email": f"x{i}@else.com"}).encode())
        # a producer-format message (no callscope attributes), gzip-compressed
        body = base64.b64encode(gzip.compress(_person_payload("p-wire"))).decode()
        sqs.send_message(
            QueueUrl=q.queue_url,
            MessageBody=body,
            MessageAttributes={
                "session_id": {"DataType": "String", "StringValue": "p-wire"},
                "content_encoding": {"DataType": "String", "StringValue": "gzip+base64"},
            },
        )
        report = forget(
            EMAIL,
            store=duck,
            raw=None,
            archive=None,
            queue=q,
            outbox=tmp_path / "outbox.jsonl",
            audit=AuditLog(tmp_path / "audit.jsonl"),
        )
        assert report.queue_messages == ["p-dead", "p-hot", "p-normal", "p-wire"]
        assert report.queue_note == ""
        # the others are visible again right away, none lost
        left = {m.session_id for m in q.lease(50)}
        assert left == {f"other-{i}" for i in range(12)}
        assert q.dead_letters() == []
    finally:
        q.close()


def test_sqs_purge_reports_in_flight_messages_as_incomplete(
    moto_endpoint: str, tmp_path: Path
) -> None:
    from callscope.queue.sqs import SqsQueue

    q = SqsQueue.create(
        f"g{uuid.uuid4().hex[:8]}", endpoint_url=moto_endpoint, dedup_path=tmp_path / "d.db"
    )
    try:
        q.enqueue("a", b'{"x": 1}')
        q.enqueue("b", b'{"x": 2}')
        [leased] = q.lease(1, visibility_timeout=120)
        result = purge_sqs(q._sqs, [q.queue_url], lambda sid, _p: False)
        assert result.in_flight == 1 and not result.complete
        assert "in flight" in result.note
        q.ack(leased)
        assert len(q.lease(10)) == 1  # the unleased one was put back, visible
        bounded = purge_sqs(q._sqs, [q.queue_url], lambda sid, _p: False, max_messages=0)
        assert not bounded.complete
    finally:
        q.close()


def test_forget_with_unreachable_queue_deletes_nothing(duck: Store, tmp_path: Path) -> None:
    _load(duck, {"dev_007": 3})
    duck.close()
    env = {
        "CALLSCOPE_STORE_URL": f"duckdb:///{tmp_path / 'warehouse.duckdb'}",
        "CALLSCOPE_QUEUE": "redis",
        "CALLSCOPE_QUEUE_URL": "redis://127.0.0.1:1/0",
    }
    code, output = _cli(tmp_path, ["forget", "--email", EMAIL], **env)
    assert code == 2 and "nothing was deleted" in output, output
    assert len(output.strip().splitlines()) <= 2
    store = open_store(env["CALLSCOPE_STORE_URL"])
    try:
        assert GONE in store.session_ids()
    finally:
        store.close()
    assert not (tmp_path / "audit").exists()


def test_replay_forget_and_retention_are_audited_and_tampering_is_caught(
    tmp_path: Path,
) -> None:
    q = SqliteQueue(tmp_path / "queue.sqlite3")
    q.enqueue("bad-1", b"{}")
    [m] = q.lease(1)
    q.dead_letter(m, "unreadable")
    q.close()
    env = {"USER": "ops-alice"}
    code, output = _cli(tmp_path, ["queue", "replay", "bad-1"], **env)
    assert code == 0 and "replayed 1" in output, output
    code, output = _cli(tmp_path, ["queue", "replay", "--all"], **env)
    assert code == 0, output
    code, output = _cli(tmp_path, ["forget", "--participant", "nobody-here"], **env)
    assert code == 0, output
    code, output = _cli(tmp_path, ["retention", "run"], **env)
    assert code == 0, output
    log = AuditLog(tmp_path / "audit" / "audit.jsonl")
    entries = log.entries()
    assert [(e["action"], e["target"], e["details"].get("count")) for e in entries[:2]] == [
        ("replay", "bad-1", 1),
        ("replay", "all", 0),
    ]
    assert [e["action"] for e in entries[2:]] == ["forget", "retention.run"]
    assert {e["actor"] for e in entries} == {"ops-alice"}
    code, output = _cli(tmp_path, ["audit", "verify"])
    assert code == 0 and "4 entries, chain intact" in output, output

    lines = log.path.read_text().splitlines()
    first = json.loads(lines[0])
    first["details"]["count"] = 5
    lines[0] = json.dumps(first, sort_keys=True)
    log.path.write_text("\n".join(lines) + "\n")
    code, output = _cli(tmp_path, ["audit", "verify"])
    assert code == 1 and "TAMPERED" in output and "entry 1 was edited" in output, output


def test_sqs_message_held_by_a_worker_during_forget_is_dropped_when_delivered_again(
    moto_endpoint: str, duck: Store, tmp_path: Path
) -> None:
    import time

    from callscope.queue.sqs import SqsQueue

    q = SqsQueue.create(
        f"g{uuid.uuid4().hex[:8]}", endpoint_url=moto_endpoint, dedup_path=tmp_path / "d.db"
    )
    try:
        q.enqueue("p-held", _person_payload("p-held"))
        q.enqueue("other", json.dumps({"participant": {"email": "x@else.com"}}).encode())
        # a worker holds the person's message while forget scans: the scan cannot see it
        held = [m for m in q.lease(10, visibility_timeout=2) if m.session_id == "p-held"]
        assert held
        report = forget(
            EMAIL,
            store=duck,
            raw=None,
            archive=None,
            queue=q,
            outbox=tmp_path / "outbox.jsonl",
            audit=AuditLog(tmp_path / "audit.jsonl"),
        )
        assert "in flight" in report.queue_note
        tombstones = (tmp_path / "d.db").read_bytes()
        assert EMAIL.encode() not in tombstones.lower()  # digests only
        time.sleep(2.5)  # the worker died: its lease runs out and SQS delivers it again
        q.enqueue("p-new", _person_payload("p-new"))  # they call again after the forget
        delivered = set()
        for _ in range(5):
            delivered |= {m.session_id for m in q.lease(10)}
        assert delivered == {"other", "p-new"}
        assert q.stats().ready == 0 and q.stats().dead == 0  # dropped, not parked
    finally:
        q.close()
