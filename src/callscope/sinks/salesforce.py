"""Salesforce through the official-de-facto ``simple_salesforce`` REST client.

Each qualified call upserts a Lead keyed by email (Salesforce's Email is not an external-id
field, so: query, then update or create) and adds one completed Task with the call summary,
keyed by the custom field ``Callscope_Session_Id__c`` so a retried delivery never duplicates it.
The custom fields are listed in docs/destinations.md; an org without them answers 400
``INVALID_FIELD``, reported as a non-retryable error naming the field.
"""

from __future__ import annotations

import json
from typing import Any, cast

import requests
from simple_salesforce.api import Salesforce, SFType
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceRefusedRequest,
)
from simple_salesforce.format import format_soql

from callscope.sinks.base import Event, LeadEvent, SinkError

LEAD_SOURCE = "Voice Agent"


def _split_name(name: str | None, email: str) -> tuple[str | None, str]:
    if name and name.strip():
        parts = name.strip().split()
        return (" ".join(parts[:-1]) or None, parts[-1])
    return None, email.split("@", 1)[0]  # LastName is required on Lead


def lead_fields(event: LeadEvent) -> dict[str, Any]:
    """The Lead fields callscope writes (standard fields plus the ``Callscope_*__c`` ones)."""
    assert event.email is not None
    first, last = _split_name(event.name, event.email)
    fields: dict[str, Any] = {
        "Email": event.email,
        "LastName": last,
        "Company": event.company or "[not provided]",  # Company is required on Lead
        "LeadSource": LEAD_SOURCE,
        "Callscope_Score__c": event.score,
        "Callscope_Tier__c": event.tier,
        "Callscope_Hot_Lead__c": event.hot_lead,
        "Callscope_Meeting_Booked__c": event.meeting_booked,
        "Callscope_Signals__c": json.dumps(event.signals, sort_keys=True, default=str),
        "Callscope_Last_Session_Id__c": event.session_id,
    }
    if first:
        fields["FirstName"] = first
    return fields


def task_fields(event: LeadEvent, lead_id: str) -> dict[str, Any]:
    tier = (event.tier or "unscored").replace("_", " ")
    fields: dict[str, Any] = {
        "WhoId": lead_id,
        "Subject": f"Voice agent call ({tier}, score {event.score})",
        "Description": event.summary or "",
        "Status": "Completed",
        "Priority": "High" if event.hot_lead else "Normal",
        "Callscope_Session_Id__c": event.session_id,
    }
    if event.started_at is not None:
        fields["ActivityDate"] = event.started_at.date().isoformat()
    return fields


def _error(exc: SalesforceError) -> SinkError:
    content = exc.content if isinstance(exc.content, list | dict | str) else ""
    detail = json.dumps(content)[:200] if not isinstance(content, str) else content[:200]
    message = f"salesforce: HTTP {exc.status}: {detail}"
    if isinstance(exc, SalesforceExpiredSession):
        # A new session id must be issued (OAuth refresh outside callscope): retrying cannot help.
        return SinkError(f"{message} (session expired or invalid)", retryable=False)
    if isinstance(exc, SalesforceRefusedRequest):
        return SinkError(message, retryable="REQUEST_LIMIT_EXCEEDED" in detail)
    if isinstance(exc, SalesforceGeneralError):
        return SinkError(message, retryable=exc.status >= 500 or exc.status == 429)
    return SinkError(message, retryable=False)


class _TimeoutSession(requests.Session):
    # simple_salesforce passes no timeout: a hung instance would stall the dispatcher forever.
    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout)
        if self.verify is not True:
            # requests lets REQUESTS_CA_BUNDLE override Session.verify; a configured CA wins.
            kwargs.setdefault("verify", self.verify)
        return super().request(method, url, *args, **kwargs)


class SalesforceSink:
    kinds = frozenset({"lead"})

    def __init__(
        self,
        name: str,
        instance_url: str,
        session_id: str,
        *,
        api_version: str = "59.0",
        verify: bool | str = True,
        timeout: float = 15.0,
    ) -> None:
        self.name = name
        session = _TimeoutSession(timeout)
        session.verify = verify
        self._sf = Salesforce(
            instance_url=instance_url,
            session_id=session_id,
            version=api_version,
            session=session,
        )
        self._session = session

    def deliver(self, event: Event) -> None:
        if not isinstance(event, LeadEvent):
            raise SinkError("salesforce: receives lead events only", retryable=False)
        if not event.email:
            raise SinkError(
                f"salesforce: session {event.session_id} has no email to match a Lead",
                retryable=False,
            )
        try:
            self._upsert(event)
        except SalesforceError as exc:
            raise _error(exc) from None
        except requests.RequestException as exc:
            raise SinkError(f"salesforce: {type(exc).__name__}: {exc}", retryable=True) from None

    def _upsert(self, event: LeadEvent) -> None:
        assert event.email is not None
        found = self._sf.query(
            format_soql(
                "SELECT Id FROM Lead WHERE Email = {} AND IsConverted = false "
                "ORDER BY CreatedDate DESC LIMIT 1",
                event.email,
            )
        )
        fields = lead_fields(event)
        records = found.get("records") or []
        if records:
            lead_id = str(records[0]["Id"])
            cast(SFType, self._sf.Lead).update(lead_id, fields)
        else:
            created = cast(SFType, self._sf.Lead).create(fields)
            lead_id = str(created["id"])
        tasks = self._sf.query(
            format_soql(
                "SELECT Id FROM Task WHERE Callscope_Session_Id__c = {} LIMIT 1", event.session_id
            )
        )
        if tasks.get("records"):
            cast(SFType, self._sf.Task).update(
                str(tasks["records"][0]["Id"]), task_fields(event, lead_id)
            )
        else:
            cast(SFType, self._sf.Task).create(task_fields(event, lead_id))

    def close(self) -> None:
        self._session.close()
