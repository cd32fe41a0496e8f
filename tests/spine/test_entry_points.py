"""One processing path: the same contract through every entry point.

Worker (``callscope worker`` and serve's inline worker, which runs ``run_forever``), the AWS
Lambda handler and ``callscope reprocess`` all call :class:`callscope.pipeline.Pipeline`.
Each test here runs through each of them and checks the warehouse, the raw store and the
alerts: a good call stored with its raw record and alerts; an unreadable payload, a
400-character session id and a crashing analysis each failing alone; revisions 2 then 1
keeping 2.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from callscope.analyze import CallView, Registry, registry
from callscope.analyze.registry import AnalysisRun
from callscope.aws import handle_sqs_event
from callscope.contract.errors import RecordError
from callscope.contract.parse import parse_record
from callscope.pipeline import Pipeline, Status
from callscope.pipeline.reprocess import reprocess
from callscope.profile import load_profile
from callscope.profile.model import Profile
from callscope.queue.base import Message, content_hash
from callscope.queue.sqlite import SqliteQueue
from callscope.store import Store, open_store
from callscope.store.raw import RawStore, open_raw
from callscope.worker import Worker

PROFILE = load_profile()


class CrashingRegistry(Registry):
    """The real analyzers, except that the whole run crashes for one session."""

    def __init__(self, crash_on: str) -> None:
        super().__init__()
        self._analyzers = registry._analyzers
        self.crash_on = crash_on

    def run(self, view: CallView, profile: Profile) -> AnalysisRun:
        if view.session_id == self.crash_on:
            raise MemoryError("analysis ran out of memory")
        return super().run(view, profile)


@dataclass
class Env:
    store: Store
    raw: RawStore
    tmp: Path


# An entry point: feeds batches of (payload, revision) through its own code path, one
# batch at a time; what it stored is then read from the warehouse.
Batches = list[list[tuple[bytes, int]]]
Entry = Callable[[Env, Batches, Registry], None]


class LateRevisionQueue(SqliteQueue):
    """A real SQLite queue whose next deliveries carry the revision a test names.

    SQLite keeps one row per session, so it never redelivers an older revision; Redis and SQS
    can (a stale message redelivered after a newer one), which is what this stands for.
    """

    revision = 1

    def lease(self, max_messages: int, *, visibility_timeout: float = 60.0) -> list[Message]:
        got = super().lease(max_messages, visibility_timeout=visibility_timeout)
        return [replace(m, revision=self.revision) for m in got]


def _queue(env: Env) -> LateRevisionQueue:
    return LateRevisionQueue(env.tmp / f"q{len(list(env.tmp.iterdir()))}.sqlite3")


def _sid(payload: bytes) -> str:
    try:
        return str(json.loads(payload)["session_id"])
    except (ValueError, KeyError, TypeError):
        return "unreadable"


def _put(queue: LateRevisionQueue, batch: list[tuple[bytes, int]]) -> None:
    queue.enqueue_many([(_sid(p), p) for p, _ in batch])
    queue.revision = batch[0][1]


def _via_worker(env: Env, batches: Batches, reg: Registry) -> None:
    queue = _queue(env)
    with Worker(queue, env.store, PROFILE, raw_store=env.raw, registry=reg) as worker:
        for batch in batches:
            _put(queue, batch)
            worker.process_batch(queue.lease(len(batch)))
    queue.close()


def _via_inline(env: Env, batches: Batches, reg: Registry) -> None:
    """serve --workers-inline: the worker's run_forever in a thread beside the app."""
    queue = _queue(env)
    with Worker(
        queue, env.store, PROFILE, raw_store=env.raw, registry=reg, batch_size=50
    ) as worker:
        for batch in batches:
            _put(queue, batch)
            done = worker.stats.batches
            stop = threading.Event()
            thread = threading.Thread(target=worker.run_forever, args=(stop,), daemon=True)
            thread.start()
            _wait(lambda: worker.stats.batches > done)  # noqa: B023
            stop.set()
            thread.join(10)
    queue.close()


