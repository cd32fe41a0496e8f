"""Consent applied to a SessionRecord dict before anything derives from it.

``consent.analytics == false``: the caller agreed to the call, not to having it analysed. What
is kept is operational metrics only (timings, usage and cost, connection quality, error
sources, close reason) so the operator can still run the service; everything said on the
call or derived from what was said goes: transcript text, tool arguments and outputs, the
agent's discovered signals, the participant's name, email and metadata, and error messages
(which can quote the caller). The participant's ``identity`` stays as the join key.

``consent.recording == false``: no recording of the conversation may be kept. The transcript
*is* the recording in text form, so it is dropped with the tool arguments and outputs, while
metrics and the signals the agent noted live stay (analysis may go on, but only from what
the agent recorded itself, never from a transcript).

A record without a ``consent`` object is treated as consenting: the collector fills it from
the room, and its absence means the deployment did not ask (documented for operators).
"""

from __future__ import annotations

import copy
from typing import Any

_TEXT_ITEM_TYPES = {"message", "function_call", "function_call_output"}
_DROP_WHEN_NO_ANALYTICS = ("discovered_signals",)


def _metrics_only_transcript(transcript: Any) -> dict[str, Any]:
    """Keep the per-turn metrics (latency lives there in livekit-agents 1.8), drop all text."""
    items: list[dict[str, Any]] = []
    if isinstance(transcript, dict):
        for item in transcript.get("items") or []:
            if not isinstance(item, dict) or item.get("type") not in _TEXT_ITEM_TYPES:
                continue
            kept = {
                k: item[k]
                for k in ("id", "type", "role", "interrupted", "metrics", "created_at", "is_error")
                if k in item
            }
            if item.get("type") == "message":
                kept["content"] = []
            items.append(kept)
    return {"items": items}


def _strip_tools(tool_calls: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for call in tool_calls or []:
        if isinstance(call, dict):
            out.append(
                {k: call[k] for k in ("name", "is_error", "started_at", "duration_ms") if k in call}
                | {"arguments": {}, "output": None}
            )
    return out


def consent_of(record: dict[str, Any]) -> tuple[bool, bool]:
    """``(recording, analytics)``; missing flags count as given."""
    consent = record.get("consent") or {}
    return bool(consent.get("recording", True)), bool(consent.get("analytics", True))


def apply_consent(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``record`` with whatever its consent does not allow removed."""
    recording, analytics = consent_of(record)
    if recording and analytics:
        return record
    out = copy.deepcopy(record)
    out["transcript"] = _metrics_only_transcript(record.get("transcript"))
    out["tool_calls"] = _strip_tools(record.get("tool_calls"))
    if not analytics:
        for key in _DROP_WHEN_NO_ANALYTICS:
            if key in out:
                out[key] = {}
        participant = out.get("participant")
        if isinstance(participant, dict):
            out["participant"] = {"identity": participant.get("identity", "")}
        if isinstance(out.get("errors"), list):
            out["errors"] = [
                {k: e[k] for k in ("at", "source") if k in e}
                for e in out["errors"]
                if isinstance(e, dict)
            ]
    return out


def text_allowed(record: dict[str, Any]) -> bool:
    """Whether text-derived analysis (signals, sentiment, summary) may run on this record."""
    recording, analytics = consent_of(record)
    return analytics and recording
