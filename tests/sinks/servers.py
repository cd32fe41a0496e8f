"""Local stand-ins for the services callscope delivers to, speaking their documented wire shapes.

Slack incoming webhooks (plain-text ``ok`` / error bodies, 429 + Retry-After), the Salesforce
REST API (SOQL query, sObject create/update, 401 INVALID_SESSION_ID), the Amplitude HTTP V2 API
(``/2/httpapi``), the PagerDuty Events API v2 (``/v2/enqueue``, 202 / 400 "invalid event"),
a signature-checking webhook receiver, and an SMTP server (aiosmtpd).
"""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from callscope.sinks.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Reply = tuple[int, dict[str, str], bytes]


@dataclass
class HttpService:
    """A threaded HTTP(S) server on 127.0.0.1 with a pluggable responder and forced failures."""

    respond: Callable[[Request], Reply]
    tls: ssl.SSLContext | None = None
    requests: list[Request] = field(default_factory=list)
    forced: list[Reply] = field(default_factory=list)
    accepted: list[Request] = field(default_factory=list)  # requests answered 2xx

    def __post_init__(self) -> None:
        service = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once: no 40 ms stalls

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                req = Request(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                service.requests.append(req)
                status, headers, body = (
                    service.forced.pop(0) if service.forced else service.respond(req)
                )
                if 200 <= status < 300:
                    service.accepted.append(req)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PATCH = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def fail(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None, times: int = 1
    ) -> None:
        self.forced += [(status, headers or {}, body)] * times

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _json(status: int, data: Any) -> Reply:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


# -- Slack ---------------------------------------------------------------------------------


def slack_service() -> HttpService:
    def respond(req: Request) -> Reply:
        if req.method != "POST" or not req.path.startswith("/services/"):
            return 404, {"Content-Type": "text/plain"}, b"no_service"
        try:
            body = req.json()
        except ValueError:
            return 400, {"Content-Type": "text/plain"}, b"invalid_payload"
        if not body.get("text") and not body.get("blocks"):
            return 400, {"Content-Type": "text/plain"}, b"no_text"
        return 200, {"Content-Type": "text/html"}, b"ok"

    return HttpService(respond)


# -- Salesforce ----------------------------------------------------------------------------


@dataclass
class SalesforceState:
    token: str
    leads: dict[str, dict[str, Any]] = field(default_factory=dict)
    tasks: dict[str, dict[str, Any]] = field(default_factory=dict)


_SOQL_EQ = re.compile(r"WHERE (\w+) = '((?:[^'\\]|\\.)*)'")


def salesforce_service(tls: ssl.SSLContext, state: SalesforceState) -> HttpService:
    def respond(req: Request) -> Reply:
        if req.headers.get("authorization") != f"Bearer {state.token}":
            return _json(
                401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        url = urlsplit(req.path)
        parts = url.path.strip("/").split("/")
        if parts[:2] != ["services", "data"] or not parts[2].startswith("v"):
            return _json(
                404,
                [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
            )
        rest = parts[3:]
        if rest == ["query"] and req.method == "GET":
            soql = parse_qs(url.query)["q"][0]
            m = _SOQL_EQ.search(soql)
            if m is None:
                return _json(400, [{"errorCode": "MALFORMED_QUERY", "message": soql}])
            column, value = m.group(1), m.group(2).replace("\\'", "'")
            table = state.leads if " FROM Lead " in soql else state.tasks
            hits = [r for r in table.values() if r.get(column) == value]
            records = [{"attributes": {"type": "Lead"}, "Id": r["Id"]} for r in hits[:1]]
            return _json(200, {"totalSize": len(records), "done": True, "records": records})
        if len(rest) >= 2 and rest[0] == "sobjects" and rest[1] in ("Lead", "Task"):
            table = state.leads if rest[1] == "Lead" else state.tasks
            fields = req.json()
            if rest[1] == "Lead" and not (fields.get("LastName") and fields.get("Company")):
                return _json(
                    400,
                    [
                        {
                            "errorCode": "REQUIRED_FIELD_MISSING",
                            "message": "Required fields are missing: [LastName, Company]",
                            "fields": ["LastName"],
                        }
                    ],
                )
            if req.method == "POST" and len(rest) == 2:
                new_id = ("00Q" if rest[1] == "Lead" else "00T") + f"{len(table) + 1:012d}"
                table[new_id] = {"Id": new_id, **fields}
                return _json(201, {"id": new_id, "success": True, "errors": []})
            if req.method == "PATCH" and len(rest) == 3 and rest[2] in table:
                table[rest[2]].update(fields)
                return 204, {}, b""
        return _json(
            404, [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        )

    return HttpService(respond, tls=tls)


# -- Amplitude -----------------------------------------------------------------------------


def amplitude_service(api_key: str) -> HttpService:
    def respond(req: Request) -> Reply:
        if req.path != "/2/httpapi" or req.method != "POST":
            return _json(404, {"code": 404, "error": "not found"})
        body = req.json()
        if body.get("api_key") != api_key:
            return _json(400, {"code": 400, "error": f"Invalid API key: {body.get('api_key')}"})
        events = body.get("events") or []
        for i, e in enumerate(events):
            if not (e.get("user_id") or e.get("device_id")):
                return _json(
                    400,
                    {
                        "code": 400,
                        "error": "Request missing required field",
                        "missing_field": f"events[{i}].user_id",
                    },
                )
        return _json(
            200,
            {
                "code": 200,
                "events_ingested": len(events),
                "payload_size_bytes": len(req.body),
                "server_upload_time": 1700000000000,
            },
        )

    return HttpService(respond)


# -- PagerDuty -----------------------------------------------------------------------------


def pagerduty_service() -> HttpService:
    def respond(req: Request) -> Reply:
        if req.path != "/v2/enqueue" or req.method != "POST":
            return _json(404, {"status": "not found"})
        body = req.json()
        errors = []
        if len(body.get("routing_key") or "") != 32:
            errors.append("Length of 'routing_key' is incorrect (should be 32 characters)")
        if body.get("event_action") in ("acknowledge", "resolve"):
            # Only the incident's dedup_key is needed to acknowledge or resolve it.
            if not body.get("dedup_key"):
                errors.append("'dedup_key' is missing or blank")
            if errors:
                return _json(400, {"status": "invalid event", "message": "x", "errors": errors})
            return _json(
                202,
                {"status": "success", "message": "Event processed", "dedup_key": body["dedup_key"]},
            )
        payload = body.get("payload") or {}
        for key in ("summary", "source", "severity"):
            if not payload.get(key):
                errors.append(f"'payload.{key}' is missing or blank")
        if payload.get("severity") not in ("critical", "error", "warning", "info"):
            errors.append(
                "'payload.severity' is invalid (must be one of: critical, error, warning, info)"
            )
        if errors:
            return _json(
                400,
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
            )
        return _json(
            202,
            {"status": "success", "message": "Event processed", "dedup_key": body.get("dedup_key")},
        )

    return HttpService(respond)


# -- signed webhook receiver ---------------------------------------------------------------


def webhook_service(secret: str) -> HttpService:
    def respond(req: Request) -> Reply:
        ok = verify(
            secret,
            req.headers.get(TIMESTAMP_HEADER.lower(), ""),
            req.body,
            req.headers.get(SIGNATURE_HEADER.lower(), ""),
        )
        return (204, {}, b"") if ok else _json(401, {"error": "bad signature"})

    return HttpService(respond)
