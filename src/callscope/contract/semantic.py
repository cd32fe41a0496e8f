"""Checks a JSON schema cannot express: values that are well-typed but impossible.

A record that passes here is safe to key storage by, serialise again, and analyse: the
session id has visible characters and no control characters, the JSON is not nested deeper
than any real record (orjson cannot re-serialise past 255 levels, so a deeper one would fail
later, far from the sender), and times, durations, latencies and packet loss are physically
possible. Each failure is a :class:`RecordError` with the field path, answered as a 422.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from callscope.contract.errors import RecordError

MAX_DEPTH = 64
EARLIEST_YEAR = 2000
# Records are written at the end of a call; more than this far in the future is a broken clock.
MAX_FUTURE_DAYS = 366

# Metric keys that are durations, latencies or sizes: never negative when present.
_NONNEGATIVE_ENDINGS = ("_ms", "_s", "_bytes")
_NONNEGATIVE_WORDS = ("duration", "latency", "delay", "ttft", "ttfb")
_CONNECTION_NONNEGATIVE = ("bandwidth_in_bytes", "bandwidth_out_bytes", "jitter_ms")


def json_depth_exceeds(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests objects/arrays more than ``limit`` deep (iterative, no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, Mapping):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def check_depth(data: Any, source: str) -> None:
    if json_depth_exceeds(data):
        raise RecordError(
            source,
            f"JSON nested deeper than {MAX_DEPTH} levels",
            reason="too_deep",
            session_id=_sid(data),
        )


def check_session_id(value: Any, source: str) -> None:
    """Refuse ids that are blank or carry control characters (newlines break keys and logs)."""
    if not isinstance(value, str) or not value:
        return  # the schema names the type error and the empty string
    if not value.strip():
        raise RecordError(
            source, "session_id is blank", field="session_id", reason="invalid_session_id"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise RecordError(
            source,
            "session_id contains control characters",
            field="session_id",
            reason="invalid_session_id",
        )


def _bad(source: str, message: str, field: str, sid: str | None) -> RecordError:
    return RecordError(source, message, field=field, reason="semantic", session_id=sid)


def check_times(
    started: datetime, ended: datetime, source: str, sid: str | None, now: datetime | None = None
) -> None:
    latest = (now or datetime.now(UTC)).year + 1
    for name, value in (("started_at", started), ("ended_at", ended)):
        if not EARLIEST_YEAR <= value.year <= latest:
            raise _bad(source, f"year {value.year} is outside {EARLIEST_YEAR}..{latest}", name, sid)
    if ended < started:
        raise _bad(
            source,
            f"ended_at is {(started - ended).total_seconds():.3f}s before started_at",
            "ended_at",
            sid,
        )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _timing_key(key: str) -> bool:
    low = key.lower()
    if low.endswith("_at"):
        return False
    return low.endswith(_NONNEGATIVE_ENDINGS) or any(w in low for w in _NONNEGATIVE_WORDS)


def _negative_timings(obj: Mapping[str, Any], path: str) -> Iterator[tuple[str, float]]:
    for key, value in obj.items():
        if not isinstance(key, str) or not _timing_key(key):
            continue
        n = _number(value)
        if n is not None and (n < 0 or math.isinf(n)):
            yield f"{path}.{key}", n


def _timing_places(data: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], str]]:
    """The objects whose numeric timing fields must not be negative, with their paths."""
    metrics = data.get("metrics")
    if isinstance(metrics, list):
        for i, m in enumerate(metrics):
            if isinstance(m, Mapping):
                yield m, f"metrics[{i}]"
    transcript = data.get("transcript")
    items = transcript.get("items") if isinstance(transcript, Mapping) else None
    if isinstance(items, list):
        for i, item in enumerate(items):
            per_turn = item.get("metrics") if isinstance(item, Mapping) else None
            if isinstance(per_turn, Mapping):
                yield per_turn, f"transcript.items[{i}].metrics"
    calls = data.get("tool_calls")
    if isinstance(calls, list):
        for i, call in enumerate(calls):
            if isinstance(call, Mapping):
                yield {"duration_ms": call.get("duration_ms")}, f"tool_calls[{i}]"


def check_values(data: Mapping[str, Any], source: str) -> None:
    """Negative durations/latencies and out-of-range connection figures."""
    sid = _sid(data)
    duration = _number(data.get("duration_seconds"))
    if duration is not None and duration < 0:
        raise _bad(source, f"duration_seconds is negative ({duration:g})", "duration_seconds", sid)
    for obj, path in _timing_places(data):
        for field, value in _negative_timings(obj, path):
            raise _bad(source, f"negative duration or latency ({value:g})", field, sid)
    connection = data.get("connection")
    if not isinstance(connection, Mapping):
        return
    loss = _number(connection.get("packet_loss_pct"))
    if loss is not None and not 0 <= loss <= 100:
        raise _bad(
            source, f"packet loss {loss:g}% is outside 0..100", "connection.packet_loss_pct", sid
        )
    for key in _CONNECTION_NONNEGATIVE:
        n = _number(connection.get(key))
        if n is not None and n < 0:
            raise _bad(source, f"{key} is negative ({n:g})", f"connection.{key}", sid)


def _sid(data: Any) -> str | None:
    value = data.get("session_id") if isinstance(data, Mapping) else None
    return value if isinstance(value, str) else None
