"""Fire once, hold while true, resolve when clear, cooldown against flapping, outages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from callscope.alerts.engine import Action, AlertEngine, decide
from callscope.profile.model import Profile
from callscope.queue import open_queue
from callscope.queue.sqlite import SqliteQueue
from callscope.store import Store
from tests.alerts.conftest import NOW, call, store_calls
from tests.fixtures.redis_server import RedisServer

COOL = timedelta(minutes=30)
T0 = NOW - timedelta(hours=2)


@pytest.mark.parametrize(
    ("status", "fired_ago", "active", "expected"),
    [
        (None, None, True, Action.FIRE),
        (None, None, False, Action.NONE),
        ("firing", 5, True, Action.HOLD),
        ("firing", 5, False, Action.RESOLVE),
        ("resolved", 10, True, Action.SUPPRESS),  # flapping back inside the cooldown
        ("resolved", 31, True, Action.FIRE),
        ("resolved", 10, False, Action.NONE),
        ("suppressed", 10, True, Action.HOLD),
        ("suppressed", 30, True, Action.FIRE),  # still true when the cooldown ends
        ("suppressed", 10, False, Action.CLEAR),
    ],
)
def test_decide(status: str | None, fired_ago: int | None, active: bool, expected: Action) -> None:
    last = None if fired_ago is None else NOW - timedelta(minutes=fired_ago)
    assert decide(status, last, active, NOW, COOL) is expected


class Backlog:
    """A real SQLite queue whose ready count the test moves up and down."""

    def __init__(self, path: Path) -> None:
        self.queue = SqliteQueue(path)
        self.n = 0

    def set(self, ready: int) -> None:
        have = self.queue.stats().ready
        if ready > have:
            items = [(f"s{self.n + i}", b"{}") for i in range(ready - have)]
            self.queue.enqueue_many(items)
            self.n += len(items)
        for m in self.queue.lease(have - ready) if have > ready else []:
            self.queue.ack(m)


@pytest.fixture
def q(tmp_path: Path) -> Iterator[Backlog]:
    b = Backlog(tmp_path / "q.sqlite3")
    yield b
    b.queue.close()


def history(store: Store) -> list[str]:
    return [r["id"] for r in store.fetch("SELECT id FROM alerts_history ORDER BY fired_at, id")]


def test_flapping_backlog_is_damped_by_the_cooldown(
    store: Store, profile: Profile, q: Backlog
) -> None:
    engine = AlertEngine(store, profile, queue=q.queue)
    q.set(150)
    assert engine.check(T0).fired == ["queue_backlog:queue"]
    q.set(20)
    assert engine.check(T0 + timedelta(minutes=1)).resolved == ["queue_backlog:queue"]
    q.set(150)  # back within 30 min of the first notification: kept quiet
    assert engine.check(T0 + timedelta(minutes=2)).suppressed == ["queue_backlog:queue"]
    assert engine.check(T0 + timedelta(minutes=10)).held == ["queue_backlog:queue"]
    # Still true when the cooldown ends: it fires, as incident 2.
    assert engine.check(T0 + timedelta(minutes=31)).fired == ["queue_backlog:queue"]
    assert history(store) == [
        "queue_backlog:queue#1",
        "queue_backlog:queue#1:resolved",
        "queue_backlog:queue#2",
    ]


def test_suppressed_key_that_clears_sends_nothing(
    store: Store, profile: Profile, q: Backlog
) -> None:
    engine = AlertEngine(store, profile, queue=q.queue)
    q.set(150)
    engine.check(T0)
    q.set(0)
    engine.check(T0 + timedelta(minutes=1))
    q.set(150)
    engine.check(T0 + timedelta(minutes=2))
    q.set(0)
    result = engine.check(T0 + timedelta(minutes=3))
    assert result.resolved == [] and result.fired == []
    assert len(history(store)) == 2  # one fire and one resolve, nothing for the blip


def test_a_rule_that_cannot_run_leaves_its_alerts_open(
    store: Store, profile: Profile, redis_server: RedisServer, redis_url: str
) -> None:
    queue = open_queue(redis_url)
    engine = AlertEngine(store, profile, queue=queue)
    store_calls(
        store, [call(i, T0 - timedelta(seconds=30 * i), latency_ms=2600) for i in range(6)], profile
    )
    queue.enqueue_many([(f"s{i}", b"{}") for i in range(150)])
    first = engine.check(T0)
    assert "queue_backlog:queue" in first.fired and "latency_critical:trial-agent" in first.fired
    redis_server.stop()
    try:
        result = engine.check(T0 + timedelta(minutes=1))
    finally:
        redis_server.start()
        queue.close()
    assert "queue_backlog" in result.errors
    assert "queue_backlog:queue" not in result.resolved  # not judged, so not resolved
    assert "latency_critical:trial-agent" in result.held  # the other rules ran
    state = store.fetch("SELECT status FROM alert_state WHERE dedup_key = 'queue_backlog:queue'")
    assert state == [{"status": "firing"}]


def test_a_repeated_pass_after_a_crash_writes_no_duplicate(
    store: Store, profile: Profile, q: Backlog
) -> None:
    q.set(150)
    AlertEngine(store, profile, queue=q.queue).check(T0)
    store.execute("DELETE FROM alert_state")  # as if the pass died before saving its state
    again = AlertEngine(store, profile, queue=q.queue).check(T0)
    assert again.fired == ["queue_backlog:queue"]
    assert history(store) == ["queue_backlog:queue#1"]  # same id: kept once
