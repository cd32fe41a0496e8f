"""Building a SessionRecord v1 (as a plain dict) from what the collector captured.

Everything here runs on the encoder thread, never on the agent's event loop. It reads
livekit-agents objects duck-typed (``model_dump``, ``to_dict``) so the collector imports
nothing of livekit at import time and keeps working across 1.x minor versions.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

SCHEMA_VERSION = "1"
# to_dict this many chat items at a time, then let the event loop have the GIL
CHUNK_ITEMS = 24

_ERROR_SOURCES = {
    "llm_error": "llm",
    "stt_error": "stt",
    "tts_error": "tts",
    "realtime_model_error": "realtime",
    "interruption_detection_error": "interruption",
}


def iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def transcript_items(items: list[Any], history_cls: type | None) -> list[dict[str, Any]]:
    """``ChatContext(items).to_dict(exclude_timestamp=False)["items"]``, a chunk at a time.

    ``to_dict`` treats every item on its own, so chunking gives exactly the same list while
    letting the agent's event loop run between chunks.
    """
    out: list[dict[str, Any]] = []
    if not items:
        return out
    if history_cls is None:
        return [_item_dict(item) for item in items]
    for start in range(0, len(items), CHUNK_ITEMS):
        chunk = history_cls(items[start : start + CHUNK_ITEMS])
        out.extend(chunk.to_dict(exclude_timestamp=False)["items"])
        time.sleep(0)  # release the GIL: the agent's loop must not wait on our dumping
    return out


def _item_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    dump = getattr(item, "model_dump", None)
    if callable(dump):
        result = dump(mode="json", exclude_none=True)
        return result if isinstance(result, dict) else {"value": result}
    return {"type": "unknown", "repr": repr(item)}


def parse_arguments(raw: Any) -> dict[str, Any]:
    """LiveKit keeps function-call arguments as a JSON string."""
    if isinstance(raw, Mapping):
        return dict(raw)
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {"_raw": raw}
    return value if isinstance(value, dict) else {"_value": value}


def parse_output(raw: Any) -> Any:
    """A tool's output as data when it is JSON (or a Python literal, which is what LiveKit
    stores when a tool returns a dict), else the string as is."""
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if not text or text[0] not in "{[":
        return raw
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    if len(text) <= 100_000:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            pass
    return raw


def tool_calls(
    pairs: Iterable[tuple[Any, Any]],
    timings: Mapping[str, tuple[float | None, float | None]],
    *,
    with_content: bool,
) -> list[dict[str, Any]]:
    """``{name, arguments, output, is_error, started_at, duration_ms}`` per executed call."""
    out: list[dict[str, Any]] = []
    for call, output in pairs:
        call_id = getattr(call, "call_id", None) or ""
        start, end = timings.get(call_id, (None, None))
        if start is None:
            start = getattr(call, "created_at", None)
        if end is None and output is not None:
            end = getattr(output, "created_at", None)
        duration = (
            round((end - start) * 1000, 1)
            if start is not None and end is not None and end >= start
            else None
        )
        entry: dict[str, Any] = {
            "name": getattr(call, "name", None) or getattr(output, "name", "") or "",
            "call_id": call_id,
            "arguments": parse_arguments(getattr(call, "arguments", None)) if with_content else {},
            "output": parse_output(getattr(output, "output", None))
            if with_content and output is not None
            else None,
            "is_error": bool(getattr(output, "is_error", False)) if output is not None else True,
            "started_at": iso(start),
            "duration_ms": duration,
        }
        out.append(entry)
    return out


def usage_dict(usage: Any) -> dict[str, Any]:
    """``session_usage_updated``'s usage as ``{"model_usage": [...]}``."""
    if usage is None:
        return {}
    if isinstance(usage, Mapping):
        return dict(usage)
    entries = getattr(usage, "model_usage", None)
    if entries is None:
        dump = getattr(usage, "model_dump", None)
        return dump() if callable(dump) else {"repr": repr(usage)}
    model_usage = []
    for entry in entries:
        dump = getattr(entry, "model_dump", None)
        model_usage.append(dump() if callable(dump) else dict(entry))
    return {"model_usage": model_usage}


def error_entry(event: Any) -> dict[str, Any]:
    """``{at, source, message}`` from an ``ErrorEvent`` (or a close event's error)."""
    err = getattr(event, "error", event)
    kind = getattr(err, "type", None)
    inner = getattr(err, "error", None)
    message = str(inner) if inner is not None else (str(err) if err is not None else "")
    source_obj = getattr(event, "source", None)
    entry: dict[str, Any] = {
        "at": iso(getattr(event, "created_at", None) or getattr(err, "timestamp", None)),
        "source": _ERROR_SOURCES.get(str(kind), str(kind) if kind else "agent"),
        "message": message or type(inner or err).__name__,
    }
    if inner is not None:
        entry["error_type"] = type(inner).__name__
    for attr in ("label", "recoverable"):
        value = getattr(err, attr, None)
        if value is not None:
            entry[attr] = value
    if source_obj is not None and hasattr(source_obj, "provider"):
        entry["provider"] = getattr(source_obj, "provider", None)
        entry["model"] = getattr(source_obj, "model", None)
    return entry


