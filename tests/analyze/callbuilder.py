"""Build SessionRecords for analyzer tests: a compact list of turns in, a real record out."""

from __future__ import annotations

from typing import Any

from callscope.analyze import analyze_record, build_view, contract_output
from callscope.analyze.view import CallView
from callscope.contract.record import SessionRecord
from callscope.profile import Profile, load_profile

T0 = 1_790_000_000.0


def record(
    turns: list[dict[str, Any]], *, tools: list[dict[str, Any]] | None = None, **extra: Any
) -> SessionRecord:
    """``turns``: ``{"user": text}`` / ``{"agent": text}`` with optional ``interrupted``,
    ``metrics``, ``start``/``stop`` (seconds from call start); timestamps are generated."""
    items: list[dict[str, Any]] = []
    t = T0
    for i, turn in enumerate(turns):
        role = "user" if "user" in turn else "assistant"
        text = turn.get("user", turn.get("agent", ""))
        start = T0 + turn["start"] if "start" in turn else t + 0.8
        stop = T0 + turn["stop"] if "stop" in turn else start + 1.0 + 0.3 * len(str(text).split())
        metrics = {
            "started_speaking_at": start,
            "stopped_speaking_at": stop,
            **turn.get("metrics", {}),
        }
        items.append(
            {
                "id": f"item_{i}",
                "type": "message",
                "role": role,
                "content": [text],
                "interrupted": bool(turn.get("interrupted", False)),
                "metrics": metrics,
                "created_at": start,
            }
        )
        t = stop
    data: dict[str, Any] = {
        "schema_version": "1",
        "session_id": extra.pop("session_id", "test-session"),
        "started_at": "2026-10-14T15:00:00Z",
        "ended_at": "2026-10-14T15:03:00Z",
        "duration_seconds": extra.pop("duration_seconds", 180.0),
        "transcript": {"items": items},
        "tool_calls": tools or [],
    }
    data.update(extra)
    return SessionRecord.model_validate(data)


def view(turns: list[dict[str, Any]], **kw: Any) -> CallView:
    return build_view(record(turns, **kw))


def profile() -> Profile:
    return load_profile()


def contract(rec: SessionRecord) -> dict[str, Any]:
    return contract_output(analyze_record(rec, load_profile()))


def timeline_id(horizon: str | None) -> str | None:
    """The default profile's timeline value for a calendar horizon ("month" -> this_month)."""
    values = load_profile().fields["timeline"].values
    return next((vid for vid, v in values.items() if v.horizon == horizon), None)
