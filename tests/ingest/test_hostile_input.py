"""Input that cannot hurt its neighbours: each bad record fails alone, the valid ones land.

Every case here sends the bad record together with valid ones (concurrently or in the same
batch) and then checks the valid ones were committed to the real queue.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from callscope.config import Settings
from callscope.ingest.app import create_app
from callscope.profile import load_profile
from callscope.queue.base import EnqueueResult
from callscope.queue.sqlite import SqliteQueue
from callscope.store import open_store
from callscope.store.raw import open_raw, raw_key
from callscope.worker import Worker
from tests.ingest.conftest import AUTH, TOKEN, records


def _ready(queue: SqliteQueue) -> int:
    stats = queue.stats()
    return stats.ready + stats.leased + stats.delayed


async def _post_all(app: Any, bodies: Sequence[bytes], client: str = "10.0.0.9") -> list[Any]:
    transport = httpx.ASGITransport(app=app, client=(client, 4242))
    async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as http:
        return list(
            await asyncio.gather(
                *(http.post("/v1/sessions", content=b, headers=AUTH) for b in bodies)
            )
        )


@pytest.mark.parametrize("blank", [" ", "\n", "\t \r\n", "ok\nid"])
def test_blank_session_id_is_a_422_and_concurrent_valid_posts_land(
    settings: Settings, queue: SqliteQueue, blank: str
) -> None:
    valid = records(200, seed=3)
    bad = [{**copy.deepcopy(valid[0]), "session_id": blank} for _ in range(10)]
    bodies = [orjson.dumps(r) for r in valid[:100]]
    bodies += [orjson.dumps(r) for r in bad] + [orjson.dumps(r) for r in valid[100:]]
    answers = asyncio.run(_post_all(create_app(settings, queue=queue), bodies))
    bad_answers = answers[100:110]
    assert {a.status_code for a in bad_answers} == {422}
    assert all("Retry-After" not in a.headers for a in bad_answers)
    assert bad_answers[0].json()["field"] == "session_id"
    good = answers[:100] + answers[110:]
    assert [a.status_code for a in good] == [202] * 200
    assert _ready(queue) == 200


class _RefusesOne(SqliteQueue):
    """A real SQLite queue whose writes fail whenever one given session is among them."""

    poison = "poison-session"

    def enqueue_many(self, items: Sequence[tuple[str, bytes, int]]) -> list[EnqueueResult]:
        if any(sid == self.poison for sid, _, _ in items):
            raise RuntimeError("disk says no to this one")
        return super().enqueue_many(items)


def test_a_failing_write_fails_only_its_own_request(settings: Settings, tmp_path: Path) -> None:
    queue = _RefusesOne(tmp_path / "q2.sqlite3")
    valid = records(120, seed=5)
    poison = {**copy.deepcopy(valid[0]), "session_id": _RefusesOne.poison}
    bodies = [orjson.dumps(r) for r in valid[1:60]] + [orjson.dumps(poison)]
    bodies += [orjson.dumps(r) for r in valid[60:]]
    answers = asyncio.run(_post_all(create_app(settings, queue=queue), bodies))
    codes = [a.status_code for a in answers]
    assert codes[59] == 503
    assert codes[:59] + codes[60:] == [202] * 119
    assert _ready(queue) == 119
    queue.close()


def _batch(client: TestClient, items: list[dict[str, Any]]) -> dict[str, Any]:
    resp = client.post("/v1/sessions:batch", content=orjson.dumps(items), headers=AUTH)
    assert resp.status_code == 202, resp.text
    result: dict[str, Any] = resp.json()
    return result


def _deep_body(record: dict[str, Any], depth: int) -> bytes:
    # Written by hand: no JSON library serialises 1,000 levels.
    marked = {**record, "discovered_signals": {"x": "@DEEP@"}}
    nested = b'{"a":' * depth + b"1" + b"}" * depth
    return orjson.dumps(marked).replace(b'"@DEEP@"', nested)


def test_thousand_deep_nesting_is_a_422_and_the_batch_lands(
    client: TestClient, queue: SqliteQueue
) -> None:
    valid = records(5, seed=11)
    deep = _deep_body({**valid[0], "session_id": "deep-one"}, 1000)
    single = client.post("/v1/sessions", content=deep, headers=AUTH)
    assert single.status_code == 422 and single.json()["error"] == "too_deep"
    lines = b"\n".join([*map(orjson.dumps, valid[:2]), deep, *map(orjson.dumps, valid[2:])])
    headers = {**AUTH, "Content-Type": "application/x-ndjson"}
    resp = client.post("/v1/sessions:batch", content=lines, headers=headers)
    out = resp.json()
    assert out["accepted"] == 5 and out["rejected"] == 1
    assert out["results"][2]["error"] == "too_deep"
    assert _ready(queue) == 5


def _with(record: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(record)
    node: Any = out
    keys = path.split(".")
    for key in keys[:-1]:
        node = node[int(key)] if key.isdigit() else node.setdefault(key, {})
    node[int(keys[-1]) if keys[-1].isdigit() else keys[-1]] = value
    return out


SEMANTIC_CASES = [
    ("duration_seconds", -5, "duration_seconds"),
    ("connection.packet_loss_pct", 140.0, "connection.packet_loss_pct"),
    ("connection.packet_loss_pct", -1.0, "connection.packet_loss_pct"),
    ("connection.jitter_ms", -3.0, "connection.jitter_ms"),
    ("started_at", "1970-01-01T00:00:00Z", "started_at"),
    ("ended_at", "9999-01-01T00:00:00Z", "ended_at"),
    ("ended_at", "2026-01-01T00:00:00Z", "ended_at"),  # before the generated started_at
]


@pytest.mark.parametrize(("path", "value", "field"), SEMANTIC_CASES)
def test_impossible_values_are_422_alone(
    client: TestClient, queue: SqliteQueue, path: str, value: Any, field: str
) -> None:
    valid = records(4, seed=13)
    bad = _with({**valid[0], "session_id": "impossible"}, path, value)
    single = client.post("/v1/sessions", content=orjson.dumps(bad), headers=AUTH)
    assert single.status_code == 422, single.text
    assert single.json()["field"] == field
    out = _batch(client, [valid[0], bad, *valid[1:]])
    assert out["accepted"] == 4 and out["results"][1]["field"] == field
    assert _ready(queue) == 4


def test_negative_latencies_are_422(client: TestClient, queue: SqliteQueue) -> None:
    valid = records(3, seed=17)
    bad = copy.deepcopy(valid[0])
    bad["session_id"] = "negative-latency"
    turn = next(i for i in bad["transcript"]["items"] if isinstance(i.get("metrics"), dict))
    turn["metrics"]["e2e_latency"] = -0.8
    bad["tool_calls"] = [{"name": "search", "duration_ms": -40}]
    out = _batch(client, [bad, *valid])
    assert out["accepted"] == 3
    assert out["results"][0]["field"].endswith(".e2e_latency")
    assert _ready(queue) == 3


def test_long_session_ids_store_and_process_with_their_batch(tmp_path: Path) -> None:
    """A 512-character id (the schema's maximum) lands in the raw store with its 43 neighbours."""
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    raw = open_raw(str(tmp_path / "raw"))
    valid = records(44, seed=19)
    long_ids = ["x" * 512, "é" * 300, "..", "a/b" * 100]
    for i, sid in enumerate(long_ids):
        valid[i]["session_id"] = sid
    for r in valid:
        queue.enqueue(r["session_id"], orjson.dumps(r))
    with Worker(queue, store, load_profile(), raw_store=raw, batch_size=50) as worker:
        stats = worker.run_once()
    assert stats.processed == 44 and stats.dead_lettered == 0
    assert store.count("sessions") == 44
    stored = {obj.session_id for obj in raw.iter()}
    assert stored == {r["session_id"] for r in valid}
    assert all(len(p.name) < 255 for p in (tmp_path / "raw").rglob("*"))
    assert len(raw_key("x" * 512, 1, _day(valid[0])).rsplit("/", 1)[-1]) < 100
    assert raw.delete("x" * 512) == 1
    assert {obj.session_id for obj in raw.iter()} == {r["session_id"] for r in valid[1:]}
    queue.close()
    store.close()


def _day(record: dict[str, Any]) -> Any:
    from datetime import date

    return date.fromisoformat(record["started_at"][:10])


class _StoreRefusingOne:
    """The real DuckDB store, except that any write holding one session fails."""

    def __init__(self, inner: Any, poison: str) -> None:
        self.inner, self.poison = inner, poison

    def write_rows(self, rows: Any) -> None:
        if self.poison in rows.session_ids:
            raise RuntimeError("constraint violated by this record")
        self.inner.write_rows(rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_worker_isolates_a_record_the_store_refuses(tmp_path: Path) -> None:
    queue = SqliteQueue(tmp_path / "q.sqlite3", retry_base_s=0.0)
    inner = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    valid = records(44, seed=23)
    poison = valid[7]["session_id"]
    for r in valid:
        queue.enqueue(r["session_id"], orjson.dumps(r))
    with Worker(queue, _StoreRefusingOne(inner, poison), load_profile(), batch_size=50) as w:  # type: ignore[arg-type]
        stats = w.run_once()
        # The neighbours land at once; the refused one is retried (a store may refuse for a
        # moment), then dead-lettered with the store's reason, never lost.
        assert (stats.processed, stats.retried) == (43, 1)
        for _ in range(10):
            if w.run_once().dead_lettered:
                break
    assert inner.count("sessions") == 43
    (dead,) = queue.dead_letters()
    assert dead.session_id == poison and "this record" in dead.reason
    queue.close()
    inner.close()


def test_repeated_wrong_tokens_are_throttled_per_client(
    settings: Settings, queue: SqliteQueue
) -> None:
    app = create_app(settings, queue=queue)
    valid = orjson.dumps(records(1, seed=29)[0])

    async def go() -> tuple[list[int], Any, Any, Any]:
        bad_t = httpx.ASGITransport(app=app, client=("203.0.113.7", 1))
        good_t = httpx.ASGITransport(app=app, client=("198.51.100.2", 1))
        wrong = {**AUTH, "Authorization": "Bearer guess"}
        async with httpx.AsyncClient(transport=bad_t, base_url="http://i") as bad:
            codes = [
                (await bad.post("/v1/sessions", content=valid, headers=wrong)).status_code
                for _ in range(40)
            ]
            barred = await bad.post("/v1/sessions", content=valid, headers=wrong)
            right_but_barred = await bad.post("/v1/sessions", content=valid, headers=AUTH)
        async with httpx.AsyncClient(transport=good_t, base_url="http://i") as good:
            other = await good.post("/v1/sessions", content=valid, headers=AUTH)
        return codes, barred, right_but_barred, other

    codes, barred, right_but_barred, other = asyncio.run(go())
    assert codes[:20] == [401] * 20 and set(codes[20:]) == {429}
    assert barred.status_code == 429 and int(barred.headers["Retry-After"]) >= 1
    assert right_but_barred.status_code == 429
    assert other.status_code == 202 and TOKEN not in other.text
    assert _ready(queue) == 1
