"""The done-when scenario: one scripted incident, one pass fires every windowed rule once."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from callscope.alerts.engine import AlertEngine
from callscope.alerts.windowed import WINDOWED
from callscope.profile.alerts import AlertsConfig
from callscope.profile.model import Profile
from callscope.queue.sqlite import SqliteQueue
from callscope.store import Store
from tests.alerts.conftest import NOW, steady, store_calls

BURST = {
    "latency_ms": 2600,
    "error": True,
    "tokens_x": 5.0,
    "packet_loss": 6.0,
    "jitter": 80.0,
    "tool_error": True,
}
EXPECTED = {
    "agent_down:renewals-agent",
    "error_rate_critical:trial-agent",
    "latency_critical:trial-agent",
    "queue_backlog:queue.sqlite3",
    "api_failures:tool:unleash_search_knowledge",
    "latency_sustained:trial-agent",
    "error_rate_high:trial-agent",
    "token_spike:trial-agent",
    "cost_burn:all",
    "connection_degraded:trial-agent",
}


def incident_profile(profile: Profile) -> Profile:
    # The budget is the business's own figure: this one sits between normal and burst spend.
    data = profile.alerts.model_dump()
    data["rules"]["cost_burn"]["budget_usd_per_hour"] = 2.0
    return profile.model_copy(update={"alerts": AlertsConfig.model_validate(data)})


def script(store: Store, profile: Profile, tmp_path: Path) -> SqliteQueue:
    calls = steady("trial-agent", NOW - timedelta(days=2), NOW - timedelta(minutes=30), 600)
    calls += steady("trial-agent", NOW - timedelta(minutes=30), NOW, 60, first=5000, **BURST)
    calls += steady(
        "renewals-agent", NOW - timedelta(minutes=90), NOW - timedelta(minutes=15), 120, first=9000
    )
    store_calls(store, calls, profile)
    queue = SqliteQueue(tmp_path / "queue.sqlite3")
    queue.enqueue_many([(f"waiting-{i}", b'{"x": %d}' % i) for i in range(101)])
    return queue


def test_scripted_incident_fires_each_windowed_rule_exactly_once(
    store: Store, profile: Profile, tmp_path: Path
) -> None:
    profile = incident_profile(profile)
    queue = script(store, profile, tmp_path)
    engine = AlertEngine(store, profile, queue=queue, queue_name="queue.sqlite3")

    first = engine.check(NOW)
    assert first.errors == {}
    assert sorted(first.fired) == sorted(EXPECTED)
    assert {k.split(":", 1)[0] for k in first.fired} == set(WINDOWED)

    again = engine.check(NOW + timedelta(seconds=30))
    assert again.fired == [] and again.resolved == []
    # The 5-minute windows now hold 4 calls, under min_calls: no data is not "healthy", so
    # those two stay open without being judged; the rest are still true.
    undetermined = {"error_rate_critical:trial-agent", "latency_critical:trial-agent"}
    assert set(again.held) == EXPECTED - undetermined
    states = store.fetch("SELECT dedup_key, status FROM alert_state")
    assert {s["dedup_key"]: s["status"] for s in states} == dict.fromkeys(EXPECTED, "firing")

    rows = store.fetch("SELECT id, rule, severity, channel, payload FROM alerts_history")
    assert len(rows) == len(EXPECTED)  # written once each
    by_rule = {r["rule"]: r for r in rows}
    assert by_rule["agent_down"]["severity"] == "critical"
    assert by_rule["agent_down"]["channel"] == "oncall"
    assert by_rule["token_spike"]["channel"] == "ops"
    assert by_rule["queue_backlog"]["payload"]["ready"] == 101
    assert by_rule["latency_critical"]["payload"]["dedup_key"] == "latency_critical:trial-agent#1"
    queue.close()


def test_incident_resolves_once_the_calls_are_healthy_again(
    store: Store, profile: Profile, tmp_path: Path
) -> None:
    profile = incident_profile(profile)
    queue = script(store, profile, tmp_path)
    engine = AlertEngine(store, profile, queue=queue, queue_name="queue.sqlite3")
    engine.check(NOW)
    # Twenty minutes of healthy calls from both agents, and the backlog drained.
    later = NOW + timedelta(minutes=20)
    calls = steady("trial-agent", NOW, later, 60, first=7000)
    calls += steady("renewals-agent", NOW, later, 60, first=8000)
    store_calls(store, calls, profile)
    for m in queue.lease(200):
        queue.ack(m)

    result = engine.check(later)
    # The hour's spend still includes the burst: cost_burn stays open, everything else clears.
    assert set(result.resolved) == EXPECTED - {"cost_burn:all"}
    assert result.held == ["cost_burn:all"] and result.fired == []
    resolves = store.fetch("SELECT id, payload FROM alerts_history WHERE id LIKE '%:resolved'")
    assert {r["payload"]["action"] for r in resolves} == {"resolve"}
    assert "latency_critical:trial-agent#1:resolved" in {r["id"] for r in resolves}
    queue.close()
