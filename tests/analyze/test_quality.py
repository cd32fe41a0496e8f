from __future__ import annotations

import pytest

from callscope.analyze.modules.quality import analyze_quality, is_clarification, natural_ending
from tests.analyze.callbuilder import profile, view


def run(turns: list[dict[str, object]], **kw: object) -> dict[str, object]:
    return analyze_quality(view(turns, **kw), profile(), {})


@pytest.mark.parametrize(
    "text",
    [
        "Sorry, can you say that again?",
        "Wait, say that again? Notifications when they open it?",
        "Yes, dear. Who did you say you were?",
        "A template. I'm sorry, what's a template?",
        "sorry, the what? content library?",
        "sorry you're breaking up what was the last part",
        "Sorry, which times?",
        "Sorry, connecting it how? What do you mean?",
        "Okay. The audit trail, what's that exactly?",
        "Could you say that again, slower? My hearing aid is acting up.",
        "Perdón, can you say that again? The part about the seats.",
        "I didn't catch that, could you repeat it",
        "what does that mean for us",
        "Huh?",
        "Sorry?",
        "Say again?",
        "Sorry, what?",
        "Okay, and what was the last thing?",
        "Sorry, which plan did you say was the best fit?",
        "I'm sorry, I didn't catch your name.",
        "Could you spell that for me?",
        "Pardon me, under what?",
        "yeah who's this",
        "I'm lost. Can you go back to the part after the plus?",
        "What do you mean by seats?",
    ],
)
def test_clarification_requests_are_recognised(text: str) -> None:
    assert is_clarification(text)


@pytest.mark.parametrize(
    "text",
    [
        "Sorry, before I forget, the big question. Is this HIPAA compliant?",
        "okay, that's better. what's up",
        "what's the price on this thing though, per person?",
        "Does PandaDoc talk to Bullhorn?",
        "Oh! Right, right, the document thing. Sorry, I'm a bit lost with it.",
        "can it link with notion?",
        "What the hell is going on?",
        "sorry, i'm literally walking into a meeting",
        "I mean, we say that again and again to our reps",
        "I don't understand why my upload failed yesterday though.",
        "What's the difference between Business and Enterprise?",
        "Can you go over the pricing for ten seats?",
        "Can you say whether it supports bulk send?",
        "what's the price per seat?",
    ],
)
def test_ordinary_questions_are_not_clarifications(text: str) -> None:
    assert not is_clarification(text)


def test_counts_one_per_caller_turn_and_ignores_the_agent() -> None:
    q = run(
        [
            {"agent": "Sorry, could you say that again?"},
            {"user": "Sorry, what do you mean? Can you repeat that?"},
            {"agent": "Sure."},
            {"user": "who did you say you were?"},
        ]
    )
    assert q["clarification_requests"] == 2


CLOSE = [
    {"agent": "You're booked for Thursday."},
    {"user": "great, thanks"},
    {"agent": "Thanks Ray, have a good one."},
]


def test_closing_exchange_is_a_natural_ending() -> None:
    assert run([{"agent": "Hi"}, {"user": "hi"}, *CLOSE])["natural_ending"] is True


@pytest.mark.parametrize(
    "tail",
    [
        [
            {"agent": "Would it be alright if I emailed you?"},
            {"user": "yeah sure, the email's on the acc—"},
        ],
        [{"agent": "Sorry, I didn't catch that. Are you still there?"}],
        [
            {"agent": "I understand. I'll submit it to billing."},
            {"user": "They better. This is ridiculous."},
        ],
        [{"agent": "Thanks so much, bye!"}, {"user": "whatever. don't call me again"}],
        [{"agent": "Thanks for your time."}],
    ],
)
def test_abrupt_endings_are_not_natural(tail: list[dict[str, object]]) -> None:
    assert (
        run([{"agent": "Hi, this is Ava."}, {"user": "yes hi"}, *tail])["natural_ending"] is False
    )


def test_agent_thanks_alone_without_caller_close_is_not_natural() -> None:
    turns = [
        {"agent": "Hi"},
        {"user": "hello"},
        {"agent": "Which CRM do you use?"},
        {"user": "hubspot"},
        {"agent": "Thanks, that's helpful."},
    ]
    assert natural_ending(view(turns).turns) is False


