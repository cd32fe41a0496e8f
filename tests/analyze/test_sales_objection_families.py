"""Families of phrasings a caller uses to put a hurdle in front of buying, one case per wording.

Every sentence is written for these tests; none quotes a labeled set. The negative cases hold
precision: a hurdle waved off, worked around, or said of a department is no objection.
"""

from __future__ import annotations

import pytest

from tests.analyze.test_sales_hurdles import _said


@pytest.mark.parametrize(
    ("question", "answer", "want"),
    [
        (
            "Pricing is on the website.",
            "if you're not near what we pay now, I'm staying where I am",
            "price",
        ),
        ("Anything else?", "the per user price honestly made our owner wince", "price"),
        ("Anything else?", "I love it, but I'm not sure we can afford it this year", "price"),
        (
            "Which CRM do you use?",
            "We're on Pipedrive and I don't see Pipedrive on your integrations page at all.",
            "integration_gap",
        ),
        (
            "How many templates do you have?",
            "Around three hundred. Who is going to move all of those? Nobody here.",
            "switching_cost",
        ),
        (
            "When would you start?",
            "we're not buying anything new until the audit wraps up",
            "timing",
        ),
        (
            "Anything else?",
            "we also need a payment step at the end, which I don't see anywhere",
            "feature_gap",
        ),
        (
            "Who's going to use it?",
            "my crew isn't techy, so anything fiddly gets dropped in a week",
            "complexity",
        ),
        (
            "What about setup?",
            "we can't take on another big implementation this year",
            "complexity",
        ),
        (
            "Anything else?",
            "we signed with Dropbox Sign last spring and we're stuck until next June",
            "contract_lock_in",
        ),
    ],
)
def test_objection_family_phrasings_are_recognised(question: str, answer: str, want: str) -> None:
    assert want in _said(question, answer)["objections"]


@pytest.mark.parametrize(
    ("question", "answer", "want"),
    [
        (
            "Does it need to talk to your accounting tool?",
            "If it can't pull the rates from our billing system, we gain nothing from it.",
            "integration_gap",
        ),
        (
            "Can it do that?",
            "So it can't build the price table for us. That's a real problem for us.",
            "feature_gap",
        ),
        (
            "Can it do that?",
            "So it won't print booklets. That's the main thing we need.",
            "feature_gap",
        ),
    ],
)
def test_a_missing_capability_judged_as_a_hurdle_is_a_gap(
    question: str, answer: str, want: str
) -> None:
    assert _said(question, answer)["objections"] == [want]


def test_someone_else_who_must_sign_off_is_an_approval_hurdle_even_when_asked() -> None:
    got = _said(
        "Who makes the final call?",
        "I'd need our finance director to approve it, and she's tough on new spend.",
    )
    assert "needs_approval" in got["objections"]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (
            "Which systems should it connect to?",
            "Our scheduling tool isn't on your integrations list, but our developer can connect "
            "it through the API.",
        ),
        (
            "Who sends the agreements?",
            "Two people in compliance send every agreement, the rest just read them.",
        ),
        (
            "Any security requirements?",
            "We read your security page last week, it's fine.",
        ),
        (
            "What did you use before?",
            "We had Conga, and who's going to miss it? It was too complicated anyway.",
        ),
    ],
)
def test_hurdles_worked_around_waved_off_or_named_as_a_department_are_no_objection(
    question: str, answer: str
) -> None:
    assert _said(question, answer)["objections"] == []


@pytest.mark.parametrize(
    ("answer", "want"),
    [
        ("Honestly, nobody has time to learn new software now.", "timing"),
        ("During harvest no one has time to learn a new app.", "timing"),
        ("I don't have time to learn a tool with fifty settings, that's the issue.", "complexity"),
    ],
)
def test_no_time_to_learn_is_timing_when_a_when_is_named_else_complexity(
    answer: str, want: str
) -> None:
    assert _said("How is the team finding it?", answer)["objections"] == [want]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        (
            "Did you look at anything before?",
            "We tried a couple of tools two years ago, but it was bad timing back then.",
        ),
        ("Anything else?", "Just that your pricing page was confusing to read, that's all."),
    ],
)
def test_past_timing_and_confusing_website_are_no_objection(question: str, answer: str) -> None:
    assert _said(question, answer)["objections"] == []


@pytest.mark.parametrize(
    ("question", "answer", "want"),
    [
        ("What might stop you from moving ahead?", "Well, budget. We're a small team.", ["price"]),
        ("Any concerns so far?", "Cost, really. The rest looks fine to me.", ["price"]),
        ("What would you like to know first?", "Pricing. What does the Business plan cost?", []),
    ],
)
def test_cost_named_as_the_answer_to_what_holds_you_back_is_price(
    question: str, answer: str, want: list[str]
) -> None:
    assert _said(question, answer)["objections"] == want
