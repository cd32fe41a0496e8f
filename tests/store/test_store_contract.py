"""One contract, every backend: DuckDB and a real PostgreSQL server behave the same."""

from __future__ import annotations

import dataclasses
import pathlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from callscope.store import ProcessedSession, Store, StoreError
from callscope.store.schema import TABLES
from tests.store.conftest import load_dev

SESSION_TABLES = [
    "sessions",
    "transcripts",
    "metrics",
    "leads",
    "lead_signals",
    "tool_calls",
    "analysis_results",
]


def counts(store: Store) -> dict[str, int]:
    return {t.name: store.count(t.name) for t in TABLES}


def rows_for(store: Store, session_id: str) -> dict[str, int]:
    return {
        t: int(
            store.fetch(f"SELECT COUNT(*) AS n FROM {t} WHERE session_id = ?", [session_id])[0]["n"]
        )
        for t in [*SESSION_TABLES, "alerts_history"]
    }


def test_write_stores_every_table(store: Store, dev_sessions: list[ProcessedSession]) -> None:
    store.write(dev_sessions)
    assert store.session_ids() == {p.session_id for p in dev_sessions}
    n_turns = sum(
        1
        for p in dev_sessions
        for i in p.record.transcript.items
        if i.type == "message" and (i.model_extra or {}).get("role") in ("user", "assistant")
    )
    assert store.count("transcripts") == n_turns
    assert store.count("tool_calls") == sum(len(p.record.tool_calls) for p in dev_sessions)
    assert store.count("leads") == len(dev_sessions)
    assert store.count("metrics") > n_turns  # several per-turn figures per turn


def test_get_session_returns_row_analysis_and_transcript(
    store: Store, dev_paths: list[pathlib.Path]
) -> None:
    p = load_dev(dev_paths[0])
    store.write([p])
    got = store.get_session(p.session_id)
    assert got is not None
    expected = orjson.loads(dev_paths[0].read_bytes())["expected"]
    assert got["revision"] == 1
    assert got["agent_name"] == p.record.agent.name
    assert got["user_email"] == p.record.participant.email
    assert got["started_at"] == p.record.started_at
    assert got["lead_tier"] == expected["lead.tier"]
    assert got["lead_score"] == expected["lead.score"]
    assert got["meeting_booked"] is expected["tools.meeting_booked"]
    assert got["kb_searches"] == expected["tools.kb_searches"]
    assert got["analysis"]["sales"]["team_size"] == expected["sales.team_size"]
    assert got["analyzer_versions"]["lead"] == "1.0.0"
    assert got["raw_bytes"] == len(p.raw)
    assert got["transcript"][0]["turn_index"] == 0
    assert got["transcript"][0]["text"]
    assert [t["turn_index"] for t in got["transcript"]] == list(range(len(got["transcript"])))
    assert got["lead"]["integrations"] == expected["sales.integrations"]
    assert got["lead"]["team_size"] == expected["sales.team_size"]
    e2e = [t["e2e_latency_ms"] for t in got["transcript"] if t["e2e_latency_ms"] is not None]
    assert got["e2e_latency_avg_ms"] == pytest.approx(sum(e2e) / len(e2e))
    assert store.get_session("no-such-session") is None


def test_same_session_twice_is_stored_once(
    store: Store, dev_sessions: list[ProcessedSession]
) -> None:
    batch = dev_sessions[:5]
    store.write(batch)
    first = counts(store)
    store.write(batch)
    store.write([batch[0], batch[0]])  # and twice inside one batch
    assert counts(store) == first
    assert first["sessions"] == 5


