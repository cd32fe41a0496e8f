"""Salesforce via ``simple_salesforce``: the strategy's Lead/Contact fields, Voice_Call__c, Task.

One delivery is two round trips of the Composite API: a lookup (the Contact and the open Lead
with the caller's email, and the session's follow-up Task if one exists), then one
all-or-none write: the Lead/Contact update (or a new Lead) with every field of the field map,
the ``Voice_Call__c`` upsert by its external id ``Session_Id__c`` (re-delivery updates it,
never duplicates), and the follow-up Task when the call qualified and none exists yet.

Auth is an OAuth refresh token or a JWT bearer assertion exchanged through simple-salesforce's
own token login; a 401 triggers one re-login and one retry. The org's ``describe()`` of each
object is read once: fields the map names but the org lacks fail the delivery (or are
skipped, ``missing_fields: skip``), and text is truncated to each field's length. The
``Sforce-Limit-Info`` header is read after every call: past ``limit_threshold`` of the daily
API allowance the sink defers work for ``limit_backoff_s``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import requests
import structlog
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)
from simple_salesforce.format import format_soql
from simple_salesforce.login import SalesforceLogin, token_login

from callscope.governance.redact import redact_text
from callscope.sinks.base import ErasureRequest, Event, LeadEvent, SinkError
from callscope.sinks.config import SalesforceDest, qualified_tiers
from callscope.sinks.field_map import (
    Labeler,
    call_context,
    lookup,
    render,
    title_label,
)

log = structlog.get_logger("callscope.sinks.salesforce")

LEAD_SOURCE = "Voice Agent"
TASK_KEY = "Callscope_Session_Id__c"  # on Task: the session a follow-up belongs to


@dataclass(frozen=True)
class Credentials:
    client_id: str | None = None
    client_secret: str | None = None
    refresh_token: str | None = None
    private_key: str | None = None
    session_id: str | None = None


def _split_name(name: str | None, email: str) -> tuple[str | None, str]:
    if name and name.strip():
        parts = name.strip().split()
        return (" ".join(parts[:-1]) or None, parts[-1])
    return None, email.split("@", 1)[0]  # LastName is required on Lead


def new_lead_fields(event: LeadEvent) -> dict[str, Any]:
    """The standard fields a Lead callscope creates needs (LastName and Company are required)."""
    assert event.email is not None
    first, last = _split_name(event.name, event.email)
    fields: dict[str, Any] = {
        "Email": event.email,
        "LastName": last,
        "Company": event.company or "[not provided]",
        "LeadSource": LEAD_SOURCE,
    }
    if first:
        fields["FirstName"] = first
    return fields


def _error(exc: SalesforceError) -> SinkError:
    content = exc.content if isinstance(exc.content, list | dict | str) else ""
    detail = json.dumps(content)[:300] if not isinstance(content, str) else content[:300]
    message = f"salesforce: HTTP {exc.status}: {detail}"
    if isinstance(exc, SalesforceExpiredSession):
        return SinkError(f"{message} (session expired after a re-login)", retryable=False)
    if isinstance(exc, SalesforceRefusedRequest):
        return SinkError(message, retryable="REQUEST_LIMIT_EXCEEDED" in detail)
    if isinstance(exc, SalesforceGeneralError):
        return SinkError(message, retryable=exc.status >= 500 or exc.status == 429)
    return SinkError(message, retryable=False)


class _Session(requests.Session):
    """Timeouts on every call (simple_salesforce passes none), a fixed CA, a token URL."""

    def __init__(self, timeout: float, token_url: str | None) -> None:
        super().__init__()
        self._timeout = timeout
        self._token_url = token_url
        self.last_status = 0

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        if self.verify is not True:
            # requests lets REQUESTS_CA_BUNDLE override Session.verify; a configured CA wins.
            kwargs.setdefault("verify", self.verify)
        if self._token_url and str(url).endswith("/services/oauth2/token"):
            url = self._token_url  # simple-salesforce builds https://<domain>.salesforce.com
        response = super().request(method, url, *args, **kwargs)
        self.last_status = response.status_code
        return response


def task_due_days(ctx: Mapping[str, Any], dest: SalesforceDest, best: str | None = None) -> int:
    """Days to the Task's due date, keyed by how soon to follow up.

    The next-step module's ``follow_up_priority`` (the profile's next-best-action rule) says
    how soon the rep should act; the caller's own ``insights.urgency`` (their timeline) is the
    second choice, and the lead's heat the last.
    """
    urgency = lookup(ctx, "next_step.follow_up_priority")
    if urgency not in dest.task.due_days:
        urgency = lookup(ctx, "insights.urgency")
    if urgency not in dest.task.due_days:
        # No urgency analyzer output: a hot lead is urgent, one of the best tier medium.
        hot = bool(lookup(ctx, "lead.hot_lead"))
        top = best is not None and lookup(ctx, "lead.tier") == best
        urgency = "high" if hot else ("medium" if top else "low")
    return dest.task.due_days.get(str(urgency), 3)


def route_owner(ctx: Mapping[str, Any], dest: SalesforceDest) -> str | None:
    """The territory rules' owner (first match), else the recommended owner's mapped User Id."""
    for rule in dest.task.owner_rules:
        value = lookup(ctx, rule.path)
        values = value if isinstance(value, list) else [value]
        wanted = {v.lower() for v in rule.values}
        if any(isinstance(v, str) and v.lower() in wanted for v in values):
            return rule.owner_id
    recommended = lookup(ctx, "next_step.recommended_owner")
    if isinstance(recommended, str) and recommended in dest.owner_ids:
        return dest.owner_ids[recommended]
    return dest.task.default_owner_id


def task_description(ctx: Mapping[str, Any]) -> str:
    """Executive summary + action items, as a rep reads them in the Task."""
    lines: list[str] = []
    summary = lookup(ctx, "executive_summary")
    if isinstance(summary, Mapping):
        for key in ("situation", "next_action"):
            if summary.get(key):
                lines.append(str(summary[key]))
        for key in ("key_numbers", "risk_factors", "takeaways"):
            items = summary.get(key) or []
            if items:
                lines.append(f"{title_label(key)}:")
                lines += [f"- {item}" for item in items]
    elif lookup(ctx, "summary"):
        lines.append(str(lookup(ctx, "summary")))
    follow_ups = lookup(ctx, "actions.follow_ups") or []
    if follow_ups:
        lines.append("Action items:")
        for item in follow_ups:
            text = item.get("text") if isinstance(item, Mapping) else item
            who = item.get("owner") if isinstance(item, Mapping) else None
            lines.append(f"- {text}" + (f" ({who})" if who else ""))
    return "\n".join(lines)


class SalesforceSink:
    kinds = frozenset({"lead"})

    def __init__(
        self,
        name: str,
        dest: SalesforceDest,
        creds: Credentials,
        *,
        labeler: Labeler = lambda _field, value: title_label(value),
        qualified: Sequence[str] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.dest = dest
        self._creds = creds
        self._labeler = labeler
        # The follow-up Task goes to the configured tiers, else the profile's qualified ones.
        tiers = dest.task.tiers if dest.task.tiers is not None else qualified
        self._task_tiers = list(tiers) if tiers is not None else qualified_tiers()
        self._clock = clock
        self._session = _Session(dest.timeout_s, dest.token_url)
        self._session.verify = dest.ca_bundle or True
        self._sf: Salesforce | None = None
        self._described: dict[str, dict[str, dict[str, Any]]] = {}
        self._paused_until = 0.0
        self.logins = 0

    # -- auth ---------------------------------------------------------------------------------

    def _login(self) -> Salesforce:
        d, c = self.dest, self._creds
        try:
            if d.auth == "session":
                token, instance = c.session_id or "", (d.instance_url or "").split("://")[-1]
            elif d.auth == "jwt":
                token, instance = SalesforceLogin(
                    username=d.username,
                    consumer_key=c.client_id,
                    privatekey_file=d.private_key_file,
                    privatekey=None if d.private_key_file else c.private_key,
                    domain=d.domain,
                    sf_version=d.api_version,
                    session=self._session,
                )
            else:
                data = {
                    "grant_type": "refresh_token",
                    "client_id": c.client_id,
                    "client_secret": c.client_secret,
                    "refresh_token": c.refresh_token,
                }
                url = f"https://{d.domain}.salesforce.com/services/oauth2/token"
                token, instance = token_login(
                    url, data, d.domain, c.client_id or "", None, None, self._session
                )
        except (SalesforceAuthenticationFailed, AttributeError, TypeError) as exc:
            # token_login reports the OAuth error; a gateway's 5xx page arrives as odd JSON.
            status = self._session.last_status
            raise SinkError(
                f"salesforce: login failed (HTTP {status}): {exc}",
                retryable=status >= 500 or status == 429,
            ) from None
        except requests.RequestException as exc:
            raise SinkError(
                f"salesforce: login: {type(exc).__name__}: {exc}", retryable=True
            ) from None
        self.logins += 1
        self._sf = Salesforce(
            session_id=token,
            instance=instance,
            version=d.api_version,
            session=self._session,
        )
        return self._sf

    def _check_pause(self) -> None:
        """Defer new work while the org's API usage is near its limit (a started call finishes:
        half a delivery would leave the Lead updated and its Voice_Call__c missing)."""
        if self._clock() < self._paused_until:
            wait = self._paused_until - self._clock()
            raise SinkError(
                f"salesforce: API usage above {self.dest.limit_threshold:.0%} of the daily "
                f"limit; paused {wait:.0f} s",
                retryable=True,
                retry_after=wait,
                defer=True,
            )

    def _call(self, fn: Callable[[Salesforce], Any]) -> Any:
        """Run ``fn`` against the org: one re-login and retry on 401, limits read after."""
        try:
            try:
                result = fn(self._sf or self._login())
            except SalesforceExpiredSession:
                log.info("salesforce.relogin", sink=self.name)
                result = fn(self._login())
        except SalesforceError as exc:
            raise _error(exc) from None
        except requests.RequestException as exc:
            raise SinkError(f"salesforce: {type(exc).__name__}: {exc}", retryable=True) from None
        self._check_limits()
        return result

    def _check_limits(self) -> None:
        usage = (self._sf.api_usage if self._sf is not None else {}).get("api-usage")
        if usage is None or not usage.total:
            return
        if usage.used / usage.total >= self.dest.limit_threshold:
            self._paused_until = self._clock() + self.dest.limit_backoff_s
            log.warning("salesforce.limit_near", sink=self.name, used=usage.used, total=usage.total)

    def composite(self, subrequests: list[dict[str, Any]], all_or_none: bool = True) -> list[Any]:
        """One Composite API request; each sub-response, or SinkError for the first failure."""
        if not subrequests:
            return []
        base = f"/services/data/v{self.dest.api_version}"
        body = {
            "allOrNone": all_or_none,
            "compositeRequest": [{**r, "url": base + r["url"]} for r in subrequests],
        }
        reply = self._call(lambda sf: sf.restful("composite", method="POST", json=body))
        responses: list[dict[str, Any]] = list((reply or {}).get("compositeResponse") or [])
        if all_or_none:
            for r in responses:
                errors = r.get("body") if int(r.get("httpStatusCode", 200)) >= 300 else None
                if errors and not _halted(errors):
                    raise _sub_error(r)
        return responses

    # -- describe -------------------------------------------------------------------------------

    def describe(self, sobject: str) -> dict[str, dict[str, Any]]:
        """The org's fields of ``sobject`` by API name (cached for the sink's lifetime)."""
        if sobject not in self._described:
            desc = self._call(lambda sf: sf.restful(f"sobjects/{sobject}/describe"))
            self._described[sobject] = {f["name"]: f for f in (desc or {}).get("fields", [])}
        return self._described[sobject]

    def _fit(self, sobject: str, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` checked against the org: missing fields fail or drop, text truncated."""
        fields = self.describe(sobject)
        missing = sorted(k for k in payload if k not in fields)
        if missing and self.dest.missing_fields == "fail":
            raise SinkError(
                f"salesforce: {sobject} has no field {', '.join(missing)} "
                "(create it, or drop it from field_map; see `callscope sinks describe`)",
                retryable=False,
            )
        out = {}
        for key, value in payload.items():
            if key not in fields:
                continue
            length = fields[key].get("length") or None
            if isinstance(value, str) and length and len(value) > length:
                value = value[: length - 1] + "…"
            out[key] = value
        return out

    # -- delivery -------------------------------------------------------------------------------

    def deliver(self, event: Event) -> None:
        if not isinstance(event, LeadEvent):
            raise SinkError("salesforce: receives lead events only", retryable=False)
        if not event.email:
            raise SinkError(
                f"salesforce: session {event.session_id} has no email to match a Lead",
                retryable=False,
            )
        self._check_pause()
        found = self._lookup(event)
        self.composite(self._writes(event, found))

    def _lookup(self, event: LeadEvent) -> dict[str, str | None]:
        queries = {
            "lead": format_soql(
                "SELECT Id FROM Lead WHERE Email = {} AND IsConverted = false "
                "ORDER BY CreatedDate DESC LIMIT 1",
                event.email,
            ),
            "task": format_soql(
                f"SELECT Id FROM Task WHERE {TASK_KEY} = {{}} LIMIT 1", event.session_id
            ),
        }
        if self.dest.contact_first:
            queries["contact"] = format_soql(
                "SELECT Id FROM Contact WHERE Email = {} ORDER BY CreatedDate DESC LIMIT 1",
                event.email,
            )
        subs = [
            {"method": "GET", "url": f"/query?q={quote(q)}", "referenceId": ref}
            for ref, q in queries.items()
        ]
        out: dict[str, str | None] = {}
        for r in self.composite(subs, all_or_none=False):
            if int(r.get("httpStatusCode", 500)) >= 300:
                raise _sub_error(r)
            records = (r.get("body") or {}).get("records") or []
            out[str(r["referenceId"])] = str(records[0]["Id"]) if records else None
        return out

    def _writes(self, event: LeadEvent, found: Mapping[str, str | None]) -> list[dict[str, Any]]:
        d = self.dest
        ctx = call_context(event)
        owner = route_owner(ctx, d)
        ctx["call"]["recommended_owner_id"] = owner
        fields = render(d.lead_map(), ctx, self._labeler)
        subs: list[dict[str, Any]] = []
        record_ref: str
        if found.get("contact"):
            record_ref = str(found["contact"])
            body = self._fit("Contact", fields)
            subs.append(_sub("PATCH", f"/sobjects/Contact/{record_ref}", "person", body))
        elif found.get("lead"):
            record_ref = str(found["lead"])
            body = self._fit("Lead", fields)
            subs.append(_sub("PATCH", f"/sobjects/Lead/{record_ref}", "person", body))
        else:
            body = {**new_lead_fields(event), **self._fit("Lead", fields)}
            subs.append(_sub("POST", "/sobjects/Lead", "person", body))
            record_ref = "@{person.id}"
        if d.voice_call:
            subs.append(self._voice_call(event, record_ref))
        tier = lookup(ctx, "lead.tier")
        if d.task.enabled and tier in self._task_tiers and not found.get("task"):
            subs.append(self._task(event, ctx, record_ref, owner))
        return subs

    def _voice_call(self, event: LeadEvent, related_to: str) -> dict[str, Any]:
        d = self.dest
        transcript = event.transcript and redact_text(event.transcript)
        url = d.transcript_url.format(session_id=event.session_id) if d.transcript_url else None
        ctx = call_context(event, transcript=transcript, transcript_url=url, related_to=related_to)
        body = self._fit(d.voice_call_object, render(d.call_map(), ctx, self._labeler))
        path = f"/sobjects/{d.voice_call_object}/{d.voice_call_external_id}/{event.session_id}"
        return _sub("PATCH", path, "voice_call", body)

    def _task(
        self, event: LeadEvent, ctx: Mapping[str, Any], who: str, owner: str | None
    ) -> dict[str, Any]:
        d = self.dest
        body: dict[str, Any] = {
            "WhoId": who,
            "Subject": d.task.subject,
            "Description": task_description(ctx),
            "Status": d.task.status,
            "Priority": "High" if event.hot_lead else "Normal",
            TASK_KEY: event.session_id,
        }
        if event.started_at is not None:
            best = next(iter(self._task_tiers), None)
            due = event.started_at + timedelta(days=task_due_days(ctx, d, best=best))
            body["ActivityDate"] = due.date().isoformat()
        if owner:
            body["OwnerId"] = owner
        return _sub("POST", "/sobjects/Task", "task", self._fit("Task", body))

    # -- erasure --------------------------------------------------------------------------------

    def erase(self, request: ErasureRequest) -> None:
        """Remove what callscope wrote about a person: Voice_Call__c and Tasks of their sessions
        deleted, their Lead/Contact's mapped fields cleared (``erase: delete``: Leads callscope
        created are deleted; Contacts are always only cleared)."""
        self._check_pause()
        d = self.dest
        subs: list[dict[str, Any]] = []
        for i, sid in enumerate(request.session_ids):
            if d.voice_call:
                path = f"/sobjects/{d.voice_call_object}/{d.voice_call_external_id}/{sid}"
                subs.append(_sub("DELETE", path, f"vc{i}"))
        people = self._people(request)
        for i, (sobject, rid, source) in enumerate(people):
            if d.erase == "delete" and sobject == "Lead" and source == LEAD_SOURCE:
                subs.append(_sub("DELETE", f"/sobjects/Lead/{rid}", f"p{i}"))
            else:
                org = self.describe(sobject)
                cleared = {k: None for k in d.lead_map() if k in org}
                subs.append(_sub("PATCH", f"/sobjects/{sobject}/{rid}", f"p{i}", cleared))
        tasks = self._tasks(request.session_ids)
        subs += [_sub("DELETE", f"/sobjects/Task/{t}", f"t{i}") for i, t in enumerate(tasks)]
        for start in range(0, len(subs), 25):  # the Composite API's limit per request
            for r in self.composite(subs[start : start + 25], all_or_none=False):
                status = int(r.get("httpStatusCode", 500))
                if status >= 300 and status != 404:  # 404: already gone
                    raise _sub_error(r)

    def _people(self, request: ErasureRequest) -> list[tuple[str, str, str | None]]:
        out: list[tuple[str, str, str | None]] = []
        for email in request.emails:
            for sobject, extra in (("Lead", ", LeadSource"), ("Contact", "")):
                q = format_soql(f"SELECT Id{extra} FROM {sobject} WHERE Email = {{}}", email)
                res = self._query_all(q)
                for rec in res.get("records") or []:
                    out.append((sobject, str(rec["Id"]), rec.get("LeadSource")))
        return out

    def _tasks(self, session_ids: tuple[str, ...]) -> list[str]:
        if not session_ids:
            return []
        q = format_soql(f"SELECT Id FROM Task WHERE {TASK_KEY} IN {{}}", list(session_ids))
        res = self._query_all(q)
        return [str(r["Id"]) for r in res.get("records") or []]

    def _query_all(self, soql: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(lambda sf: sf.query_all(soql))
        return result

    def close(self) -> None:
        self._session.close()


def _sub(method: str, url: str, ref: str, body: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"method": method, "url": url, "referenceId": ref}
    if body is not None:
        out["body"] = body
    return out


def _halted(errors: Any) -> bool:
    """A sub-request rolled back because another failed (allOrNone): not the cause."""
    return isinstance(errors, list) and all(
        isinstance(e, Mapping) and e.get("errorCode") == "PROCESSING_HALTED" for e in errors
    )


def _sub_error(r: Mapping[str, Any]) -> SinkError:
    status = int(r.get("httpStatusCode", 500))
    detail = json.dumps(r.get("body"))[:300]
    retryable = status >= 500 or status == 429 or "UNABLE_TO_LOCK_ROW" in detail
    return SinkError(
        f"salesforce: {r.get('referenceId')}: HTTP {status}: {detail}", retryable=retryable
    )


@dataclass(frozen=True)
class FieldCheck:
    sobject: str
    field: str
    status: str  # ok | missing | wrong_type
    detail: str = ""


def check_fields(sink: SalesforceSink) -> list[FieldCheck]:
    """The field maps against the org's describe(): what is missing or of the wrong type."""
    from callscope.sinks.field_map import COMPATIBLE_TYPES

    d = sink.dest
    plan: list[tuple[str, dict[str, Any]]] = [("Lead", dict(d.lead_map()))]
    if d.contact_first:
        plan.append(("Contact", dict(d.lead_map())))
    if d.voice_call:
        calls: dict[str, Any] = dict(d.call_map())
        calls[d.voice_call_external_id] = None
        plan.append((d.voice_call_object, calls))
    if d.task.enabled:
        plan.append(("Task", {TASK_KEY: None}))
    out: list[FieldCheck] = []
    for sobject, rules in plan:
        try:
            org = sink.describe(sobject)
        except SinkError as exc:
            out += [FieldCheck(sobject, name, "missing", str(exc)) for name in rules]
            continue
        for name, rule in rules.items():
            meta = org.get(name)
            if meta is None:
                out.append(FieldCheck(sobject, name, "missing", "not in the org"))
                continue
            allowed = COMPATIBLE_TYPES.get(rule.format, frozenset()) if rule else frozenset()
            if allowed and meta.get("type") not in allowed:
                out.append(
                    FieldCheck(
                        sobject,
                        name,
                        "wrong_type",
                        f"{rule.format} needs {'/'.join(sorted(allowed))}; "
                        f"org has {meta.get('type')}",
                    )
                )
                continue
            out.append(FieldCheck(sobject, name, "ok", str(meta.get("type"))))
    return out
