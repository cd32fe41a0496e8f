from __future__ import annotations

from datetime import date
from typing import Any

from callscope.analyze.modules.actions import analyze_actions, due_date
from tests.analyze.callbuilder import profile, view

BOOK = "book_sales_meeting"


def run(
    turns: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    upstream: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return analyze_actions(view(turns, tools=tools), profile(), upstream or {})


def test_agent_promise_with_materials_and_due_date() -> None:
    r = run(
        [{"agent": "Will do. I'll send the pricing and the security overview to Javier today."}]
    )
    [item] = r["follow_ups"]
    assert item["owner"] == "agent" and item["action"] == "send"
    assert item["materials"] == ["pricing", "security overview"]
    assert item["due"] == "today" and item["due_date"] == "2026-10-14"
    assert r["materials_to_send"] == ["pricing", "security overview"]


def test_handoff_to_a_specialist_is_owned_by_sales() -> None:
    r = run([{"agent": "I'll have a specialist email you a quote for seven seats tomorrow."}])
    [item] = r["follow_ups"]
    assert item["owner"] == "sales" and item["due_date"] == "2026-10-15"


def test_caller_commitment() -> None:
    r = run([{"user": "Just send the info, please. I'll circle back in the spring."}])
    [item] = r["follow_ups"]
    assert item["owner"] == "caller" and item["due"] == "in the spring"
    assert item["due_date"] is None  # vague: kept as said, no invented date


def test_offers_and_live_lookups_are_not_follow_ups() -> None:
    r = run(
        [
            {"agent": "Would it help if I sent you a one-page summary?"},
            {"agent": "Let me check that for you."},
            {"agent": "Could I email you the details?"},
            {"agent": "Will do."},
        ]
    )
    assert r["follow_ups"] == []


def test_meeting_from_tool_results_or_upstream() -> None:
    tools = [
        {
            "name": BOOK,
            "arguments": {"preferred_date": "2026-10-20", "preferred_time": "10:00"},
            "output": "Calendar unavailable",
            "is_error": True,
        }
    ]
    r = run([{"agent": "Sorry, that failed."}], tools=tools)
    assert r["meeting"]["status"] == "failed" and r["needs_attention"] is True
    up = {
        "tools": {
            "meeting_booked": True,
            "booking_attempts": 1,
            "meeting": {"date": "2026-10-20", "time": "10:00"},
        }
    }
    r = run([], upstream=up)
    assert r["meeting"] == {
        "status": "booked",
        "attempts": 1,
        "date": "2026-10-20",
        "time": "10:00",
    }
    assert run([])["meeting"]["status"] == "none"


def test_due_dates_against_the_call_date() -> None:
    wed = date(2026, 10, 14)
    assert due_date("friday", wed) == "2026-10-16"
    assert due_date("wednesday", wed) == "2026-10-21"  # the same weekday means next week
    assert due_date("this week", wed) == "2026-10-16"
    assert due_date("within two business days", wed) == "2026-10-16"
    assert due_date("within two business days", date(2026, 10, 16)) == "2026-10-20"
    assert due_date("in 3 days", wed) == "2026-10-17"
    assert due_date("in the spring", wed) is None
