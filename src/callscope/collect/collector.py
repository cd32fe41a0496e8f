"""``attach(session, ...)``: turn one LiveKit ``AgentSession`` into one SessionRecord v1.

Event handlers run on the agent's event loop, so each one only appends a reference to a
list. At ``close`` the collector copies the list of chat items (pointers, not contents) and
hands everything to the background delivery; ``to_dict``, orjson, gzip, disk and network
all happen on the delivery's threads.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from callscope.collect import record as rec
from callscope.collect.delivery import Delivery, DeliveryOptions, DeliveryStats, get_delivery
from callscope.collect.transports import Transport

log = logging.getLogger("callscope.collect")

COLLECTOR_VERSION = "0.1.0"
# how long the encoder waits for the room's connection stats before building without them
STATS_WAIT_S = 2.0

_EVENTS = (
    "conversation_item_added",
    "function_tools_executed",
    "tool_execution_updated",
    "session_usage_updated",
    "agent_state_changed",
    "user_state_changed",
    "error",
    "close",
)


def metrics_collected_deprecated() -> bool:
    """True on livekit-agents versions where ``metrics_collected`` is deprecated (≥ 1.8):
    per-turn latency is on each ``ChatMessage.metrics``, usage on ``session_usage_updated``.
    """
    try:
        from livekit.agents.version import __version__
        from livekit.agents.voice.events import MetricsCollectedEvent
    except ImportError:
        return True
    if "deprecated" in (MetricsCollectedEvent.__doc__ or "").lower():
        return True
    try:
        major, minor = (int(p) for p in __version__.split(".")[:2])
    except ValueError:
        return True
    return (major, minor) >= (1, 8)


def _livekit_version() -> str | None:
    try:
        from livekit.agents.version import __version__
    except ImportError:
        return None
    return str(__version__)


@dataclass
class _Capture:
    """What the handlers collect: references only, appended on the event loop."""

    items: list[Any] = field(default_factory=list)
    tool_batches: list[tuple[list[Any], list[Any]]] = field(default_factory=list)
    tool_updates: list[tuple[Any, float]] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)
    metrics: list[Any] = field(default_factory=list)
    states: list[tuple[float, str, str]] = field(default_factory=list)
    usage: Any = None


class _SessionJob:
    """A closed session handed to the delivery; ``build`` runs on the encoder thread."""

    def __init__(
        self,
        collector: Collector,
        history_items: list[Any] | None,
        history_cls: type | None,
        close_event: Any,
        ended_at: float,
        signals: dict[str, Any],
    ) -> None:
        self.session_id = collector.session_id
        self._c = collector
        self._capture = collector._capture
        self._history_items = history_items
        self._history_cls = history_cls
        self._close = close_event
        self._ended_at = ended_at
        self._signals = signals
        self._stats: Any = None
        self._stats_ready = threading.Event()
        self._participant_obj: Any = collector._participant

    def set_connection(self, stats: Any, participant: Any) -> None:
        self._stats = stats
        if participant is not None and self._participant_obj is None:
            self._participant_obj = participant
        self._stats_ready.set()

    def build(self) -> dict[str, Any]:
        c, cap = self._c, self._capture
        if c._room is not None:
            self._stats_ready.wait(STATS_WAIT_S)
        consent = rec.consent_dict(c._consent)
        with_content = consent["analytics"]

        items = self._history_items if self._history_items is not None else []
        transcript = rec.transcript_items(items, self._history_cls)
        # items seen live but missing from history (an agent that rewrote its history)
        seen = {d.get("id") for d in transcript}
        missing = [i for i in cap.items if getattr(i, "id", None) not in seen]
        if self._history_items is None:
            transcript = rec.transcript_items(missing, self._history_cls) if missing else []
        elif missing:
            extra = rec.transcript_items(missing, self._history_cls)
            transcript = sorted(transcript + extra, key=lambda d: d.get("created_at") or 0.0)

        timings: dict[str, tuple[float | None, float | None]] = {}
        for update, at in cap.tool_updates:
            kind = getattr(update, "type", "")
            if kind == "tool_call_started":
                cid = getattr(getattr(update, "function_call", None), "call_id", None)
                if cid:
                    timings[cid] = (at, timings.get(cid, (None, None))[1])
            elif kind == "tool_call_ended":
                cid = getattr(update, "call_id", None)
                if cid:
                    timings[cid] = (timings.get(cid, (None, None))[0], at)
        pairs: list[tuple[Any, Any]] = []
        for calls, outputs in cap.tool_batches:
            by_id = {getattr(o, "call_id", None): o for o in outputs}
            pairs.extend((call, by_id.get(getattr(call, "call_id", None))) for call in calls)
        tools = rec.tool_calls(pairs, timings, with_content=with_content)

        errors = [rec.error_entry(e) for e in cap.errors]
        close_reason = None
        if self._close is not None:
            reason = getattr(self._close, "reason", None)
            close_reason = str(getattr(reason, "value", reason)) if reason is not None else None
            if getattr(self._close, "error", None) is not None:
                errors.append(rec.error_entry(self._close))

        participant = rec.participant_dict(self._participant_obj)
        connection: dict[str, Any] = {}
        if self._stats is not None:
            try:
                connection = rec.summarize_rtc_stats(self._stats)
            except Exception as exc:
                log.debug("callscope: could not read rtc stats: %s", exc)
        device = rec.device_from_participant(participant)
        if device:
            connection["device"] = device

        started = c._started_at()
        record: dict[str, Any] = {
            "schema_version": rec.SCHEMA_VERSION,
            "session_id": self.session_id,
            "agent": {"name": c._agent_name, "version": c._agent_version},
            "started_at": rec.iso(started),
            "ended_at": rec.iso(self._ended_at),
            "duration_seconds": round(max(0.0, self._ended_at - started), 3),
            "participant": participant,
            "consent": consent,
            "transcript": {"items": transcript if with_content else rec.strip_content(transcript)},
            "metrics": [rec.metrics_entry(m) for m in cap.metrics],
            "usage": rec.usage_dict(cap.usage),
            "discovered_signals": self._signals,
            "tool_calls": tools,
            "connection": connection,
            "errors": errors,
            "close_reason": close_reason,
            "state_timeline": [list(s) for s in cap.states],
            "collector": {
                "name": "callscope",
                "version": COLLECTOR_VERSION,
                "livekit_agents": _livekit_version(),
            },
        }
        if not with_content:
            record["transcript"]["redacted"] = "consent.analytics=false"
        return record


class Collector:
    """Watches one AgentSession; see :func:`attach`."""

    def __init__(
        self,
        session: Any,
        *,
        session_id: str,
        delivery: Delivery,
        participant: Any = None,
        consent: Any = None,
        room: Any = None,
        agent_name: str | None = None,
        agent_version: str | None = None,
    ) -> None:
        if not isinstance(session_id, str) or not session_id.strip():
            raise ValueError(
                "attach(): session_id must be a non-empty string (the LiveKit room name or job id)"
            )
        self.session_id = session_id
        self.delivery = delivery
        self._session = session
        self._participant = participant
        self._consent = consent
        self._room = room
        self._agent_name = agent_name
        self._agent_version = agent_version
        self._capture = _Capture()
        self._signals: dict[str, Any] = {}
        self._attached_at = time.time()
        self._closed = False
        self._handlers: list[tuple[str, Callable[[Any], None]]] = []
        self._error_logged = False

    # -- wiring ----------------------------------------------------------------------
    def _subscribe(self) -> None:
        table: dict[str, Callable[[Any], None]] = {
            "conversation_item_added": self._on_item,
            "function_tools_executed": self._on_tools,
            "tool_execution_updated": self._on_tool_update,
            "session_usage_updated": self._on_usage,
            "agent_state_changed": self._on_agent_state,
            "user_state_changed": self._on_user_state,
            "error": self._on_error,
            "close": self._on_close,
        }
        if not metrics_collected_deprecated():
            table["metrics_collected"] = self._on_metrics
        for name, handler in table.items():
            try:
                self._session.on(name, handler)
            except Exception as exc:  # an event this livekit version does not have
                log.debug("callscope: cannot subscribe to %s: %s", name, exc)
                continue
            self._handlers.append((name, handler))

    def _unsubscribe(self) -> None:
        for name, handler in self._handlers:
            with contextlib.suppress(Exception):
                self._session.off(name, handler)
        self._handlers.clear()

    def _oops(self, where: str, exc: BaseException) -> None:
        if not self._error_logged:
            self._error_logged = True
            log.warning(
                "callscope: collector error in %s for session %s: %s: %s "
                "(the call is unaffected; further errors are not logged)",
                where,
                self.session_id,
                type(exc).__name__,
                exc,
            )

    # -- handlers: on the event loop, O(1), never raise ------------------------------
    def _on_item(self, ev: Any) -> None:
        try:
            self._capture.items.append(ev.item)
        except Exception as exc:
            self._oops("conversation_item_added", exc)

    def _on_tools(self, ev: Any) -> None:
        try:
            self._capture.tool_batches.append((ev.function_calls, ev.function_call_outputs))
        except Exception as exc:
            self._oops("function_tools_executed", exc)

    def _on_tool_update(self, ev: Any) -> None:
        try:
            self._capture.tool_updates.append((ev.update, ev.created_at))
        except Exception as exc:
            self._oops("tool_execution_updated", exc)

    def _on_usage(self, ev: Any) -> None:
        try:
            self._capture.usage = ev.usage
        except Exception as exc:
            self._oops("session_usage_updated", exc)

    def _on_agent_state(self, ev: Any) -> None:
        try:
            self._capture.states.append((ev.created_at, "agent", ev.new_state))
        except Exception as exc:
            self._oops("agent_state_changed", exc)

    def _on_user_state(self, ev: Any) -> None:
        try:
            self._capture.states.append((ev.created_at, "user", ev.new_state))
        except Exception as exc:
            self._oops("user_state_changed", exc)

    def _on_error(self, ev: Any) -> None:
        try:
            self._capture.errors.append(ev)
        except Exception as exc:
            self._oops("error", exc)

    def _on_metrics(self, ev: Any) -> None:
        try:
            self._capture.metrics.append(ev.metrics)
        except Exception as exc:
            self._oops("metrics_collected", exc)

    def _on_close(self, ev: Any) -> None:
        try:
            self._finish(ev, getattr(ev, "created_at", None) or time.time())
        except Exception as exc:
            self._oops("close", exc)

    # -- close -----------------------------------------------------------------------
    def _finish(self, close_event: Any, ended_at: float) -> None:
        if self._closed:
            return
        self._closed = True
        self._unsubscribe()
        history = getattr(self._session, "history", None)
        items = getattr(history, "items", None)
        job = _SessionJob(
            self,
            list(items) if items is not None else None,
            type(history) if items is not None else None,
            close_event,
            ended_at,
            dict(self._signals),
        )
        if self._room is not None:
            try:
                import asyncio  # only on the agent's loop; kept off the import path

                asyncio.get_running_loop().create_task(self._fetch_connection(job))
            except RuntimeError:
                job.set_connection(None, None)
        self.delivery.submit(job)

    async def _fetch_connection(self, job: _SessionJob) -> None:
        stats: Any = None
        participant: Any = None
        room = self._room
        try:
            if self._participant is None:
                remotes = getattr(room, "remote_participants", None) or {}
                participant = next(iter(remotes.values()), None)
            connected = getattr(room, "isconnected", None)
            if connected is None or connected():
                import asyncio

                stats = await asyncio.wait_for(room.get_rtc_stats(), timeout=1.0)
        except Exception as exc:
            log.debug("callscope: no connection stats for %s: %s", self.session_id, exc)
        finally:
            job.set_connection(stats, participant)

    def _started_at(self) -> float:
        started = getattr(self._session, "_started_at", None)
        return float(started) if isinstance(started, int | float) else self._attached_at

    # -- public ----------------------------------------------------------------------
    def note_signal(self, name: str, value: Any) -> None:
        """Record something the live agent learned (keys as in the contract's vocabulary)."""
        try:
            self._signals[str(name)] = value
        except Exception as exc:
            self._oops("note_signal", exc)

    def close(self, reason: str = "collector_closed") -> None:
        """Ship the record now, for sessions that end without a ``close`` event."""
        try:
            self._finish(_ManualClose(reason), time.time())
        except Exception as exc:
            self._oops("close", exc)

    @property
    def closed(self) -> bool:
        return self._closed

    def flush(self, timeout: float = 5.0) -> bool:
        """Block until records handed over so far are delivered; False on timeout (they stay
        spooled). From async code use ``await asyncio.to_thread(collector.flush, 5)``."""
        try:
            return self.delivery.flush(timeout)
        except Exception as exc:
            self._oops("flush", exc)
            return False

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Flush, then stop the delivery threads of this transport (process shutdown)."""
        try:
            return self.delivery.shutdown(timeout)
        except Exception as exc:
            self._oops("shutdown", exc)
            return False

    def stats(self) -> DeliveryStats:
        return self.delivery.stats()


@dataclass
class _ManualClose:
    reason: str
    error: Any = None


def attach(
    session: Any,
    *,
    session_id: str,
    transport: str | Transport,
    participant: Any = None,
    consent: Any = None,
    room: Any = None,
    agent_name: str | None = None,
    agent_version: str | None = None,
    token: str | None = None,
    spool_dir: str | Path | None = None,
    options: DeliveryOptions | None = None,
) -> Collector:
    """Collect one AgentSession into a SessionRecord v1, delivered when it closes.

    ``transport``: ``https://ingest.example.com`` (callscope ingest, ``token`` as bearer),
    ``file:///var/lib/callscope/out``, ``sqs://HOST/ACCOUNT/QUEUE`` or
    ``redis://HOST:PORT/STREAM``. ``consent``: ``{"recording": bool, "analytics": bool}``;
    with ``analytics`` false no transcript text or tool arguments leave the process.
    Raises only for unusable arguments (bad URL, empty session id), at attach time.
    """
    opts = options or DeliveryOptions()
    if spool_dir is not None:
        from dataclasses import replace

        opts = replace(opts, spool_dir=Path(spool_dir))
    delivery = get_delivery(transport, token=token, options=opts)
    collector = Collector(
        session,
        session_id=session_id,
        delivery=delivery,
        participant=participant,
        consent=consent,
        room=room,
        agent_name=agent_name,
        agent_version=agent_version,
    )
    collector._subscribe()
    delivery.start()  # threads, spool recovery and client set-up happen off the loop, now
    return collector
