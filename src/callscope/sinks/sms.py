"""SMS for critical alerts through Twilio's official ``twilio`` client (Messages API).

One message per recipient. Twilio has no idempotency key, so the sink remembers which
recipients already got an event in this process: a retry after a partial failure texts only
those still missing. ``base_url`` points the client at another Twilio-compatible endpoint
(a regional edge or a test server); by default it is Twilio's own.
"""

from __future__ import annotations

from collections.abc import Sequence

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from callscope.sinks.base import AlertEvent, Event, SinkError

MAX_BODY = 1600  # Twilio's limit for one message body


def sms_body(event: AlertEvent) -> str:
    if event.payload.get("action") == "resolve":
        text = f"RESOLVED {event.rule}: {event.message}"
    else:
        text = f"[{event.severity.upper()}] {event.rule}: {event.message}"
    return text[:MAX_BODY]


def _error(exc: TwilioRestException) -> SinkError:
    status = int(exc.status or 0)
    # 429 and 5xx pass; 4xx (bad number 21211, auth 20003, unverified 21608) never will.
    retryable = status in (408, 429) or status >= 500
    return SinkError(f"sms: HTTP {status}: {exc.code}: {exc.msg}"[:300], retryable=retryable)


class SmsSink:
    kinds = frozenset({"alert"})

    def __init__(
        self,
        name: str,
        account_sid: str,
        auth_token: str,
        from_number: str,
        to_numbers: Sequence[str],
        *,
        base_url: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.name = name
        self.from_number = from_number
        self.to_numbers = list(to_numbers)
        self._http = TwilioHttpClient(timeout=timeout)
        self._client = Client(account_sid, auth_token, http_client=self._http)
        if base_url:
            self._client.api.base_url = base_url.rstrip("/")
        self._sent: set[tuple[str, str]] = set()

    def deliver(self, event: Event) -> None:
        if not isinstance(event, AlertEvent):
            raise SinkError("sms: receives alert events only", retryable=False)
        body = sms_body(event)
        for to in self.to_numbers:
            if (event.event_id, to) in self._sent:
                continue
            try:
                self._client.messages.create(to=to, from_=self.from_number, body=body)
            except TwilioRestException as exc:
                raise _error(exc) from None
            except (TwilioException, requests.RequestException) as exc:
                raise SinkError(f"sms: {type(exc).__name__}: {exc}", retryable=True) from None
            self._sent.add((event.event_id, to))

    def close(self) -> None:
        session = getattr(self._http, "session", None)
        if session is not None:
            session.close()
