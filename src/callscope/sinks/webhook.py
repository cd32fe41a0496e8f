"""Generic webhooks: a signed JSON POST to any HTTPS endpoint.

Signature scheme (documented for receivers in docs/destinations.md), after Stripe/Slack:
``X-Callscope-Timestamp: <unix seconds>`` and
``X-Callscope-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>``.
Binding the timestamp stops a captured request from being replayed later.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import orjson

from callscope.sinks.base import AlertEvent, Event, SinkError, http_error

SIGNATURE_HEADER = "X-Callscope-Signature"
TIMESTAMP_HEADER = "X-Callscope-Timestamp"
EVENT_ID_HEADER = "X-Callscope-Event-Id"


def event_body(event: Event) -> bytes:
    data: dict[str, Any] = {
        "id": event.event_id,
        "type": "alert" if isinstance(event, AlertEvent) else "lead",
        "data": dataclasses.asdict(event),
    }
    return orjson.dumps(data, default=_default, option=orjson.OPT_SORT_KEYS)


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_s: float = 300.0
) -> bool:
    """What a receiver runs: constant-time compare, and reject stale timestamps."""
    try:
        age = abs(time.time() - float(timestamp))
    except ValueError:
        return False
    return age <= tolerance_s and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookSink:
    kinds = frozenset({"alert", "lead"})

    def __init__(
        self,
        name: str,
        url: str,
        secret: str,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.url = url
        self._secret = secret
        self._clock = clock
        self._http = httpx.Client(timeout=timeout)

    def deliver(self, event: Event) -> None:
        self.post(event.event_id, event_body(event))

    def post(self, event_id: str, body: bytes) -> None:
        """POST a JSON body, signed; used for events and digests alike."""
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            EVENT_ID_HEADER: event_id,
        }
        try:
            response = self._http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise SinkError(f"webhook: {type(exc).__name__}: {exc}", retryable=True) from None
        if 200 <= response.status_code < 300:
            return
        raise http_error(
            "webhook", response.status_code, response.text, response.headers.get("retry-after")
        )

    def close(self) -> None:
        self._http.close()
