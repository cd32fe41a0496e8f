"""Sink tests: a real warehouse built by the worker's path, and each service on loopback."""

from __future__ import annotations

import shutil
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import orjson
import pytest
import trustme
from aiosmtpd.controller import Controller

from callscope.alerts import evaluate
from callscope.analyze import analyze_to_contract
from callscope.contract.parse import parse_record
from callscope.generate import generate_records
from callscope.profile.model import load_profile
from callscope.sinks.base import AlertEvent, Event, LeadEvent, Sink
from callscope.store import ProcessedSession, Store, open_store
from tests.sinks import servers

ANCHOR = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday noon; calls span the 14 days before


def build_warehouse(
    path: Path, n: int, *, seed: int, start: datetime = ANCHOR, days: int = 14
) -> None:
    """The worker's path: generate -> parse -> analyze -> store.write -> alerts."""
    profile = load_profile()
    store = open_store(f"duckdb:///{path}")
    try:
        batch = []
        for data in generate_records(n, seed=seed, start=start, days=days):
            raw = orjson.dumps(data)
            record = parse_record(raw, "generated")
            batch.append(
                ProcessedSession(
                    record=record, raw=raw, analysis=analyze_to_contract(record, profile)
                )
            )
        store.write(batch)
        for item in batch:
            for alert in evaluate(item.session_id, item.analysis, profile):
                store.write_alert(
                    alert.rule,
                    alert.message,
                    severity=alert.severity,
                    session_id=alert.session_id,
                    channel=alert.channel,
                    payload=alert.payload,
                    alert_id=alert.alert_id,
                    fired_at=item.processed_at,
                )
    finally:
        store.close()


@pytest.fixture(scope="session")
def warehouse_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    build_warehouse(path, 120, seed=11)
    return path


@pytest.fixture
def store(warehouse_file: Path, tmp_path: Path) -> Iterator[Store]:
    copy = tmp_path / "w.duckdb"
    shutil.copy(warehouse_file, copy)
    s = open_store(f"duckdb:///{copy}")
    try:
        yield s
    finally:
        s.close()


@pytest.fixture(scope="session")
def real_events(warehouse_file: Path) -> dict[str, Event]:
    """One real alert and one real qualified lead, read back from the warehouse."""
    from callscope.sinks.base import alert_event_from_row, lead_event_from_row
    from callscope.sinks.dispatch import LEAD_COLUMNS, enrich

    s = open_store(f"duckdb:///{warehouse_file}", read_only=True)
    try:
        alert = s.fetch("SELECT * FROM alerts_history WHERE rule = 'hot_lead' ORDER BY id LIMIT 1")
        lead = s.fetch(
            f"SELECT {LEAD_COLUMNS} FROM sessions s JOIN leads l ON l.session_id = s.session_id "
            "WHERE l.tier = 'tier_1' AND l.email IS NOT NULL AND s.kb_searches > 0 "
            "ORDER BY s.session_id LIMIT 1"
        )
        assert alert and lead
        (event,) = enrich(s, [lead_event_from_row(lead[0])])
    finally:
        s.close()
    return {"alert": alert_event_from_row(alert[0]), "lead": event}


# -- TLS for the HTTPS-only client (simple_salesforce always speaks https) -----------------


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    return ctx


@pytest.fixture(scope="session")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


# -- SMTP ------------------------------------------------------------------------------------


class SmtpHandler:
    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.forced: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.forced:
            return self.forced.pop(0)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, SmtpHandler]]:
    handler = SmtpHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- one harness per backend, for the shared contract tests ---------------------------------

ROUTING_KEY = "R0ut1ngK3yR0ut1ngK3yR0ut1ngK3y32"
AMPLITUDE_KEY = "amp-test-key"
WEBHOOK_SECRET = "whsec-test"


@dataclass
class Harness:
    """A sink wired to its local service, and the service-side view of what arrived."""

    sink: Sink
    kinds: frozenset[str]
    received: Callable[[], list[str]]  # identities of what the service holds, in arrival order
    fail_transient: Callable[[], None]
    fail_permanent: Callable[[], None]
    stop: Callable[[], None]
    extra: dict[str, Any] = field(default_factory=dict)
    key: Callable[[Event], str] = field(default=lambda e: event_key(e))


def event_key(event: Event) -> str:
    return event.id if isinstance(event, AlertEvent) else event.session_id


def salesforce_sink(
    svc: servers.HttpService, state: servers.SalesforceState, ca_file: str, **conf: Any
) -> Any:
    """A Salesforce sink logging in with a refresh token at the stand-in's token endpoint."""
    from callscope.sinks.config import SalesforceDest
    from callscope.sinks.salesforce import Credentials, SalesforceSink

    dest = SalesforceDest(
        type="salesforce",
        token_url=f"{svc.base_url}/services/oauth2/token",
        ca_bundle=ca_file,
        timeout_s=5,
        **conf,
    )
    creds = Credentials(
        client_id=state.client_id,
        client_secret=state.client_secret,
        refresh_token=state.refresh_token,
    )
    return SalesforceSink("salesforce", dest, creds)


