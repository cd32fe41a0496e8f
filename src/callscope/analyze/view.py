"""A read-only, analysis-friendly view of one SessionRecord.

Built once per session and shared by every analyzer, so each module reads plain dataclasses
instead of re-walking the wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callscope.contract.record import SessionRecord
from callscope.contract.turns import numeric_metrics, text_of


@dataclass(frozen=True, slots=True)
class Turn:
    """One spoken message. ``index`` is its position among messages (0-based)."""

    index: int
    role: str  # "user" | "assistant" | "system" | "developer"
    text: str
    interrupted: bool
    created_at: float | None
    metrics: dict[str, float]
    confidence: float | None
    item_index: int  # position in transcript.items

    @property
    def is_user(self) -> bool:
        return self.role == "user"

    @property
    def is_agent(self) -> bool:
        return self.role == "assistant"

    @property
    def started_speaking_at(self) -> float | None:
        return self.metrics.get("started_speaking_at")

    @property
    def stopped_speaking_at(self) -> float | None:
        return self.metrics.get("stopped_speaking_at")


@dataclass(frozen=True, slots=True)
class ToolUse:
    name: str
    arguments: dict[str, Any]
    output: Any
    is_error: bool
    started_at: datetime | None
    duration_ms: float | None
    after_turn: int | None  # index of the last Turn before the call, when known


@dataclass(frozen=True, slots=True)
class CallView:
    session_id: str
    record: SessionRecord
    turns: tuple[Turn, ...]
    tools: tuple[ToolUse, ...]
    started_at: datetime
    ended_at: datetime
    duration_s: float
    analytics_consent: bool
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def user_turns(self) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.is_user)

    @property
    def agent_turns(self) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.is_agent)


def build_view(record: SessionRecord) -> CallView:
    turns: list[Turn] = []
    calls_at: dict[str, int | None] = {}
    transcript_calls: list[tuple[str, int | None]] = []
    for pos, item in enumerate(record.transcript.items):
        data = item.model_extra or {}
        if item.type == "message":
            role = str(data.get("role", ""))
            if role not in ("user", "assistant"):
                continue
            conf = data.get("transcript_confidence")
            turns.append(
                Turn(
                    index=len(turns),
                    role=role,
                    text=text_of(data.get("content")),
                    interrupted=bool(data.get("interrupted", False)),
                    created_at=item.created_at,
                    metrics=numeric_metrics(data.get("metrics")),
                    confidence=float(conf) if isinstance(conf, int | float) else None,
                    item_index=pos,
                )
            )
        elif item.type == "function_call":
            last = turns[-1].index if turns else None
            calls_at[str(data.get("call_id", pos))] = last
            transcript_calls.append((str(data.get("name", "")), last))
    # tool_calls carry outputs and timings; the transcript tells where in the call they came.
    tools: list[ToolUse] = []
    by_name: dict[str, list[int | None]] = {}
    for name, last in transcript_calls:
        by_name.setdefault(name, []).append(last)
    for tc in record.tool_calls:
        positions = by_name.get(tc.name) or []
        after = positions.pop(0) if positions else None
        tools.append(
            ToolUse(
                tc.name, tc.arguments, tc.output, tc.is_error, tc.started_at, tc.duration_ms, after
            )
        )
    return CallView(
        session_id=record.session_id,
        record=record,
        turns=tuple(turns),
        tools=tuple(tools),
        started_at=record.started_at,
        ended_at=record.ended_at,
        duration_s=record.duration,
        analytics_consent=record.consent.analytics,
    )
