"""Sales signals read from sentence structure, one test per way callers phrase things.

The sentences are new (none comes from a labeled set), so each test shows a rule that holds
beyond the calls it was found on: what the agent just asked decides what a bare number
answers, who is the subject of a price complaint decides whether it objects to us, and so on.
"""

from __future__ import annotations

from typing import Any

import pytest

from callscope.analyze import build_view
from callscope.analyze.modules.sales import extract
from callscope.contract.parse import validate_record
from callscope.profile import load_profile


def _sales(turns: list[tuple[str, str]], started: str = "2026-10-07T15:00:00Z") -> dict[str, Any]:
    items = [
        {"type": "message", "id": f"m{i}", "role": role, "content": [text], "created_at": 1.0 + i}
        for i, (role, text) in enumerate(turns)
    ]
    record = validate_record(
        {
            "schema_version": "1",
            "session_id": "s-structure",
            "started_at": started,
            "ended_at": started,
            "transcript": {"items": items},
        },
        "test",
    )
    return extract(build_view(record), load_profile())


# 1. team size --------------------------------------------------------------------------------
def test_a_recapped_team_size_does_not_make_the_next_number_a_team() -> None:
    out = _sales(
        [
            ("assistant", "Who would be working in it?"),
            ("user", "Me and my three estimators."),
            ("assistant", "Okay, four users. And how many bids do you send in a month?"),
            ("user", "Forty, maybe forty-five."),
        ]
    )
    assert out["team_size"] == 4 and 40 <= out["monthly_volume"] <= 45


@pytest.mark.parametrize(
    "said",
    [
        "we're a dental group, about ninety people, and our two office managers would send them",
        "we're a property firm, sixty staff, but only the three leasing directors send leases",
    ],
)
def test_team_size_is_the_users_not_the_company_headcount(said: str) -> None:
    out = _sales([("assistant", "How's the trial going?"), ("user", said)])
    assert out["team_size"] in (2, 3)


# 2. bare answers -----------------------------------------------------------------------------
@pytest.mark.parametrize(("said", "want"), [("Only a couple a week.", 9), ("A few a month.", 3)])
def test_a_vague_count_with_its_period_answers_the_volume_question(said: str, want: int) -> None:
    out = _sales([("assistant", "How many waivers go out?"), ("user", said)])
    assert out["monthly_volume"] == want


# 3. objections the caller states without the usual words -------------------------------------
@pytest.mark.parametrize(
    ("said", "want"),
    [
        (
            "if the invoice can't post back into netsuite and hubspot, that's a no-go",
            "integration_gap",
        ),
        ("If your editor can't lock the clauses, we can't use it.", "feature_gap"),
    ],
)
def test_a_conditional_dealbreaker_is_a_gap(said: str, want: str) -> None:
    out = _sales([("assistant", "What matters most?"), ("user", said)])
    assert out["objections"] == [want]


@pytest.mark.parametrize(
    "said",
    [
        "The business tier is quite a stretch for a tiny office like ours.",
        "Honestly the budget's the problem for us.",
        "My main worry is the cost.",
        "I can't see paying double for the same signatures.",
        "If your pricing is anywhere near what we pay now, we won't switch.",
    ],
)
def test_price_concern_without_a_price_adjective(said: str) -> None:
    out = _sales([("assistant", "Anything holding you back?"), ("user", said)])
    assert out["objections"] == ["price"]


def test_being_in_a_contract_until_a_date_is_a_lock_in() -> None:
    said = "We signed a two-year agreement with Adobe Sign that runs until next May."
    out = _sales([("assistant", "What are you using?"), ("user", said)])
    assert out["objections"] == ["contract_lock_in"]


def test_someone_elses_approval_named_as_a_noun_is_an_objection() -> None:
    said = "Anything like this needs our owner's sign-off first."
    out = _sales([("assistant", "Anything else?"), ("user", said)])
    assert out["objections"] == ["needs_approval"] and out["budget_authority"] == "needs_approval"


def test_having_to_win_someone_over_is_an_objection_even_when_asked_who_decides() -> None:
    said = "Not me. I'd have to get our COO on board, she approves every new tool."
    out = _sales([("assistant", "Are you the one who decides?"), ("user", said)])
    assert out["objections"] == ["needs_approval"] and out["budget_authority"] == "needs_approval"
    plain = _sales([("assistant", "Who decides?"), ("user", "Our COO makes the call on tools.")])
    assert plain["objections"] == [] and plain["budget_authority"] == "needs_approval"


# 4. objections that are not ours -------------------------------------------------------------
@pytest.mark.parametrize(
    "said",
    [
        "We're leaving Proposify. It got really expensive this year.",
        "We switched our crm to zoho last spring, it's cheaper.",
    ],
)
def test_a_price_complaint_about_another_tool_is_no_objection(said: str) -> None:
    out = _sales([("assistant", "Tell me about your setup."), ("user", said)])
    assert "price" not in out["objections"]


