from __future__ import annotations

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
