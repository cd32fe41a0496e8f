"""The worker in-process: idempotent, consent-respecting, and it never loses a session."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from callscope.analyze.registry import Analyzer, registry
from callscope.profile import load_profile
from callscope.queue.sqlite import SqliteQueue
from callscope.store import open_store
from callscope.store.raw import open_raw
from callscope.worker import Worker

PROFILE = load_profile()


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[SqliteQueue, Any, Any, Worker]]:
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    raw = open_raw(str(tmp_path / "raw"))
    worker = Worker(queue, store, PROFILE, raw_store=raw, batch_size=10)
    yield queue, store, raw, worker
    worker.close()
    queue.close()
    store.close()


def _dev(dev_cases: list[Path], i: int = 0) -> dict[str, Any]:
    return json.loads(dev_cases[i].read_text())["record"]


def test_processes_and_is_idempotent_across_revisions(env, dev_cases: list[Path]) -> None:
    queue, store, _, worker = env
    rec = _dev(dev_cases)
    queue.enqueue(rec["session_id"], orjson.dumps(rec))
    assert worker.run_once().processed == 1
    # A changed record (new revision) is processed again and replaces the first.
    rec2 = {**rec, "close_reason": "user_hangup"}
    queue.enqueue(rec["session_id"], orjson.dumps(rec2))
    worker.run_once()
    rows = store.fetch("SELECT revision, close_reason FROM sessions")
    assert rows == [{"revision": 2, "close_reason": "user_hangup"}]
    assert store.count("leads") == 1


def test_no_analytics_consent_keeps_metrics_only(env, dev_cases: list[Path]) -> None:
    queue, store, raw, worker = env
    rec = _dev(dev_cases)
    rec["consent"] = {"recording": True, "analytics": False}
    queue.enqueue(rec["session_id"], orjson.dumps(rec))
    worker.run_once()
    assert store.count("sessions") == 1
    assert store.fetch("SELECT count(*) AS n FROM transcripts")[0]["n"] == 0
    session = store.get_session(rec["session_id"])
    assert session is not None
    stored_raw = b"".join(o.data for o in raw.iter())
    assert stored_raw
    assert b"marisol" not in stored_raw.lower()
    # Latency still comes through: the per-turn metrics are operational data.
    perf = store.fetch("SELECT e2e_latency_p95_ms FROM sessions")[0]["e2e_latency_p95_ms"]
    assert perf is not None and perf > 0


def test_unreadable_payload_goes_straight_to_the_dlq(env, dev_cases: list[Path]) -> None:
    queue, _, _, worker = env
    queue.enqueue("bad", b'{"schema_version": "9", "session_id": "bad"}')
    good = _dev(dev_cases)
    queue.enqueue(good["session_id"], orjson.dumps(good))
    stats = worker.run_once()
    assert (stats.processed, stats.dead_lettered) == (1, 1)
    dead = queue.dead_letters()
    assert [d.session_id for d in dead] == ["bad"] and "schema_version" in dead[0].reason


def test_one_failing_analyzer_never_loses_the_others(
    env, dev_cases: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue, store, _, worker = env

    def explode(view: Any, profile: Any, upstream: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setitem(registry._analyzers, "exploding", Analyzer("exploding", "0.1", explode))
    monkeypatch.setattr(registry, "_order", None)
    rec = _dev(dev_cases)
    queue.enqueue(rec["session_id"], orjson.dumps(rec))
    assert worker.run_once().module_errors == {"exploding": 1}
    assert store.fetch("SELECT lead_tier FROM sessions")[0]["lead_tier"] == "tier_1"
    errors = store.fetch("SELECT module, error FROM analysis_results WHERE error IS NOT NULL")
    assert errors == [{"module": "exploding", "error": "RuntimeError: boom"}] or any(
        "boom" in (e["error"] or "") for e in errors
    )
    monkeypatch.setattr(registry, "_order", None)


def test_store_down_means_retry_not_loss(
    env, dev_cases: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue, store, _, worker = env
    rec = _dev(dev_cases)
    queue.enqueue(rec["session_id"], orjson.dumps(rec))

    def down(batch: Any) -> None:
        raise ConnectionError("warehouse unreachable")

    monkeypatch.setattr(store, "write_rows", down)
    stats = worker.run_once()
    assert (stats.processed, stats.retried) == (0, 1)
    stats_now = queue.stats()
    assert (stats_now.ready, stats_now.delayed) == (1, 1)  # waiting out its backoff
    assert queue.dead_letters() == []
