"""queue_backlog reads each backend's own ready count: SQLite, Redis Streams and SQS."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from callscope.alerts.engine import AlertEngine
from callscope.profile.model import Profile
from callscope.queue import open_queue
from callscope.queue.base import Queue
from callscope.store import Store


@pytest.fixture(params=["sqlite", "redis", "sqs"])
def queue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Queue]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    elif request.param == "redis":
        url = request.getfixturevalue("redis_url")
    else:
        endpoint = request.getfixturevalue("moto_endpoint")
        url = f"sqs://backlog-{tmp_path.name[-12:]}?endpoint={endpoint}&create=1&dedup={tmp_path}/d.db"
    q = open_queue(url)
    yield q
    q.close()


def test_backlog_fires_above_100_ready_and_resolves_when_drained(
    queue: Queue, store: Store, profile: Profile
) -> None:
    engine = AlertEngine(store, profile, queue=queue, queue_name="main")
    queue.enqueue_many([(f"s{i}", b'{"n": %d}' % i) for i in range(100)])
    assert queue.stats().ready == 100
    assert engine.check().fired == []  # 100 is not more than 100
    queue.enqueue("s100", b'{"n": 100}')
    result = engine.check()
    assert result.fired == ["queue_backlog:main"]
    row = store.fetch("SELECT payload FROM alerts_history WHERE rule = 'queue_backlog'")[0]
    assert row["payload"]["ready"] == 101
    leased = []
    while len(leased) < 101:
        got = queue.lease(50, visibility_timeout=60)
        if not got:
            break
        leased += got
    for m in leased:
        queue.ack(m)
    assert engine.check().resolved == ["queue_backlog:main"]
