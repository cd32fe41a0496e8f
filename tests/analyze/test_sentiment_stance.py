"""Sentiment follows the caller's stance over the whole call: leaning in (wanting it soon,
wanting exactly this, waving concerns off) vs. dismissing it (no time, no point, letting the
trial lapse, a hurdle confirmed), not the courtesy words at the edges of the call."""

from __future__ import annotations

import pytest

from callscope.analyze.modules.sentiment import analyze_sentiment, score_turn
from tests.analyze.callbuilder import profile, view


def call(*caller: str, agent: str = "Understood. Let me note that.") -> dict[str, object]:
    turns: list[dict[str, object]] = []
    for text in caller:
        turns += [{"agent": agent}, {"user": text}]
    return analyze_sentiment(view(turns), profile(), {})


def test_impatient_dismissive_caller_is_negative() -> None:
    r = call(
        "who is this",
        "look, I honestly don't have the time for this right now",
        "we do the contracts in spreadsheets",
        "maybe thirty a month",
        "I really don't see the point of it for a crew our size",
        "gotta take another call",
    )
    assert r["overall"] == "negative"
    assert any("time for" in m for m in r["frustration_markers"])  # type: ignore[attr-defined]


def test_caller_letting_the_trial_lapse_is_negative() -> None:
    r = call(
        "We poked at it for a couple of days.",
        "The import never matched our layout, so we stopped.",
        "No more meetings, please. We'll just let our trial lapse.",
        "Fine. Goodbye.",
    )
    assert r["overall"] == "negative"


def test_grudging_fine_as_the_last_word_counts_against_the_call() -> None:
    flat = ["About twelve a month.", "We use Word for them.", "Sometime next year."]
    curt = call(*flat, "Fine. I need to go.")
    polite = call(*flat, "Okay, thanks. I need to go.")
    assert curt["score"] < polite["score"]  # type: ignore[operator]
    # "Fine, no complaints." mid-call is an answer, not a curt exit.
    assert call(*flat, "Fine, no complaints so far.", "Thanks, bye.")["frustration_markers"] == []


def test_confirmed_hurdle_is_negative_even_with_a_flat_close() -> None:
    r = call(
        "Yes, Marta from Lakeside Fabrication.",
        "About two hundred quotes a month.",
        "It has to sync prices from NetSuite.",
        "That's a real problem. I'd need to raise it with finance.",
        "Maybe next year.",
        "Okay.",
        agent="We don't have a native NetSuite price sync, unfortunately.",
    )
    assert r["overall"] == "negative"


def test_conditional_hurdle_is_not_a_mood() -> None:
    r = call(
        "About two hundred quotes a month.",
        "It has to sync prices from NetSuite. If it can't, that's a problem.",
        "Sometime next quarter.",
        "Okay, thanks.",
    )
    assert r["overall"] == "neutral"


def test_dismissal_softens_when_the_caller_warms_up() -> None:
    r = call(
        "Honestly I don't see the point of it yet.",
        "Wait, it fills the quote from the deal? That's exactly what we need.",
        "We'd like it running this month.",
        "Thanks, bye.",
    )
    assert r["overall"] != "negative"


def test_eager_buyer_without_praise_words_is_positive() -> None:
    r = call(
        "Yes, this is Priya.",
        "Onboarding forms for new hires.",
        "About forty a month.",
        "Moving our templates over isn't a big deal.",
        "We want this running this week.",
        "Sure, Thursday works.",
        "Thanks!",
    )
    assert r["overall"] == "positive"
    assert r["intent_markers"]


def test_eagerness_tempered_by_pushback_is_neutral() -> None:
    r = call(
        "Yes, this is Priya.",
        "Onboarding forms for new hires.",
        "About forty a month.",
        "We want this running this week.",
        "Hmm, that's pretty expensive for six seats.",
        "Can you email me something first? I don't need a meeting.",
        "Thanks.",
    )
    assert r["overall"] == "neutral"
    assert r["reservation_markers"]


@pytest.mark.parametrize(
    "text",
    [
        "We had two outages this week.",
        "He's on vacation this month.",
        "so we send like forty this month, give or take",
    ],
)
def test_dates_in_passing_are_not_eagerness(text: str) -> None:
    assert call(text)["intent_markers"] == []


def test_receipt_thanks_at_the_end_is_courtesy_not_delight() -> None:
    r = call(
        "Yes, this is Omar.",
        "Lease renewals, about ten a month.",
        "We're tied to our current vendor until spring.",
        "Let's revisit in March.",
        "Perfect, thanks.",
        agent="I'll follow up in February.",
    )
    assert r["overall"] == "neutral"
    assert r["enthusiasm_markers"] == []


def test_casual_praise_is_positive() -> None:
    assert score_turn("Sick. Send it over.") > 0
    assert score_turn("you're a legend, thanks") > 0
    assert score_turn("Half my crew is out sick.") <= 0
    r = call(
        "yo, it's dev",
        "quotes for a two person agency, like sixty a month",
        "sick, stripe at signing is the whole thing for us",
        "this week if possible",
        "legend, thanks",
    )
    assert r["overall"] == "positive"


def test_mild_exclamation_is_not_a_complaint() -> None:
    assert score_turn("oh shoot, someone's at the door, one sec") >= 0


def test_hypotheticals_do_not_carry_mood() -> None:
    assert score_turn("text me if the upload breaks again") == 0
    assert score_turn("I wanted to find out if it's worth the money") == 0
    assert score_turn("If it can't read our price list, that's a problem.") == 0
    assert score_turn("The upload breaks every single time.") < 0


def test_names_and_business_nouns_are_not_feelings() -> None:
    assert score_turn("I manage the front desk at Happy Paws Grooming.") == 0
    assert score_turn("We send engagement letters and consent forms to new patients.") == 0
    assert score_turn("I'm happy with it so far.") > 0
    assert score_turn("You've been so patient with me.") > 0


def test_caller_repeating_themselves_and_shutting_the_door_is_negative() -> None:
    r = call(
        "We only need invoices signed, nothing else.",
        "Invoices. I just said that.",
        "Our billing software isn't relevant to this.",
        "Unless the per-seat price drops, it's not happening.",
        "Okay. Thanks. Bye.",
    )
    assert r["overall"] == "negative"


def test_polite_businesslike_caller_is_neutral() -> None:
    r = call(
        # lower-case ASR text: "better proposals" is a product name, not praise
        "sure, we're a dental group with four offices",
        "we use better proposals now, it's alright",
        "we're swamped until after the holidays, so after that",
        "okay, send it over and I'll have a look",
        "thank you",
    )
    assert r["overall"] == "neutral"


def test_eagerness_on_a_condition_is_not_leaning_in() -> None:
    r = call(
        "We'd switch right away if the price were lower.",
        "Zoho is cheaper, so the price has to come down.",
        "Okay, thanks.",
    )
    assert r["overall"] == "neutral"
    assert r["intent_markers"] == []


def test_looking_forward_and_preferring_the_product_is_positive() -> None:
    r = call(
        "We build every estimate in Word today.",
        "Yes, this looks much easier than what we have.",
        "We want to start using it next week.",
        "Thanks, looking forward to it.",
    )
    assert r["overall"] == "positive"
    assert any("looking forward" in m for m in r["enthusiasm_markers"])  # type: ignore[attr-defined]


def test_product_names_from_the_profile_are_not_praise() -> None:
    r = call("we're on better proposals today", "the crm is microsoft dynamics")
    assert [p["score"] for p in r["progression"]] == [0.0, 0.0]  # type: ignore[attr-defined]
