"""LiveKit's own ``SessionReport.to_dict()`` as a SessionRecord v1, losslessly.

livekit-agents ≥ 1.8 builds a SessionReport at session end (``ctx.make_session_report()`` in
the server's ``on_session_end`` hook; console recording writes it as ``session_report.json``).
The conversion maps what the contract has a place for and keeps the rest of the report,
byte for byte, under ``livekit_report`` (everything but ``chat_history``, which becomes
``transcript`` unchanged), so the original can always be rebuilt.

Plain dicts only: the in-agent collector uses this too and must stay light.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# SessionReport.close_reason is the proto enum name; the contract uses CloseEvent.reason.
_CLOSE_REASONS = {
    "CR_COMPLETED": "task_completed",
    "CR_ERROR": "error",
    "CR_JOB_SHUTDOWN": "job_shutdown",
    "CR_PARTICIPANT_DISCONNECTED": "participant_disconnected",
    "CR_USER_INITIATED": "user_initiated",
    "CR_TASK_COMPLETED": "task_completed",
}
_ERROR_SOURCES = {
    "llm_error": "llm",
    "stt_error": "stt",
    "tts_error": "tts",
    "realtime_model_error": "realtime",
    "interruption_detection_error": "interruption",
}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def session_id_of(report: Mapping[str, Any]) -> str | None:
    for key in ("room", "job_id", "room_id"):
        value = report.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _times(report: Mapping[str, Any], items: list[Any]) -> tuple[float, float, float | None]:
    created = [
        t for i in items if isinstance(i, Mapping) if (t := _num(i.get("created_at"))) is not None
    ]
    ended = _num(report.get("timestamp"))
    duration_ms = _num(report.get("duration_ms"))
    duration = duration_ms / 1000.0 if duration_ms is not None else None
    if ended is None:
        ended = max(created) if created else 0.0
    if duration is not None:
        started = ended - duration
    else:
        started = (
            _num(report.get("started_at"))
            or _num(report.get("audio_recording_started_at"))
            or (min(created) if created else ended)
        )
    return started, ended, duration


def _parse_json(raw: Any, *, as_object: bool) -> Any:
    import ast

    import orjson

    if not isinstance(raw, str):
        return raw if raw is not None or not as_object else {}
    text = raw.strip()
    if not text:
        return {} if as_object else raw
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        value = None
        if text[0] in "{[" and len(text) <= 100_000:
            try:
                value = ast.literal_eval(text)  # what LiveKit stores when a tool returns a dict
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                value = None
        if value is None:
            return {"_raw": raw} if as_object else raw
    if as_object and not isinstance(value, dict):
        return {"_value": value}
    return value


def _pair_calls(items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``function_call`` + ``function_call_output`` items as contract ``tool_calls``."""
    outputs = {str(i.get("call_id")): i for i in items if i.get("type") == "function_call_output"}
    calls: list[dict[str, Any]] = []
    for item in items:
        if item.get("type") != "function_call":
            continue
        cid = str(item.get("call_id") or "")
        out = outputs.get(cid)
        start = _num(item.get("created_at"))
        end = _num(out.get("created_at")) if out is not None else None
        calls.append(
            {
                "name": item.get("name") or (out.get("name") if out else "") or "",
                "call_id": cid,
                "arguments": _parse_json(item.get("arguments"), as_object=True),
                "output": _parse_json(out.get("output"), as_object=False) if out else None,
                "is_error": bool(out.get("is_error")) if out is not None else True,
                "started_at": _iso(start) if start is not None else None,
                "duration_ms": round((end - start) * 1000, 1)
                if start is not None and end is not None and end >= start
                else None,
            }
        )
    return calls


