"""Conversation quality: engagement, how the call ended, clarifications, interruptions, timing.

Only cheap per-turn work: precompiled patterns and one pass over the turns. Timing figures
come from each message's ``started_speaking_at`` / ``stopped_speaking_at``; gaps that are
negative beyond a small overlap, or absurdly long, are clock skew and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence

from callscope.analyze.modules import conversation
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
    r"(?:say|repeat) (?:that|it|this|the)? ?(?:(?:last|first|middle|second|other) )?"
    r"(?:part|bit|word|words|number|one|name|piece)? ?(?:again|slower|one more time)"
    r"|(?:can|could|would) you (?:please )?(?:repeat|rephrase|clarify|explain)"
    r"|repeat (?:that|it|yourself|the last part|what you said)"
    r"|come again"
    r"|(?:i )?(?:didn'?t|did not|couldn'?t|could not) (?:quite )?(?:catch|hear|get|follow) "
    r"(?:that|you|what you said|the last|your name|the name|the part)"
    # the object left out: "sorry, i didn't follow, how would...", "i didn't catch."
    r"|(?:i )?(?:didn'?t|did not|couldn'?t|could not) (?:quite )?(?:catch|follow)(?=\s*[,.!?;]|$)"
    r"|(?:you'?re|you are) (?:breaking|cutting) up"
    r"|what was (?:that|the (?:last|first|second|other) (?:part|bit|thing|one))"
    r"|(?:what|which|who|where|when|how)\b[^.?!]{0,30}\bdid you (?:say|mean)\b"
    r"|(?:can|could|would) you (?:please )?(?:spell (?:that|it)|go back|go over (?:that|it|this)"
    r"|slow down)\b"
    r"|(?:go over|run through) (?:that|it) again"
    r"|you lost me|i'?m not following"
    r"|what (?:do|did) you mean"
    r"|what does (?:that|this|it) mean"
    r"|meaning what"
    r"|i don'?t (?:understand|follow)(?! why| how come| where| when)(?: what| that| you)?"
    r"|not sure what you mean"
    r"|who (?:did you say|is this|is calling)|who'?s (?:this|calling)"
    r"|(?:what|who) did you say"
    # asking the agent to confirm what it said: "sorry, did you say Eastern or Central?"
    r"|(?:^|(?<=[,.!?;] )|(?<=\bsorry )|(?<=\bwait ))"
    r"(?:did|do) you (?:just )?(?:say|mean)\b[^.!?]*\?"
    r"|what(?:'s| is) (?:that|this|it) exactly"
    r"|what(?:'s| is| are) (?:a|an) [a-z][a-z' -]{1,30}\?"
    # An echo question: the caller repeats the agent's words with a question word where the
    # part they missed was, "the what library?", "pay for what?", "it does what?".
    r"|(?:the|a|an|your|this|that|my|our) (?:what|which)\b[^.!]*\?"
    r"|\b(?:for|to|with|from|of|about|on|in|by|do|does|did|pay|is|was|it|you) "
    r"(?:what|who|which|where)(?=\s*[,?])"
    # Checking they heard right: "you're saying you don't know?", "so you mean it's extra?"
    r"|(?:^|(?<=[,.!?;] )|(?<=\bso )|(?<=\bsorry )|(?<=\bwait ))"
    r"(?:are you|you'?re|you are) (?:saying|telling me)\b[^.!]*\?"
    # "you mean ...?" opening the turn or after "so"/"sorry"/"wait"; after an answer ("We did,
    # you mean the old portal?") it is the caller steering, not asking to be told again.
    r"|(?:^|(?<=\bso )|(?<=\bso, )|(?<=\bsorry, )|(?<=\bwait, ))you mean\b[^.!]*\?"
    # Naming the gap outright: "I'm not sure what that is", "no idea what those are".
    r"|(?:not sure|no idea|(?:don'?t|do not) know) what (?:that|this|those|these|it) "
    r"(?:is|are|means?)(?=\s*[,.!?]|$)"
    # An apology, then what they think they heard, as a question: "sorry, you're trying again?"
    r"|^(?:sorry|wait|pardon)[,.!]? (?:so )?(?:you'?re|you are|you said|you have|you'?ve)\b"
    r"[^.?!]{0,40}\?"
    r"|slower(?:,)? please"
    r"|speak (?:up|slower|more slowly)"
    r"|pardon\?"
    r")",
)
# A whole turn that only asks for a repeat: "Sorry?", "Huh?", "Say again?", "What's that?"
_BARE_REPEAT = re.compile(
    r"^(?:(?:i'?m )?sorry|pardon|excuse me|huh|what|eh|hm+|say again|come again|again"
    r"|what'?s that|what was that|one more time)(?:[,.]? (?:what|who|sorry|again|please))?"
    r"\s*\?[?!. ]*$"
)
# "Sorry, which times?" / "Sorry, connecting it how?": an apology opening a short question.
_SORRY_WH = re.compile(
    r"^(?:(?:i'?m )?sorry|pardon(?: me)?|perd[oó]n|excuse me|wait)[,.!]?\s+"
    r"(?:[a-z']+\s+){0,3}(?:which|what|who|how|where|when)\b[^.?!]{0,30}\?"
)
_QUESTION = re.compile(r"\?")
# Every clarification pattern needs one of these words; a turn with none of them is skipped.
_CLARIFY_HINTS = frozenset(
    [
        "say",
        "repeat",
        "rephrase",
        "clarify",
        "explain",
        "come",
        "catch",
        "hear",
        "get",
        "follow",
        "breaking",
        "cutting",
        "what",
        "mean",
        "meaning",
        "understand",
        "who",
        "pardon",
        "slower",
        "speak",
        "spell",
        "go",
        "slow",
        "lost",
        "sorry",
        "huh",
        "eh",
        "hm",
        "hmm",
        "excuse",
        "wait",
        "again",
        "perdón",
        "perdon",
        "which",
        "how",
        "where",
        "when",
        "run",
        "one",
        "what's",
        "who's",
        "whats",
        "following",
        "hmmm",
        "saying",
        "telling",
    ]
)

# Farewells from other languages and dialects that callers and agents mirror ("ka kite",
# "ciao", "ta-ra"): a sign-off in any of them closes the call.
_FOREIGN_BYE = (
    r"cheers|ciao|adi[oó]s|au revoir|ka kite|hasta (?:luego|pronto|ma[nñ]ana)|auf wiedersehen"
    r"|tsch[uü]ss|sayonara|ta-?ra|toodle-?oo|laters|chur|shalom|salaam|namaste"
)
_AGENT_CLOSE = re.compile(
    r"\b(?:"
    + _FOREIGN_BYE
    + r"|bye|goodbye|anytime|talk (?:soon|then|later|to you|tomorrow|next week|friday|monday"
    r"|tuesday|wednesday|thursday)"
    r"|have a (?:good|great|nice|wonderful|lovely)|take care|thanks?(?: you)?\b|thank you"
    r"|good luck|enjoy (?:the|your)|see you|my pleasure|you'?re welcome|speak soon"
    r"|good ?night|have fun)\b"
)
_CALLER_CLOSE = re.compile(
    r"\b(?:bye|goodbye|cheers|thanks|thank you|ta|talk (?:soon|then|later)|you too"
    r"|take care|see you|have a (?:good|great|nice)|that'?s all|that'?s it|will do"
    r"|sounds good|(?:appreciate|'?preciate) (?:it|you|ya|that|the)|"
    + _FOREIGN_BYE
    # praise for the help as the last word: "you've been great", "y'all have been so helpful"
    + r"|(?:you|y'?all|you guys)(?:'ve| have)? been (?:so |really |very )?(?:great|awesome|amazing"
    r"|wonderful|super|brilliant|(?:a (?:big |great )?)?help(?:ful)?)"
    # leaving: "I have to go", "gotta run"
    r"|(?:have|got|need) to (?:go|run|jump|head out)|gotta (?:go|run|jump))\b"
)
# A goodbye proper, not the thanks that can end any agent turn.
_AGENT_GOODBYE = re.compile(
    r"\b(?:" + _FOREIGN_BYE + r"|bye|goodbye|have a (?:good|great|nice|wonderful|lovely)|take care"
    r"|talk (?:soon|later|tomorrow|next week)"
    r"|see you|all the best|speak soon|good ?night|have fun)\b"
)
# The agent returning the caller's farewell: "have a good afternoon" - "you too, Pat".
_RETURNED = re.compile(r"^\W*(?:you too|same to you|likewise|and you|you as well)\b")
# Courtesy that is not a farewell: "thanks for nothing", "don't call me again".
_HOSTILE_CLOSE = re.compile(
    r"\b(?:thanks for nothing|don'?t call|waste of (?:my )?time|ridiculous|whatever)\b"
)
# The agent's wrap-up question and the caller's short "no, that's all" to it.
_WRAP_UP = re.compile(r"\b(?:anything else|any other questions?|what else can i)\b")
_NOTHING_ELSE = re.compile(
    r"^(?:no|nope|nah|that'?s (?:it|all)|i'?m good|we'?re good|all good|nothing)\b"
)
# The agent wrapping up: a promise to follow up, or the booking confirmed.
_WRAP_STATEMENT = re.compile(
    r"\b(?:i'?ll (?:send|email|follow up|ask|have|make sure|pass|call|try|get|put|include|note)"
    r"|will do|you'?re (?:all set|booked)|on its way|i'?ve (?:noted|sent|booked))\b"
)
_ACK = re.compile(
    r"^(?:okay|ok|alright|all right|sure|great|perfect|sounds good|got it|fine|cool|yep|yeah)"
    r"[.!]*(?: (?:okay|ok|great|thanks|sure|cool))?[.!]*$"
)
_CUT_OFF = re.compile(r"(?:—|–|--|-|\.\.\.|…)\s*$")
_STILL_THERE = re.compile(r"\b(?:are you still there|can you hear me|hello\?|lost you)\b")

_MAX_GAP_S = 120.0  # longer gaps between turns are clock trouble, not silence
_DEAD_AIR_S = 3.0  # silence beyond this inside a gap counts as dead air


# Words that carry no topic, left out when matching a caller's echo against the agent's turn.
_ECHO_FILLER = frozenset(
    [
        "sorry",
        "wait",
        "so",
        "the",
        "a",
        "an",
        "your",
        "you",
        "my",
        "our",
        "that",
        "this",
        "it",
        "is",
        "was",
        "what",
        "which",
        "did",
        "say",
        "said",
    ]
)
_ECHO_MAX_WORDS = 4
_TRAILING_SORRY = re.compile(r"(?<=\?)\s*(?:sorry|please|again)[.!]*$")


def is_echo(low: str, agent_words: Collection[str]) -> bool:
    """A short question made only of words the agent just said: "The content library?",
    "Seventeen a four?". The caller is checking a term they did not catch."""
    # A trailing apology does not end the question: "conditional what? sorry".
    low = _TRAILING_SORRY.sub("", low)
    if not low.endswith("?") or not agent_words:
        return False
    words = [w for w in _WORD.findall(low) if w not in _ECHO_FILLER]
    if not words or len(words) > _ECHO_MAX_WORDS:
        return False
    return all(w in agent_words for w in words) and any(len(w) > 3 for w in words)


def is_clarification(text: str, agent_words: Collection[str] | None = None) -> bool:
    """Whether a caller turn asks the agent to repeat, rephrase or explain.

    ``agent_words``: the words of the agent turn just before, for echo questions."""
    low = " ".join(text.lower().split())
    if _CLARIFY.search(low) or _BARE_REPEAT.match(low):
        return True
    if _SORRY_WH.search(low):
        return True
    return agent_words is not None and is_echo(low, agent_words)


def natural_ending(turns: Sequence[Turn]) -> bool:
    """Whether the call reaches a closing exchange.

    Either the agent signs off and the caller does too (thanks, goodbye, or "no, that's all" to
    "anything else?"), or the caller says goodbye to an agent turn that was not a question,
    i.e. after the agent wrapped up. A caller cut off mid-word, an agent left asking whether
    anyone is there, a goodbye that walks out on a question, or a hostile last word are not
    a closing exchange. Looks at the last three turns only.
    """
    spoken = [t for t in turns if t.text.strip()]
    if not spoken or not any(t.is_user for t in spoken):
        return False
    tail = spoken[-3:]
    last = spoken[-1]
    last_text = last.text.lower()
    if last.is_user and _CUT_OFF.search(last.text.strip()):
        return False
    if last.is_agent and (_STILL_THERE.search(last_text) or last.text.rstrip().endswith("?")):
        # The agent's question went unanswered: the caller left mid-conversation.
        return False
    last_caller = next(t for t in reversed(spoken) if t.is_user)
    if last_caller in tail and _HOSTILE_CLOSE.search(last_caller.text.lower()):
        return False
    agent_close = any(t.is_agent and _AGENT_CLOSE.search(t.text.lower()) for t in tail)
    caller_close = False
    for i, t in enumerate(tail):
        if not t.is_user:
            continue
        low = " ".join(t.text.lower().split())
        before = tail[i - 1] if i else None
        if _CALLER_CLOSE.search(low):
            caller_close = True
        elif before is not None and before.is_agent and _WRAP_UP.search(before.text.lower()):
            caller_close = caller_close or bool(_NOTHING_ELSE.match(low))
    if agent_close and caller_close:
        return True
    if len(spoken) < 2:
        return False
    before = spoken[-2]
    if last.is_user:
        # "I'll email the pricing today." / "ok bye": the caller closes on the agent's
        # wrap-up; a bare "okay" needs the wrap-up to be explicit.
        if not before.is_agent or "?" in before.text or before.interrupted:
            return False
        low = " ".join(last_text.split())
        if _CALLER_CLOSE.search(low):
            return True
        return bool(_ACK.match(low)) and bool(_WRAP_STATEMENT.search(before.text.lower()))
    # The agent says goodbye in answer to the caller's last word: the agent got to close.
    if not before.is_user or "?" in last.text:
        return False
    if _AGENT_GOODBYE.search(last_text):
        return True
    return bool(_RETURNED.match(last_text)) and bool(_CALLER_CLOSE.search(before.text.lower()))


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * q
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@registry.register("quality", "1.5.0")
def analyze_quality(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    turns = [t for t in view.turns if t.text.strip() or t.interrupted]
    user = [t for t in turns if t.is_user]
    agent_count = sum(1 for t in turns if t.is_agent)
    interruptions = sum(1 for t in view.turns if t.interrupted)
    ended_naturally = natural_ending(turns)

    # One pass over the turns: word counts, clarifications, topic drift, speaking time, gaps.
    user_words = agent_words = 0
    clarifications: list[int] = []
    answered = drifted = 0
    speaking = {"user": 0.0, "assistant": 0.0}
    gaps: list[float] = []
    response_gaps: list[float] = []
    skewed = 0
    prev: Turn | None = None
    prev_stop: float | None = None
    prev_content: set[str] = set()
    prev_words: list[str] = []
    for t in turns:
        words = _WORD.findall(t.text.lower())
        content = {w for w in words if len(w) > 3}
        if t.is_user:
            user_words += len(words)
            # Echoing an agent's question back ("Tuesday at ten?") is answering it; echoing a
            # statement is asking about it.
            said = (
                prev_words
                if prev is not None and prev.is_agent and not prev.text.rstrip().endswith("?")
                else None
            )
            if (
                not _CLARIFY_HINTS.isdisjoint(words)
                or (said and len(words) <= 2 * _ECHO_MAX_WORDS and "?" in t.text)
            ) and is_clarification(t.text, said):
                clarifications.append(t.index)
            # Topic drift: caller replies sharing no content word with the agent turn they
            # answer.
            if prev is not None and prev.is_agent and prev_content and len(content) >= 4:
                answered += 1
                drifted += prev_content.isdisjoint(content)
        elif t.is_agent:
            agent_words += len(words)
        metrics = t.metrics
        start = metrics.get("started_speaking_at")
        stop = metrics.get("stopped_speaking_at")
        if start is not None and stop is not None:
            if 0 <= stop - start < 3600:
                speaking[t.role] = speaking.get(t.role, 0.0) + (stop - start)
            else:
                skewed += 1
        if prev is not None and start is not None and prev_stop is not None:
            gap = start - prev_stop
            if -5.0 <= gap <= _MAX_GAP_S:
                gaps.append(max(0.0, gap))
                if prev.is_user and t.is_agent:
                    response_gaps.append(max(0.0, gap))
            else:
                skewed += 1
        prev, prev_stop, prev_content, prev_words = t, stop, content, words
    talk_total = speaking["user"] + speaking["assistant"]
    if talk_total > 0:
        talk_ratio = speaking["user"] / talk_total
    else:
        talk_ratio = user_words / (user_words + agent_words) if user_words + agent_words else 0.0
    user_minutes = speaking["user"] / 60.0
    wpm = round(user_words / user_minutes, 1) if user_minutes > 0.05 else None
    dead_air = sum(g - _DEAD_AIR_S for g in gaps if g > _DEAD_AIR_S)
    topic_drift = round(drifted / answered, 3) if answered else 0.0

    questions = sum(len(_QUESTION.findall(t.text)) for t in user)
    abandoned = (
        not user
        or user_words < 4
        or (not ended_naturally and len(user) < 3 and view.duration_s < 60)
    )

    # Engagement 0..10: participation, balance, curiosity, length and a proper close.
    balance = 1.0 - min(1.0, abs(talk_ratio - 0.45) / 0.45)
    components = {
        "participation": round(3.0 * min(1.0, len(user) / 8), 2),
        "balance": round(2.5 * balance, 2),
        "curiosity": round(1.5 * min(1.0, questions / 3), 2),
        "length": round(1.5 * min(1.0, view.duration_s / 180), 2),
        "closing": 1.5 if ended_naturally else 0.0,
    }
    engagement = sum(components.values())
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
        "agent_turns": agent_count,
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
        "engagement_components": components,
        **_detail_fields(turns, view, dead_air, wpm),
    }


def _detail_fields(
    turns: Sequence[Turn], view: CallView, dead_air: float, caller_wpm: float | None
) -> Result:
    d = conversation.detail(turns)
    agent = [t for t in turns if t.is_agent]
    interrupted = sum(1 for t in agent if t.interrupted)
    return {
        "interruption_rate_pct": round(100.0 * interrupted / len(agent), 1) if agent else 0.0,
        "dead_air_pct": round(100.0 * dead_air / view.duration_s, 2) if view.duration_s else 0.0,
        "agent_wpm": conversation.wpm(d.agent_words, d.agent_talk_s),
        "caller_wpm": caller_wpm,
        "active_listening_turns": d.active_listening,
        "caller_questions_detected": d.questions,
        "unanswered_questions": d.unanswered,
        "repeated_questions": d.repeated,
        "question_resolution_rate": d.resolution_rate(),
    }
