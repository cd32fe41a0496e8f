from __future__ import annotations

import json
import pathlib

import pytest

from callscope.analyze.modules import sentiment
from callscope.analyze.modules.sentiment import analyze_sentiment, clean, score_turn
from tests.analyze.callbuilder import profile, view


def overall(*caller: str) -> dict[str, object]:
    turns: list[dict[str, object]] = []
    for text in caller:
        turns += [{"agent": "Thanks for that, that's wonderful, great!"}, {"user": text}]
    return analyze_sentiment(view(turns), profile(), {})


def test_cooperative_answers_are_neutral_not_positive() -> None:
    # Plain VADER scores every one of these positive ("yes", "sure", "okay", "thanks").
    r = overall(
        "yes, this is ray",
        "sure, about twenty a month",
        "okay. we use zoho crm",
        "yeah, friday at one works",
        "Okay. Thanks.",
    )
    assert r["overall"] == "neutral"


def test_enthusiastic_call_is_positive() -> None:
    r = overall(
        "hi, yes",
        "we send about forty proposals",
        "oh that's awesome, exactly what we need",
        "yes let's book it",
        "great, thanks, this was really helpful!",
    )
    assert r["overall"] == "positive"
    assert any("awesome" in m for m in r["enthusiasm_markers"])


def test_polite_thanks_does_not_rescue_a_frustrated_call() -> None:
    r = overall(
        "I got charged after I cancelled. What the hell is going on?",
        "I don't want you to look stuff up, I want my money back.",
        "This is a waste of my time.",
        "Fine. Thanks. Bye.",
    )
    assert r["overall"] == "negative"
    assert r["frustration_markers"]


def test_sarcastic_great_after_a_complaint_is_negative() -> None:
    assert score_turn("You can't process refunds. Great.") < 0
    assert score_turn("oh great, another sales call") < 0
    assert score_turn("Great. That's exactly what we need.") > 0


def test_pain_with_current_tool_does_not_make_the_call_negative() -> None:
    r = overall(
        "right now it's a mess, the producers hate the old form builder",
        "it's clunky and slow",
        "okay, that sounds better",
        "sure, thursday works",
        "thanks, bye",
    )
    assert r["overall"] != "negative"


def test_negation_and_self_correction() -> None:
    assert score_turn("that's not a concern at all") >= 0
    assert score_turn("this is not good, not helpful at all") < 0
    assert score_turn("Not me, sadly. Procurement approves it.") <= 0
    assert "wait" not in clean("maybe eight a week. no, wait, twelve")


def test_fillers_and_asr_debris_are_stripped() -> None:
    assert clean("um so uh we, you know, send ~~~ ### forty") == "so we, send forty"
    assert score_turn("\x00\x1b[31m ���� 🙃") == 0.0


def test_progression_and_segments_cover_every_caller_turn() -> None:
    r = overall("hello", "it's fine", "this is terrible", "I hate this", "awful, bye")
    assert len(r["progression"]) == 5
    assert set(r["segments"]) == {"opening", "middle", "close"}
    assert r["trend"] < 0 and r["overall"] == "negative"


def test_no_caller_turns_is_neutral() -> None:
    r = analyze_sentiment(view([{"agent": "Hello? Are you there?"}]), profile(), {})
    assert r["overall"] == "neutral" and r["progression"] == []


def test_courtesy_sign_off_does_not_soften_a_negative_close() -> None:
    r = overall(
        "Yes, hi. Thanks for reaching out.",
        "Honestly, it's been a disappointing week. The editor is confusing.",
        "It's just too complicated for us. We're going to stop the trial.",
        "Simpler templates, maybe. But it's too late now, unfortunately.",
        "Okay. Thanks for your time anyway. Bye.",
    )
    assert r["overall"] == "negative"


def test_bare_praise_after_sarcasm_is_ironic() -> None:
    r = overall(
        "I'm calling about the charge.",
        "Yeah, right. Like that's going to happen.",
        "Great. Can't wait. Just cancel the whole account.",
        "Sure. Bye.",
    )
    assert r["overall"] == "negative"
    assert score_turn("Great. Can't wait.", ironic_context=True) < 0


def test_dismissive_whatever_makes_praise_in_the_turn_ironic() -> None:
    assert score_turn("Great. Perfect. Sure, whatever.") < 0
    assert score_turn("Fantastic. Just fantastic. Another ticket.") < 0
    # Genuine praise that explains a problem it solves stays positive.
    assert score_turn("perfect. that's actually one of our biggest problems right now") > 0


def test_frustration_resolved_with_delight_is_positive() -> None:
    r = overall(
        "I've spent an hour on this and it's really frustrating.",
        "In a document. I drag the field and it just snaps back.",
        "Oh! It stayed! That worked.",
        "Thank you so much, you just saved my afternoon.",
        "You too, bye!",
    )
    assert r["overall"] == "positive"


def test_frustration_resolved_calmly_is_neutral() -> None:
    r = overall(
        "The reminders aren't going out and I'm annoyed, I was told this works.",
        "Nobody told me that. Okay. So I resend the old ones?",
        "Fine. I'll resend them.",
        "No. That's it.",
        "Yep, thanks.",
    )
    assert r["overall"] == "neutral"


def test_acknowledging_okay_good_is_not_delight() -> None:
    assert score_turn("Okay, good.") == 0
    assert score_turn("Oh good, yes.") == 0
    assert score_turn("No, I think I'm good, I just haven't had time.") <= 0


def test_polite_refusal_on_price_is_negative() -> None:
    r = overall(
        "Yes. It's way too expensive for a company our size, I'm afraid.",
        "So no, it doesn't work for us. We'll pass.",
        "Thanks anyway. Bye.",
    )
    assert r["overall"] == "negative"


CORPUS = pathlib.Path(__file__).parent / "quality_cases"


@pytest.mark.parametrize(
    "text",
    [
        "i really like it so far",
        "yeah right, that is the bomb",
        "it's kind of okay but not very good",
        "no problem at all, this is not bad",
        "at least it works, never so happy",
        "sure, thanks, okay!!! really??",
    ],
)
def test_fast_scorer_matches_vader(text: str) -> None:
    expected = sentiment._ANALYZER.polarity_scores(text)["compound"]
    assert sentiment._vader_compound(text) == pytest.approx(expected, abs=1e-12)


def test_fast_scorer_matches_vader_on_every_case_turn() -> None:
    checked = 0
    for path in sorted(CORPUS.glob("*.json")):
        for item in json.loads(path.read_text())["record"]["transcript"]["items"]:
            if item.get("type") != "message":
                continue
            text = clean(" ".join(item["content"]))
            if text and text.isascii():
                expected = sentiment._ANALYZER.polarity_scores(text)["compound"]
                assert sentiment._vader_compound(text) == pytest.approx(expected, abs=1e-12)
                checked += 1
    assert checked > 200


def test_turns_the_gate_skips_would_score_zero() -> None:
    skipped = 0
    for path in sorted(CORPUS.glob("*.json")):
        for item in json.loads(path.read_text())["record"]["transcript"]["items"]:
            if item.get("type") != "message":
                continue
            text = " ".join(item["content"])
            low = text.lower()
            if not sentiment.could_score(low):
                skipped += 1
                assert sentiment._score(clean(text), True, True)[0] == 0.0, text
    assert skipped > 100
    for text in ("yeah, right.", "can't wait.", "that's a deal-breaker", "waste of my time"):
        assert sentiment.could_score(text)
