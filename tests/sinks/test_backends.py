"""What each service receives, and each service's own failure semantics."""

from __future__ import annotations

import dataclasses
import json
import ssl
import time
from datetime import timedelta

import pytest

from callscope.sinks.base import AlertEvent, Event, LeadEvent, SinkError
from callscope.sinks.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign, verify
from tests.sinks.conftest import (
    AMPLITUDE_KEY,
    ROUTING_KEY,
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


def sf(h):  # type: ignore[no-untyped-def]
    return h.extra["state"]


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_writes_the_strategy_fields_voice_call_and_task(h, real_events) -> None:  # type: ignore[no-untyped-def]
    from callscope.sinks.field_map import DEFAULT_LEAD_MAP, call_context, first_present

    event = lead(real_events)
    h.sink.deliver(event)
    state = sf(h)
    (person,) = state.records("Lead")
    assert person["Email"] == event.email and person["LeadSource"] == "Voice Agent"
    ctx = call_context(event)
    # Every mapped field whose analysis key this build produces is on the wire, none other.
    present = {k for k, r in DEFAULT_LEAD_MAP.items() if first_present(ctx, r.paths) is not None}
    present.discard("Recommended_Owner__c")  # no owner rules configured
    assert present <= set(person), sorted(present - set(person))
    assert person["Lead_Score__c"] == event.score
    assert person["Qualification_Tier__c"] == "Tier 1"
    assert person["Call_Duration__c"] == round((event.duration_seconds or 0) / 60, 1)
    assert person["Engagement_Score__c"] == event.analysis["quality"]["engagement_score"]
    sales = event.analysis["sales"]
    assert person["Team_Size__c"] == sales["team_size"]
    if sales["integrations"]:
        assert person["Integration_Needs__c"].split(";") == [
            i.replace("_", " ").title() for i in sales["integrations"]
        ]
    assert person["Industry_Vertical__c"] == sales["industry"].replace("_", " ").title()
    assert json.loads(person["Lead_Score_Breakdown__c"]) == (
        event.analysis["lead"].get("sub_scores") or event.analysis["lead"]["breakdown"]
    )
    assert person["Call_Sentiment__c"] == event.analysis["sentiment"]["overall"].title()
    assert person["Last_Call_Date__c"] == event.started_at.isoformat()  # type: ignore[union-attr]
    (call,) = state.records("Voice_Call__c")
    assert call["Session_Id__c"] == event.session_id and call["Related_To__c"] == person["Id"]
    assert call["Call_Summary__c"] == event.summary
    assert call["Quality_Score__c"] is not None
    assert call["Transcript__c"].startswith(("Agent: ", "Caller: "))
    assert len(call["Transcript__c"]) <= 4000
    (task,) = state.records("Task")
    assert task["Subject"] == "Follow up on voice trial call" and task["Status"] == "Not Started"
    assert task["WhoId"] == person["Id"] and task["Callscope_Session_Id__c"] == event.session_id
    assert (event.summary or "")[:40] in task["Description"]
    assert task["ActivityDate"] > event.started_at.date().isoformat()  # type: ignore[union-attr]
    assert state.logins == ["refresh_token"]
    # describes of Lead, Voice_Call__c and Task (cached from now on), then the lookup
    # composite and the write composite
    assert state.data_requests == 5


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_redelivery_updates_never_duplicates(h, real_events) -> None:  # type: ignore[no-untyped-def]
    event = lead(real_events)
    h.sink.deliver(event)
    h.sink.deliver(dataclasses.replace(event, score=95, revision=2))  # a reprocessed call
    h.sink.deliver(dataclasses.replace(event, revision=3))
    state = sf(h)
    assert len(state.records("Lead")) == 1
    assert len(state.records("Voice_Call__c")) == 1
    assert len(state.records("Task")) == 1  # once per session


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_updates_an_existing_contact_not_a_new_lead(h, real_events) -> None:  # type: ignore[no-untyped-def]
    event = lead(real_events)
    contacts = sf(h).table("Contact")
    contacts["003000000000001AAA"] = {"Id": "003000000000001AAA", "Email": event.email}
    h.sink.deliver(event)
    assert sf(h).records("Lead") == []
    assert contacts["003000000000001AAA"]["Lead_Score__c"] == event.score
    assert sf(h).records("Voice_Call__c")[0]["Related_To__c"] == "003000000000001AAA"


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_expired_token_relogs_in_once_and_retries(h, real_events) -> None:  # type: ignore[no-untyped-def]
    event = lead(real_events)
    h.sink.deliver(event)
    sf(h).expire()
    h.sink.deliver(dataclasses.replace(event, revision=2))
    assert sf(h).logins == ["refresh_token", "refresh_token"]
    assert len(sf(h).records("Voice_Call__c")) == 1


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_revoked_refresh_token_is_permanent(h, real_events) -> None:  # type: ignore[no-untyped-def]
    sf(h).refresh_token = "revoked"
    with pytest.raises(SinkError) as info:
        h.sink.deliver(lead(real_events))
    assert not info.value.retryable and "login failed" in str(info.value)


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_missing_org_field_fails_naming_it_and_writes_nothing(h, real_events) -> None:  # type: ignore[no-untyped-def]
    for obj in ("Lead", "Contact"):
        del sf(h).schema[obj]["Team_Size__c"]
    with pytest.raises(SinkError) as info:
        h.sink.deliver(lead(real_events))
    assert not info.value.retryable
    assert "Team_Size__c" in str(info.value) and "sinks describe" in str(info.value)
    assert sf(h).records("Lead") == [] and sf(h).records("Voice_Call__c") == []


def test_salesforce_missing_field_skip_mode_sends_the_rest(
    ca_file, server_tls, real_events
) -> None:  # type: ignore[no-untyped-def]
    from tests.sinks import servers
    from tests.sinks.conftest import salesforce_sink

    state = servers.SalesforceState()
    svc = servers.salesforce_service(server_tls, state)
    sink = salesforce_sink(svc, state, ca_file, missing_fields="skip")
    for obj in ("Lead", "Contact"):
        del state.schema[obj]["Key_Quotes__c"], state.schema[obj]["Team_Size__c"]
    try:
        sink.deliver(lead(real_events))
    finally:
        sink.close()
        svc.stop()
    (person,) = state.records("Lead")
    assert "Team_Size__c" not in person and person["Lead_Score__c"] is not None


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_write_failure_rolls_back_the_whole_call(h, real_events) -> None:  # type: ignore[no-untyped-def]
    sf(h).schema["Voice_Call__c"]["Quality_Score__c"] = ("string", 255)  # wrong type in the org
    h.sink.describe("Voice_Call__c")  # the sink read the org before the admin changed it
    sf(h).schema["Voice_Call__c"]["Quality_Score__c"] = ("date", 0)
    sf(h).schema["Voice_Call__c"]["Call_Summary__c"] = ("textarea", 10)
    with pytest.raises(SinkError) as info:
        h.sink.deliver(lead(real_events))
    assert "STRING_TOO_LONG" in str(info.value) or "INVALID_TYPE" in str(info.value)
    assert sf(h).records("Lead") == []  # allOrNone: the Lead creation was rolled back


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
@pytest.mark.parametrize("status", [429, 500, 503])
def test_salesforce_429_and_5xx_are_retryable(h, real_events, status) -> None:  # type: ignore[no-untyped-def]
    h.sink.deliver(lead(real_events))  # logged in, described
    h.extra["svc"].fail(status, b'[{"errorCode":"SERVER_UNAVAILABLE","message":"busy"}]')
    with pytest.raises(SinkError) as info:
        h.sink.deliver(dataclasses.replace(lead(real_events), revision=2))
    assert info.value.retryable and f"HTTP {status}" in str(info.value)


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_backs_off_near_the_api_limit(h, real_events) -> None:  # type: ignore[no-untyped-def]
    state = sf(h)
    state.api_used = int(state.api_limit * 0.95)
    event = lead(real_events)
    h.sink.deliver(event)  # this one goes out and reads Sforce-Limit-Info: 95% used
    before = state.data_requests
    with pytest.raises(SinkError) as info:
        h.sink.deliver(dataclasses.replace(event, revision=2))
    assert info.value.retryable and info.value.defer and info.value.retry_after
    assert "daily limit" in str(info.value)
    assert state.data_requests == before  # nothing was sent


def test_salesforce_jwt_bearer_login(ca_file, server_tls, real_events, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from callscope.sinks.config import SalesforceDest
    from callscope.sinks.salesforce import Credentials, SalesforceSink
    from tests.sinks import servers

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    (tmp_path / "sf.key").write_bytes(pem)
    state = servers.SalesforceState(
        public_key_pem=key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    svc = servers.salesforce_service(server_tls, state)
    dest = SalesforceDest(
        type="salesforce",
        auth="jwt",
        username=state.username,
        private_key_file=str(tmp_path / "sf.key"),
        token_url=f"{svc.base_url}/services/oauth2/token",
        ca_bundle=ca_file,
    )
    sink = SalesforceSink("sf", dest, Credentials(client_id=state.client_id))
    try:
        sink.deliver(lead(real_events))
    finally:
        sink.close()
        svc.stop()
    assert state.logins == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assert len(state.records("Voice_Call__c")) == 1


@pytest.mark.parametrize("h", ["salesforce"], indirect=True)
def test_salesforce_needs_an_email(h, real_events) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SinkError, match="no email") as info:
        h.sink.deliver(dataclasses.replace(lead(real_events), email=None))
    assert not info.value.retryable


def test_salesforce_task_owner_and_due_date_follow_the_rules(
    ca_file, server_tls, real_events
) -> None:  # type: ignore[no-untyped-def]
    from tests.sinks import servers
    from tests.sinks.conftest import salesforce_sink

    event = lead(real_events)
    industry = event.analysis["sales"]["industry"]
    state = servers.SalesforceState()
    svc = servers.salesforce_service(server_tls, state)
    sink = salesforce_sink(
        svc,
        state,
        ca_file,
        task={
            "owner_rules": [
                {"path": "sales.industry", "values": [industry], "owner_id": "005000000000042AAA"}
            ],
            "due_days": {"high": 1, "medium": 2, "low": 9},
        },
    )
    try:
        sink.deliver(event)
    finally:
        sink.close()
        svc.stop()
    (task,) = state.records("Task")
    assert task["OwnerId"] == "005000000000042AAA"
    assert state.records("Lead")[0]["Recommended_Owner__c"] == "005000000000042AAA"
    # The next-step module's follow-up priority picks the configured number of days.
    priority = event.analysis["next_step"]["follow_up_priority"]
    days = {"high": 1, "medium": 2, "low": 9}[priority]
    assert event.started_at is not None
    assert task["ActivityDate"] == (event.started_at.date() + timedelta(days=days)).isoformat()


# -- Amplitude -------------------------------------------------------------------------------


@pytest.mark.parametrize("h", ["amplitude"], indirect=True)
def test_amplitude_sends_the_strategy_events_and_identify(h, real_events) -> None:  # type: ignore[no-untyped-def]
    event = lead(real_events)
    h.sink.deliver(event)
    amp = h.extra["state"]
    (session,) = amp.by_type("voice_trial_session_completed")
    props = session["event_properties"]
    assert session["user_id"] == event.email
    assert session["time"] == int(event.started_at.timestamp() * 1000)  # type: ignore[union-attr]
    assert props["session_id"] == event.session_id
    assert props["qualification_tier"] == event.tier
    assert props["duration_seconds"] == event.duration_seconds
    assert props["turn_count"] == event.turn_count
    assert props["meeting_booked"] == event.analysis["tools"]["meeting_booked"]
    assert props["tool_calls_count"] == event.tool_call_count
    assert props["sentiment"] == event.analysis["sentiment"]["overall"]
    assert props["engagement_score"] == event.analysis["quality"]["engagement_score"]
    searches = [c for c in event.tool_calls if c["kind"] == "kb_search"]
    sent = amp.by_type("knowledge_base_searched")
    assert searches and [e["event_properties"]["query"] for e in sent] == [
        c["query"] for c in searches
    ]
    assert {e["event_properties"]["results_found"] for e in sent} <= {True, False}
    meetings = amp.by_type("sales_meeting_booked")
    if event.analysis["tools"]["meeting_booked"]:
        assert (
            meetings[0]["event_properties"]["preferred_date"]
            == (event.analysis["tools"]["meeting"]["date"])
        )
    else:
        assert meetings == []
    (quality,) = amp.by_type("conversation_quality_measured")
    assert (
        quality["event_properties"]["interruption_count"]
        == (event.analysis["quality"]["interruptions"])
    )
    assert (
        quality["event_properties"]["natural_ending"]
        == (event.analysis["quality"]["natural_ending"])
    )
    (latency,) = amp.by_type("latency_measured")
    assert (
        latency["event_properties"]["p95_latency_ms"]
        == (event.analysis["performance"]["e2e_latency_ms"]["p95"])
    )
    assert latency["event_properties"]["total_tokens"] == event.total_tokens
    features = event.analysis.get("insights", {}).get("feature_requests", [])
    assert len(amp.by_type("feature_discussed")) == len(features)
    (ident,) = amp.by_type("$identify")
    user_props = ident["user_properties"]["$set"]
    assert user_props["qualification_tier"] == event.tier
    assert user_props["lead_score"] == event.score
    assert user_props["team_size"] == event.analysis["sales"]["team_size"]
    ids = [e["insert_id"] for e in amp.events]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("h", ["amplitude"], indirect=True)
def test_amplitude_redelivery_is_never_double_counted(h, real_events) -> None:  # type: ignore[no-untyped-def]
    event = lead(real_events)
    h.sink.deliver(event)
    first = len(h.extra["state"].events)
    h.sink.deliver(event)
    h.sink.deliver(dataclasses.replace(event, revision=2))  # reprocessed: same call
    assert len(h.extra["state"].events) == first
    assert h.extra["state"].duplicates == 2 * first


@pytest.mark.parametrize("h", ["amplitude"], indirect=True)
def test_amplitude_user_id_falls_back_to_participant_identity(h, real_events) -> None:  # type: ignore[no-untyped-def]
    event = dataclasses.replace(lead(real_events), email=None, participant_identity="caller-77")
    h.sink.deliver(event)
    assert {e["user_id"] for e in h.extra["state"].events} == {"caller-77"}


def test_amplitude_event_names_and_properties_are_configurable(real_events) -> None:  # type: ignore[no-untyped-def]
    from tests.sinks import servers
    from tests.sinks.conftest import amplitude_sink

    amp = servers.AmplitudeState(AMPLITUDE_KEY)
    svc = servers.amplitude_service(AMPLITUDE_KEY, amp)
    sink = amplitude_sink(
        svc,
        amp,
        events={
            "session": {"name": "call_done", "properties": {"tier": "lead.tier"}},
            "latency": {"name": "latency_measured", "enabled": False},
        },
    )
    try:
        sink.deliver(lead(real_events))
    finally:
        sink.close()
        svc.stop()
    (done,) = amp.by_type("call_done")
    assert done["event_properties"] == {"tier": lead(real_events).tier}
    assert amp.by_type("latency_measured") == []


@pytest.mark.parametrize("h", ["amplitude"], indirect=True)
def test_amplitude_bad_api_key_fails_fast_and_permanently(h, real_events) -> None:  # type: ignore[no-untyped-def]
    from tests.sinks import servers
    from tests.sinks.conftest import amplitude_sink

    wrong = servers.AmplitudeState("wrong-key")
    bad = amplitude_sink(h.extra["svc"], wrong)
    started = time.perf_counter()
    try:
        with pytest.raises(SinkError) as info:
            bad.deliver(lead(real_events))
    finally:
        bad.close()
    assert not info.value.retryable
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize("h", ["amplitude"], indirect=True)
@pytest.mark.parametrize("status", [429, 500, 503])
def test_amplitude_429_and_5xx_are_retryable(h, real_events, status) -> None:  # type: ignore[no-untyped-def]
    h.extra["svc"].fail(
        status,
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
