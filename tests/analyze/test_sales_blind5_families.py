"""Phrasing families the fifth blind set exposed, each tested on sentences of our own.

Each test names a way callers say something (a move onto a tool, a total then its members,
a range said with a comma, a term deal they are held to, a farewell returned) rather than
any one call's wording.
"""

from __future__ import annotations

from typing import Any

import pytest

from callscope.analyze import build_view
from callscope.analyze.modules.quality import is_clarification, natural_ending
from callscope.analyze.modules.sales import extract
from callscope.contract.parse import validate_record
from callscope.profile import load_profile

from .callbuilder import view


def _sales(turns: list[tuple[str, str]]) -> dict[str, Any]:
    items = [
        {"type": "message", "id": f"m{i}", "role": role, "content": [text], "created_at": 1.0 + i}
        for i, (role, text) in enumerate(turns)
    ]
    record = validate_record(
        {
            "schema_version": "1",
            "session_id": "s-b5fam",
            "started_at": "2026-05-06T15:00:00Z",
            "ended_at": "2026-05-06T15:00:00Z",
            "transcript": {"items": items},
        },
        "test",
    )
    return extract(build_view(record), load_profile())


@pytest.mark.parametrize(
    "answer",
    [
        "we switched to hubspot a couple years ago",
        "the team migrated over to hubspot last spring, before that it was all email",
        "we went to hubspot in 2023",
    ],
)
def test_a_past_move_onto_a_crm_means_they_use_it_now(answer: str) -> None:
    out = _sales([("assistant", "Which CRM do you work in?"), ("user", answer)])
    assert out["integrations"] == ["hubspot"]


def test_a_past_move_off_a_crm_still_drops_it() -> None:
    out = _sales(
        [("assistant", "Which CRM do you work in?"), ("user", "we moved off hubspot last year")]
    )
    assert out["integrations"] == []


@pytest.mark.parametrize(
    ("answer", "size"),
    [
        ("six of us: me, two designers and three account managers", 6),
        ("three of us total. me and one assistant, plus a part-timer", 3),
    ],
)
def test_a_total_then_its_members_keeps_the_total(answer: str, size: int) -> None:
    out = _sales([("assistant", "How many people would be using it?"), ("user", answer)])
    assert out["team_size"] == size


def test_a_later_count_without_a_roll_call_still_corrects() -> None:
    out = _sales(
        [("assistant", "How many people would be using it?"), ("user", "six of us. well, two")]
    )
    assert out["team_size"] == 2


@pytest.mark.parametrize(
    ("answer", "monthly"),
    [("twenty, thirty a week", 108), ("maybe 40, 60 a month", 50)],
)
def test_a_range_said_with_a_comma_takes_its_midpoint(answer: str, monthly: int) -> None:
    out = _sales([("assistant", "How many documents go out?"), ("user", answer)])
    assert out["monthly_volume"] == monthly


@pytest.mark.parametrize(
    "answer",
    [
        "pandadoc would be nice but we signed a three year deal with adobe that runs till june",
        "we're in a one year deal through next august, so nothing before then",
    ],
)
def test_a_term_deal_that_runs_on_is_contract_lock_in(answer: str) -> None:
    out = _sales([("assistant", "What's holding you back?"), ("user", answer)])
    assert "contract_lock_in" in out["objections"]


def test_a_deal_without_an_end_is_not_lock_in() -> None:
    out = _sales([("assistant", "What's holding you back?"), ("user", "it's a big deal for us")])
    assert "contract_lock_in" not in out["objections"]


@pytest.mark.parametrize(
    ("caller", "agent"),
    [
        ("thanks so much, enjoy your weekend", "You too, Marco!"),
        ("have a good one", "Same to you, Lee."),
        ("ok thanks, night", "Will do. Good night, Sam."),
        ("thanks, i'll poke around this afternoon", "Sounds good. Have fun with it."),
    ],
)
def test_the_agent_returning_the_callers_farewell_is_a_natural_end(caller: str, agent: str) -> None:
    turns = [
        {"agent": "I'll email that over today."},
        {"user": caller},
        {"agent": agent},
    ]
    assert natural_ending(view(turns).turns)


