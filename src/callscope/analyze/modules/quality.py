"""Conversation quality: engagement, how the call ended, clarifications, interruptions, timing.

Only cheap per-turn work: precompiled patterns and one pass over the turns. Timing figures
come from each message's ``started_speaking_at`` / ``stopped_speaking_at``; gaps that are
negative beyond a small overlap, or absurdly long, are clock skew and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView, Turn
from callscope.profile.model import Profile

_WORD = re.compile(r"[a-z0-9']+")

# The caller asks the agent to repeat, rephrase or explain. One count per caller turn.
_CLARIFY = re.compile(
    r"\b(?:"
    # addressed to the agent ("can you say that again", "Wait, say that again?"), not
    # reported speech ("we say that again and again")
    r"(?:^|(?<=[,.!?;] )|(?<=[,.!?;])|(?<=\byou )|(?<=\bplease ))"
    r"(?:say|repeat) (?:that|it|this|the last part)?\s*(?:again|slower|one more time)"
    r"|(?:can|could|would) you (?:please )?(?:repeat|rephrase|clarify|explain)"
    r"|repeat (?:that|it|yourself|the last part|what you said)"
    r"|come again"
    r"|(?:i )?(?:didn'?t|did not|couldn'?t|could not) (?:quite )?(?:catch|hear|get|follow) "
    r"(?:that|you|what you said|the last)"
    r"|(?:you'?re|you are) (?:breaking|cutting) up"
    r"|what was (?:that|the last part|the last bit)"
    r"|what (?:do|did) you mean"
    r"|what does (?:that|this|it) mean"
    r"|meaning what"
    r"|i don'?t (?:understand|follow)(?: what| that| you)?"
    r"|not sure what you mean"
    r"|who (?:did you say|is this|'?s this|'?s calling|is calling)"
    r"|(?:what|who) did you say"
    r"|what(?:'s| is) (?:that|this|it) exactly"
    r"|what(?:'s| is| are) (?:a|an) [a-z][a-z' -]{1,30}\?"
    r"|the what\?"
    r"|slower(?:,)? please"
    r"|speak (?:up|slower|more slowly)"
    r"|pardon\?"
    r")",
)
# "Sorry, which times?" / "Sorry, connecting it how?": an apology opening a short question.
_SORRY_WH = re.compile(
    r"^(?:sorry|pardon|perd[oó]n|excuse me|wait)[,.!]?\s+"
    r"(?:[a-z']+\s+){0,3}(?:which|what|who|how|where|when)\b[^.?!]{0,30}\?"
)
_QUESTION = re.compile(r"\?")

_AGENT_CLOSE = re.compile(
    r"\b(?:bye|goodbye|talk (?:soon|then|later|to you|friday|monday|tuesday|wednesday|thursday)"
    r"|have a (?:good|great|nice|wonderful|lovely)|take care|thanks?(?: you)?\b|thank you"
    r"|good luck|enjoy (?:the|your)|see you|my pleasure|you'?re welcome|speak soon)\b"
)
_CALLER_CLOSE = re.compile(
    r"\b(?:bye|goodbye|cheers|thanks|thank you|ta|talk (?:soon|then|later)|you too"
    r"|take care|see you|have a (?:good|great|nice)|that'?s all|that'?s it|will do"
    r"|sounds good|appreciate it)\b"
)
# Courtesy that is not a farewell: "thanks for nothing", "don't call me again".
_HOSTILE_CLOSE = re.compile(
    r"\b(?:thanks for nothing|don'?t call|waste of (?:my )?time|ridiculous|whatever)\b"
)
_CUT_OFF = re.compile(r"(?:—|–|--|-|\.\.\.|…)\s*$")
_STILL_THERE = re.compile(r"\b(?:are you still there|can you hear me|hello\?|lost you)\b")

_MAX_GAP_S = 120.0  # longer gaps between turns are clock trouble, not silence
_DEAD_AIR_S = 3.0  # silence beyond this inside a gap counts as dead air


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def is_clarification(text: str) -> bool:
    low = " ".join(text.lower().split())
    if _CLARIFY.search(low):
        return True
    return bool(_SORRY_WH.search(low))


def natural_ending(turns: Sequence[Turn]) -> bool:
    """Whether the call reaches a closing exchange: the agent signs off and the caller does too.

    Looks at the last three turns only; a caller cut off mid-word, an agent left asking
    whether anyone is there, or a hostile last word are not a closing exchange.
    """
    spoken = [t for t in turns if t.text.strip()]
    if not spoken or not any(t.is_user for t in spoken):
        return False
    tail = spoken[-3:]
    last = spoken[-1]
    last_text = last.text.lower()
    if last.is_user and _CUT_OFF.search(last.text.strip()):
        return False
    if last.is_agent and _STILL_THERE.search(last_text):
        return False
    if any(t.is_user and _HOSTILE_CLOSE.search(t.text.lower()) for t in tail):
        return False
    agent_close = any(t.is_agent and _AGENT_CLOSE.search(t.text.lower()) for t in tail)
    caller_close = any(t.is_user and _CALLER_CLOSE.search(t.text.lower()) for t in tail)
    return agent_close and caller_close


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def _content_words(text: str) -> set[str]:
    return {w for w in _words(text) if len(w) > 3}


@registry.register("quality", "1.0.0")
def analyze_quality(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    turns = [t for t in view.turns if t.text.strip() or t.interrupted]
    user = [t for t in turns if t.is_user]
    agent = [t for t in turns if t.is_agent]
    user_words = sum(len(_words(t.text)) for t in user)
    agent_words = sum(len(_words(t.text)) for t in agent)

    clarifications = [t.index for t in user if is_clarification(t.text)]
    interruptions = sum(1 for t in view.turns if t.interrupted)
    ended_naturally = natural_ending(turns)

    # Speaking time and gaps from the per-turn timestamps.
    speaking = {"user": 0.0, "assistant": 0.0}
    gaps: list[float] = []
    response_gaps: list[float] = []
    skewed = 0
    prev: Turn | None = None
    for t in turns:
        start, stop = t.started_speaking_at, t.stopped_speaking_at
        if start is not None and stop is not None:
            if 0 <= stop - start < 3600:
                speaking[t.role] = speaking.get(t.role, 0.0) + (stop - start)
            else:
                skewed += 1
        if prev is not None and start is not None and prev.stopped_speaking_at is not None:
            gap = start - prev.stopped_speaking_at
            if -5.0 <= gap <= _MAX_GAP_S:
                gaps.append(max(0.0, gap))
                if prev.is_user and t.is_agent:
                    response_gaps.append(max(0.0, gap))
            else:
                skewed += 1
        prev = t
    talk_total = speaking["user"] + speaking["assistant"]
    if talk_total > 0:
        talk_ratio = speaking["user"] / talk_total
    else:
        talk_ratio = user_words / (user_words + agent_words) if user_words + agent_words else 0.0
    user_minutes = speaking["user"] / 60.0
    wpm = round(user_words / user_minutes, 1) if user_minutes > 0.05 else None
    dead_air = sum(g - _DEAD_AIR_S for g in gaps if g > _DEAD_AIR_S)

    # Topic drift: caller replies sharing no content word with the agent turn they answer.
    answered = drifted = 0
    for i, t in enumerate(turns):
        if t.is_user and i > 0 and turns[i - 1].is_agent:
            asked = _content_words(turns[i - 1].text)
            said = _content_words(t.text)
            if asked and len(said) >= 4:
                answered += 1
                drifted += not (asked & said)
    topic_drift = round(drifted / answered, 3) if answered else 0.0

    questions = sum(len(_QUESTION.findall(t.text)) for t in user)
    abandoned = (
        not user
        or user_words < 4
        or (not ended_naturally and len(user) < 3 and view.duration_s < 60)
    )

    # Engagement 0..10: participation, balance, curiosity, length and a proper close.
    balance = 1.0 - min(1.0, abs(talk_ratio - 0.45) / 0.45)
    engagement = (
        3.0 * min(1.0, len(user) / 8)
        + 2.5 * balance
        + 1.5 * min(1.0, questions / 3)
        + 1.5 * min(1.0, view.duration_s / 180)
        + 1.5 * (1.0 if ended_naturally else 0.0)
    )
    if not user:
        engagement = 0.0  # a long call with nobody talking back is not engagement
    elif abandoned:
        engagement = min(engagement, 2.0)

    return {
        "engagement_score": round(max(0.0, min(10.0, engagement)), 1),
        "natural_ending": ended_naturally,
        "clarification_requests": len(clarifications),
        "clarification_turns": clarifications,
        "interruptions": interruptions,
        "interruptions_breached": interruptions > profile.thresholds.interruptions_per_call,
        "caller_turns": len(user),
        "agent_turns": len(agent),
        "turn_balance": round(len(user) / len(turns), 3) if turns else 0.0,
        "talk_ratio": round(talk_ratio, 3),
        "caller_talk_s": round(speaking["user"], 2),
        "agent_talk_s": round(speaking["assistant"], 2),
        "dead_air_s": round(dead_air, 2),
        "response_gap_s": (
            {
                "avg": round(sum(response_gaps) / len(response_gaps), 3),
                "p95": round(_pct(response_gaps, 0.95), 3),
                "max": round(max(response_gaps), 3),
            }
            if response_gaps
            else None
        ),
        "words_per_minute": wpm,
        "caller_questions": questions,
        "topic_drift": topic_drift,
        "abandoned": abandoned,
        "timestamp_anomalies": skewed,
    }