def test_higher_revision_replaces_lower_and_late_lower_is_ignored(
    store: Store, dev_paths: list[pathlib.Path]
) -> None:
    r1 = load_dev(dev_paths[1])
    items = r1.record.transcript.model_dump()["items"]
    r2 = load_dev(
        dev_paths[1],
        revision=2,
        close_reason="error",
        transcript={"items": items[:4]},
        tool_calls=[],
    )
    store.write([r1])
    assert rows_for(store, r1.session_id)["transcripts"] > 4
    store.write([r2])
    got = store.get_session(r1.session_id)
    assert got is not None
    assert (got["revision"], got["close_reason"]) == (2, "error")
    assert rows_for(store, r1.session_id)["transcripts"] <= 4
    assert rows_for(store, r1.session_id)["tool_calls"] == 0
    store.write([r1])  # a stale redelivery of revision 1
    again = store.get_session(r1.session_id)
    assert again is not None and again["revision"] == 2
    assert rows_for(store, r1.session_id)["transcripts"] <= 4
    # Both revisions in one batch: the higher one wins whatever the order.
    other = dev_paths[2]
    store.write([load_dev(other, revision=3, close_reason="r3"), load_dev(other, revision=2)])
    got3 = store.get_session(load_dev(other).session_id)
    assert got3 is not None and (got3["revision"], got3["close_reason"]) == (3, "r3")


def test_no_analytics_consent_stores_metrics_but_no_words(
    store: Store, dev_paths: list[pathlib.Path]
) -> None:
    p = load_dev(dev_paths[0], consent={"recording": False, "analytics": False})
    store.write([p])
    n = rows_for(store, p.session_id)
    assert n["sessions"] == 1
    assert n["transcripts"] == 0
    assert n["metrics"] > 0
    calls = store.fetch(
        "SELECT query, arguments, output, duration_ms FROM tool_calls WHERE session_id = ?",
        [p.session_id],
    )
    assert calls and all(
        c["query"] is None and c["arguments"] is None and c["output"] is None for c in calls
    )
    assert all(c["duration_ms"] is not None for c in calls)
    got = store.get_session(p.session_id)
    assert got is not None and got["consent_analytics"] is False and got["transcript"] == []
    assert got["summary"] is None


def test_analysis_results_keep_history_across_analyzer_versions(
    store: Store, dev_paths: list[pathlib.Path]
) -> None:
    v1 = load_dev(dev_paths[3], version="1.0.0")
    v2 = load_dev(dev_paths[3], version="2.0.0")
    store.write([v1])
    store.write([v2])
    store.write([v2])
    rows = store.fetch(
        "SELECT analyzer_version, result FROM analysis_results "
        "WHERE session_id = :s AND module = :m ORDER BY analyzer_version",
        {"s": v1.session_id, "m": "lead"},
    )
    assert [r["analyzer_version"] for r in rows] == ["1.0.0", "2.0.0"]
    assert rows[0]["result"]["tier"] == v1.analysis["lead"]["tier"]
    got = store.get_session(v1.session_id)
    assert got is not None and got["analyzer_versions"]["lead"] == "2.0.0"
    modules = {r["module"] for r in got["analysis_results"]}
    assert {"sales", "lead", "tools", "summary"} <= modules


def test_delete_participant_removes_every_trace(
    store: Store, dev_sessions: list[ProcessedSession]
) -> None:
    store.write(dev_sessions[:4])
    target = dev_sessions[1]
    email = target.record.participant.email
    assert email
    store.write_alert("hot_lead", f"Hot lead {email}", session_id=target.session_id)
    store.write_alert("digest", "daily digest", payload={"leads": [email.upper()]})
    keep = store.write_alert("digest", "other", payload={"leads": ["someone@else.example"]})
    before = counts(store)
    gone = store.delete_participant(email.upper())
    assert gone.session_ids == (target.session_id,)
    assert all(v == 0 for v in rows_for(store, target.session_id).values())
    assert gone.rows["alerts_history"] == 2
    after = counts(store)
    assert before["sessions"] - after["sessions"] == 1
    assert sum(before.values()) - sum(after.values()) == gone.total
    assert store.fetch("SELECT id FROM alerts_history") == [{"id": keep}]
    hits = store.fetch(
        "SELECT COUNT(*) AS n FROM sessions WHERE LOWER(user_email) = ?", [email.lower()]
    )
    assert hits[0]["n"] == 0
    by_identity = dev_sessions[2].record.participant.identity
    assert by_identity
    assert store.delete_participant(by_identity).session_ids == (dev_sessions[2].session_id,)
    assert store.delete_participant("nobody@nowhere.example").session_ids == ()
    assert store.delete_participant("   ").session_ids == ()