def test_you_too_after_a_non_farewell_is_not_an_ending() -> None:
    turns = [
        {"agent": "What would you use it for?"},
        {"user": "proposals, mostly. my partner sends contracts"},
        {"agent": "You too?"},
    ]
    assert not natural_ending(view(turns).turns)


@pytest.mark.parametrize(
    "text",
    [
        "sorry, i didn't follow, what's a content library?",
        "i didn't catch, which plan was that",
        "hang on, i couldn't follow. how does the sync work?",
    ],
)
def test_missing_what_the_agent_said_without_naming_it_is_a_clarification(text: str) -> None:
    assert is_clarification(text)


def test_not_following_a_plan_is_not_a_clarification() -> None:
    assert not is_clarification("we didn't follow through on the rollout last year")


@pytest.mark.parametrize(
    "answer",
    [
        "it would be great if it tied into salesforce so the deals update",
        "everything has to be tied in with our zoho setup",
    ],
)
def test_tied_into_a_system_is_an_integration_wish_not_lock_in(answer: str) -> None:
    out = _sales([("assistant", "Anything else you need?"), ("user", answer)])
    assert "contract_lock_in" not in out["objections"]


def test_tied_into_a_multi_year_contract_is_still_lock_in() -> None:
    out = _sales(
        [
            ("assistant", "What's holding you back?"),
            ("user", "we're tied into a contract with adobe until next spring"),
        ]
    )
    assert "contract_lock_in" in out["objections"]


@pytest.mark.parametrize(
    "answer",
    [
        "i'll be recommending it to our owner, he makes the final call",
        "i'd put together a recommendation and our ceo decides",
        "i'm gathering options for our ops director, it's her call",
    ],
)
def test_recommending_to_the_decider_is_an_influencer_without_a_hurdle(answer: str) -> None:
    out = _sales([("assistant", "How do decisions get made there?"), ("user", answer)])
    assert out["budget_authority"] == "influencer"
    assert "needs_approval" not in out["objections"]


@pytest.mark.parametrize(
    "answer",
    [
        "i'm just the coordinator, it's our principal's decision",
        "honestly it's her call, she runs the office",
    ],
)
def test_its_someone_elses_call_needs_their_approval(answer: str) -> None:
    out = _sales([("assistant", "Anything else?"), ("user", answer)])
    assert out["budget_authority"] == "needs_approval"


@pytest.mark.parametrize(
    "answer",
    [
        "every new employee does the policy sign off and a tax form",
        "we send the timesheet sign off each friday",
    ],
)
def test_a_document_named_sign_off_is_not_someone_approving(answer: str) -> None:
    out = _sales([("assistant", "What would you send?"), ("user", answer)])
    assert "needs_approval" not in out["objections"]
    assert out["budget_authority"] is None


@pytest.mark.parametrize(
    "answer",
    [
        "wait, so they can choose the add-ons themselves?",
        "hold on, clients could pick which package they want?",
    ],
)
def test_asking_what_recipients_may_choose_is_not_approval(answer: str) -> None:
    out = _sales([("assistant", "The quote can offer optional items."), ("user", answer)])
    assert "needs_approval" not in out["objections"]
    assert out["budget_authority"] is None


def test_a_boss_who_picks_is_still_approval() -> None:
    out = _sales(
        [("assistant", "Who decides?"), ("user", "my boss picks the tools, i just use them")]
    )
    assert out["budget_authority"] == "needs_approval"


def test_a_decider_who_follows_my_advice_still_has_to_approve() -> None:
    out = _sales(
        [
            ("assistant", "Who signs off?"),
            ("user", "the owner signs off on purchases. she mostly goes with what i recommend"),
        ]
    )
    assert out["budget_authority"] == "needs_approval"


def test_a_comma_between_hundreds_is_a_correction_not_a_range() -> None:
    out = _sales(
        [("assistant", "How many a month?"), ("user", "two hundred, three hundred a month")]
    )
    assert out["monthly_volume"] == 300
