"""Phrasing families the third blind set exposed, each tested on sentences of our own.

Every test names how callers say something (spoken hundreds, ranges sharing a scale word,
someone else holding the purse, "after the holidays") rather than any one call's wording.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from callscope.analyze import build_view
from callscope.analyze.modules.sales import extract
from callscope.analyze.text.normalize import to_digits
from callscope.analyze.text.numbers import volume_candidates
from callscope.analyze.text.timeline import calendar_timeline
from callscope.contract.parse import validate_record
from callscope.profile import load_profile
from tests.analyze.callbuilder import timeline_id


def _sales(turns: list[tuple[str, str]], started: str = "2026-08-10T15:00:00Z") -> dict[str, Any]:
    items = [
        {"type": "message", "id": f"m{i}", "role": role, "content": [text], "created_at": 1.0 + i}
        for i, (role, text) in enumerate(turns)
    ]
    record = validate_record(
        {
            "schema_version": "1",
            "session_id": "s-b3fam",
            "started_at": started,
            "ended_at": started,
            "transcript": {"items": items},
        },
        "test",
    )
    return extract(build_view(record), load_profile())


def _monthly(text: str, unit: str = "month") -> list[int]:
    return [f.value for f in volume_candidates(to_digits(text.lower()), True, unit)]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("one twenty a month, give or take", 120),
        ("probably three forty a month", 340),
        ("a hundred, one fifty a month when it's busy", 150),
    ],
)
def test_short_spoken_hundreds_before_a_period_are_one_number(text: str, want: int) -> None:
    assert _monthly(text)[-1] == want


def test_short_spoken_hundreds_need_a_period_so_clock_times_stay_apart() -> None:
    assert to_digits("let's talk at four thirty") == "let's talk at 4 30"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("four to five hundred a month", 450),
        ("somewhere between one and two thousand a year", 125),
        ("six or seven hundred a month", 650),
    ],
)
def test_range_shares_its_scale_word(text: str, want: int) -> None:
    assert _monthly(text)[0] == want


def test_scale_dropped_in_a_later_aside_does_not_replace_the_count() -> None:
    assert _monthly("five to six hundred a month, in december nearer six")[-1] == 550


def test_a_later_correction_of_the_same_size_still_wins() -> None:
    assert _monthly("about forty a month, well, more like fifty")[-1] == 50


@pytest.mark.parametrize(
    "text",
    [
        "in a busy week we do thirty",
        "on a typical week it's around thirty",
        "on an average week, maybe thirty",
    ],
)
def test_period_said_first_with_on_or_in(text: str) -> None:
    assert _monthly(text)[-1] == 130


@pytest.mark.parametrize(
    ("answer", "want"),
    [
        ("my uncle owns the business, and he'll want to see the pricing first", "needs_approval"),
        ("our founder pays for everything, so it's really her decision", "needs_approval"),
        ("the partner who holds the purse strings is tom, i just use it", "needs_approval"),
        ("anything over a grand has to go to our finance committee", "needs_approval"),
        ("i can approve purchases under ten thousand, so this is fine", "decision_maker"),
        ("i hold the budget for our team, so yes", "decision_maker"),
        ("i've got the budget for tools like this", "decision_maker"),
    ],
)
def test_who_holds_the_money_sets_authority(answer: str, want: str) -> None:
    out = _sales(
        [("assistant", "Who signs off on a purchase like this?"), ("user", answer)],
    )
    assert out["budget_authority"] == want


def test_not_holding_the_budget_is_not_a_decision_maker() -> None:
    out = _sales(
        [
            ("assistant", "Who signs off on a purchase like this?"),
            ("user", "i don't hold the budget"),
        ]
    )
    assert out["budget_authority"] != "decision_maker"


@pytest.mark.parametrize(
    ("clause", "today", "want"),
    [
        ("realistically after the holidays", date(2026, 11, 3), "later"),
        ("after march, once tax season calms down", date(2026, 2, 10), "later"),
        ("once october is over we can look at it", date(2026, 10, 3), "this_quarter"),
        ("after june", date(2026, 4, 2), "later"),
        ("after april", date(2026, 4, 2), "this_quarter"),
    ],
)
def test_after_a_month_or_holiday_starts_when_it_ends(clause: str, today: date, want: str) -> None:
    assert timeline_id(calendar_timeline(clause, today)) == want


def test_follow_up_asking_when_they_would_switch_is_a_timeline_question() -> None:
    out = _sales(
        [
            ("user", "our current contract runs through december"),
            ("assistant", "So you would make the switch when that ends?"),
            ("user", "yeah, i want it all set up by the end of september so we can move over"),
        ]
    )
    assert out["timeline"] == "this_quarter"
