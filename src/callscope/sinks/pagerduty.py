"""PagerDuty Events API v2 (``POST /v2/enqueue``) over httpx.

``dedup_key`` is the incident key the windowed rules give (``payload.dedup_key``) or the
alert id, so a re-sent alert folds into the incident it already opened; a resolve row
(``payload.action == "resolve"``) sends ``event_action: resolve`` with the same key, which
closes the incident.
"""

from __future__ import annotations

from typing import Any

import httpx

from callscope.sinks.base import AlertEvent, Event, SinkError, http_error

DEFAULT_URL = "https://events.pagerduty.com"
# PagerDuty's four severities; callscope's info/warning/critical map onto them directly.
_SEVERITY = {"critical": "critical", "error": "error", "warning": "warning", "info": "info"}


def dedup_key(event: AlertEvent) -> str:
    key = event.payload.get("dedup_key")
    return key if isinstance(key, str) and key else event.id


def is_resolve(event: AlertEvent) -> bool:
    return event.payload.get("action") == "resolve"


def enqueue_body(event: AlertEvent, routing_key: str, source: str) -> dict[str, Any]:
    if is_resolve(event):
        # A resolve names the incident only; PagerDuty ignores a payload on resolve.
        return {
            "routing_key": routing_key,
            "event_action": "resolve",
            "dedup_key": dedup_key(event),
        }
    details = {k: v for k, v in event.payload.items() if k not in ("dedup_key", "action")}
    payload: dict[str, Any] = {
        "summary": f"{event.rule}: {event.message}"[:1024],  # the API's limit
        "source": source,
        "severity": _SEVERITY.get(event.severity, "warning"),
        "component": event.channel or "callscope",
        "class": event.rule,
        "custom_details": {"session_id": event.session_id, **details},
    }
    if event.fired_at is not None:
        payload["timestamp"] = event.fired_at.isoformat()
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key(event),
        "payload": payload,
    }


class PagerDutySink:
    kinds = frozenset({"alert"})

    def __init__(
        self,
        name: str,
        routing_key: str,
        *,
        base_url: str = DEFAULT_URL,
        source: str = "callscope",
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.routing_key = routing_key
        self.source = source
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def deliver(self, event: Event) -> None:
        if not isinstance(event, AlertEvent):
            raise SinkError("pagerduty: receives alert events only", retryable=False)
        try:
            response = self._http.post(
                "/v2/enqueue", json=enqueue_body(event, self.routing_key, self.source)
            )
        except httpx.HTTPError as exc:
            raise SinkError(f"pagerduty: {type(exc).__name__}: {exc}", retryable=True) from None
        if response.status_code == 202:
            return
        raise http_error(
            "pagerduty", response.status_code, response.text, response.headers.get("retry-after")
        )

    def close(self) -> None:
        self._http.close()
