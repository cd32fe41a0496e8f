"""Amplitude through the official ``amplitude-analytics`` SDK (HTTP V2 API).

Every call becomes the strategy's events: ``voice_trial_session_completed``, one
``knowledge_base_searched`` per search, ``sales_meeting_booked``, one ``feature_discussed``
per feature, ``conversation_quality_measured`` and ``latency_measured``, plus an identify
that sets the user properties. The user is the caller's email, else the participant identity;
every event's time is the call's. Each event's ``insert_id`` is derived from the session and
the event's place in it (not the revision), so a re-delivery or a reprocessed call is
absorbed by Amplitude's deduplication and never counted twice.

The SDK batches in background threads and retries on its own; here it runs with
``flush_max_retries=1`` so each delivery reports its first outcome through the callbacks and
the dispatcher owns retries. The user deletion API (``erase``) is a plain HTTPS call: the SDK
has none.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from amplitude import Amplitude, BaseEvent, Config, EventOptions, Identify
from amplitude.event import IdentifyEvent

from callscope.sinks.base import ErasureRequest, Event, LeadEvent, SinkError, http_error
from callscope.sinks.config import AmplitudeDest
from callscope.sinks.field_map import call_context, lookup

# The SDK's callback codes: 0 / -1 network failure, 408 timeout, else the HTTP status.
_RETRYABLE = {-1, 0, 408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class Planned:
    key: str  # the event type's config key (session, knowledge_search, ...)
    name: str
    insert_id: str
    properties: dict[str, Any]


def _props(spec: Mapping[str, str], ctx: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for prop, path in spec.items():
        value = lookup(ctx, path)
        if value is not None:
            out[prop] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _items(event: LeadEvent, key: str) -> list[Mapping[str, Any]]:
    """The things a per-item event is about: the call's searches, its discussed features."""
    if key == "knowledge_search":
        return [c for c in event.tool_calls if c.get("kind") == "kb_search"]
    if key == "feature":
        found = lookup(event.analysis, "insights.feature_requests") or []
        return [f for f in found if isinstance(f, Mapping)]
    return []


def plan_events(event: LeadEvent, dest: AmplitudeDest) -> list[Planned]:
    """Every event one call sends, in order, with its properties and insert_id."""
    ctx = call_context(event)
    out: list[Planned] = []
    for key, (name, spec) in dest.event_specs().items():
        if key in ("knowledge_search", "feature"):
            for i, item in enumerate(_items(event, key)):
                props = _props(spec, {**ctx, "item": item})
                out.append(Planned(key, name, _insert_id(event, key, i), props))
            continue
        if key == "meeting" and not lookup(ctx, "tools.meeting_booked"):
            continue
        out.append(Planned(key, name, _insert_id(event, key, 0), _props(spec, ctx)))
    return out


def user_properties(event: LeadEvent, dest: AmplitudeDest) -> dict[str, Any]:
    return _props(dest.user_properties, call_context(event))


def _insert_id(event: LeadEvent, key: str, index: int) -> str:
    return f"callscope:{event.session_id}:{key}:{index}"


def _millis(ts: datetime | None) -> int | None:
    return int(ts.timestamp() * 1000) if ts is not None else None


class AmplitudeSink:
    kinds = frozenset({"lead"})

    def __init__(
        self, name: str, api_key: str, dest: AmplitudeDest, *, secret_key: str | None = None
    ) -> None:
        self.name = name
        self.dest = dest
        self.timeout = dest.timeout_s
        self._api_key = api_key
        self._secret_key = secret_key
        config = Config(flush_max_retries=1, flush_interval_millis=200, flush_queue_size=500)
        if dest.server_url:
            config.server_url = dest.server_url
        self._client = Amplitude(api_key, configuration=config)
        self._lock = threading.Lock()  # one call's events flushed and awaited at a time

    def deliver(self, event: Event) -> None:
        if not isinstance(event, LeadEvent):
            raise SinkError("amplitude: receives lead events only", retryable=False)
        user_id = event.email or event.participant_identity
        if not user_id:
            raise SinkError(
                f"amplitude: session {event.session_id} has no email or participant id",
                retryable=False,
            )
        with self._lock:
            outcomes = self._send(event, user_id)
        failed = [(code, msg) for code, msg in outcomes if code != 200]
        if failed:
            code, message = failed[0]
            retryable = all(c in _RETRYABLE for c, _ in failed)
            raise SinkError(f"amplitude: HTTP {code}: {message[:200]}", retryable=retryable)

    def _send(self, event: LeadEvent, user_id: str) -> list[tuple[int, str]]:
        outcomes: list[tuple[int, str]] = []
        done = threading.Semaphore(0)

        def on_result(_event: Any, code: int, message: str | None = None) -> None:
            outcomes.append((code, message or ""))
            done.release()

        sent = 0
        for e in self._events(event, user_id, on_result):
            self._client.track(e)
            sent += 1
        # flush() returns one future per destination plugin (None when nothing was buffered).
        futures = [f for f in (self._client.flush() or []) if f is not None]
        try:
            for future in futures:
                future.result(timeout=self.timeout)
        except Exception as exc:
            raise SinkError(f"amplitude: {type(exc).__name__}: {exc}", retryable=True) from None
        for _ in range(sent):
            # After a flush the callbacks have run, except when the SDK swallowed "Invalid API
            # key"; without a flush the background consumer took the events first.
            if not done.acquire(timeout=0.05 if futures else self.timeout):
                raise SinkError(
                    "amplitude: rejected without a result (invalid API key?)"
                    if futures
                    else "amplitude: no response in time",
                    retryable=not futures,
                )
        return outcomes

    def _events(self, event: LeadEvent, user_id: str, callback: Any) -> Iterator[BaseEvent]:
        at = _millis(event.started_at)
        props = user_properties(event, self.dest)
        if props:
            identify = Identify()
            for k, v in props.items():
                identify.set(k, v)
            ident = IdentifyEvent(user_properties=identify.user_properties)
            ident.load_event_options(
                EventOptions(user_id=user_id, time=at, insert_id=_insert_id(event, "identify", 0))
            )
            ident.event_callback = callback  # load_event_options copies fields, not the callback
            yield ident
        for planned in plan_events(event, self.dest):
            yield BaseEvent(
                event_type=planned.name,
                user_id=user_id,
                time=at,
                insert_id=planned.insert_id,
                event_properties=planned.properties,
                callback=callback,
            )

    def erase(self, request: ErasureRequest) -> None:
        """Amplitude's user deletion API: every id callscope may have sent for the person."""
        if not self._secret_key:
            raise SinkError(
                f"amplitude: erasure needs the secret key ({self.dest.secret_key_env})",
                retryable=False,
            )
        if not request.user_ids:
            return
        body = {
            "user_ids": list(request.user_ids),
            "requester": "callscope",
            "ignore_invalid_id": "True",
            "delete_from_org": "False",
        }
        try:
            resp = httpx.post(
                self.dest.deletion_url,
                json=body,
                auth=(self._api_key, self._secret_key),
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise SinkError(f"amplitude: {type(exc).__name__}: {exc}", retryable=True) from None
        if resp.status_code >= 300:
            raise http_error(
                "amplitude", resp.status_code, resp.text, resp.headers.get("Retry-After")
            )

    def close(self) -> None:
        self._client.shutdown()
