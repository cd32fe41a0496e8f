from __future__ import annotations

from typing import Any

from callscope.analyze.modules.tools import analyze_tools
from tests.analyze.callbuilder import profile, record, view

KB, BOOK = "unleash_search_knowledge", "book_sales_meeting"


def kb(query: str, output: Any, is_error: bool = False) -> dict[str, Any]:
    return {
        "name": KB,
        "arguments": {"query": query, "category": "integrations"},
        "output": output,
        "is_error": is_error,
        "duration_ms": 500,
    }


def book(output: Any, is_error: bool = False) -> dict[str, Any]:
    return {
        "name": BOOK,
        "arguments": {
            "customer_name": "A",
            "preferred_date": "2026-10-15",
            "preferred_time": "10:00",
        },
        "output": output,
        "is_error": is_error,
        "duration_ms": 800,
    }


def run(tools: list[dict[str, Any]]) -> dict[str, Any]:
    return analyze_tools(view([{"agent": "hi"}], tools=tools), profile(), {})


def test_search_failures_all_three_ways() -> None:
    r = run(
        [
            kb("hubspot", {"found": True, "total_results": 2, "results": [{"title": "x"}]}),
            kb("bullhorn", {"found": False, "total_results": 0, "results": []}),
            kb("canvas", {"found": True, "total_results": 0}),  # contradicting fields: zero wins
            kb("notion", "Knowledge service timeout after 8000 ms", is_error=True),
            kb("figma", '{"found": false, "total_results": 0}'),  # JSON kept as a string
        ]
    )
    assert r["kb_searches"] == 5 and r["kb_failed_searches"] == 4
    assert [q["query"] for q in r["failed_queries"]] == ["bullhorn", "canvas", "notion", "figma"]
    assert [q["reason"] for q in r["failed_queries"]] == [
        "not_found",
        "no_results",
        "error",
        "not_found",
    ]


def test_meeting_booked_only_on_success_true() -> None:
    assert run([book({"success": True, "meeting_link": "https://m/x"})])["meeting_booked"]
    for out, err in [
        ({"success": False}, False),
        ("Calendar service unavailable (503)", True),
        ({"success": "true"}, False),
        ({"success": True}, True),
        (None, False),
    ]:
        r = run([book(out, err)])
        assert r["meeting_booked"] is False and r["booking_failed"] is True, out


def test_retry_after_failed_booking_counts_as_booked() -> None:
    r = run([book("503", True), book({"success": True})])
    assert r["meeting_booked"] and r["booking_attempts"] == 2
    assert r["meeting"] == {"date": "2026-10-15", "time": "10:00", "link": None}
    assert r["tool_error_rate"] == 0.5


def test_unknown_tools_are_counted_not_fatal() -> None:
    r = run(
        [
            {"name": "lookup_weather", "arguments": {}, "output": {"weird": [1, 2]}},
            {"name": "lookup_weather", "arguments": {"x": 1}, "output": None, "is_error": True},
        ]
    )
    assert r["unknown_tools"] == 2 and r["unknown_tool_names"] == ["lookup_weather"]
    assert r["per_tool"]["lookup_weather"] == {"calls": 2, "errors": 1}


def test_durations_per_tool() -> None:
    r = run(
        [kb("a", {"found": True, "total_results": 1}), kb("b", {"found": True, "total_results": 1})]
    )
    assert r["per_tool"][KB]["duration_ms"] == {"avg": 500.0, "max": 500.0, "p50": 500.0}


def test_falls_back_to_transcript_function_calls() -> None:
    rec = record([{"agent": "hi"}])
    items = rec.model_dump()["transcript"]["items"] + [
        {
            "type": "function_call",
            "call_id": "c1",
            "name": KB,
            "created_at": 10.0,
            "arguments": '{"query": "Redtail CRM integration"}',
        },
        {
            "type": "function_call_output",
            "call_id": "c1",
            "name": KB,
            "created_at": 10.5,
            "output": '{"found": false, "total_results": 0, "results": []}',
            "is_error": False,
        },
        {
            "type": "function_call",
            "call_id": "c2",
            "name": BOOK,
            "created_at": 20.0,
            "arguments": "not json",
        },
    ]
    r = analyze_tools(view([], transcript={"items": items}), profile(), {})
    assert r["kb_searches"] == 1 and r["kb_failed_searches"] == 1
    assert r["failed_queries"][0]["query"] == "Redtail CRM integration"
    assert r["per_tool"][KB]["duration_ms"]["avg"] == 500.0
    # A call with no output item never returned: an error, not a booking.
    assert r["meeting_booked"] is False and r["booking_attempts"] == 1


def test_no_tools() -> None:
    r = run([])
    assert r["kb_searches"] == 0 and r["kb_success_rate"] is None and r["tool_error_rate"] == 0.0
