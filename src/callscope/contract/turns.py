"""The spoken turns of a record's transcript, as the warehouse stores them.

A reading of the wire format, so every stage that needs turns (the store's transcript rows,
the analyzers' view) can share it without depending on one another.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from callscope.contract.record import SessionRecord


class TurnLike(Protocol):
    """What a reader of turns uses (``callscope.analyze.view.Turn`` has the same shape)."""

    @property
    def index(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def interrupted(self) -> bool: ...
    @property
    def created_at(self) -> float | None: ...
    @property
    def metrics(self) -> Mapping[str, float]: ...
    @property
    def confidence(self) -> float | None: ...
    @property
    def item_index(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SpokenTurn:
    """One user or agent message. ``index`` is its position among messages (0-based)."""

    index: int
    role: str
    text: str
    interrupted: bool
    created_at: float | None
    metrics: dict[str, float]
    confidence: float | None
    item_index: int  # position in transcript.items


def text_of(content: Any) -> str:
    """The words of a message's ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [
            c if isinstance(c, str) else (c.get("text") or c.get("transcript") or "")
            for c in content
            if isinstance(c, str | dict)
        ]
        return " ".join(p for p in parts if isinstance(p, str) and p).strip()
    return ""


def numeric_metrics(raw: Any) -> dict[str, float]:
    if not isinstance(raw, dict):
        return {}
    return {
        k: float(v)
        for k, v in raw.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def spoken_turns(record: SessionRecord) -> tuple[SpokenTurn, ...]:
    """The user and assistant messages of the transcript, in order."""
    turns: list[SpokenTurn] = []
    for pos, item in enumerate(record.transcript.items):
        if item.type != "message":
            continue
        data = item.model_extra or {}
        role = str(data.get("role", ""))
        if role not in ("user", "assistant"):
            continue
        conf = data.get("transcript_confidence")
        turns.append(
            SpokenTurn(
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
    return tuple(turns)