def test_delete_session_reports_rows(store: Store, dev_sessions: list[ProcessedSession]) -> None:
    store.write(dev_sessions[:2])
    sid = dev_sessions[0].session_id
    gone = store.delete_session(sid)
    assert gone.session_ids == (sid,)
    assert gone.rows["sessions"] == 1 and gone.rows["transcripts"] > 0
    assert store.session_ids() == {dev_sessions[1].session_id}
    assert store.delete_session(sid).total == 0


def test_fetch_and_execute_take_portable_sql(
    store: Store, dev_sessions: list[ProcessedSession]
) -> None:
    store.write(dev_sessions)
    tier1 = store.fetch("SELECT COUNT(*) AS n FROM sessions WHERE lead_tier = ?", ["tier_1"])
    named = store.fetch(
        "SELECT COUNT(*) AS n FROM sessions WHERE lead_tier = :tier", {"tier": "tier_1"}
    )
    assert tier1 == named and tier1[0]["n"] > 0
    # Literals with ?, :name and % are not placeholders; casts with :: still work.
    odd = store.fetch("SELECT '?:x%' AS s, CAST(? AS INTEGER) AS i, '1'::INTEGER AS c", [7])
    assert odd == [{"s": "?:x%", "i": 7, "c": 1}]
    like = store.fetch("SELECT COUNT(*) AS n FROM sessions WHERE session_id LIKE 'room-%'")
    assert like[0]["n"] == len(dev_sessions)
    avg = store.fetch("SELECT AVG(turn_count) AS a, SUM(turn_count) AS s FROM sessions")[0]
    assert isinstance(avg["a"], float) and int(avg["s"]) > 0
    changed = store.execute(
        "UPDATE sessions SET summary = :s WHERE lead_tier = :t", {"s": "reviewed", "t": "tier_1"}
    )
    assert changed == tier1[0]["n"]
    with pytest.raises(StoreError, match="missing query parameter"):
        store.fetch("SELECT * FROM sessions WHERE lead_tier = :tier", {})
    with pytest.raises(StoreError, match="one style"):
        store.fetch("SELECT * FROM sessions WHERE lead_tier = :t AND agent_name = ?", {"t": 1})
    with pytest.raises(StoreError, match="no_such_table"):
        store.fetch("SELECT * FROM no_such_table")
    with pytest.raises(StoreError, match="unknown table"):
        store.count("sessions; DROP TABLE sessions")