def _wait(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def sqs_record(message_id: str, payload: bytes, sid: str, revision: int) -> dict[str, Any]:
    """One record of an SQS event as Lambda delivers it, with ``SqsQueue``'s attributes."""

    def attr(value: str) -> dict[str, Any]:
        return {"stringValue": value, "stringListValues": [], "dataType": "String"}

    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": base64.b64encode(payload).decode(),
        "attributes": {"ApproximateReceiveCount": "1"},
        "messageAttributes": {
            "sid": attr(sid),
            "rev": attr(str(revision)),
            "enc": attr("b64"),
            "hash": attr(content_hash(payload)),
            "prio": attr("0"),
        },
        "eventSource": "aws:sqs",
    }


def _via_lambda(env: Env, batches: Batches, reg: Registry) -> None:
    pipeline = Pipeline(env.store, PROFILE, registry=reg, raw_store=env.raw)
    for b, batch in enumerate(batches):
        records = [sqs_record(f"m{b}-{i}", p, _sid(p), rev) for i, (p, rev) in enumerate(batch)]
        handle_sqs_event({"Records": records}, pipeline=pipeline)


def _via_reprocess(env: Env, batches: Batches, reg: Registry) -> None:
    """Reprocess reads the raw store: each batch is kept there first, then re-analysed."""
    for batch in batches:
        days = set()
        for payload, revision in batch:
            try:
                rec = parse_record(payload)
                env.raw.put(rec.session_id, revision, rec.started_at, payload)
                days.add(rec.started_at.date())
            except (RecordError, OSError):
                continue  # nothing a raw store can hold: nothing to reprocess
        reprocess(
            env.raw, env.store, PROFILE, reg, since=min(days), until=max(days), only_changed=False
        )


ENTRIES: dict[str, Entry] = {
    "worker": _via_worker,
    "serve-inline": _via_inline,
    "lambda": _via_lambda,
    "reprocess": _via_reprocess,
}


@pytest.fixture(params=list(ENTRIES))
def entry(request: pytest.FixtureRequest) -> tuple[str, Entry]:
    return request.param, ENTRIES[request.param]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    (tmp_path / "q").mkdir()
    yield Env(store, open_raw(str(tmp_path / "raw")), tmp_path / "q")
    store.close()


def _record(dev_cases: list[Path], i: int, **changes: Any) -> dict[str, Any]:
    rec: dict[str, Any] = json.loads(dev_cases[i].read_text())["record"]
    return {**rec, **changes}


def _hot_case(dev_cases: list[Path]) -> int:
    """A dev case whose real analysis raises an alert."""
    from callscope.alerts import evaluate
    from callscope.pipeline import analyze_payload

    for i, _ in enumerate(dev_cases):
        got = analyze_payload(orjson.dumps(_record(dev_cases, i)), PROFILE)
        if got.analysis and evaluate(got.analysis["session_id"], got.analysis, PROFILE):
            return i
    raise AssertionError("no dev case raises an alert")


def test_a_call_is_stored_with_its_raw_record_and_alerts(
    env: Env, entry: tuple[str, Entry], dev_cases: list[Path]
) -> None:
    name, run = entry
    rec = _record(dev_cases, _hot_case(dev_cases))
    run(env, [[(orjson.dumps(rec), 1)]], registry)
    sid = rec["session_id"]
    assert env.store.session_ids() == {sid}
    assert [o.session_id for o in env.raw.iter()] == [sid]
    alerts = env.store.fetch("SELECT id FROM alerts_history WHERE session_id = ?", [sid])
    # Reprocess re-analyses history: it never fires alerts for calls long over.
    assert bool(alerts) is (name != "reprocess")
    signals = env.store.query("signals_of_session", {"session_id": sid})
    assert {s["field"] for s in signals} >= {"team_size", "integrations"}


def test_bad_messages_fail_alone(env: Env, entry: tuple[str, Entry], dev_cases: list[Path]) -> None:
    _, run = entry
    long_id = (
        "x" * 400
    )  # valid (<= 512): longer than a file name may be, so the raw store hashes it
    batch = [
        (orjson.dumps(_record(dev_cases, 0)), 1),
        (b'{"schema_version": "9", "session_id": "bad"}', 1),
        (orjson.dumps(_record(dev_cases, 1, session_id=long_id)), 1),
        (orjson.dumps(_record(dev_cases, 2, session_id="crash")), 1),
        (orjson.dumps(_record(dev_cases, 3)), 1),
    ]
    run(env, [batch], CrashingRegistry("crash"))  # one batch: the neighbours share it
    stored = env.store.session_ids()
    want = {_record(dev_cases, i)["session_id"] for i in (0, 3)}
    assert stored == {*want, long_id}


