"""One contract, three backends: the same tests run on SQLite, real Redis and SQS (moto).

Time: SQLite and the Redis retry schedule take an injected clock, so backoff passes without
sleeping. Lease expiry on Redis (stream idle time) and everything on SQS (visibility
timeouts) run on the broker's own clock, so those tests sleep for a second or less.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from callscope.queue import (
    MAX_ATTEMPTS,
    PRIORITY_HOT,
    EnqueueOutcome,
    Queue,
    QueueStats,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Env:
    name: str
    queue: Queue
    short_vt: float  # a visibility timeout that expire_leases() outlasts
    expire_leases: Callable[[], None]
    pass_backoff: Callable[[], None]
    strict_fifo: bool = True  # SQS standard queues only promise best-effort order


def _sqlite(tmp_path: Path) -> Iterator[Env]:
    from callscope.queue.sqlite import SqliteQueue

    clock = FakeClock()
    q = SqliteQueue(tmp_path / "q.sqlite3", clock=clock)

    def advance(seconds: float) -> Callable[[], None]:
        def go() -> None:
            clock.now += seconds

        return go

    yield Env("sqlite", q, 5.0, advance(6.0), advance(400.0))
    q.close()


def _redis(url: str) -> Iterator[Env]:
    from callscope.queue.redis_streams import RedisStreamsQueue

    clock = FakeClock()
    q = RedisStreamsQueue(url, stream=f"t{uuid.uuid4().hex[:8]}", clock=clock)

    def expire() -> None:
        time.sleep(0.3)

    def backoff() -> None:
        clock.now += 400.0

    yield Env("redis", q, 0.2, expire, backoff)
    q.close()


def _sqs(endpoint: str, tmp_path: Path) -> Iterator[Env]:
    from callscope.queue.sqs import SqsQueue

    name = f"t{uuid.uuid4().hex[:8]}"
    q = SqsQueue.create(
        name, endpoint_url=endpoint, dedup_path=tmp_path / "sqs-dedup.sqlite3", retry_base_s=0.4
    )

    def expire() -> None:
        time.sleep(1.2)

    def backoff() -> None:
        # Visibility timeouts are whole seconds: base 0.4s backs off at most 1s, then 1s.
        time.sleep(1.2)

    yield Env("sqs", q, 1.0, expire, backoff, strict_fifo=False)
    q.close()


@pytest.fixture(params=["sqlite", "redis", "sqs"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    if request.param == "sqlite":
        yield from _sqlite(tmp_path)
    elif request.param == "redis":
        yield from _redis(request.getfixturevalue("redis_url"))
    else:
        yield from _sqs(request.getfixturevalue("moto_endpoint"), tmp_path)


def counts(stats: QueueStats) -> tuple[int, int, int]:
    return stats.ready, stats.leased, stats.dead


def test_roundtrip(env: Env) -> None:
    q = env.queue
    res = q.enqueue("s1", b'{"a":1}')
    assert (res.outcome, res.revision) == (EnqueueOutcome.ACCEPTED, 1)
    [m] = q.lease(10)
    assert (m.session_id, m.payload, m.revision, m.attempts) == ("s1", b'{"a":1}', 1, 1)
    q.ack(m)
    assert q.lease(10) == []
    assert counts(q.stats()) == (0, 0, 0)
    assert q.ping()


def test_identical_resend_is_a_duplicate_even_after_ack(env: Env) -> None:
    q = env.queue
    assert q.enqueue("s1", b"same").outcome is EnqueueOutcome.ACCEPTED
    dup = q.enqueue("s1", b"same")
    assert (dup.outcome, dup.revision) == (EnqueueOutcome.DUPLICATE, 1)
    [m] = q.lease(10)
    q.ack(m)
    assert q.enqueue("s1", b"same").outcome is EnqueueOutcome.DUPLICATE
    assert q.lease(10) == []


def test_changed_payload_is_a_revision(env: Env) -> None:
    q = env.queue
    q.enqueue("s1", b"v1")
    [m] = q.lease(10)
    q.ack(m)
    res = q.enqueue("s1", b"v2")
    assert (res.outcome, res.revision) == (EnqueueOutcome.REVISION, 2)
    # A revision that lands before the first one is processed supersedes it.
    res = q.enqueue("s1", b"v3")
    assert (res.outcome, res.revision) == (EnqueueOutcome.REVISION, 3)
    got = q.lease(10)
    assert [(x.payload, x.revision) for x in got] == [(b"v3", 3)]
    q.ack(got[0])
    assert q.lease(10) == []


def test_priority_hot_first_then_oldest(env: Env) -> None:
    q = env.queue
    for sid, prio in [("n1", 0), ("n2", 0), ("h1", PRIORITY_HOT), ("n3", 0), ("h2", PRIORITY_HOT)]:
        q.enqueue(sid, sid.encode(), priority=prio)
    order: list[str] = []
    for _ in range(10):
        batch = q.lease(1)
        if not batch:
            break
        order.extend(m.session_id for m in batch)
        assert batch[0].priority == (PRIORITY_HOT if batch[0].session_id[0] == "h" else 0)
        q.ack(batch[0])
    if env.strict_fifo:
        assert order == ["h1", "h2", "n1", "n2", "n3"]
    else:
        assert sorted(order[:2]) == ["h1", "h2"]
        assert sorted(order[2:]) == ["n1", "n2", "n3"]


def test_expired_lease_is_redelivered_and_stale_receipt_is_ignored(env: Env) -> None:
    q = env.queue
    q.enqueue("s1", b"x")
    [first] = q.lease(1, visibility_timeout=env.short_vt)
    assert q.lease(1, visibility_timeout=env.short_vt) == []  # still leased
    env.expire_leases()
    # Redis reclaims by idle time >= *this* call's timeout, so it repeats the short one.
    [second] = q.lease(1, visibility_timeout=env.short_vt if env.name == "redis" else 60)
    assert (second.session_id, second.attempts) == ("s1", 2)
    assert second.receipt != first.receipt
    # The first worker wakes up late: its ack and nack must not touch the newer delivery.
    q.ack(first)
    q.nack(first, "late")
    assert counts(q.stats()) == (0, 1, 0)
    q.ack(second)
    assert counts(q.stats()) == (0, 0, 0)
    assert q.lease(1) == []


def test_three_failures_then_dlq_with_reason(env: Env) -> None:
    q = env.queue
    q.enqueue("s1", b"poison")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        [m] = q.lease(1)
        assert m.attempts == attempt
        q.nack(m, f"boom {attempt}")
        assert q.lease(1) == []  # backing off (or dead after the last one)
        if attempt < MAX_ATTEMPTS:
            env.pass_backoff()
    [dead] = q.dead_letters()
    assert (dead.session_id, dead.attempts, dead.payload) == ("s1", MAX_ATTEMPTS, b"poison")
    assert f"boom {MAX_ATTEMPTS}" in dead.reason
    env.pass_backoff()
    assert q.lease(1) == []
    assert counts(q.stats()) == (0, 0, 1)


def test_dead_letter_skips_retries(env: Env) -> None:
    q = env.queue
    q.enqueue("s1", b"not json")
    [m] = q.lease(1)
    q.dead_letter(m, "unreadable payload")
    [dead] = q.dead_letters()
    assert (dead.session_id, dead.reason, dead.attempts) == ("s1", "unreadable payload", 1)
    assert q.lease(1) == []


def test_replay_one_then_all(env: Env) -> None:
    q = env.queue
    for sid in ("s1", "s2", "s3"):
        q.enqueue(sid, sid.encode())
    leased = q.lease(10)
    assert len(leased) == 3
    for m in leased:
        q.dead_letter(m, "nope")
    assert q.stats().dead == 3
    assert q.replay("s2") == 1
    assert q.replay("missing") == 0
    [m] = q.lease(10)
    assert (m.session_id, m.attempts, m.payload) == ("s2", 1, b"s2")  # attempts reset
    q.ack(m)
    assert q.replay() == 2
    assert q.replay("s1") == 0
    assert sorted(x.session_id for x in q.lease(10)) == ["s1", "s3"]
    assert q.dead_letters() == []


def test_stats(env: Env) -> None:
    q = env.queue
    q.enqueue_many([("a", b"1"), ("b", b"2"), ("c", b"3")])
    [m] = q.lease(1)
    s = q.stats()
    assert counts(s) == (2, 1, 0)
    if env.name != "sqs":  # SQS exposes no enqueue time through the queue API
        assert s.oldest_ready_age_s is not None and s.oldest_ready_age_s >= 0
    q.dead_letter(m, "x")
    assert counts(q.stats()) == (2, 0, 1)


def test_enqueue_many_in_order_with_duplicates_inside_the_batch(env: Env) -> None:
    q = env.queue
    items: list[tuple[str, bytes] | tuple[str, bytes, int]] = [
        (f"s{i}", f"p{i}".encode()) for i in range(30)
    ]
    items += [("s0", b"p0"), ("s1", b"changed", 0), ("h", b"hot", PRIORITY_HOT)]
    res = q.enqueue_many(items)
    assert [r.outcome for r in res[:30]] == [EnqueueOutcome.ACCEPTED] * 30
    assert [(r.outcome, r.revision) for r in res[30:]] == [
        (EnqueueOutcome.DUPLICATE, 1),
        (EnqueueOutcome.REVISION, 2),
        (EnqueueOutcome.ACCEPTED, 1),
    ]
    got: dict[str, bytes] = {}
    for _ in range(10):
        batch = q.lease(10)
        if not batch:
            break
        for m in batch:
            assert m.session_id not in got
            got[m.session_id] = m.payload
            q.ack(m)
    assert len(got) == 31 and got["s1"] == b"changed"
    assert q.enqueue_many([]) == []


def test_lease_that_keeps_expiring_ends_in_the_dlq(env: Env) -> None:
    q = env.queue
    q.enqueue("s1", b"kills workers")
    for _ in range(MAX_ATTEMPTS):
        assert len(q.lease(1, visibility_timeout=env.short_vt)) == 1
        env.expire_leases()
    assert q.lease(1, visibility_timeout=env.short_vt) == []
    [dead] = q.dead_letters()
    assert dead.session_id == "s1" and dead.attempts == MAX_ATTEMPTS
    assert dead.reason


@pytest.mark.parametrize(
    ("sid", "payload", "message"),
    [
        ("", b"x", "session_id must be a non-empty string"),
        ("  ", b"x", "session_id must be a non-empty string"),
        ("s" * 600, b"x", "session_id longer than"),
        ("s1", "text, not bytes", "payload must be bytes"),
    ],
)
def test_bad_input_is_rejected_and_nothing_is_written(
    env: Env, sid: str, payload: bytes, message: str
) -> None:
    q = env.queue
    q.enqueue("good", b"ok")
    with pytest.raises(ValueError, match=message):
        q.enqueue_many([("other", b"fine"), (sid, payload)])
    assert counts(q.stats()) == (1, 0, 0)
    with pytest.raises(ValueError, match="max_messages"):
        q.lease(0)
    with pytest.raises(ValueError, match="visibility_timeout"):
        q.lease(1, visibility_timeout=0)
