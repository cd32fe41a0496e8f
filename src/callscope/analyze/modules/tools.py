"""Knowledge-base and tool effectiveness: what the agent's tools did during the call.

Reads ``record.tool_calls`` (outputs and timings), and falls back to the transcript's
``function_call`` / ``function_call_output`` items when an older collector sent no tool list.
Runs without analytics consent: tool names, outcomes and timings are metrics, not transcript.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from callscope.analyze.modules.booking_check import booking_accurate
from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile


@dataclass(frozen=True, slots=True)
class _Call:
    name: str
    arguments: dict[str, Any]
    output: Any
    is_error: bool
    duration_ms: float | None


def _decode(value: Any) -> Any:
    # LiveKit keeps function outputs as strings; structured ones are JSON inside that string.
    if isinstance(value, str | bytes):
        text = value.strip() if isinstance(value, str) else value
        if text[:1] in ("{", "[", b"{", b"["):
            try:
                return orjson.loads(text)
            except orjson.JSONDecodeError:
                return value
    return value


def _from_transcript(view: CallView) -> list[_Call]:
    calls: dict[str, dict[str, Any]] = {}
    outputs: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for pos, item in enumerate(view.record.transcript.items):
        data = item.model_extra or {}
        key = str(data.get("call_id", pos))
        if item.type == "function_call":
            calls[key] = {**data, "created_at": item.created_at}
            order.append(key)
        elif item.type == "function_call_output":
            outputs[key] = {**data, "created_at": item.created_at}
    result: list[_Call] = []
    for key in order:
        call, out = calls[key], outputs.get(key, {})
        args = _decode(call.get("arguments"))
        started, ended = call.get("created_at"), out.get("created_at")
        duration = None
        if isinstance(started, int | float) and isinstance(ended, int | float) and ended >= started:
            duration = (ended - started) * 1000.0
        result.append(
            _Call(
                name=str(call.get("name") or ""),
                arguments=args if isinstance(args, dict) else {},
                output=out.get("output"),
                is_error=bool(out.get("is_error", False)) or not out,
                duration_ms=duration,
            )
        )
    return result


def tool_calls(view: CallView) -> list[_Call]:
    """The call's tool uses, from the record's tool list or else from the transcript."""
    if view.tools:
        return [
            _Call(
                t.name,
                t.arguments if isinstance(t.arguments, dict) else {},
                t.output,
                bool(t.is_error),
                t.duration_ms,
            )
            for t in view.tools
        ]
    return _from_transcript(view)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def search_failure(call: _Call) -> str | None:
    """Why a knowledge search failed (``error`` / ``not_found`` / ``no_results``), or None."""
    if call.is_error:
        return "error"
    out = _decode(call.output)
    if not isinstance(out, dict):
        # Free text from a custom search tool is taken as an answer; nothing at all is not.
        return "no_results" if out is None or (isinstance(out, str) and not out.strip()) else None
    if out.get("found") is False:
        return "not_found"
    total = _as_int(out.get("total_results"))
    if total == 0:
        return "no_results"
    results = out.get("results")
    if total is None and "found" not in out and isinstance(results, list) and not results:
        return "no_results"
    return None


def booking_succeeded(call: _Call) -> bool:
    if call.is_error:
        return False
    out = _decode(call.output)
    return isinstance(out, dict) and out.get("success") is True


def _durations(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "avg": round(sum(values) / len(values), 1),
        "max": round(values[-1], 1),
        "p50": round(values[(len(values) - 1) // 2], 1),
    }


@registry.register("tools", "1.1.0", needs_text=False)
def analyze_tools(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    kb_name = profile.tools.knowledge_search
    booking_name = profile.tools.meeting_booking
    known = {kb_name, booking_name, *profile.tools.known}
    calls = tool_calls(view)

    per_tool: dict[str, dict[str, Any]] = {}
    durations: dict[str, list[float]] = {}
    failed_queries: list[dict[str, Any]] = []
    kb_searches = kb_failed = errors = 0
    booking_attempts = 0
    meeting: dict[str, Any] | None = None
    unknown: dict[str, int] = {}
    for call in calls:
        stats = per_tool.setdefault(call.name, {"calls": 0, "errors": 0})
        stats["calls"] += 1
        if call.is_error:
            stats["errors"] += 1
            errors += 1
        if call.duration_ms is not None and call.duration_ms >= 0:
            durations.setdefault(call.name, []).append(float(call.duration_ms))
        if call.name not in known:
            unknown[call.name] = unknown.get(call.name, 0) + 1
        if call.name == kb_name:
            kb_searches += 1
            reason = search_failure(call)
            if reason is not None:
                kb_failed += 1
                query = call.arguments.get("query")
                failed_queries.append(
                    {
                        "query": query if isinstance(query, str) else str(query or ""),
                        "category": call.arguments.get("category"),
                        "reason": reason,
                    }
                )
        elif call.name == booking_name:
            booking_attempts += 1
            if meeting is None and booking_succeeded(call):
                out = _decode(call.output)
                meeting = {
                    "date": call.arguments.get("preferred_date"),
                    "time": call.arguments.get("preferred_time"),
                    "link": out.get("meeting_link") if isinstance(out, dict) else None,
                }
    for name, values in durations.items():
        per_tool[name]["duration_ms"] = _durations(values)

    return {
        **kb_detail(calls, kb_name, profile.kb_topics),
        "booking_accurate": _booking_accurate(view, booking_name, meeting),
        "error_rate_by_tool": {
            name: round(100.0 * st["errors"] / st["calls"], 1) for name, st in per_tool.items()
        },
        "meeting_booked": meeting is not None,
        "meeting": meeting,
        "booking_attempts": booking_attempts,
        "booking_failed": booking_attempts > 0 and meeting is None,
        "kb_searches": kb_searches,
        "kb_failed_searches": kb_failed,
        "kb_success_rate": round(1 - kb_failed / kb_searches, 3) if kb_searches else None,
        "failed_queries": failed_queries,
        "tool_calls": len(calls),
        "tool_errors": errors,
        "tool_error_rate": round(errors / len(calls), 3) if calls else 0.0,
        "per_tool": per_tool,
        "unknown_tools": sum(unknown.values()),
        "unknown_tool_names": sorted(unknown),
    }


_QUERY_WORD = re.compile(r"[a-z0-9]+")


def _category(call: _Call, topics: Mapping[str, list[str]]) -> str:
    given = call.arguments.get("category")
    if isinstance(given, str) and given.strip():
        return given.strip().lower()
    query = str(call.arguments.get("query") or "").lower()
    best = max(
        topics.items(),
        key=lambda kv: sum(1 for w in kv[1] if w in query),
        default=None,
    )
    if best is not None and any(w in query for w in best[1]):
        return best[0]
    return "uncategorized"


def _result_count(call: _Call) -> int | None:
    out = _decode(call.output)
    if not isinstance(out, dict):
        return None
    total = _as_int(out.get("total_results"))
    if total is not None:
        return total
    results = out.get("results")
    return len(results) if isinstance(results, list) else None


def kb_detail(calls: list[_Call], kb_name: str, topics: Mapping[str, list[str]]) -> Result:
    """Category spread, results per query and near-duplicate queries of the knowledge searches.

    A search repeats an earlier one when their query word sets overlap by 60 % or more
    (Jaccard): the agent asking again after a poor answer.
    """
    searches = [c for c in calls if c.name == kb_name]
    categories: dict[str, int] = {}
    counts: list[int] = []
    seen: list[set[str]] = []
    repeated = 0
    for call in searches:
        cat = _category(call, topics)
        categories[cat] = categories.get(cat, 0) + 1
        n = _result_count(call)
        if n is not None:
            counts.append(n)
        words = set(_QUERY_WORD.findall(str(call.arguments.get("query") or "").lower()))
        if words and any(len(words & w) / len(words | w) >= 0.6 for w in seen):
            repeated += 1
        seen.append(words)
    return {
        "kb_categories": categories,
        "kb_avg_results": round(sum(counts) / len(counts), 2) if counts else None,
        "kb_repeated_searches": repeated,
    }


def _booking_accurate(
    view: CallView, booking_name: str, meeting: Mapping[str, Any] | None
) -> bool | None:
    # The caller's words are transcript: without analytics consent there is nothing to compare.
    if meeting is None or not view.analytics_consent:
        return None
    # The slot booked is the last attempt's. An earlier attempt at another slot was turned
    # down, so only what the caller said since then is the request (a retry of the same slot
    # after a service error changes nothing).
    attempts = [t for t in view.tools if t.name == booking_name]
    after = attempts[-1].after_turn if attempts else None
    slot = _slot(attempts[-1].arguments) if attempts else None
    since = next(
        (t.after_turn for t in reversed(attempts[:-1]) if _slot(t.arguments) != slot), None
    )
    return booking_accurate(view.turns, after, meeting.get("date"), meeting.get("time"), since)


def _slot(arguments: Any) -> tuple[str, ...]:
    args = arguments if isinstance(arguments, Mapping) else {}
    return tuple(str(v) for k, v in sorted(args.items()) if "date" in k or "time" in k)
