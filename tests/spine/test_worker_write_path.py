"""The worker's cheap paths: the analysis pool, bulk alerts and their one-by-one fallback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from callscope.generate import generate_records
from callscope.profile import load_profile
from callscope.queue.sqlite import SqliteQueue
from callscope.store import open_store
from callscope.store.base import AlertRecord
from callscope.store.raw import open_raw
from callscope.worker import Worker

PROFILE = load_profile()
# Everything but the processing time, which differs between two runs by design.
_COMPARED = "SELECT * EXCLUDE (processed_at) FROM sessions ORDER BY session_id"


def _run(tmp: Path, payloads: list[bytes], concurrency: int) -> tuple[list[dict[str, Any]], Any]:
    tmp.mkdir()
    queue = SqliteQueue(tmp / "q.sqlite3")
    store = open_store(f"duckdb:///{tmp / 'w.duckdb'}")
    raw = open_raw(str(tmp / "raw"))
    queue.enqueue_many([(orjson.loads(p)["session_id"], p, 0) for p in payloads])
    with Worker(queue, store, PROFILE, raw_store=raw, batch_size=20, concurrency=concurrency) as w:
        stats = w.run_once()
    assert (stats.processed, stats.retried, stats.dead_lettered) == (len(payloads) - 1, 0, 1)
    rows = store.fetch(_COMPARED)
    alerts = store.fetch("SELECT id, rule, session_id, message FROM alerts_history ORDER BY id")
    store.close()
    queue.close()
    return rows + alerts, raw


@pytest.mark.slow
def test_pool_results_equal_in_process_results(tmp_path: Path, dev_cases: list[Path]) -> None:
    records = list(generate_records(30, seed=7))
    private = json.loads(dev_cases[0].read_text())["record"]
    private["consent"] = {"recording": True, "analytics": False}
    bad = b'{"session_id": "broken", "not": "a record"}'
    payloads = [orjson.dumps(r) for r in [*records, private]] + [bad]
    alone, _ = _run(tmp_path / "one", payloads, 1)
    pooled, raw = _run(tmp_path / "pool", payloads, 2)
    assert pooled == alone
    assert any(r.get("rule") for r in alone)  # the comparison covered alerts too
    # Consent is applied in the pool process: what is kept raw has no words either.
    kept = {o.session_id: o.data for o in raw.iter()}
    assert b"marisol" not in kept[private["session_id"]].lower()


def test_alerts_fall_back_to_one_by_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    payloads = [orjson.dumps(r) for r in generate_records(40, seed=3)]
    queue.enqueue_many([(orjson.loads(p)["session_id"], p, 0) for p in payloads])
    bulk = store.write_alerts
    refused: list[str] = []

    def batch_down(alerts: Any) -> list[str]:
        raise ConnectionError("bulk insert refused")

    def one(rule: str, message: str, **kw: Any) -> str:
        if not refused:  # the first alert cannot be stored; the others still are
            refused.append(kw["alert_id"])
            raise ValueError("bad alert")
        return bulk([AlertRecord(rule, message, **kw)])[0]

    monkeypatch.setattr(store, "write_alerts", batch_down)
    monkeypatch.setattr(store, "write_alert", one)
    with Worker(queue, store, PROFILE, batch_size=40) as worker:
        stats = worker.run_once()
    stored = {r["id"] for r in store.fetch("SELECT id FROM alerts_history")}
    assert stats.processed == 40 and stats.alerts == len(stored) > 0
    assert refused and refused[0] not in stored
    store.close()
    queue.close()
