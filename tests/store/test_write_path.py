"""The cheap write path: bulk alerts, deletes only for re-sent sessions, reused views."""

from __future__ import annotations

import dataclasses
import pathlib
from datetime import UTC, date, datetime

import pytest

from callscope.analyze.view import build_view
from callscope.store import ProcessedSession, Store
from callscope.store.base import AlertRecord
from callscope.store.raw import open_raw
from callscope.store.rows import build_rows
from tests.store.conftest import load_dev


def test_write_alerts_is_one_call_idempotent_on_ids(store: Store) -> None:
    fired = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    store.write_alert("hot_lead", "kept as first written", alert_id="hot:s1")
    ids = store.write_alerts(
        [
            AlertRecord("hot_lead", "again", session_id="s1", alert_id="hot:s1"),
            AlertRecord("latency", "slow", "warning", "s2", "engineering", {"p95": 2.5}, fired),
            AlertRecord("dup", "first", alert_id="d-1"),
            AlertRecord("dup", "second", alert_id="d-1"),
        ]
    )
    assert ids[0] == "hot:s1" and ids[2:] == ["d-1", "d-1"] and len(ids[1]) == 32
    rows = {r["id"]: r for r in store.fetch("SELECT * FROM alerts_history")}
    assert set(rows) == {"hot:s1", ids[1], "d-1"}
    assert rows["hot:s1"]["message"] == "kept as first written"
    assert rows["d-1"]["message"] == "first"
    slow = rows[ids[1]]
    assert (slow["severity"], slow["session_id"], slow["channel"]) == (
        "warning",
        "s2",
        "engineering",
    )
    assert slow["payload"] == {"p95": 2.5} and slow["fired_at"] == fired
    assert store.write_alerts([]) == []


def test_new_and_resent_sessions_in_one_batch(
    store: Store, dev_sessions: list[ProcessedSession], dev_paths: list[pathlib.Path]
) -> None:
    first, second = dev_sessions[:2]
    store.write([first])
    before = {t: store.count(t) for t in ("transcripts", "metrics", "tool_calls")}
    # The re-sent session has its rows replaced (not doubled), the new one is added.
    again = load_dev(dev_paths[0], revision=2)
    store.write([again, second])
    assert store.count("sessions") == 2
    store.delete_session(second.session_id)
    assert {t: store.count(t) for t in before} == before
    assert store.fetch("SELECT revision FROM sessions") == [{"revision": 2}]
    analysis = store.fetch("SELECT DISTINCT revision FROM analysis_results")
    assert analysis == [{"revision": 2}]


def test_rows_from_a_passed_view_equal_rows_from_the_record(
    dev_sessions: list[ProcessedSession],
) -> None:
    plain = build_rows(dev_sessions[:5], {})
    with_views = [dataclasses.replace(p, view=build_view(p.record)) for p in dev_sessions[:5]]
    assert build_rows(with_views, {}).tables == plain.tables
    # A view of another record is not trusted: the rows follow the record.
    mixed = [dataclasses.replace(dev_sessions[0], view=build_view(dev_sessions[1].record))]
    assert build_rows(mixed, {}).tables == build_rows(dev_sessions[:1], {}).tables


@pytest.mark.parametrize("where", ["local", "s3"])
def test_raw_put_many_equals_put(
    where: str, tmp_path: pathlib.Path, request: pytest.FixtureRequest
) -> None:
    if where == "local":
        url = str(tmp_path / "raw")
    else:
        import boto3

        endpoint = request.getfixturevalue("moto_endpoint")
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(
            Bucket="cs-put-many"
        )
        request.getfixturevalue("monkeypatch").setenv("CALLSCOPE_S3_ENDPOINT_URL", endpoint)
        url = "s3://cs-put-many/raw"
    raw = open_raw(url)
    day = date(2026, 3, 4)
    items = [(f"s{i}", 1, day, b'{"n": %d}' % i) for i in range(12)]
    items.append(("s0", 2, datetime(2026, 3, 5, 1, tzinfo=UTC), b'{"n": "again"}'))
    keys = raw.put_many(items)
    assert keys[0] == raw.put("s0", 1, day, b'{"n": 0}')  # same key, same bytes
    assert [(o.session_id, o.revision, o.data) for o in raw.iter(until=day)] == sorted(
        (sid, rev, data) for sid, rev, _, data in items[:12]
    )
    assert raw.get("s0", 2, date(2026, 3, 5)) == b'{"n": "again"}'
    assert raw.delete("s0") == 2
    assert raw.put_many([]) == []
