"""What each service receives, and each service's own failure semantics."""

from __future__ import annotations

import dataclasses
import ssl
import time

import pytest

from callscope.sinks.base import AlertEvent, Event, LeadEvent, SinkError
from callscope.sinks.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from tests.sinks.conftest import (
    AMPLITUDE_KEY,
    ROUTING_KEY,
    SF_TOKEN,
    WEBHOOK_SECRET,
    make_harness,
)


@pytest.fixture
def h(request: pytest.FixtureRequest, ca_file: str, server_tls: ssl.SSLContext):  # type: ignore[no-untyped-def]
    harness = make_harness(request.param, ca_file, server_tls)
    yield harness
    harness.sink.close()
    harness.stop()


def lead(real_events: dict[str, Event]) -> LeadEvent:
    event = real_events["lead"]
    assert isinstance(event, LeadEvent)
    return event


def alert(real_events: dict[str, Event]) -> AlertEvent:
    event = real_events["alert"]
    assert isinstance(event, AlertEvent)
    return event


# -- Slack -----------------------------------------------------------------------------------


@pytest.mark.parametrize("h", ["slack"], indirect=True)
def test_slack_posts_blocks_with_the_alert(h, real_events) -> None:  # type: ignore[no-untyped-def]
    a = alert(real_events)
    h.sink.deliver(a)
    body = h.extra["svc"].accepted[0].json()
    assert body["text"].startswith("[info] hot_lead: Hot lead")
    texts = [b.get("text", {}).get("text", "") for b in body["blocks"]]
    assert a.message in texts
    fields = [f["text"] for b in body["blocks"] for f in b.get("fields", [])]
    assert "*Channel*\nsales" in fields


@pytest.mark.parametrize("h", ["slack"], indirect=True)
def test_slack_429_is_retryable_with_retry_after(h, real_events) -> None:  # type: ignore[no-untyped-def]
    h.extra["svc"].fail(429, b"rate_limited", {"Retry-After": "7"})
    with pytest.raises(SinkError) as info:
        h.sink.deliver(alert(real_events))
    assert info.value.retryable and info.value.retry_after == 7.0
    assert "HTTP 429" in str(info.value)


@pytest.mark.parametrize("h", ["slack"], indirect=True)
def test_slack_archived_channel_is_permanent(h, real_events) -> None:  # type: ignore[no-untyped-def]
    h.extra["svc"].fail(410, b"channel_is_archived")
    with pytest.raises(SinkError) as info:
        h.sink.deliver(alert(real_events))
    assert not info.value.retryable and "channel_is_archived" in str(info.value)


# -- Salesforce ------------------------------------------------------------------------------


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_upserts_lead_by_email_and_one_task(h, real_events) -> None:  # type: ignore[no-untyped-def]
    event = lead(real_events)
    state = h.extra["state"]
    h.sink.deliver(event)
    h.sink.deliver(dataclasses.replace(event, score=95, revision=2))  # a reprocessed call
    assert len(state.leads) == 1 and len(state.tasks) == 1
    (row,) = state.leads.values()
    assert row["Email"] == event.email and row["LeadSource"] == "Voice Agent"
    assert row["Callscope_Score__c"] == 95 and row["Callscope_Tier__c"] == "tier_1"
    assert row["LastName"] == (event.name or "").split()[-1]
    (task,) = state.tasks.values()
    assert task["WhoId"] == row["Id"] and task["Description"] == event.summary
    assert task["Callscope_Session_Id__c"] == event.session_id


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_expired_session_is_not_retryable(h, real_events) -> None:  # type: ignore[no-untyped-def]
    h.extra["state"].token = SF_TOKEN + "-rotated"  # the org revoked our session
    with pytest.raises(SinkError) as info:
        h.sink.deliver(lead(real_events))
    assert not info.value.retryable
    assert "401" in str(info.value) and "INVALID_SESSION_ID" in str(info.value)


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_needs_an_email(h, real_events) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SinkError, match="no email") as info:
        h.sink.deliver(dataclasses.replace(lead(real_events), email=None))
    assert not info.value.retryable


# -- Amplitude -------------------------------------------------------------------------------


@pytest.mark.parametrize("h", ["amplitude"], indirect=True)
def test_amplitude_event_shape(h, real_events) -> None:  # type: ignore[no-untyped-def]
    event = lead(real_events)
    h.sink.deliver(event)
    body = h.extra["svc"].accepted[0].json()
    assert body["api_key"] == AMPLITUDE_KEY
    (sent,) = body["events"]
    assert sent["event_type"] == "voice_call_analyzed"
    assert sent["user_id"] == event.email and sent["insert_id"] == event.event_id
    assert sent["event_properties"]["qualification_tier"] == "tier_1"
    assert sent["event_properties"]["meeting_booked"] == event.meeting_booked
    assert sent["user_properties"]["lead_score"] == event.score