def amplitude_sink(svc: servers.HttpService, amp: servers.AmplitudeState, **conf: Any) -> Any:
    from callscope.sinks.amplitude_sink import AmplitudeSink
    from callscope.sinks.config import AmplitudeDest

    dest = AmplitudeDest(
        type="amplitude",
        server_url=f"{svc.base_url}/2/httpapi",
        deletion_url=f"{svc.base_url}/api/2/deletions/users",
        timeout_s=5,
        **conf,
    )
    return AmplitudeSink("amplitude", amp.api_key, dest, secret_key=amp.secret_key)


def make_harness(kind: str, ca_file: str, server_tls: ssl.SSLContext) -> Harness:
    if kind == "slack":
        from callscope.sinks.slack import SlackSink

        svc = servers.slack_service()

        def slack_ids() -> list[str]:
            out = []
            for r in svc.accepted:
                ctx = [b for b in r.json().get("blocks", []) if b["type"] == "context"]
                out.append(ctx[0]["elements"][0]["text"].split("`")[1] if ctx else "")
            return out

        return Harness(
            SlackSink("slack", f"{svc.base_url}/services/T000/B000/XXXX"),
            frozenset({"alert", "lead"}),
            slack_ids,
            lambda: svc.fail(500, b"rollup_error"),
            lambda: svc.fail(404, b"no_service"),
            svc.stop,
            {"svc": svc},
            key=lambda e: e.session_id or "",
        )
    if kind == "salesforce":
        state = servers.SalesforceState()
        svc = servers.salesforce_service(server_tls, state)
        return Harness(
            salesforce_sink(svc, state, ca_file),
            frozenset({"lead"}),
            lambda: [r["Session_Id__c"] for r in state.records("Voice_Call__c")],
            lambda: svc.fail(503, b'[{"errorCode":"SERVER_UNAVAILABLE","message":"down"}]'),
            lambda: svc.fail(400, b'{"error":"invalid_grant","error_description":"revoked"}'),
            svc.stop,
            {"svc": svc, "state": state},
        )
    if kind == "amplitude":
        amp = servers.AmplitudeState(AMPLITUDE_KEY)
        svc = servers.amplitude_service(AMPLITUDE_KEY, amp)

        def amp_ids() -> list[str]:
            return [
                e["event_properties"]["session_id"]
                for e in amp.by_type("voice_trial_session_completed")
            ]

        return Harness(
            amplitude_sink(svc, amp),
            frozenset({"lead"}),
            amp_ids,
            lambda: svc.fail(503, b'{"code": 503, "error": "Service unavailable"}'),
            lambda: svc.fail(
                400,
                b'{"code": 400, "error": "Invalid field",'
                b' "events_with_invalid_fields": {"time": [0]}}',
            ),
            svc.stop,
            {"svc": svc, "state": amp},
        )
    if kind == "pagerduty":
        from callscope.sinks.pagerduty import PagerDutySink

        svc = servers.pagerduty_service()
        return Harness(
            PagerDutySink("pagerduty", ROUTING_KEY, base_url=svc.base_url),
            frozenset({"alert"}),
            lambda: [
                r.json()["dedup_key"]
                for r in svc.accepted
                if r.json().get("routing_key") == ROUTING_KEY
            ],
            lambda: svc.fail(502, b"Bad Gateway"),
            lambda: svc.fail(
                400,
                b'{"status":"invalid event","message":"Event object is invalid","errors":["x"]}',
            ),
            svc.stop,
            {"svc": svc},
        )
    if kind == "email":
        from callscope.sinks.smtp import EmailSink, message_id_for

        handler = SmtpHandler()
        controller = Controller(handler, hostname="127.0.0.1", port=free_port())
        controller.start()

        def mail_ids() -> list[str]:
            return [str(m["Message-ID"]) for m in handler.messages]

        return Harness(
            EmailSink(
                "email",
                "127.0.0.1",
                controller.port,
                "callscope@example.com",
                ["ops@example.com"],
                security="none",
            ),
            frozenset({"alert", "lead"}),
            mail_ids,
            lambda: handler.forced.append("451 4.3.0 Try again later"),
            lambda: handler.forced.append("550 5.7.1 Message rejected"),
            controller.stop,
            {"handler": handler},
            key=lambda e: message_id_for(e.event_id),
        )
    if kind == "webhook":
        from callscope.sinks.webhook import WebhookSink

        svc = servers.webhook_service(WEBHOOK_SECRET)
        return Harness(
            WebhookSink("webhook", f"{svc.base_url}/hooks/callscope", WEBHOOK_SECRET),
            frozenset({"alert", "lead"}),
            lambda: [
                r.json()["data"].get("id")
                if r.json()["type"] == "alert"
                else r.json()["data"]["session_id"]
                for r in svc.accepted
            ],
            lambda: svc.fail(503, b"unavailable"),
            lambda: svc.fail(422, b'{"error":"unprocessable"}'),
            svc.stop,
            {"svc": svc},
        )
    raise ValueError(kind)


SINK_KINDS = ("slack", "salesforce", "amplitude", "pagerduty", "email", "webhook")


@pytest.fixture(params=SINK_KINDS)
def harness(
    request: pytest.FixtureRequest, ca_file: str, server_tls: ssl.SSLContext
) -> Iterator[Harness]:
    h = make_harness(request.param, ca_file, server_tls)
    try:
        yield h
    finally:
        h.sink.close()
        h.stop()


__all__ = ["ANCHOR", "Harness", "LeadEvent", "build_warehouse", "event_key", "make_harness"]