def test_a_busy_season_used_as_a_date_anchor_is_no_timing_objection() -> None:
    said = "Probably in March, once our audit season is over."
    out = _sales([("assistant", "When would you want this live?"), ("user", said)])
    assert "timing" not in out["objections"]


def test_a_planned_migration_is_no_switching_cost() -> None:
    said = "We're hoping to migrate before the holidays."
    out = _sales([("assistant", "What's your timeline?"), ("user", said)])
    assert "switching_cost" not in out["objections"]


# 5./6. authority -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "said",
    [
        "I'm head of sales ops and I can approve this myself.",
        "Tooling decisions are all mine.",
        "I'll just expense it, no one else needs to look.",
    ],
)
def test_first_person_approval_is_a_decision_maker(said: str) -> None:
    out = _sales([("assistant", "Who else is involved?"), ("user", said)])
    assert out["budget_authority"] == "decision_maker"


def test_a_boss_mentioned_without_approval_is_no_authority() -> None:
    said = "sorry, my manager just walked in, can we pick this up later"
    out = _sales([("assistant", "What CRM do you use?"), ("user", said)])
    assert out["budget_authority"] is None and out["objections"] == []


def test_an_approver_outranks_the_callers_own_title() -> None:
    out = _sales(
        [
            ("assistant", "Any concerns?"),
            ("user", "Our head of IT security has to sign off on any vendor with client data."),
            ("assistant", "Understood."),
            ("user", "I'm the president of the agency, but that review is real."),
        ]
    )
    assert out["budget_authority"] == "needs_approval"


@pytest.mark.parametrize(
    "said",
    [
        "I'm gathering the options and our CFO makes the final call.",
        "I'm vetting vendors, the partners decide.",
    ],
)
def test_doing_the_legwork_for_a_decider_is_an_influencer(said: str) -> None:
    out = _sales([("assistant", "What's your timeline?"), ("user", said)])
    assert out["budget_authority"] == "influencer" and out["objections"] == []


# 7. industry ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("said", "want"),
    [
        ("we're a payroll software company for clinics", "software_saas"),
        ("we build a scheduling platform that dental offices use", "software_saas"),
        ("we sell an inventory forecasting tool to retailers", "software_saas"),
        ("I'm the office manager for a landscaping company", "other"),
        ("We're a freight brokerage out of Memphis.", "other"),
    ],
)
def test_industry_is_what_the_business_is_not_who_it_serves(said: str, want: str) -> None:
    out = _sales([("assistant", "Tell me about the business."), ("user", said)])
    assert out["industry"] == want


# 8. timeline ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("said", "started", "want"),
    [
        ("We need it by the end of next week.", "2026-10-07T15:00:00Z", "this_month"),
        ("We need it by the end of next week.", "2026-10-28T15:00:00Z", "this_quarter"),
        (
            "Once January hits we freeze everything until April. So December at the latest.",
            "2026-10-12T15:00:00Z",
            "this_quarter",
        ),
    ],
)
def test_timeline_read_against_the_call_date(said: str, started: str, want: str) -> None:
    out = _sales([("assistant", "What's your timeline?"), ("user", said)], started)
    assert out["timeline"] == want


def test_a_season_in_a_volume_answer_is_no_timeline() -> None:
    said = "About forty a month, more in the summer."
    out = _sales([("assistant", "How many contracts a month?"), ("user", said)])
    assert out["timeline"] is None and out["monthly_volume"] == 40


# 9. tools and use case -----------------------------------------------------------------------
def test_a_tool_used_in_the_past_is_no_integration() -> None:
    said = "We used Slack for a while but stopped. Now it's all HubSpot."
    out = _sales([("assistant", "What would you connect?"), ("user", said)])
    assert out["integrations"] == ["hubspot"]


def test_a_tool_the_caller_is_leaving_is_the_current_tool() -> None:
    said = "we're switching our contracts away from docusign, it's too heavy"
    out = _sales([("assistant", "How's the trial going?"), ("user", said)])
    assert out["current_tool"] == "docusign"


def test_a_shortlisted_vendor_does_not_outrank_the_manual_process() -> None:
    out = _sales(
        [
            ("assistant", "What do you use today?"),
            ("user", "Excel and email, honestly."),
            ("assistant", "Are you looking at other tools too?"),
            ("user", "Juro, it's the front runner right now."),
        ]
    )
    assert out["current_tool"] == "manual" and out["competitors"] == ["juro"]


def test_nothing_in_place_yet_is_none() -> None:
    said = "We haven't really done it at all yet, it's word of mouth."
    out = _sales([("assistant", "What are you using today?"), ("user", said)])
    assert out["current_tool"] == "none"


def test_a_job_without_a_use_case_id_is_other() -> None:
    said = "We'd use it for internal expense approvals between departments."
    out = _sales([("assistant", "What brings you to PandaDoc?"), ("user", said)])
    assert out["use_case"] == "other"


def test_a_lowercase_weekday_brand_counts_only_as_a_place_for_work() -> None:
    said = "we track every client in monday and meet on monday"
    out = _sales([("assistant", "What would you connect?"), ("user", said)])
    assert out["integrations"] == ["monday"]
