"""Amplitude through the official ``amplitude-analytics`` SDK (HTTP V2 API).

The SDK batches in background threads and retries on its own; here each delivery is one
event, sent with ``flush_max_retries=1`` so the SDK reports the first outcome through its
callback and the dispatcher owns retries. ``insert_id`` is the callscope event id, so
Amplitude's own deduplication (7 days) absorbs a re-send after a crash.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from amplitude import Amplitude, BaseEvent, Config

from callscope.sinks.base import Event, LeadEvent, SinkError

EVENT_TYPE = "voice_call_analyzed"
# The SDK's callback codes: 0 / -1 network failure, 408 timeout, else the HTTP status.
_RETRYABLE = {-1, 0, 408, 429, 500, 502, 503, 504}


def event_properties(event: LeadEvent) -> dict[str, Any]:
    props: dict[str, Any] = {
        "session_id": event.session_id,
        "revision": event.revision,
        "qualification_tier": event.tier,
        "lead_score": event.score,
        "hot_lead": event.hot_lead,
        "meeting_booked": event.meeting_booked,
        "duration_seconds": event.duration_seconds,
        "turn_count": event.turn_count,
        "tool_calls_count": event.tool_call_count,
        "sentiment": event.sentiment,
        "engagement_score": event.engagement_score,
    }
    return {k: v for k, v in props.items() if v is not None}


def user_properties(event: LeadEvent) -> dict[str, Any]:
    keys = ("team_size", "monthly_volume", "industry", "use_case", "current_tool")
    props = {k: event.signals[k] for k in keys if k in event.signals}
    props.update(qualification_tier=event.tier, lead_score=event.score)
    if event.company:
        props["company"] = event.company
    return {k: v for k, v in props.items() if v is not None}


def _millis(ts: datetime | None) -> int | None:
    return int(ts.timestamp() * 1000) if ts is not None else None


class AmplitudeSink:
    kinds = frozenset({"lead"})

    def __init__(
        self,
        name: str,
        api_key: str,
        *,
        server_url: str | None = None,
        timeout: float = 15.0,
    ) -> None:
        self.name = name
        self.timeout = timeout
        config = Config(flush_max_retries=1, flush_interval_millis=200)
        if server_url:
            config.server_url = server_url
        self._client = Amplitude(api_key, configuration=config)

    def deliver(self, event: Event) -> None:
        if not isinstance(event, LeadEvent):
            raise SinkError("amplitude: receives lead events only", retryable=False)
        user_id = event.email or event.participant_identity
        if not user_id:
            raise SinkError(
                f"amplitude: session {event.session_id} has no email or participant id",
                retryable=False,
            )
        done = threading.Event()
        outcome: list[tuple[int, str]] = []

        def on_result(_event: BaseEvent, code: int, message: str | None = None) -> None:
            outcome.append((code, message or ""))
            done.set()

        self._client.track(
            BaseEvent(
                event_type=EVENT_TYPE,
                user_id=user_id,
                time=_millis(event.started_at),
                insert_id=event.event_id,
                event_properties=event_properties(event),
                user_properties=user_properties(event),
                callback=on_result,
            )
        )
        # flush() returns one future per destination plugin (None when nothing was buffered).
        futures = [f for f in (self._client.flush() or []) if f is not None]
        try:
            for future in futures:
                future.result(timeout=self.timeout)
        except Exception as exc:
            raise SinkError(f"amplitude: {type(exc).__name__}: {exc}", retryable=True) from None
        # After a flush the callback has run, except when the SDK swallowed "Invalid API key";
        # without a flush the background consumer took the event and its callback is still due.
        if not done.wait(0 if futures else self.timeout):
            raise SinkError(
                "amplitude: rejected without a result (invalid API key?)"
                if futures
                else "amplitude: no response in time",
                retryable=not futures,
            )
        code, message = outcome[0]
        if code == 200:
            return
        raise SinkError(f"amplitude: HTTP {code}: {message[:200]}", retryable=code in _RETRYABLE)

    def close(self) -> None:
        self._client.shutdown()
