"""Phrasing families the fourth blind set exposed, each tested on sentences of our own.

Each test names a way callers say something (a date inside a month, a period's end, a spoken
day of the month, a tool they left behind) rather than any one call's wording.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from callscope.analyze import build_view
from callscope.analyze.modules.sales import extract
from callscope.analyze.text.timeline import calendar_timeline
from callscope.contract.parse import validate_record
from callscope.profile import load_profile
from tests.analyze.callbuilder import timeline_id

ASK_WHEN = "When are you hoping to have this running?"
ASK_CRM = "Which systems would it need to connect to?"


def _sales(turns: list[tuple[str, str]], started: str = "2026-05-06T15:00:00Z") -> dict[str, Any]:
    items = [
        {"type": "message", "id": f"m{i}", "role": role, "content": [text], "created_at": 1.0 + i}
        for i, (role, text) in enumerate(turns)
    ]
    record = validate_record(
        {
            "schema_version": "1",
            "session_id": "s-b4fam",
            "started_at": started,
            "ended_at": started,
            "transcript": {"items": items},
        },
        "test",
    )
    return extract(build_view(record), load_profile())


# --- timeline: dates read against the call date ---------------------------------------------

# 2026-05-06 is a Wednesday in May, the second quarter.
TODAY = date(2026, 5, 6)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("we'd want the templates live by early june", "this_quarter"),
        ("ideally before mid-june so the reps have it", "this_quarter"),
        ("sometime around mid june would be good", "this_quarter"),
        ("we need it working by early september", "later"),
    ],
)
def test_early_or_mid_month_is_a_day_inside_that_month(text: str, want: str) -> None:
    assert timeline_id(calendar_timeline(text, TODAY)) == want


def test_a_plain_by_month_deadline_still_means_the_month_before() -> None:
    # "by June" is done when May ends; "by early June" is a few days into June.
    assert timeline_id(calendar_timeline("we need it by june", TODAY)) == "this_month"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("the partners want it decided by month end", "this_month"),
        ("we should sign before month-end", "this_month"),
        ("my goal is to get it done by quarter end", "this_quarter"),
        ("i'd say end of quarter at the latest", "this_quarter"),
        ("we'd like to go live by the end of next month", "this_quarter"),
    ],
)
def test_the_close_of_a_named_period_is_its_last_day(text: str, want: str) -> None:
    assert timeline_id(calendar_timeline(text, TODAY)) == want


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("we have to have it sorted by the twentieth", "this_month"),
        ("i want contracts going out by the twenty-eighth.", "this_month"),
        ("the board meets on the third, so it has to be by then", "this_quarter"),
    ],
)
def test_a_spoken_day_of_the_month_is_read_as_a_date(text: str, want: str) -> None:
    assert timeline_id(calendar_timeline(text, TODAY)) == want


def test_a_year_end_deadline_outranks_the_date_that_explains_it() -> None:
    autumn = date(2026, 10, 20)
    said = "we need it before year end, the new rates start january first"
    assert timeline_id(calendar_timeline(said, autumn)) == "this_quarter"
    # alone, the named date is still read on the calendar
    assert timeline_id(calendar_timeline("the new rates start january first", autumn)) == "later"


def test_a_frequency_this_week_in_a_complaint_is_not_a_timeline() -> None:
    out = _sales(
        [
            ("assistant", "Hi, this is Ava from the trial team."),
            ("user", "you guys have called me four times this week already"),
            ("assistant", "Sorry about that. What would you use it for?"),
            ("user", "invoices. and we're not changing anything until next year"),
        ]
    )
    assert out["timeline"] == "later"


def test_a_refusal_in_the_sentence_before_does_not_cancel_a_later_plan() -> None:
    out = _sales(
        [
            ("assistant", "Is this something you'd move ahead with?"),
            ("user", "for now the answer is no. maybe next year we revisit it"),
        ]
    )
    assert out["timeline"] == "later"


def test_a_negated_phrase_in_the_same_sentence_still_does_not_count() -> None:
    out = _sales(
        [
            ("assistant", ASK_WHEN),
            ("user", "honestly it's not this month, we're buried"),
        ]
    )
    assert out["timeline"] != "this_month"


# --- integrations: tools the caller left, never had, or took back -----------------------------


def test_the_tool_migrated_away_from_is_not_an_integration() -> None:
    out = _sales(
        [
            ("assistant", ASK_CRM),
            (
                "user",
                "everything runs on salesforce now. migrating from hubspot to it took us a month",
            ),
        ]
    )
    assert out["integrations"] == ["salesforce"]


def test_a_product_built_for_other_shops_does_not_name_our_crm() -> None:
    out = _sales(
        [
            ("assistant", "Did you look at anything else?"),
            ("user", "we tried conga, but it's made for salesforce shops and we're not one"),
        ]
    )
    assert "salesforce" not in out["integrations"]


def test_calling_yourself_users_of_a_crm_still_counts() -> None:
    out = _sales([("assistant", ASK_CRM), ("user", "we're hubspot users, all of us")])
    assert out["integrations"] == ["hubspot"]


def test_not_being_a_crm_shop_means_no_crm() -> None:
    out = _sales([("assistant", ASK_CRM), ("user", "we aren't a salesforce shop, just email")])
    assert "salesforce" not in out["integrations"]


def test_a_question_taken_back_drops_the_tool() -> None:
    out = _sales(
        [
            ("assistant", "Anything else I can help with?"),
            ("user", "can it push files to dropbox? oh wait, never mind, we don't need that"),
        ]
    )
    assert "dropbox" not in out["integrations"]


def test_a_question_left_standing_keeps_the_tool() -> None:
    out = _sales(
        [
            ("assistant", "Anything else I can help with?"),
            ("user", "can it push files to google drive? that's where everything lives"),
        ]
    )
    assert "google_drive" in out["integrations"]


# --- objections: words that sound like a hurdle but name another one --------------------------


def _objections(user: str, agent: str = "How is the trial going so far?") -> list[str]:
    return list(_sales([("assistant", agent), ("user", user)])["objections"])


def test_too_much_work_is_not_a_price_complaint() -> None:
    said = "right now it's too much paperwork, we print and scan every single form"
    assert "price" not in _objections(said)


def test_too_much_money_still_is() -> None:
    assert "price" in _objections("the business plan costs too much for a team our size")


def test_too_much_for_us_without_money_talk_is_not_price() -> None:
    said = "it's confusing, all these menus. honestly i think this is too much for us"
    assert _objections(said) == ["complexity"]


def test_too_much_for_us_after_a_price_question_is_price() -> None:
    said = "honestly i think that is too much for us"
    assert "price" in _objections(said, agent="The business plan is $49 a user per month.")


def test_paying_twice_while_a_contract_runs_is_lock_in_not_price() -> None:
    said = "our current vendor contract runs until august, no sense paying twice"
    assert _objections(said) == ["contract_lock_in"]


def test_a_missing_feature_already_worked_around_is_no_gap() -> None:
    said = "our payroll system doesn't have an api, but it works with make, so we're fine"
    assert "feature_gap" not in _objections(said, agent="Which payroll system do you use?")


def test_a_missing_feature_without_a_workaround_is_a_gap() -> None:
    said = "your editor doesn't have conditional sections, and we need those"
    assert "feature_gap" in _objections(said)
