"""/healthz, /readyz and /metrics."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from callscope.config import Settings
from callscope.ingest import metrics
from callscope.ingest.app import create_app
from callscope.queue.sqlite import SqliteQueue
from tests.ingest.conftest import AUTH, body, records


def _sample(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name + (("{" + labels + "}") if labels else "")) + r" ([0-9.e+-]+)"
    match = re.search(pattern, text)
    return float(match.group(1)) if match else 0.0


def test_healthz_needs_no_token(client: TestClient) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json()["status"] == "ok"


def test_readyz_checks_queue_and_store(tmp_path: Path, queue: SqliteQueue) -> None:
    class Store:
        up = True

        def ping(self) -> bool:
            return self.up

    store = Store()
    with TestClient(create_app(Settings(data_dir=tmp_path), queue=queue, store=store)) as c:
        assert c.get("/readyz").json() == {
            "status": "ready",
            "checks": {"queue": "ok", "store": "ok"},
        }
        store.up = False
        resp = c.get("/readyz")
    assert resp.status_code == 503 and resp.json()["checks"]["store"] == "unreachable"


def test_readyz_fails_when_the_queue_cannot_open(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the queue directory should be")
    cfg = Settings(data_dir=tmp_path, queue_url=f"sqlite:///{blocker}/queue.sqlite3")

    def factory() -> SqliteQueue:
        return SqliteQueue(blocker / "queue.sqlite3")

    with TestClient(create_app(cfg, queue_factory=factory), client=("127.0.0.1", 1)) as c:
        ready = c.get("/readyz")
        post = c.post(
            "/v1/sessions",
            content=body(records(1)[0]),
            headers={"Content-Type": "application/json"},
        )
    assert ready.status_code == 503
    assert post.status_code == 503 and post.json()["error"] in ("queue_unavailable", "queue_error")


def test_metrics_count_accepted_rejected_and_queue_depth(
    client: TestClient, queue: SqliteQueue
) -> None:
    before = client.get("/metrics").text
    recs = records(3, seed=11)
    client.post("/v1/sessions:batch", content=orjson.dumps(recs), headers=AUTH)
    client.post("/v1/sessions", content=b"{", headers=AUTH)
    metrics.record_processed(0.02)
    metrics.record_analyzer_error("sentiment")
    after = client.get("/metrics")
    assert after.status_code == 200
    text = after.text
    accepted = 'endpoint="batch"'
    assert (
        _sample(text, "callscope_ingest_accepted_total", accepted)
        - _sample(before, "callscope_ingest_accepted_total", accepted)
    ) == 3
    bad = 'reason="malformed_json"'
    assert (
        _sample(text, "callscope_ingest_rejected_total", bad)
        - _sample(before, "callscope_ingest_rejected_total", bad)
    ) == 1
    assert _sample(text, "callscope_queue_depth") == 3
    assert "callscope_queue_oldest_age_seconds" in text
    assert "callscope_dlq_depth 0.0" in text
    assert _sample(text, "callscope_processing_seconds_count") >= 1
    assert _sample(text, "callscope_analyzer_errors_total", 'module="sentiment"') >= 1
    assert "callscope_missing_records_total" in text