def test_revision_2_then_1_keeps_2(
    env: Env, entry: tuple[str, Entry], dev_cases: list[Path]
) -> None:
    _, run = entry
    rec = _record(dev_cases, 0)
    newer = orjson.dumps({**rec, "close_reason": "newer"})
    older = orjson.dumps({**rec, "close_reason": "older"})
    run(env, [[(newer, 2)], [(older, 1)]], registry)
    rows = env.store.fetch("SELECT revision, close_reason FROM sessions")
    assert rows == [{"revision": 2, "close_reason": "newer"}]


def test_a_lambda_batch_with_revisions_2_then_1_keeps_2(env: Env, dev_cases: list[Path]) -> None:
    rec = _record(dev_cases, 0)
    sid = rec["session_id"]
    newer = orjson.dumps({**rec, "close_reason": "newer"})
    older = orjson.dumps({**rec, "close_reason": "older"})
    pipeline = Pipeline(env.store, PROFILE, raw_store=env.raw)
    event = {"Records": [sqs_record("a", newer, sid, 2), sqs_record("b", older, sid, 1)]}
    assert handle_sqs_event(event, pipeline=pipeline) == {"batchItemFailures": []}
    rows = env.store.fetch("SELECT revision, close_reason FROM sessions")
    assert rows == [{"revision": 2, "close_reason": "newer"}]
    assert sorted(o.revision for o in env.raw.iter()) == [1, 2]  # both originals are kept


def test_pipeline_outcomes_name_each_failure(env: Env, dev_cases: list[Path]) -> None:
    def msg(sid: str, payload: bytes) -> Message:
        return Message(sid, payload, 1, 1, 0, sid, 0.0)

    good = orjson.dumps(_record(dev_cases, 0))
    crash = orjson.dumps(_record(dev_cases, 2, session_id="crash"))
    pipeline = Pipeline(env.store, PROFILE, registry=CrashingRegistry("crash"))
    out = pipeline.process([msg("g", good), msg("b", b"{nope"), msg("crash", crash)])
    assert [o.status for o in out] == [Status.STORED, Status.DEAD, Status.RETRY]
    assert "malformed JSON" in (out[1].reason or "")
    assert "MemoryError" in (out[2].reason or "")


def test_a_lambda_batch_reports_only_its_bad_records(env: Env, dev_cases: list[Path]) -> None:
    good, other = orjson.dumps(_record(dev_cases, 0)), orjson.dumps(_record(dev_cases, 3))
    crash = orjson.dumps(_record(dev_cases, 2, session_id="crash"))
    records = [
        sqs_record("ok-1", good, _sid(good), 1),
        sqs_record("unreadable", b"{nope", "x", 1),
        sqs_record("crash", crash, "crash", 1),
        sqs_record("ok-2", other, _sid(other), 1),
    ]
    undecodable = sqs_record("bad-b64", b"", "y", 1)
    undecodable["body"] = "%%% not base64"
    pipeline = Pipeline(env.store, PROFILE, registry=CrashingRegistry("crash"), raw_store=env.raw)
    out = handle_sqs_event({"Records": [*records, undecodable]}, pipeline=pipeline)
    failed = sorted(f["itemIdentifier"] for f in out["batchItemFailures"])
    assert failed == ["bad-b64", "crash", "unreadable"]
    assert env.store.session_ids() == {_sid(good), _sid(other)}
    # What Lambda stored has its original kept and its alerts fired, like the worker's.
    assert {o.session_id for o in env.raw.iter()} == {_sid(good), _sid(other)}


def test_the_worker_dead_letters_unreadable_and_retries_the_rest(
    env: Env, dev_cases: list[Path]
) -> None:
    queue = _queue(env)
    crash = orjson.dumps(_record(dev_cases, 2, session_id="crash"))
    good = orjson.dumps(_record(dev_cases, 0))
    queue.enqueue_many([("bad", b"{nope"), ("crash", crash), (_sid(good), good)])
    with Worker(queue, env.store, PROFILE, registry=CrashingRegistry("crash")) as worker:
        assert worker.process_batch(queue.lease(10)) == 1
    assert [d.session_id for d in queue.dead_letters()] == ["bad"]
    stats = queue.stats()
    assert (stats.ready, stats.delayed, stats.leased) == (1, 1, 0)  # "crash" waits to retry
    queue.close()
