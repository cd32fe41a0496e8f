"""Complaints about us (the vendor, its agents, its trial, its price), and grudging agreement at
the close, read as negative even when the call itself stays polite; complaints about the
caller's current tool stay pain points. Also the closing exchanges that end a call naturally in
dialect or another language."""

from __future__ import annotations

import pytest

from callscope.analyze.modules.quality import natural_ending
from callscope.analyze.modules.sentiment import analyze_sentiment
from tests.analyze.callbuilder import profile, view

FLAT = ("We run four bakeries.", "Maybe sixty orders a month.", "Mostly PDFs over email.")


def call(*caller: str, agent: str = "Understood. Let me note that.") -> dict[str, object]:
    turns: list[dict[str, object]] = []
    for text in caller:
        turns += [{"agent": agent}, {"user": text}]
    return analyze_sentiment(view(turns), profile(), {})


@pytest.mark.parametrize(
    "grievance",
    [
        "You lot have phoned us four times since Monday, four.",
        "Your rep promised he'd ring me on Tuesday, and no one did.",
        "Every other button we try in the trial wants us to upgrade first.",
        "We saw the annual price and we're not paying that for a bakery.",
        "Your support desk still hasn't replied to my ticket.",
        "I've been waiting on an answer from your team since last week.",
    ],
)
def test_complaint_about_the_vendor_makes_a_polite_call_negative(grievance: str) -> None:
    r = call(grievance, *FLAT, "Okay, thanks. Bye.")
    assert r["overall"] == "negative"
    plain = call("Hello, yes.", *FLAT, "Okay, thanks. Bye.")
    assert plain["overall"] != "negative"


def test_complaint_about_the_current_tool_is_a_pain_point_not_a_grievance() -> None:
    r = call("Our old e-sign app is clunky and slow.", *FLAT, "Okay, thanks. Bye.")
    assert r["frustration_markers"] == []


@pytest.mark.parametrize(
    "close",
    ["Well, we'll see about that.", "I suppose so. Go ahead.", "Just send it over then."],
)
def test_grudging_agreement_as_the_last_word_counts_against_the_call(close: str) -> None:
    grudging = call(*FLAT, close)
    warm = call(*FLAT, "Sounds good, thanks a lot!")
    assert grudging["score"] < warm["score"]  # type: ignore[operator]
    assert grudging["frustration_markers"]
    # The same words mid-call, followed by thanks, are no curt exit.
    assert call(close, *FLAT, "Thanks, bye.")["frustration_markers"] == []


def test_impatience_at_the_start_of_the_call_is_negative() -> None:
    r = call(
        "Make it quick, I'm between meetings.",
        *FLAT,
        "I've already told your colleague all of that.",
        "Right.",
    )
    assert r["overall"] == "negative"


def test_naming_an_approval_hurdle_is_not_a_bad_mood() -> None:
    r = call(
        *FLAT,
        "The main problem is our owner, he's cautious about new apps. That's the hard part.",
        "Thank you. Goodbye.",
    )
    assert r["overall"] == "neutral"


def test_accepting_a_check_in_date_is_not_delight() -> None:
    r = call(*FLAT, "Yes, that's fine. We can look again in May.", "Thanks, bye.")
    assert r["overall"] == "neutral"


def test_very_helpful_as_thanks_is_enthusiasm() -> None:
    r = call(*FLAT, "Thank you so much, very helpful!")
    assert "very helpful" in r["enthusiasm_markers"]  # type: ignore[operator]


def _ends(*tail: dict[str, object]) -> bool:
    return natural_ending(view([{"agent": "Hi, this is Ava."}, {"user": "yes hi"}, *tail]).turns)


@pytest.mark.parametrize(
    "caller, agent",
    [
        ("Brilliant, cheers for that.", "Cheers, take it easy!"),
        ("Perfect. Ciao!", "Ciao, Giulia!"),
        ("Lovely, ta-ra.", "Bye now."),
        ("Preciate you, you've been a big help.", "Good luck with the launch!"),
    ],
)
def test_dialect_and_foreign_farewells_close_the_call(caller: str, agent: str) -> None:
    assert _ends(
        {"agent": "You're booked for Thursday at nine."}, {"user": caller}, {"agent": agent}
    )


def test_praise_mid_call_followed_by_a_question_is_not_a_close() -> None:
    assert not _ends(
        {"user": "You've been great so far."},
        {"agent": "Thanks! And which CRM do you use?"},
    )