@pytest.mark.parametrize("h", ["amplitude"], indirect=True)
def test_amplitude_bad_api_key_fails_fast_and_permanently(h, real_events) -> None:  # type: ignore[no-untyped-def]
    from callscope.sinks.amplitude_sink import AmplitudeSink

    svc = h.extra["svc"]
    bad = AmplitudeSink("amp", "wrong-key", server_url=f"{svc.base_url}/2/httpapi", timeout=5)
    started = time.perf_counter()
    try:
        with pytest.raises(SinkError) as info:
            bad.deliver(lead(real_events))
    finally:
        bad.close()
    assert not info.value.retryable
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("h", ["amplitude"], indirect=True)
def test_amplitude_429_is_retryable(h, real_events) -> None:  # type: ignore[no-untyped-def]
    h.extra["svc"].fail(
        429,
        b'{"code": 429, "error": "Too many requests for some devices and users",'
        b' "throttled_events": [0]}',
    )
    with pytest.raises(SinkError) as info:
        h.sink.deliver(lead(real_events))
    assert info.value.retryable


# -- PagerDuty -------------------------------------------------------------------------------


@pytest.mark.parametrize("h", ["pagerduty"], indirect=True)
def test_pagerduty_trigger_with_alert_id_as_dedup_key(h, real_events) -> None:  # type: ignore[no-untyped-def]
    a = alert(real_events)
    h.sink.deliver(a)
    body = h.extra["svc"].accepted[0].json()
    assert body["routing_key"] == ROUTING_KEY and body["event_action"] == "trigger"
    assert body["dedup_key"] == a.id
    assert body["payload"]["severity"] == "info" and body["payload"]["source"] == "callscope"
    assert body["payload"]["custom_details"]["session_id"] == a.session_id


@pytest.mark.parametrize("h", ["pagerduty"], indirect=True)
def test_pagerduty_400_invalid_event_is_not_retryable(h, real_events) -> None:  # type: ignore[no-untyped-def]
    from callscope.sinks.pagerduty import PagerDutySink

    bad = PagerDutySink("pd", "short-key", base_url=h.extra["svc"].base_url)
    try:
        with pytest.raises(SinkError) as info:
            bad.deliver(alert(real_events))
    finally:
        bad.close()
    assert not info.value.retryable and "routing_key" in str(info.value)


# -- webhook ---------------------------------------------------------------------------------


@pytest.mark.parametrize("h", ["webhook"], indirect=True)
def test_webhook_signature_verifies_and_binds_the_timestamp(h, real_events) -> None:  # type: ignore[no-untyped-def]
    h.sink.deliver(lead(real_events))
    req = h.extra["svc"].accepted[0]
    ts, sig = req.headers[TIMESTAMP_HEADER.lower()], req.headers[SIGNATURE_HEADER.lower()]
    assert sig == sign(WEBHOOK_SECRET, ts, req.body) and sig.startswith("sha256=")
    assert verify(WEBHOOK_SECRET, ts, req.body, sig)
    assert not verify("other-secret", ts, req.body, sig)
    assert not verify(WEBHOOK_SECRET, ts, req.body + b" ", sig)
    stale = str(int(ts) - 3600)
    assert not verify(WEBHOOK_SECRET, stale, req.body, sign(WEBHOOK_SECRET, stale, req.body))
    assert req.json()["type"] == "lead" and req.json()["id"] == real_events["lead"].event_id


@pytest.mark.parametrize("h", ["webhook"], indirect=True)
def test_webhook_5xx_retryable_4xx_not(h, real_events) -> None:  # type: ignore[no-untyped-def]
    svc = h.extra["svc"]
    for status, retryable in ((500, True), (503, True), (429, True), (400, False), (401, False)):
        svc.fail(status, b"x")
        with pytest.raises(SinkError) as info:
            h.sink.deliver(alert(real_events))
        assert info.value.retryable is retryable, status


# -- email -----------------------------------------------------------------------------------


@pytest.mark.parametrize("h", ["email"], indirect=True)
def test_email_has_text_and_html(h, real_events) -> None:  # type: ignore[no-untyped-def]
    a = alert(real_events)
    h.sink.deliver(a)
    (msg,) = h.extra["handler"].messages
    assert msg["Subject"].startswith("[callscope] [info] hot_lead")
    assert msg["To"] == "ops@example.com"
    kinds = [part.get_content_type() for part in msg.walk()]
    assert "text/plain" in kinds and "text/html" in kinds


def test_email_starttls_with_login(real_events, ca, ca_file) -> None:  # type: ignore[no-untyped-def]
    from aiosmtpd.controller import Controller

    from callscope.sinks.smtp import EmailSink
    from tests.sinks.conftest import SmtpHandler, free_port

    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(tls)
    handler = SmtpHandler()

    def auth(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        from aiosmtpd.smtp import AuthResult

        return AuthResult(
            success=auth_data.login == b"bot" and auth_data.password == b"s3cret",
            handled=False,  # let aiosmtpd send the 535 itself
        )

    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=tls,
        require_starttls=True,
        authenticator=auth,
        auth_require_tls=True,
    )
    controller.start()
    try:
        good = EmailSink(
            "e",
            "127.0.0.1",
            controller.port,
            "cs@example.com",
            ["a@example.com"],
            username="bot",
            password="s3cret",
            ca_file=ca_file,
        )
        good.deliver(alert(real_events))
        assert len(handler.messages) == 1
        bad = EmailSink(
            "e",
            "127.0.0.1",
            controller.port,
            "cs@example.com",
            ["a@example.com"],
            username="bot",
            password="nope",
            ca_file=ca_file,
        )
        with pytest.raises(SinkError, match="authentication failed") as info:
            bad.deliver(alert(real_events))
        assert not info.value.retryable
    finally:
        controller.stop()