def test_bi_views_answer_on_both_backends(
    store: Store, dev_sessions: list[ProcessedSession]
) -> None:
    store.write(dev_sessions)
    daily = store.fetch(
        "SELECT SUM(sessions) AS n, SUM(meetings_booked) AS m FROM v_daily_sessions"
    )[0]
    assert int(daily["n"]) == len(dev_sessions)
    assert int(daily["m"]) == sum(1 for p in dev_sessions if p.analysis["tools"]["meeting_booked"])
    lat = store.fetch(
        "SELECT p50_ms, p95_ms, p99_ms FROM v_latency_daily WHERE metric = 'e2e_latency'"
    )
    assert lat and all(r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"] for r in lat)
    objections = {
        r["objection"]: int(r["sessions"])
        for r in store.fetch("SELECT objection, sessions FROM v_objections")
    }
    expected: dict[str, int] = {}
    for p in dev_sessions:
        for o in set(p.analysis["sales"]["objections"]):
            expected[o] = expected.get(o, 0) + 1
    assert objections == expected
    gaps = store.fetch("SELECT query, failed_searches FROM v_kb_gaps ORDER BY query")
    failed = sum(p.analysis["tools"]["kb_failed_searches"] for p in dev_sessions)
    assert sum(int(g["failed_searches"]) for g in gaps) == failed
    leads = store.fetch("SELECT session_id, tier FROM v_leads WHERE hot_lead")
    assert {r["session_id"] for r in leads} == {
        p.session_id for p in dev_sessions if p.analysis["lead"]["score"] > 80
    }


def test_write_alert_is_idempotent_on_its_id(store: Store) -> None:
    fired = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
    aid = store.write_alert(
        "latency",
        "p95 above 1500 ms",
        severity="high",
        channel="slack",
        payload={"p95_ms": 1800.5},
        fired_at=fired,
        alert_id="lat-1",
    )
    assert aid == "lat-1"
    store.write_alert("latency", "p95 above 1500 ms", alert_id="lat-1")
    rows = store.fetch("SELECT * FROM alerts_history")
    assert len(rows) == 1
    assert rows[0]["payload"] == {"p95_ms": 1800.5}
    assert rows[0]["fired_at"] == fired and rows[0]["severity"] == "high"
    assert len(store.write_alert("x", "y")) == 32  # a random id when none is given


def test_wild_values_are_stored_not_fatal(store: Store, dev_paths: list[pathlib.Path]) -> None:
    p = load_dev(dev_paths[4])
    analysis = orjson.loads(orjson.dumps(p.analysis))
    analysis["sales"]["team_size"] = 10**15
    analysis["sales"]["monthly_volume"] = "lots"
    analysis["lead"]["score"] = float("nan")
    analysis["sales"]["objections"] = ["price\x00", {"nested": 1}]
    items = p.record.transcript.model_dump()["items"]
    items[1]["content"] = ["nul\x00byte"]
    wild = load_dev(
        dev_paths[4],
        transcript={"items": items},
        participant={"identity": "id\x00x", "name": "N\x00", "email": None},
    )
    store.write([dataclasses.replace(wild, analysis=analysis)])
    got = store.get_session(p.session_id)
    assert got is not None
    assert got["lead"]["team_size"] is None and got["lead"]["monthly_volume"] is None
    assert got["lead_score"] is None
    assert got["transcript"][1]["text"] == "nulbyte"
    assert got["lead"]["objections"] == ["price"]


@contextmanager
def failing_insert(store: Store, table: str) -> Iterator[None]:
    original = store._tx  # type: ignore[attr-defined]

    @contextmanager
    def tx() -> Iterator[Any]:
        with original() as inner:
            real = inner.insert

            def insert(t: Any, rows: Any) -> None:
                if t.name == table:
                    raise RuntimeError("disk full")
                real(t, rows)

            inner.insert = insert
            yield inner

    store._tx = tx  # type: ignore[attr-defined]
    try:
        yield
    finally:
        store._tx = original  # type: ignore[attr-defined]


def test_a_failing_batch_writes_nothing(store: Store, dev_sessions: list[ProcessedSession]) -> None:
    store.write(dev_sessions[:2])
    before = counts(store)
    with failing_insert(store, "tool_calls"), pytest.raises(Exception, match="disk full"):
        store.write([dataclasses.replace(dev_sessions[0], revision=5), *dev_sessions[2:6]])
    assert counts(store) == before
    got = store.get_session(dev_sessions[0].session_id)
    assert got is not None and got["revision"] == 1


def test_concurrent_writers_store_each_session_once(
    store: Store, dev_sessions: list[ProcessedSession]
) -> None:
    errors: list[BaseException] = []

    def work(batch: list[ProcessedSession]) -> None:
        try:
            for _ in range(3):
                store.write(batch)
        except BaseException as exc:
            errors.append(exc)

    halves = [dev_sessions[:15], dev_sessions[8:]]
    threads = [threading.Thread(target=work, args=(b,)) for b in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert store.count("sessions") == len(dev_sessions)
    dup = store.fetch(
        "SELECT session_id, COUNT(*) AS n FROM transcripts "
        "GROUP BY session_id, turn_index HAVING COUNT(*) > 1"
    )
    assert dup == []


def test_ping_and_migrate_twice(store: Store) -> None:
    assert store.ping()
    store.migrate()
    store.migrate()
    assert store.count("sessions") == 0
