"""PagerDuty Events API v2 (``POST /v2/enqueue``) over httpx.

``dedup_key`` is the alert id, so a re-sent alert folds into the incident it already opened.
"""

from __future__ import annotations

from typing import Any

import httpx

from callscope.sinks.base import AlertEvent, Event, SinkError, http_error

DEFAULT_URL = "https://events.pagerduty.com"
# PagerDuty's four severities; callscope's info/warning/critical map onto them directly.
_SEVERITY = {"critical": "critical", "error": "error", "warning": "warning", "info": "info"}


def enqueue_body(event: AlertEvent, routing_key: str, source: str) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "summary": f"{event.rule}: {event.message}"[:1024],  # the API's limit
        "source": source,
        "severity": _SEVERITY.get(event.severity, "warning"),
        "component": event.channel or "callscope",
        "class": event.rule,
        "custom_details": {"session_id": event.session_id, **event.payload},
    }
    if event.fired_at is not None:
        payload["timestamp"] = event.fired_at.isoformat()
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": event.id,
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
