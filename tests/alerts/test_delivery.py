"""Alerts reach their destinations: PagerDuty trigger then resolve, SMS through Twilio's
client, Slack business layouts, and a failing destination raising api_failures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from callscope.alerts.engine import AlertEngine
from callscope.profile.model import Profile
from callscope.queue.sqlite import SqliteQueue
from callscope.sinks.base import AlertEvent, SinkError
from callscope.sinks.config import parse_sinks_config
from callscope.sinks.dispatch import Dispatcher
from callscope.sinks.pagerduty import PagerDutySink
from callscope.sinks.slack import SlackSink, blocks_for
from callscope.sinks.sms import SmsSink
from callscope.store import Store
from tests.alerts.twilio_server import TwilioState, twilio_service
from tests.sinks import servers

ROUTING_KEY = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y32"
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-test-token"


@pytest.fixture
def queue(tmp_path: Path) -> Iterator[SqliteQueue]:
    q = SqliteQueue(tmp_path / "q.sqlite3")
    yield q
    q.close()


def drain(q: SqliteQueue) -> None:
    while batch := q.lease(100):
        for m in batch:
            q.ack(m)


def test_pagerduty_gets_a_trigger_then_a_resolve_with_one_dedup_key(
    store: Store, profile: Profile, queue: SqliteQueue
) -> None:
    svc = servers.pagerduty_service()
    sink = PagerDutySink("pagerduty", ROUTING_KEY, base_url=svc.base_url)
    config = parse_sinks_config(
        {
            "destinations": {"pagerduty": {"type": "pagerduty"}},
            "routes": [{"events": "alert", "channels": ["oncall"], "to": ["pagerduty"]}],
        }
    )
    engine = AlertEngine(store, profile, queue=queue)
    dispatcher = Dispatcher(store, config, {"pagerduty": sink})
    try:
        queue.enqueue_many([(f"s{i}", b"{}") for i in range(120)])
        engine.check()
        assert dispatcher.run_once().delivered == 1
        engine.check()  # still true: nothing new to send
        assert dispatcher.run_once().delivered == 0
        drain(queue)
        assert engine.check().resolved == ["queue_backlog:queue"]
        assert dispatcher.run_once().delivered == 1
        bodies = [r.json() for r in svc.accepted]
        assert [b["event_action"] for b in bodies] == ["trigger", "resolve"]
        assert {b["dedup_key"] for b in bodies} == {"queue_backlog:queue#1"}
        assert bodies[0]["payload"]["severity"] == "critical"
        assert "dedup_key" not in bodies[0]["payload"]["custom_details"]
    finally:
        sink.close()
        svc.stop()


def alert(suffix: str = "", **payload: object) -> AlertEvent:
    return AlertEvent(
        id=f"queue_backlog:queue#1{suffix}",
        rule="queue_backlog",
        severity="critical",
        channel="oncall",
        message="150 messages waiting in the queue (threshold 100)",
        session_id=None,
        payload=dict(payload),
        fired_at=datetime.now(UTC),
    )


@pytest.fixture
def twilio() -> Iterator[tuple[TwilioState, servers.HttpService]]:
    state = TwilioState(SID, TOKEN)
    svc = twilio_service(state)
    yield state, svc
    svc.stop()


def test_sms_goes_to_every_on_call_number(twilio: tuple[TwilioState, servers.HttpService]) -> None:
    state, svc = twilio
    sink = SmsSink(
        "sms", SID, TOKEN, "+15005550006", ["+14155550100", "+14155550101"], base_url=svc.base_url
    )
    sink.deliver(alert(dedup_key="queue_backlog:queue#1", action="trigger"))
    sink.deliver(alert(":resolved", dedup_key="queue_backlog:queue#1", action="resolve"))
    assert [m["to"] for m in state.messages] == ["+14155550100", "+14155550101"] * 2
    assert state.messages[0]["body"].startswith("[CRITICAL] queue_backlog: 150 messages")
    assert state.messages[2]["body"].startswith("RESOLVED queue_backlog")
    assert state.messages[0]["from"] == "+15005550006"


def test_sms_bad_number_is_permanent_and_retry_skips_the_texted(
    twilio: tuple[TwilioState, servers.HttpService],
) -> None:
    state, svc = twilio
    sink = SmsSink(
        "sms", SID, TOKEN, "+15005550006", ["+14155550100", "555-0101"], base_url=svc.base_url
    )
    with pytest.raises(SinkError) as info:
        sink.deliver(alert())
    assert not info.value.retryable and "21211" in str(info.value)
    svc.fail(503, b'{"code": 20500, "message": "Internal Server Error", "status": 503}')
    sink.to_numbers = ["+14155550100", "+14155550102"]
    with pytest.raises(SinkError) as info:
        sink.deliver(alert())  # +..100 already has it; +..102 hits the 503
    assert info.value.retryable
    sink.deliver(alert())
    assert [m["to"] for m in state.messages] == ["+14155550100", "+14155550102"]


def test_sms_bad_credentials_are_permanent(twilio: tuple[TwilioState, servers.HttpService]) -> None:
    _, svc = twilio
    sink = SmsSink("sms", SID, "wrong", "+15005550006", ["+14155550100"], base_url=svc.base_url)
    with pytest.raises(SinkError) as info:
        sink.deliver(alert())
    assert not info.value.retryable and "20003" in str(info.value)


def test_sms_destination_in_the_sinks_config() -> None:
    config = parse_sinks_config(
        {
            "destinations": {
                "oncall_sms": {
                    "type": "sms",
                    "account_sid": SID,
                    "from_number": "+15005550006",
                    "to_numbers": ["+14155550100"],
                }
            },
            "routes": [{"events": "alert", "min_severity": "critical", "to": ["oncall_sms"]}],
        }
    )
    assert config.destinations["oncall_sms"].type == "sms"
    from callscope.sinks.config import SinkConfigError

    with pytest.raises(SinkConfigError, match="cannot receive lead events"):
        parse_sinks_config(
            {
                "destinations": config.model_dump()["destinations"],
                "routes": [{"events": "lead", "to": ["oncall_sms"]}],
            }
        )


def test_slack_hot_lead_layout_and_resolve() -> None:
    hot = AlertEvent(
        id="hot_lead:room-1",
        rule="hot_lead",
        severity="info",
        channel="sales",
        message="Hot lead Priya (StackRelay), score 84",
        session_id="room-1",
        payload={
            "company": "StackRelay",
            "score": 84,
            "email": "p@stackrelay.io",
            "key_signals": {"team size": "11", "timeline": "this quarter"},
            "recommended_action": "Call back within the hour",
            "salesforce_url": "https://acme.my.salesforce.com/lightning/r/Lead/00Q1/view",
        },
    )
    blocks = blocks_for(hot)
    fields = [f["text"] for b in blocks for f in b.get("fields", [])]
    assert fields[:2] == ["*Company*\nStackRelay", "*Score*\n84"]
    assert "*Key signals*\nteam size: 11\ntimeline: this quarter" in fields
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert buttons[0]["url"].endswith("/Lead/00Q1/view")
    done = blocks_for(alert(action="resolve", dedup_key="queue_backlog:queue#1"))
    assert "resolved" in done[0]["text"]["text"]
    svc = servers.slack_service()
    try:
        SlackSink("slack", f"{svc.base_url}/services/T/B/X").deliver(hot)
        assert svc.accepted[0].json()["blocks"] == blocks
    finally:
        svc.stop()


def test_a_failing_destination_raises_api_failures(store: Store, profile: Profile) -> None:
    svc = servers.pagerduty_service()
    sink = PagerDutySink("pagerduty", ROUTING_KEY, base_url=svc.base_url)
    config = parse_sinks_config(
        {
            "destinations": {"pagerduty": {"type": "pagerduty"}},
            "routes": [{"events": "alert", "to": ["pagerduty"]}],
            "retry": {"attempts": 1, "circuit_after": 10},
        }
    )
    now = datetime.now(UTC)
    for i in range(4):
        store.write_alert("latency_breach", f"slow call {i}", session_id=f"s{i}", fired_at=now)
    svc.fail(502, b"Bad Gateway", times=4)
    try:
        stats = Dispatcher(store, config, {"pagerduty": sink}, sleep=lambda _: None).run_once()
        assert stats.retry == 4
        result = AlertEngine(store, profile).check(now + timedelta(seconds=5))
        assert "api_failures:destination:pagerduty" in result.fired
        row = store.fetch("SELECT message FROM alerts_history WHERE rule = 'api_failures'")[0]
        assert "HTTP 502" in row["message"]
    finally:
        sink.close()
        svc.stop()