def metrics_entry(metrics: Any) -> dict[str, Any]:
    dump = getattr(metrics, "model_dump", None)
    if callable(dump):
        result = dump()
        return result if isinstance(result, dict) else {"value": result}
    return dict(metrics) if isinstance(metrics, Mapping) else {"repr": repr(metrics)}


def summarize_rtc_stats(stats: Any) -> dict[str, Any]:
    """Bandwidth, packet loss, jitter and round-trip time from ``Room.get_rtc_stats()``."""
    transport_in = transport_out = rtp_in = rtp_out = 0
    received = lost = 0
    jitters: list[float] = []
    rtts: list[float] = []
    groups = (
        getattr(stats, "publisher_stats", []) or [],
        getattr(stats, "subscriber_stats", []) or [],
    )
    for group in groups:
        for st in group:
            kind = st.WhichOneof("stats")
            if kind == "transport":
                transport_in += st.transport.transport.bytes_received
                transport_out += st.transport.transport.bytes_sent
            elif kind == "inbound_rtp":
                rx = st.inbound_rtp.received
                received += rx.packets_received
                lost += max(0, rx.packets_lost)
                if rx.jitter > 0:
                    jitters.append(rx.jitter)
                rtp_in += st.inbound_rtp.inbound.bytes_received
            elif kind == "outbound_rtp":
                rtp_out += st.outbound_rtp.sent.bytes_sent
            elif kind == "remote_inbound_rtp":
                rtt = st.remote_inbound_rtp.remote_inbound.round_trip_time
                if rtt > 0:
                    rtts.append(rtt)
            elif kind == "candidate_pair":
                rtt = st.candidate_pair.candidate_pair.current_round_trip_time
                if rtt > 0:
                    rtts.append(rtt)
    out: dict[str, Any] = {
        "bandwidth_in_bytes": transport_in or rtp_in or None,
        "bandwidth_out_bytes": transport_out or rtp_out or None,
        "packet_loss_pct": round(100.0 * lost / (received + lost), 3) if received + lost else None,
        "jitter_ms": round(1000.0 * sum(jitters) / len(jitters), 3) if jitters else None,
    }
    if rtts:
        out["rtt_ms"] = round(1000.0 * sum(rtts) / len(rtts), 3)
    return {k: v for k, v in out.items() if v is not None}


def participant_dict(participant: Any) -> dict[str, Any]:
    """``{identity, name?, email?, metadata{}}`` from a dict, an rtc participant or a str."""
    if participant is None:
        return {}
    if isinstance(participant, str):
        return {"identity": participant, "metadata": {}}
    if isinstance(participant, Mapping):
        out = dict(participant)
        out.setdefault("metadata", {})
        return out
    out = {
        "identity": getattr(participant, "identity", None) or None,
        "name": getattr(participant, "name", None) or None,
    }
    metadata: Any = getattr(participant, "metadata", None) or {}
    if isinstance(metadata, str):
        try:
            metadata = orjson.loads(metadata) if metadata.strip() else {}
        except orjson.JSONDecodeError:
            metadata = {"raw": metadata}
    if not isinstance(metadata, dict):
        metadata = {"value": metadata}
    attributes = getattr(participant, "attributes", None)
    if attributes:
        metadata = {**metadata, "attributes": dict(attributes)}
    email = metadata.get("email") if isinstance(metadata.get("email"), str) else None
    if email:
        out["email"] = email
    out["metadata"] = metadata
    kind = getattr(participant, "kind", None)
    if kind is not None:
        out["kind"] = int(kind) if isinstance(kind, int) else str(kind)
    return {k: v for k, v in out.items() if v is not None}


def device_from_participant(participant: Mapping[str, Any]) -> dict[str, Any]:
    meta = participant.get("metadata") or {}
    attrs = meta.get("attributes") or {} if isinstance(meta, Mapping) else {}
    device: dict[str, Any] = {}
    for key in ("browser", "os", "location"):
        for source in (attrs, meta):
            if isinstance(source, Mapping) and isinstance(source.get(key), str):
                device[key] = source[key]
                break
    return device


def consent_dict(consent: Any) -> dict[str, Any]:
    if consent is None:
        return {"recording": True, "analytics": True}
    if isinstance(consent, bool):
        return {"recording": consent, "analytics": consent}
    if isinstance(consent, Mapping):
        out = dict(consent)
    else:
        out = {k: getattr(consent, k) for k in ("recording", "analytics") if hasattr(consent, k)}
    out["recording"] = bool(out.get("recording", True))
    out["analytics"] = bool(out.get("analytics", True))
    return out


def strip_content(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Transcript items without what was said: keeps types, roles, timings and metrics."""
    out: list[dict[str, Any]] = []
    for item in items:
        kind = item.get("type")
        kept = {
            k: v
            for k, v in item.items()
            if k
            not in (
                "content",
                "arguments",
                "output",
                "instructions",
                "extra",
                "transcript_confidence",
            )
        }
        if kind == "message":
            kept["content"] = []
        out.append(kept)
    return out
