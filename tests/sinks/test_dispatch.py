"""The outbox dispatcher over a real warehouse: routing, retries, restarts, isolation."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from callscope.sinks.config import SinkConfigError, parse_sinks_config, qualified_tiers
from callscope.sinks.dispatch import Dispatcher
from callscope.sinks.factory import build_sinks
from callscope.store import Store
from tests.sinks.conftest import Harness, make_harness

CONFIG = {
    "destinations": {
        "slack": {"type": "slack"},
        "pagerduty": {"type": "pagerduty"},
        "salesforce": {"type": "salesforce", "instance_url": "https://example.my.salesforce.com"},
        "webhook": {"type": "webhook", "url": "https://hooks.example.com/callscope"},
    },
    "routes": [
        {"events": "alert", "channels": ["sales", "product"], "to": ["slack", "webhook"]},
        {
            "events": "alert",
            "channels": ["engineering"],
            "min_severity": "warning",
            "to": ["pagerduty"],
        },
        {"events": "lead", "to": ["salesforce", "webhook"]},  # the profile's qualified tiers
    ],
    "retry": {
        "attempts": 3,
        "initial_s": 0.5,
        "max_s": 10,
        "max_deliveries": 5,
        "circuit_after": 3,
    },
}


@pytest.fixture
def harnesses(ca_file: str, server_tls: ssl.SSLContext) -> Iterator[dict[str, Harness]]:
    hs = {
        k: make_harness(k, ca_file, server_tls)
        for k in ("slack", "pagerduty", "salesforce", "webhook")
    }
    yield hs
    for h in hs.values():
        h.sink.close()
        h.stop()


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def dispatcher(
    store: Store, hs: dict[str, Harness], sleeps: Sleeps | None = None, **changes: object
) -> Dispatcher:
    config = parse_sinks_config({**CONFIG, **changes})
    return Dispatcher(
        store,
        config,
        {k: h.sink for k, h in hs.items()},
        sleep=sleeps if sleeps is not None else Sleeps(),
    )


QUALIFIED = qualified_tiers()  # the default profile's tiers above its below-tiers id
IN_QUALIFIED = f"tier IN ({', '.join('?' * len(QUALIFIED))})"


def expected(store: Store) -> dict[str, int]:
    def n(sql: str) -> int:
        return int(store.fetch(sql, QUALIFIED if "?" in sql else ())[0]["n"])

    alerts_sp = n("SELECT COUNT(*) n FROM alerts_history WHERE channel IN ('sales', 'product')")
    leads = n(f"SELECT COUNT(*) n FROM leads WHERE {IN_QUALIFIED}")
    return {
        "slack": alerts_sp,
        "pagerduty": n(
            "SELECT COUNT(*) n FROM alerts_history "
            "WHERE channel = 'engineering' AND severity IN ('warning', 'critical')"
        ),
        "salesforce": n(f"SELECT COUNT(*) n FROM leads WHERE {IN_QUALIFIED} AND email IS NOT NULL"),
        "webhook": alerts_sp + leads,
    }


def test_routes_every_event_once_and_a_restart_resends_nothing(
    store: Store, harnesses: dict[str, Harness]
) -> None:
    want = expected(store)
    assert all(want.values()), want  # the generated warehouse exercises every route
    stats = dispatcher(store, harnesses).run_once()
    got = {k: len(h.received()) for k, h in harnesses.items()}
    assert got == want
    leads_without_email = int(
        store.fetch(
            f"SELECT COUNT(*) n FROM leads WHERE {IN_QUALIFIED} AND email IS NULL", QUALIFIED
        )[0]["n"]
    )
    assert stats.failed == leads_without_email  # Salesforce refuses those, once, for good
    assert stats.delivered == sum(want.values())
    again = dispatcher(store, harnesses).run_once()  # a fresh process over the same warehouse
    assert again.delivered == again.failed == again.retry == 0
    assert {k: len(h.received()) for k, h in harnesses.items()} == want
    rows = store.fetch("SELECT sink, status, COUNT(*) n FROM sink_deliveries GROUP BY sink, status")
    assert {(r["sink"], r["status"]): r["n"] for r in rows}[("slack", "delivered")] == want["slack"]


def test_leads_follow_the_profiles_qualified_tiers(
    store: Store, harnesses: dict[str, Harness]
) -> None:
    """A route without ``tiers`` sends the tiers the profile calls qualified, no fixed ids."""
    best = QUALIFIED[:1]
    config = parse_sinks_config(CONFIG)
    sinks = {k: h.sink for k, h in harnesses.items()}
    Dispatcher(store, config, sinks, sleep=Sleeps(), qualified=best).run_once()
    want = int(
        store.fetch("SELECT COUNT(*) n FROM leads WHERE tier = ? AND email IS NOT NULL", best)[0][
            "n"
        ]
    )
    assert 0 < want < expected(store)["salesforce"]
    assert len(harnesses["salesforce"].received()) == want


def test_a_failing_sink_never_blocks_the_others(
    store: Store, harnesses: dict[str, Harness]
) -> None:
    want = expected(store)
    harnesses["pagerduty"].extra["svc"].fail(503, b"down", times=10_000)
    sleeps = Sleeps()
    stats = dispatcher(store, harnesses, sleeps).run_once()
    assert len(harnesses["slack"].received()) == want["slack"]
    assert len(harnesses["webhook"].received()) == want["webhook"]
    assert harnesses["pagerduty"].received() == []
    assert stats.skipped_sinks == ["pagerduty"]
    # circuit_after=3 events x attempts=3 tries, exponential 0.5, 1.0 between tries
    assert len(harnesses["pagerduty"].extra["svc"].requests) == 9
    assert sorted(sleeps) == [0.5, 0.5, 0.5, 1.0, 1.0, 1.0]
    rows = store.fetch(
        "SELECT status, attempts, next_attempt_at FROM sink_deliveries WHERE sink = 'pagerduty'"
    )
    assert [(r["status"], r["attempts"]) for r in rows] == [("retry", 3)] * 3
    assert all(r["next_attempt_at"] > datetime.now(UTC) for r in rows)


def test_retry_after_is_honoured(store: Store, harnesses: dict[str, Harness]) -> None:
    harnesses["slack"].extra["svc"].fail(429, b"rate_limited", {"Retry-After": "7"})
    sleeps = Sleeps()
    d = dispatcher(store, harnesses, sleeps)
    d.run_once()
    assert 7.0 in sleeps
    assert len(harnesses["slack"].received()) == expected(store)["slack"]


def test_permanent_failure_is_recorded_once_and_requeue_retries(
    store: Store, harnesses: dict[str, Harness]
) -> None:
    harnesses["slack"].extra["svc"].fail(404, b"no_service")
    d = dispatcher(store, harnesses)
    first = d.run_once()
    assert first.by_sink["slack"].get("failed") == 1
    assert d.run_once().by_sink.get("slack") is None  # not retried by itself
    (row,) = store.fetch(
        "SELECT last_error, attempts FROM sink_deliveries "
        "WHERE sink = 'slack' AND status = 'failed'"
    )
    assert "HTTP 404: no_service" in row["last_error"] and row["attempts"] == 1
    assert d.requeue("slack") == 1
    assert d.run_once().by_sink["slack"] == {"delivered": 1}
    assert len(harnesses["slack"].received()) == expected(store)["slack"]


def test_retries_across_passes_end_dead(store: Store, harnesses: dict[str, Harness]) -> None:
    harnesses["pagerduty"].extra["svc"].fail(503, b"down", times=10_000)
    now = [datetime.now(UTC)]
    d = dispatcher(store, harnesses)
    d._clock = lambda: now[0]
    statuses = []
    for _ in range(3):
        d.run_once()
        now[0] += timedelta(hours=2)  # past every next_attempt_at
        statuses.append(
            sorted(
                {
                    r["status"]
                    for r in store.fetch(
                        "SELECT status FROM sink_deliveries WHERE sink='pagerduty'"
                    )
                }
            )
        )
    assert statuses[0] == ["retry"] and "dead" in statuses[-1]
    rows = store.fetch("SELECT status, attempts FROM sink_deliveries WHERE sink='pagerduty'")
    assert {r["attempts"] for r in rows if r["status"] == "dead"} == {5}  # max_deliveries
    assert max(r["attempts"] for r in rows) == 5
    dead = sum(r["status"] == "dead" for r in rows)
    d.run_once()  # dead deliveries are not tried again
    assert (
        sum(
            r["status"] == "dead"
            for r in store.fetch("SELECT status FROM sink_deliveries WHERE sink='pagerduty'")
        )
        >= dead
    )


def test_new_sink_gets_only_its_backfill_window(
    store: Store, harnesses: dict[str, Harness]
) -> None:
    d = dispatcher(store, harnesses, backfill_hours=0)
    stats = d.run_once()  # every row was processed before the sinks were enabled
    assert stats.delivered == 0 and all(h.received() == [] for h in harnesses.values())
    status = {s["sink"]: s for s in d.status()}
    assert status["slack"]["pending"] == 0


def test_status_counts(store: Store, harnesses: dict[str, Harness]) -> None:
    d = dispatcher(store, harnesses)
    before = {s["sink"]: s for s in d.status()}
    assert before["slack"]["pending"] == expected(store)["slack"]
    d.run_once()
    after = {s["sink"]: s for s in d.status()}
    assert (
        after["slack"]["delivered"] == expected(store)["slack"] and after["slack"]["pending"] == 0
    )
    assert after["salesforce"]["failed"] >= 0 and after["salesforce"]["last_attempt_at"] is not None


def test_min_severity_and_rule_filters(store: Store, harnesses: dict[str, Harness]) -> None:
    routes = [
        {"events": "alert", "min_severity": "critical", "to": ["pagerduty"]},
        {"events": "alert", "rules": ["hot_lead"], "to": ["slack"]},
    ]
    dispatcher(store, harnesses, routes=routes).run_once()
    crit = store.fetch(
        "SELECT id FROM alerts_history WHERE severity = 'critical' ORDER BY fired_at, id"
    )
    assert harnesses["pagerduty"].received() == [r["id"] for r in crit] and crit
    hot = store.fetch("SELECT session_id FROM alerts_history WHERE rule = 'hot_lead'")
    assert sorted(harnesses["slack"].received()) == sorted(r["session_id"] for r in hot)


# -- config ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"routes": [{"events": "alert", "to": ["nope"]}]}, "unknown destination 'nope'"),
        ({"routes": [{"events": "lead", "to": ["pagerduty"]}]}, "cannot receive lead events"),
        ({"routes": [{"events": "alert", "to": ["salesforce"]}]}, "cannot receive alert events"),
        ({"digests": {"daily": ["pagerduty"]}}, "cannot take digests"),
        ({"destinations": {"x": {"type": "fax"}}}, "sinks:"),
        (
            {"destinations": {"x": {"type": "slack", "webhook_url": "https://secret"}}},
            "Extra inputs",
        ),
        ({"retry": {"attempts": 0}}, "retry.attempts"),
    ],
)
def test_bad_config_is_one_line(change: dict[str, object], message: str) -> None:
    with pytest.raises(SinkConfigError) as info:
        parse_sinks_config({**CONFIG, **change}, "callscope.yaml")
    assert message in str(info.value) and "\n" not in str(info.value)
    assert str(info.value).startswith("callscope.yaml: sinks:")


def test_missing_secret_names_the_variable() -> None:
    config = parse_sinks_config(CONFIG)
    env = {
        "CALLSCOPE_SLACK_WEBHOOK_URL": "http://127.0.0.1:9/x",
        "CALLSCOPE_PAGERDUTY_ROUTING_KEY": "k",
    }
    with pytest.raises(SinkConfigError, match="CALLSCOPE_SALESFORCE_CLIENT_ID is not set"):
        build_sinks(config, env)
    env.update(CALLSCOPE_SALESFORCE_CLIENT_ID="c", CALLSCOPE_SALESFORCE_CLIENT_SECRET="s")
    with pytest.raises(SinkConfigError, match="CALLSCOPE_SALESFORCE_REFRESH_TOKEN is not set"):
        build_sinks(config, env)
    env.update(CALLSCOPE_SALESFORCE_REFRESH_TOKEN="r", CALLSCOPE_WEBHOOK_SECRET="w")
    sinks = build_sinks(config, env)
    assert sorted(sinks) == ["pagerduty", "salesforce", "slack", "webhook"]
    for sink in sinks.values():
        sink.close()


def test_amplitude_receives_every_call_other_lead_sinks_qualified_ones(
    store: Store, ca_file: str, server_tls: ssl.SSLContext
) -> None:
    h = make_harness("amplitude", ca_file, server_tls)
    try:
        config = parse_sinks_config(
            {
                "destinations": {"amplitude": {"type": "amplitude"}},
                "routes": [{"events": "lead", "to": ["amplitude"]}],
            }
        )
        stats = Dispatcher(store, config, {"amplitude": h.sink}, sleep=Sleeps()).run_once()
    finally:
        h.sink.close()
        h.stop()
    calls = int(
        store.fetch("SELECT COUNT(*) n FROM sessions s JOIN leads l USING (session_id)")[0]["n"]
    )
    qualified = int(
        store.fetch("SELECT COUNT(*) n FROM leads WHERE tier IN ('tier_1','tier_2')")[0]["n"]
    )
    assert calls > qualified
    assert stats.delivered == calls and len(h.received()) == calls


def test_a_deferred_failure_waits_its_retry_after_without_in_pass_retries(
    store: Store, harnesses: dict[str, Harness]
) -> None:
    from callscope.sinks.base import SinkError

    class NearLimit:
        name = "webhook"
        kinds = frozenset({"alert", "lead"})
        calls = 0

        def deliver(self, event: object) -> None:
            NearLimit.calls += 1
            raise SinkError("quota", retryable=True, retry_after=900.0, defer=True)

        def close(self) -> None:
            return None

    sinks = {k: h.sink for k, h in harnesses.items()}
    sinks["webhook"] = NearLimit()  # type: ignore[assignment]
    sleeps = Sleeps()
    config = parse_sinks_config(CONFIG)
    before = datetime.now(UTC)
    Dispatcher(store, config, sinks, sleep=sleeps).run_once()
    assert NearLimit.calls == config.retry.circuit_after  # one try each, then the circuit
    rows = store.fetch(
        "SELECT status, attempts, next_attempt_at FROM sink_deliveries WHERE sink = 'webhook'"
    )
    assert {r["status"] for r in rows} == {"retry"} and {r["attempts"] for r in rows} == {1}
    assert all(r["next_attempt_at"] >= before + timedelta(seconds=899) for r in rows)
    assert sleeps == []


def test_erasure_drains_with_retries_and_forgets_the_identifiers(
    store: Store, harnesses: dict[str, Harness]
) -> None:
    from callscope.sinks.erasure import queue_forget

    dispatcher(store, harnesses).run_once()  # salesforce and webhook received the leads
    row = store.fetch(
        "SELECT s.session_id, l.email FROM sessions s JOIN leads l USING (session_id) "
        "WHERE l.tier = 'tier_1' AND l.email IS NOT NULL ORDER BY 1 LIMIT 1"
    )[0]
    assert queue_forget(store, row["email"], [row["session_id"]]) == 2
    assert queue_forget(store, row["email"], [row["session_id"]]) == 0  # forget re-run
    sf = harnesses["salesforce"]
    sf.extra["svc"].fail(503, b'[{"errorCode":"SERVER_UNAVAILABLE","message":"down"}]', times=3)
    first = dispatcher(store, harnesses).drain_erasures()
    status = {d.sink: d.status for d in first}
    assert status == {"salesforce": "retry", "webhook": "unsupported"}
    shown = {r["sink"]: r["erasures"] for r in dispatcher(store, harnesses).status()}
    assert shown["salesforce"] == {"retry": 1} and shown["webhook"] == {"unsupported": 1}
    rows = {
        r["sink"]: r
        for r in store.fetch("SELECT sink, status, identifiers, subject FROM sink_erasures")
    }
    assert rows["webhook"]["identifiers"] is None  # nothing to delete there, nothing kept
    assert row["email"] in rows["salesforce"]["identifiers"]  # still owed: kept to retry
    store.execute("UPDATE sink_erasures SET next_attempt_at = ?", [datetime.now(UTC)])
    (done,) = dispatcher(store, harnesses).drain_erasures()
    assert done.status == "done"
    shown = {r["sink"]: r["erasures"] for r in dispatcher(store, harnesses).status()}
    assert shown["salesforce"] == {"done": 1}
    final = store.fetch("SELECT identifiers, subject FROM sink_erasures WHERE sink = 'salesforce'")
    assert final[0]["identifiers"] is None and final[0]["subject"].startswith("sha256:")
    state = sf.extra["state"]
    assert row["session_id"] not in {r["Session_Id__c"] for r in state.records("Voice_Call__c")}