def test_interruptions_come_from_flags() -> None:
    q = run(
        [
            {"agent": "Which CRM are you—", "interrupted": True},
            {"user": "hubspot"},
            {"agent": "Great, and—", "interrupted": True},
            {"user": "wait", "interrupted": True},
        ]
    )
    assert q["interruptions"] == 3


def test_timing_from_speaking_timestamps() -> None:
    q = run(
        [
            {"agent": "Hello there", "start": 0, "stop": 2},
            {"user": "hi one two three four five six", "start": 2.5, "stop": 8.5},
            {"agent": "ok", "start": 13.5, "stop": 14},
        ]
    )
    assert q["caller_talk_s"] == 6.0 and q["agent_talk_s"] == 2.5
    assert q["dead_air_s"] == 2.0  # the 5 s gap minus the 3 s allowance
    assert q["response_gap_s"] == {"avg": 5.0, "p95": 5.0, "max": 5.0}
    assert q["words_per_minute"] == 70.0


def test_clock_skew_is_ignored_not_raised() -> None:
    q = run(
        [
            {"agent": "Hello", "start": 100, "stop": 90},
            {"user": "hi there friend", "start": 5000, "stop": 5001},
            {"agent": "ok", "start": 1, "stop": 2},
        ]
    )
    assert q["timestamp_anomalies"] >= 2
    assert q["dead_air_s"] == 0.0


def test_empty_and_abandoned_calls() -> None:
    empty = run([])
    assert empty["abandoned"] is True and empty["natural_ending"] is False
    assert empty["engagement_score"] == 0.0 and empty["response_gap_s"] is None
    short = run([{"agent": "Hi, is this Sam?"}, {"user": "yes"}], duration_seconds=8)
    assert short["abandoned"] is True and short["engagement_score"] <= 2.0


def test_engaged_call_scores_higher_than_a_terse_one() -> None:
    engaged = [
        {"agent": "What do you need?"},
        {"user": "We send forty proposals a month. Can it sync with HubSpot?"},
        {"agent": "Yes it can."},
        {"user": "How does pricing work for six seats?"},
        {"agent": "Per seat."},
        {"user": "And can we try the API?"},
        {"agent": "Sure."},
        {"user": "Great, let's book a demo then"},
        *CLOSE,
    ]
    terse = [
        {"agent": "What do you need?"},
        {"user": "nothing"},
        {"agent": "Okay."},
        {"user": "bye"},
    ]
    assert run(engaged)["engagement_score"] > run(terse, duration_seconds=20)["engagement_score"]


def test_garbage_text_never_raises() -> None:
    q = run([{"agent": "\x00\ufffd\ud7ff"}, {"user": "���� \x1b[31m ¿¿ 🙃🙃"}, {"user": ""}])
    assert 0 <= q["engagement_score"] <= 10


def _ends(*tail: dict[str, object]) -> bool:
    return natural_ending(view([{"agent": "Hi, this is Ava."}, {"user": "yes hi"}, *tail]).turns)


def test_caller_goodbye_after_the_agents_wrap_up_is_natural() -> None:
    assert _ends({"agent": "I'll email the pricing sheet today."}, {"user": "ok bye"})


def test_goodbye_that_walks_out_on_a_question_is_not_natural() -> None:
    assert not _ends(
        {"agent": "How many people would be sending them?"},
        {"user": "Oh, sorry, my next meeting just started. I have to go. Bye."},
    )


def test_nothing_else_to_anything_else_is_the_callers_close() -> None:
    assert _ends(
        {"agent": "I'll send the setup guide. Anything else I can help with?"},
        {"user": "Nope."},
        {"agent": "Thanks, Carla! Have a great evening."},
    )


def test_agent_goodbye_in_answer_to_the_callers_last_word_is_natural() -> None:
    assert _ends(
        {"agent": "Is this Frank?"},
        {"user": "not interested, take me off your list"},
        {"agent": "Understood, I'll make sure you're not contacted again. Have a good day."},
    )


def test_bare_okay_closes_only_an_explicit_wrap_up() -> None:
    assert _ends(
        {"agent": "I'll ask our solutions team about Dynamics and follow up."}, {"user": "Okay."}
    )
    assert not _ends({"agent": "Templates live in the Templates tab."}, {"user": "Okay."})


