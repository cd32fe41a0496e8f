"""Local stand-ins for the services callscope delivers to, speaking their documented wire shapes.

Slack incoming webhooks (plain-text ``ok`` / error bodies, 429 + Retry-After); the Salesforce
REST API (OAuth token endpoint, describe, SOQL, sObject create/update/delete, upsert by
external id, Composite, 401 INVALID_SESSION_ID, Sforce-Limit-Info); the Amplitude HTTP V2 API
(``/2/httpapi`` with insert_id deduplication) and its user deletion API; the PagerDuty Events
API v2 (``/v2/enqueue``, 202 / 400 "invalid event"); a signature-checking webhook receiver;
and an SMTP server (aiosmtpd).
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

            do_GET = do_POST = do_PATCH = do_DELETE = _handle

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
#
# The REST API as an org answers it: OAuth token endpoint (refresh_token and JWT bearer
# grants), Bearer auth (401 INVALID_SESSION_ID once a token is expired), sObject
# describe/create/update/delete, upsert by external id, SOQL equality / IN queries, the
# Composite API (allOrNone with rollback and PROCESSING_HALTED), field validation against the
# org's schema (INVALID_FIELD, STRING_TOO_LONG, INVALID_TYPE_ON_FIELD_IN_RECORD) and the
# Sforce-Limit-Info header on every data response.

_NUMERIC = {"double", "int", "currency", "percent", "long"}

# The org's schema: object -> field -> (type, length). The strategy's fields, as RevOps made them.
STRATEGY_FIELDS: dict[str, tuple[str, int]] = {
    "Lead_Score__c": ("double", 0),
    "Lead_Score_Breakdown__c": ("textarea", 32768),
    "Qualification_Tier__c": ("picklist", 255),
    "Last_Call_Date__c": ("datetime", 0),
    "Call_Duration__c": ("double", 0),
    "Engagement_Score__c": ("double", 0),
    "Team_Size__c": ("double", 0),
    "Monthly_Document_Volume__c": ("double", 0),
    "Integration_Needs__c": ("multipicklist", 4099),
    "Industry_Vertical__c": ("picklist", 255),
    "Decision_Timeline__c": ("picklist", 255),
    "Budget_Authority__c": ("picklist", 255),
    "Current_Tool__c": ("string", 255),
    "Urgency_Level__c": ("picklist", 255),
    "Pain_Points__c": ("textarea", 32768),
    "Use_Cases__c": ("multipicklist", 4099),
    "Feature_Requests__c": ("textarea", 32768),
    "Competitor_Mentioned__c": ("picklist", 255),
    "Current_Solution__c": ("string", 255),
    "Switching_Barriers__c": ("textarea", 32768),
    "Objections_Raised__c": ("textarea", 32768),
    "Buying_Signals__c": ("textarea", 32768),
    "Stakeholders_Mentioned__c": ("string", 255),
    "Key_Quotes__c": ("textarea", 32768),
    "Call_Sentiment__c": ("picklist", 255),
    "Next_Best_Action__c": ("string", 255),
    "Follow_Up_Priority__c": ("picklist", 255),
    "Recommended_Owner__c": ("reference", 18),
}
_PERSON = {
    "Id": ("id", 18),
    "Email": ("email", 80),
    "FirstName": ("string", 40),
    "LastName": ("string", 80),
    "CreatedDate": ("datetime", 0),
}


def default_schema() -> dict[str, dict[str, tuple[str, int]]]:
    return {
        "Lead": {
            **_PERSON,
            "Company": ("string", 255),
            "LeadSource": ("picklist", 255),
            "IsConverted": ("boolean", 0),
            **STRATEGY_FIELDS,
        },
        "Contact": {**_PERSON, **STRATEGY_FIELDS},
        "Voice_Call__c": {
            "Id": ("id", 18),
            "Session_Id__c": ("string", 255),
            "Transcript__c": ("textarea", 4000),
            "Call_Summary__c": ("textarea", 32768),
            "Transcript_URL__c": ("url", 255),
            "Quality_Score__c": ("double", 0),
            "Related_To__c": ("reference", 18),
        },
        "Task": {
            "Id": ("id", 18),
            "WhoId": ("reference", 18),
            "OwnerId": ("reference", 18),
            "Subject": ("combobox", 255),
            "Description": ("textarea", 32000),
            "Status": ("picklist", 255),
            "Priority": ("picklist", 255),
            "ActivityDate": ("date", 0),
            "Callscope_Session_Id__c": ("string", 255),
        },
    }


_PREFIX = {"Lead": "00Q", "Contact": "003", "Task": "00T", "Voice_Call__c": "a0V"}
_EXTERNAL_IDS = {"Voice_Call__c": {"Session_Id__c"}}


@dataclass
class SalesforceState:
    client_id: str = "3MVG9-test-consumer-key"
    client_secret: str = "test-consumer-secret"
    refresh_token: str = "5Aep861-test-refresh-token"
    username: str = "integration@acme.example"
    public_key_pem: bytes | None = None  # the connected app's certificate (JWT bearer)
    login_domain: str = "login"
    api_limit: int = 15000
    api_used: int = 0
    token: str | None = None
    logins: list[str] = field(default_factory=list)  # grant types, in order
    schema: dict[str, dict[str, tuple[str, int]]] = field(default_factory=default_schema)
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    instance_url: str = ""
    data_requests: int = 0

    def expire(self) -> None:
        """The org ends the session (timeout policy, admin revoke): next call gets a 401."""
        self.token = f"expired-{self.token}"

    def table(self, sobject: str) -> dict[str, dict[str, Any]]:
        return self.objects.setdefault(sobject, {})

    def records(self, sobject: str) -> list[dict[str, Any]]:
        return list(self.table(sobject).values())


def _err(status: int, code: str, message: str, fields: list[str] | None = None) -> Reply:
    return _json(status, [{"errorCode": code, "message": message, "fields": fields or []}])


def _sf_token(req: Request, state: SalesforceState) -> Reply:
    form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
    grant = form.get("grant_type", "")
    ok = False
    if grant == "refresh_token":
        ok = (
            form.get("client_id") == state.client_id
            and form.get("client_secret") == state.client_secret
            and form.get("refresh_token") == state.refresh_token
        )
    elif grant == "urn:ietf:params:oauth:grant-type:jwt-bearer" and state.public_key_pem:
        import jwt

        try:
            claims = jwt.decode(
                form.get("assertion", ""),
                state.public_key_pem,
                algorithms=["RS256"],
                audience=f"https://{state.login_domain}.salesforce.com",
            )
            ok = claims.get("iss") == state.client_id and claims.get("sub") == state.username
        except jwt.PyJWTError:
            ok = False
    if not ok:
        return _json(400, {"error": "invalid_grant", "error_description": "authentication failure"})
    state.logins.append(grant)
    state.token = f"00Dxx0000001gPF!AR8AQ.{len(state.logins)}"
    return _json(
        200,
        {
            "access_token": state.token,
            "instance_url": state.instance_url,
            "id": f"https://{state.login_domain}.salesforce.com/id/00Dxx0000001gPF/005xx01",
            "token_type": "Bearer",
            "issued_at": "1700000000000",
            "signature": "c2lnbmF0dXJl",
        },
    )


def _describe(state: SalesforceState, sobject: str) -> Reply:
    fields = [
        {
            "name": name,
            "type": ftype,
            "length": length,
            "label": name.removesuffix("__c").replace("_", " "),
            "externalId": name in _EXTERNAL_IDS.get(sobject, set()),
            "nillable": name not in ("Id", "LastName", "Company"),
            "updateable": name not in ("Id", "CreatedDate", "IsConverted"),
        }
        for name, (ftype, length) in state.schema[sobject].items()
    ]
    return _json(200, {"name": sobject, "fields": fields, "createable": True})


def _check_fields(state: SalesforceState, sobject: str, body: dict[str, Any]) -> Reply | None:
    schema = state.schema[sobject]
    for name, value in body.items():
        if name not in schema:
            return _err(
                400,
                "INVALID_FIELD",
                f"No such column '{name}' on sobject of type {sobject}",
                [name],
            )
        ftype, length = schema[name]
        if value is None:
            continue
        if ftype in _NUMERIC and (isinstance(value, bool) or not isinstance(value, int | float)):
            return _err(
                400,
                "INVALID_TYPE_ON_FIELD_IN_RECORD",
                f"{name}: value not of required type: {value}",
                [name],
            )
        if ftype not in _NUMERIC and ftype != "boolean" and not isinstance(value, str):
            return _err(400, "JSON_PARSER_ERROR", f"Cannot deserialize {name}", [name])
        if isinstance(value, str) and length and len(value) > length:
            return _err(
                400,
                "STRING_TOO_LONG",
                f"{name}: data value too large: {value[:20]}... (max length={length})",
                [name],
            )
    return None


def _new_id(state: SalesforceState, sobject: str) -> str:
    n = len(state.table(sobject)) + 1
    return f"{_PREFIX.get(sobject, 'a00')}{n:012d}AAA"


_SOQL = re.compile(
    r"SELECT (?P<cols>[\w, ]+) FROM (?P<obj>\w+) WHERE (?P<col>\w+) "
    r"(?:= '(?P<eq>(?:[^'\\]|\\.)*)'|IN \((?P<in>[^)]*)\))"
)


def _query(state: SalesforceState, soql: str) -> Reply:
    m = _SOQL.search(soql)
    if m is None or m.group("obj") not in state.schema:
        return _err(400, "MALFORMED_QUERY", soql)
    sobject, col = m.group("obj"), m.group("col")
    if col not in state.schema[sobject]:
        return _err(400, "INVALID_FIELD", f"No such column '{col}' on entity '{sobject}'")
    if m.group("in") is not None:
        wanted = {v.strip().strip("'") for v in m.group("in").split(",")}
    else:
        wanted = {m.group("eq").replace("\\'", "'")}
    hits = [r for r in state.records(sobject) if str(r.get(col)) in wanted]
    if "IsConverted = false" in soql:
        hits = [r for r in hits if not r.get("IsConverted")]
    hits.sort(key=lambda r: r.get("CreatedDate", ""), reverse="DESC" in soql)
    if "LIMIT 1" in soql:
        hits = hits[:1]
    cols = [c.strip() for c in m.group("cols").split(",")]
    records = [{"attributes": {"type": sobject}, **{c: r.get(c) for c in cols}} for r in hits]
    return _json(200, {"totalSize": len(records), "done": True, "records": records})


def _sobject(state: SalesforceState, method: str, rest: list[str], body: Any) -> Reply:
    sobject = rest[0]
    if sobject not in state.schema:
        return _err(404, "NOT_FOUND", f"The requested resource does not exist: {sobject}")
    table = state.table(sobject)
    if rest[1:] == ["describe"] and method == "GET":
        return _describe(state, sobject)
    if method in ("POST", "PATCH") and body is not None:
        bad = _check_fields(state, sobject, body)
        if bad is not None:
            return bad
    if method == "POST" and len(rest) == 1:
        if sobject == "Lead" and not (body.get("LastName") and body.get("Company")):
            return _err(400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName]")
        new_id = _new_id(state, sobject)
        table[new_id] = {"Id": new_id, "CreatedDate": f"2026-01-01T00:00:{len(table):02d}Z", **body}
        return _json(201, {"id": new_id, "success": True, "errors": []})
    if len(rest) == 3 and rest[1] in _EXTERNAL_IDS.get(sobject, set()):
        ext, value = rest[1], rest[2]
        hits = [r for r in table.values() if r.get(ext) == value]
        if method == "DELETE":
            if not hits:
                return _err(404, "NOT_FOUND", "Provided external ID field does not exist")
            del table[hits[0]["Id"]]
            return 204, {}, b""
        if method == "PATCH":
            if hits:
                hits[0].update(body)
                return _json(200, {"id": hits[0]["Id"], "success": True, "created": False})
            new_id = _new_id(state, sobject)
            table[new_id] = {"Id": new_id, ext: value, **body}
            return _json(201, {"id": new_id, "success": True, "errors": [], "created": True})
    if len(rest) == 2 and rest[1] in table:
        if method == "PATCH":
            table[rest[1]].update(body)
            return 204, {}, b""
        if method == "DELETE":
            del table[rest[1]]
            return 204, {}, b""
    return _err(404, "NOT_FOUND", "The requested resource does not exist")


_REF = re.compile(r"@\{(\w+)\.(id|records\[0\]\.Id)\}")


def _resolve(value: Any, results: dict[str, Any]) -> Any:
    if isinstance(value, str):

        def sub(m: re.Match[str]) -> str:
            body = results.get(m.group(1)) or {}
            if m.group(2) == "id":
                return str(body.get("id", ""))
            return str(((body.get("records") or [{}])[0]).get("Id", ""))

        return _REF.sub(sub, value)
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    return value


def _composite(state: SalesforceState, body: dict[str, Any], version: str) -> Reply:
    import copy

    snapshot = copy.deepcopy(state.objects)
    results: dict[str, Any] = {}
    out: list[dict[str, Any]] = []
    failed = False
    for sub in body.get("compositeRequest") or []:
        ref = sub["referenceId"]
        if failed and body.get("allOrNone"):
            halted = [{"errorCode": "PROCESSING_HALTED", "message": "not processed"}]
            out.append(
                {"body": halted, "httpHeaders": {}, "httpStatusCode": 400, "referenceId": ref}
            )
            continue
        url = urlsplit(_resolve(sub["url"], results))
        prefix = f"/services/data/{version}/"
        if not url.path.startswith(prefix):
            status, _, raw = _err(400, "INVALID_URL", "wrong API version in a subrequest")
        else:
            status, _, raw = _data(
                state,
                sub["method"],
                url.path[len(prefix) :].split("/"),
                url.query,
                _resolve(sub.get("body"), results),
            )
        parsed = json.loads(raw) if raw else None
        results[ref] = parsed if isinstance(parsed, dict) else {}
        out.append(
            {"body": parsed, "httpHeaders": {}, "httpStatusCode": status, "referenceId": ref}
        )
        failed = failed or status >= 300
    if failed and body.get("allOrNone"):
        state.objects = snapshot  # rolled back: nothing of the request remains
        for entry in out:
            if entry["httpStatusCode"] < 300:
                entry["httpStatusCode"] = 400
                entry["body"] = [{"errorCode": "PROCESSING_HALTED", "message": "rolled back"}]
    return _json(200, {"compositeResponse": out})


def _data(state: SalesforceState, method: str, rest: list[str], query: str, body: Any) -> Reply:
    if rest == ["query"] and method == "GET":
        return _query(state, parse_qs(query)["q"][0])
    if len(rest) >= 2 and rest[0] == "sobjects":
        return _sobject(state, method, rest[1:], body)
    return _err(404, "NOT_FOUND", "The requested resource does not exist")


def salesforce_service(tls: ssl.SSLContext, state: SalesforceState) -> HttpService:
    def respond(req: Request) -> Reply:
        url = urlsplit(req.path)
        if url.path == "/services/oauth2/token" and req.method == "POST":
            return _sf_token(req, state)
        if state.token is None or req.headers.get("authorization") != f"Bearer {state.token}":
            return _err(401, "INVALID_SESSION_ID", "Session expired or invalid")
        parts = url.path.strip("/").split("/")
        if parts[:2] != ["services", "data"] or len(parts) < 4 or not parts[2].startswith("v"):
            return _err(404, "NOT_FOUND", "The requested resource does not exist")
        state.api_used += 1  # one composite request is one API call, as in an org
        state.data_requests += 1
        body = req.json() if req.body else None
        if parts[3:] == ["composite"] and req.method == "POST":
            status, headers, raw = _composite(state, body, parts[2])
        else:
            status, headers, raw = _data(state, req.method, parts[3:], url.query, body)
        headers = {**headers, "Sforce-Limit-Info": f"api-usage={state.api_used}/{state.api_limit}"}
        return status, headers, raw

    svc = HttpService(respond, tls=tls)
    state.instance_url = svc.base_url
    return svc


# -- Amplitude -----------------------------------------------------------------------------
#
# HTTP V2 (/2/httpapi: api_key, events, insert_id deduplication as Amplitude does it for
# 7 days, identify as "$identify" events) and the user deletion API (/api/2/deletions/users,
# Basic auth with the API key and secret key), which removes the users' events.


@dataclass
class AmplitudeState:
    api_key: str
    secret_key: str = "amp-secret-key"
    events: list[dict[str, Any]] = field(default_factory=list)  # ingested, duplicates dropped
    seen: set[tuple[str, str]] = field(default_factory=set)
    duplicates: int = 0
    deletions: list[dict[str, Any]] = field(default_factory=list)

    def by_type(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["event_type"] == event_type]


def _amp_ingest(req: Request, state: AmplitudeState) -> Reply:
    body = req.json()
    if body.get("api_key") != state.api_key:
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
        if not isinstance(e.get("time", 0), int):
            return _json(
                400,
                {
                    "code": 400,
                    "error": "Invalid field",
                    "events_with_invalid_fields": {"time": [i]},
                },
            )
    for e in events:
        key = (str(e.get("user_id") or e.get("device_id")), str(e.get("insert_id") or id(e)))
        if e.get("insert_id") and key in state.seen:
            state.duplicates += 1
            continue
        state.seen.add(key)
        state.events.append(e)
    return _json(
        200,
        {
            "code": 200,
            "events_ingested": len(events),
            "payload_size_bytes": len(req.body),
            "server_upload_time": 1700000000000,
        },
    )


def _amp_delete(req: Request, state: AmplitudeState) -> Reply:
    import base64

    expected = base64.b64encode(f"{state.api_key}:{state.secret_key}".encode()).decode()
    if req.headers.get("authorization") != f"Basic {expected}":
        return 401, {"Content-Type": "text/plain"}, b"Invalid API key or secret key"
    body = req.json()
    user_ids = body.get("user_ids") or []
    if not user_ids and not body.get("amplitude_ids"):
        return _json(400, {"error": "user_ids or amplitude_ids is required"})
    state.deletions.append(body)
    gone = set(user_ids)
    state.events = [e for e in state.events if e.get("user_id") not in gone]
    return _json(
        200,
        {
            "day": "2026-03-30",
            "status": "staging",
            "amplitude_ids": [
                {"amplitude_id": 1000 + i, "requester": body.get("requester"), "user_id": u}
                for i, u in enumerate(user_ids)
            ],
            "app": "123456",
        },
    )


def amplitude_service(api_key: str, state: AmplitudeState | None = None) -> HttpService:
    st = state or AmplitudeState(api_key)

    def respond(req: Request) -> Reply:
        if req.path == "/2/httpapi" and req.method == "POST":
            return _amp_ingest(req, st)
        if req.path == "/api/2/deletions/users" and req.method == "POST":
            return _amp_delete(req, st)
        return _json(404, {"code": 404, "error": "not found"})

    svc = HttpService(respond)
    svc.state = st  # type: ignore[attr-defined]
    return svc


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
