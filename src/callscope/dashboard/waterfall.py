"""The session page's per-turn waterfall, from LiveKit's OTLP spans.

Each ``agent_turn`` span is one row group. Its stages are the voice pipeline's, in order —
STT (``lk.transcription_delay``) → EOU (``lk.end_of_turn_delay``, both on the ``user_turn``
span that led to it) → LLM TTFT (``lk.response.ttft`` on ``llm_node``) → TTS TTFB
(``lk.response.ttfb`` on ``tts_node``) — laid end to end, so their sum is the turn's latency
as the caller heard it; a text-only session has only the LLM stage. Below them, every span
inside the turn (``llm_node``, ``function_tool``, ``tts_node``, ``agent_speaking``...) as a
bar at its offset from the turn's start. Only names and timings are shown: span attributes
hold what was said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from callscope.store.telemetry import SpanRow

_STAGES = (
    ("stt", "STT", "user_turn", "lk.transcription_delay"),
    ("eou", "EOU", "user_turn", "lk.end_of_turn_delay"),
    ("llm_ttft", "LLM TTFT", "llm_node", "lk.response.ttft"),
    ("tts_ttfb", "TTS TTFB", "tts_node", "lk.response.ttfb"),
)
MAX_TURNS = 200
MAX_SPANS_PER_TURN = 40


def _seconds(attrs: Mapping[str, Any], key: str) -> float | None:
    value = attrs.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return float(value)


def _descendants(root: SpanRow, children: Mapping[str, list[SpanRow]]) -> list[SpanRow]:
    out: list[SpanRow] = []
    stack = list(children.get(root.span_id, []))
    while stack and len(out) < 10 * MAX_SPANS_PER_TURN:
        span = stack.pop()
        out.append(span)
        stack.extend(children.get(span.span_id, []))
    return sorted(out, key=lambda s: (s.start_ns, s.name))


def _user_turn_for(turn: SpanRow, user_turns: Sequence[SpanRow]) -> SpanRow | None:
    """The latest user turn that ended by the time this agent turn started."""
    best = None
    for span in user_turns:
        if span.end_ns <= turn.start_ns + 1_000_000 and (best is None or span.end_ns > best.end_ns):
            best = span
    return best


def _stages(turn_spans: Sequence[SpanRow], user_turn: SpanRow | None) -> list[dict[str, Any]]:
    by_name: dict[str, SpanRow] = {}
    for span in turn_spans:
        by_name.setdefault(span.name, span)  # the first llm_node / tts_node of the turn
    if user_turn is not None:
        by_name["user_turn"] = user_turn
    stages: list[dict[str, Any]] = []
    at = 0.0
    for key, label, span_name, attr in _STAGES:
        found = by_name.get(span_name)
        value = _seconds(found.attributes, attr) if found is not None else None
        if value is None:
            continue
        stages.append({"key": key, "label": label, "start_ms": at, "ms": round(value * 1000, 1)})
        at += value * 1000
    return stages


def waterfall(spans: Sequence[SpanRow]) -> list[dict[str, Any]]:
    """One entry per agent turn: its stages and its spans, with percentages for the bars."""
    children: dict[str, list[SpanRow]] = {}
    for span in spans:
        if span.parent_id:
            children.setdefault(span.parent_id, []).append(span)
    user_turns = [s for s in spans if s.name == "user_turn"]
    turns = sorted((s for s in spans if s.name == "agent_turn"), key=lambda s: s.start_ns)
    out: list[dict[str, Any]] = []
    for n, turn in enumerate(turns[:MAX_TURNS], start=1):
        inside = _descendants(turn, children)
        stages = _stages(inside, _user_turn_for(turn, user_turns))
        turn_ms = max(0.0, (turn.end_ns - turn.start_ns) / 1e6)
        span_rows: list[dict[str, Any]] = [
            {
                "name": s.name,
                "offset_ms": round((s.start_ns - turn.start_ns) / 1e6, 1),
                "ms": round(max(0, s.end_ns - s.start_ns) / 1e6, 1),
            }
            for s in inside[:MAX_SPANS_PER_TURN]
        ]
        ends: list[float] = [turn_ms, sum(float(st["ms"]) for st in stages)]
        ends += [float(r["offset_ms"]) + float(r["ms"]) for r in span_rows]
        scale = max(ends) or 1.0
        for row in (*stages, *span_rows):
            start = row.get("start_ms", row.get("offset_ms", 0.0))
            row["left_pct"] = round(100.0 * max(0.0, start) / scale, 2)
            row["width_pct"] = round(max(0.5, 100.0 * row["ms"] / scale), 2)
        out.append(
            {
                "turn": n,
                "speech_id": turn.attributes.get("lk.speech_id"),
                "ms": round(turn_ms, 1),
                "latency_ms": round(sum(st["ms"] for st in stages), 1) if stages else None,
                "stages": stages,
                "spans": span_rows,
            }
        )
    return out