def _tool_calls(items: list[Any], events: list[Any]) -> list[dict[str, Any]]:
    calls = _pair_calls([i for i in items if isinstance(i, Mapping)])
    # tool_execution_updated events carry when each call really started and ended
    starts: dict[str, float] = {}
    ends: dict[str, float] = {}
    for ev in events:
        if not isinstance(ev, Mapping) or ev.get("type") != "tool_execution_updated":
            continue
        update = ev.get("update") or {}
        at = _num(ev.get("created_at"))
        if not isinstance(update, Mapping) or at is None:
            continue
        if update.get("type") == "tool_call_started":
            fc = update.get("function_call") or {}
            if isinstance(fc, Mapping) and fc.get("call_id"):
                starts[str(fc["call_id"])] = at
        elif update.get("type") == "tool_call_ended" and update.get("call_id"):
            ends[str(update["call_id"])] = at
    for call in calls:
        cid = call.get("call_id") or ""
        if cid in starts:
            call["started_at"] = _iso(starts[cid])
            if cid in ends and ends[cid] >= starts[cid]:
                call["duration_ms"] = round((ends[cid] - starts[cid]) * 1000, 1)
    return calls


def _errors(report: Mapping[str, Any], events: list[Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for ev in events:
        if not isinstance(ev, Mapping) or ev.get("type") != "error":
            continue
        err = ev.get("error")
        kind = err.get("type") if isinstance(err, Mapping) else None
        at = _num(ev.get("created_at"))
        entry: dict[str, Any] = {
            "at": _iso(at) if at is not None else None,
            "source": _ERROR_SOURCES.get(str(kind), str(kind) if kind else "agent"),
            "message": str(err.get("label") or kind) if isinstance(err, Mapping) else str(err),
        }
        if isinstance(err, Mapping) and "recoverable" in err:
            entry["recoverable"] = err["recoverable"]
        out.append(entry)
    if out:
        return out
    # without events, the report only has counts per source
    counts = report.get("errors")
    if isinstance(counts, Mapping):
        for source, n in counts.items():
            if isinstance(n, int) and not isinstance(n, bool) and n > 0:
                out.append(
                    {
                        "at": None,
                        "source": str(source),
                        "count": n,
                        "message": f"{n} {source} error(s) counted by LiveKit's report",
                    }
                )
    return out


def record_from_session_report(report: dict[str, Any]) -> dict[str, Any]:
    """Convert ``SessionReport.to_dict()`` into a SessionRecord v1 dict.

    The session id is ``room`` (the contract's dedup key), or ``job_id`` when the room is
    absent. Missing or mistyped pieces are left for the record validator to name.
    """
    chat = report.get("chat_history")
    transcript: Any = chat if isinstance(chat, Mapping) else {"items": []}
    items_raw = transcript.get("items") if isinstance(transcript, Mapping) else None
    items: list[Any] = items_raw if isinstance(items_raw, list) else []
    events_raw = report.get("events")
    events: list[Any] = events_raw if isinstance(events_raw, list) else []
    started, ended, duration = _times(report, items)

    close_reason = None
    for ev in events:
        if isinstance(ev, Mapping) and ev.get("type") == "close" and ev.get("reason"):
            close_reason = str(ev["reason"])
    if close_reason is None and isinstance(report.get("close_reason"), str):
        close_reason = _CLOSE_REASONS.get(report["close_reason"], report["close_reason"].lower())

    usage = report.get("usage")
    agent_name = report.get("agent_name")
    rest = {k: v for k, v in report.items() if k != "chat_history"}
    record: dict[str, Any] = {
        "schema_version": "1",
        "session_id": session_id_of(report),
        "agent": {"name": agent_name or None, "version": None},
        "started_at": _iso(started),
        "ended_at": _iso(ended),
        "duration_seconds": round(duration, 3)
        if duration is not None
        else round(max(0.0, ended - started), 3),
        "participant": {"metadata": {}},
        "consent": {"recording": True, "analytics": True},
        "transcript": dict(transcript),
        "metrics": [],
        "usage": {"model_usage": usage} if isinstance(usage, list) else {},
        "discovered_signals": {},
        "tool_calls": _tool_calls(items, events),
        "connection": {},
        "errors": _errors(report, events),
        "close_reason": close_reason,
        "tags": list(report.get("tags") or []) if isinstance(report.get("tags"), list) else [],
        "livekit_report": rest,
        "source_format": "livekit_session_report",
    }
    return record


def session_report_from_record(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """The original SessionReport dict of a converted record (None if it was not one)."""
    rest = record.get("livekit_report")
    if not isinstance(rest, Mapping):
        return None
    original = dict(rest)
    original["chat_history"] = record.get("transcript")
    return original


def report_from_recording(header: Mapping[str, Any], chat_history: Any) -> dict[str, Any]:
    """The SessionReport dict of a LiveKit recording upload (``/observability/recordings/v0``).

    ``header`` is ``MetricsRecordingHeader`` as plain fields (``session_summary`` is the
    report's JSON without chat history and events); ``chat_history`` is the decoded
    ``chat_history.json`` part (``ChatContext.to_dict(exclude_timestamp=False)``), or None
    when transcript upload is off. Header fields fill what the summary lacks.
    """
    import orjson

    summary: Any = {}
    raw = header.get("session_summary")
    if isinstance(raw, str | bytes) and raw:
        try:
            summary = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ValueError("header.session_summary is not valid JSON") from None
    if not isinstance(summary, dict):
        raise ValueError("header.session_summary is not a JSON object")
    report = dict(summary)
    for key in ("room_id", "job_id"):
        if not report.get(key) and header.get(key):
            report[key] = str(header[key])
    if not report.get("room") and header.get("room_name"):
        report["room"] = str(header["room_name"])
    if report.get("duration_ms") is None and _num(header.get("duration")):
        report["duration_ms"] = int(header["duration"])
    report["chat_history"] = chat_history if isinstance(chat_history, Mapping) else {"items": []}
    return report


def record_from_recording(
    header: Mapping[str, Any],
    chat_history: Any,
    *,
    annotations: Mapping[str, Any] | None = None,
    audio: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A SessionRecord v1 dict from a LiveKit recording upload plus what the OTLP logs and
    metrics added for the same job (``annotations``: ``evaluations``, ``outcome``,
    ``tag_metadata``, ``metrics``). Deterministic: the same inputs give the same record, so a
    retried upload is a duplicate and only new information makes a revision."""
    record = record_from_session_report(report_from_recording(header, chat_history))
    extra = dict(annotations or {})
    livekit: dict[str, Any] = {
        "room_id": header.get("room_id") or None,
        "job_id": header.get("job_id") or None,
        "room_name": header.get("room_name") or None,
        "simulated": bool(header.get("simulated")),
        "redaction_enabled": bool(header.get("redaction_enabled")),
        "recording_started_at": header.get("start_time") or None,
        "room_tags": dict(header.get("room_tags") or {}),
    }
    if audio:
        livekit["audio"] = dict(audio)
    if extra.get("tag_metadata"):
        livekit["tag_metadata"] = dict(extra["tag_metadata"])
    record["livekit_recording"] = livekit
    record["source_format"] = "livekit_recording"
    if extra.get("evaluations"):
        record["evaluations"] = list(extra["evaluations"])
    if extra.get("outcome"):
        record["outcome"] = dict(extra["outcome"])
    metrics = extra.get("metrics")
    if isinstance(metrics, Mapping) and metrics:
        record["metrics"] = [*record["metrics"], _otlp_metrics_event(metrics)]
    return record


def _otlp_metrics_event(totals: Mapping[str, Any]) -> dict[str, Any]:
    """One metrics event of the session's OTLP totals (keys are LiveKit's metric names)."""
    event: dict[str, Any] = {"type": "otlp_metrics"}
    newest = 0
    for name, total in sorted(totals.items()):
        if not isinstance(total, Mapping):
            continue
        if total.get("kind") == "histogram":
            event[f"{name}.sum"] = total.get("value")
            event[f"{name}.count"] = total.get("count")
        else:
            event[name] = total.get("value")
        at = total.get("at_ns")
        if isinstance(at, int) and at > newest:
            newest = at
    if newest:
        event["timestamp"] = newest / 1e9
    return event