def test_hostility_before_the_goodbye_does_not_spoil_the_close() -> None:
    assert _ends(
        {"user": "Sure. Whatever you say. Just email me."},
        {"agent": "Will do. Sorry again for the trouble, Marcus. Bye."},
        {"user": "yeah. bye."},
    )


def test_agent_alone_after_the_caller_left_is_not_natural() -> None:
    assert not _ends(
        {"agent": "Sure, take your time."},
        {"agent": "Hugo, are you still there?"},
        {"agent": "It seems you've stepped away. I'll email you instead. Goodbye!"},
    )


@pytest.mark.parametrize(
    "text",
    [
        "Thursday at two, sorry, did you say Pacific or Mountain?",
        "Did you just say the Business plan includes that?",
        "wait did you mean per user or per account?",
    ],
)
def test_asking_the_agent_to_confirm_what_it_said_is_a_clarification(text: str) -> None:
    assert is_clarification(text)


@pytest.mark.parametrize(
    "text", ["Did you get the invite I forwarded?", "We did, you mean the old portal? It's gone."]
)
def test_other_did_you_questions_are_not_clarifications(text: str) -> None:
    assert not is_clarification(text)


def test_specific_thanks_and_a_see_you_tomorrow_close_the_call() -> None:
    assert _ends(
        {"agent": "You're booked for 9 a.m. Friday."},
        {"user": "Great. Appreciate you squeezing me in."},
        {"agent": "Anytime. Talk tomorrow, Lee."},
    )


def test_leaving_after_the_agents_wrap_up_is_a_close() -> None:
    assert _ends(
        {"agent": "I'll email a short comparison this afternoon."},
        {"user": "Okay. I need to run."},
        {"agent": "Thanks, Mo. Good luck with the audit."},
    )


@pytest.mark.parametrize(
    "text",
    [
        # echo questions: the missed word replaced by a question word
        "the which dashboard?",
        "sorry, you bill it by what, the envelope?",
        "it connects to who?",
        # asking for a part again
        "could you repeat the first bit again?",
        "say the number one more time?",
        # checking they heard right
        "wait, you're saying the import is manual?",
        "so you mean we'd pay twice?",
        "are you telling me there's no audit log?",
    ],
)
def test_echo_and_heard_right_questions_are_clarifications(text: str) -> None:
    assert is_clarification(text)


@pytest.mark.parametrize(
    "text",
    [
        "In which case do we need the Enterprise plan?",
        "For what it's worth, we liked the demo.",
        "What you're saying makes sense.",
        "You mean a lot to this team, thanks.",
        "to what extent can we brand the portal?",
    ],
)
def test_questions_that_only_contain_question_words_are_not_clarifications(text: str) -> None:
    assert not is_clarification(text)


def test_short_question_echoing_the_agents_statement_is_a_clarification() -> None:
    q = run(
        [
            {"agent": "You can store those blocks in the snippet vault for reuse."},
            {"user": "The snippet vault?"},
            {"agent": "It's a shared folder of reusable text."},
            {"user": "Got it, makes sense."},
        ]
    )
    assert q["clarification_requests"] == 1


def test_echoing_the_agents_question_back_is_an_answer_not_a_clarification() -> None:
    q = run(
        [
            {"agent": "Would Monday at two work for the walkthrough?"},
            {"user": "Monday at two?"},
            {"agent": "Yes, Monday at two Pacific."},
            {"user": "Does it handle Spanish templates?"},
        ]
    )
    assert q["clarification_requests"] == 0


@pytest.mark.parametrize(
    "text",
    [
        "Audit trail? I'm not sure what that is.",
        "honestly no idea what those are, sorry",
        "sorry, you're moving the call to Thursday?",
        "wait, you said the seats are extra?",
    ],
)
def test_naming_the_gap_and_sorry_echoes_are_clarifications(text: str) -> None:
    assert is_clarification(text)


@pytest.mark.parametrize(
    "text",
    [
        "I'm not sure what that is going to cost us.",
        "We don't know what it is we need yet",
        "you're right, we send them weekly?",
        "sorry, we have about forty a month.",
    ],
)
def test_statements_near_those_families_are_not_clarifications(text: str) -> None:
    assert not is_clarification(text)


def test_echo_question_with_a_trailing_apology_is_a_clarification() -> None:
    said = {"you", "can", "use", "conditional", "fields", "for", "that"}
    assert is_clarification("conditional what? sorry", said)
    assert not is_clarification("fields, yes. sorry", said)
