"""Conversation detail for ``quality``: pace, active listening, caller questions and their fate.

Language structure only (question shapes, deflections, content words); no business words.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from callscope.analyze.view import Turn

_WORD = re.compile(r"[a-z0-9']+")
# A question even without "?" (ASR text has no punctuation): a leading question word or an
# auxiliary followed by a subject.
_QUESTION_START = re.compile(
    r"^(?:\w+[,]?\s+){0,3}?(?:how|what|when|where|why|who|which|"
    r"(?:can|could|does|do|is|are|will|would|should)\s+(?:you|it|i|we|they|this|that|there)\b)"
)
# The agent does not answer: it does not know, cannot help, or moves away.
_DEFLECT = re.compile(
    r"\b(?:i'?m not sure|i don'?t know|i do not know|not something i can|i can'?t (?:help|answer|"
    r"say)|i cannot (?:help|answer)|i'?m unable|i don'?t have (?:that|those|the) (?:info|details|"
    r"answer)|let me (?:find out|get back to you)|i'?ll have to check|someone will get back)"
)
# Agent phrases that reflect the caller back ("so you're", "it sounds like").
_REFLECT = re.compile(
    r"\b(?:so you(?:'re| are| have|'ve| need| want)|it sounds like|sounds like you|"
    r"if i understand|you mentioned|you said|what i'?m hearing|so for you)\b"
)
_STOP = frozenset(
    [
        "that",
        "this",
        "with",
        "have",
        "from",
        "they",
        "them",
        "there",
        "their",
        "what",
        "when",
        "where",
        "which",
        "would",
        "could",
        "should",
        "about",
        "your",
        "yours",
        "just",
        "like",
        "really",
        "yeah",
        "okay",
        "sure",
        "well",
        "then",
        "than",
        "also",
        "into",
        "only",
        "very",
        "much",
        "some",
        "been",
        "were",
        "will",
        "does",
        "doing",
        "know",
        "think",
        "right",
        "mean",
        "because",
        "thing",
        "things",
    ]
)


def content_words(low: str) -> set[str]:
    return {w for w in _WORD.findall(low) if len(w) > 3 and w not in _STOP}


def is_question(text: str) -> bool:
    return "?" in text or bool(_QUESTION_START.match(text.lower().strip()))


@dataclass
class Detail:
    agent_words: int = 0
    agent_talk_s: float = 0.0
    active_listening: int = 0
    questions: int = 0
    unanswered: int = 0
    repeated: int = 0

    def resolution_rate(self) -> float | None:
        if not self.questions:
            return None
        return round((self.questions - self.unanswered) / self.questions, 3)


def _answered(question: Turn, reply: Turn | None) -> bool:
    if reply is None:
        return False
    low = reply.text.lower()
    if _DEFLECT.search(low):
        return False
    # A reply that is only a question back ("What do you mean?") is no answer yet.
    return not (reply.text.rstrip().endswith("?") and len(low.split()) <= 6)


def detail(turns: Sequence[Turn]) -> Detail:
    out = Detail()
    asked: list[set[str]] = []
    for i, t in enumerate(turns):
        if t.is_agent:
            out.agent_words += len(_WORD.findall(t.text.lower()))
            start, stop = t.started_speaking_at, t.stopped_speaking_at
            if start is not None and stop is not None and 0 <= stop - start < 3600:
                out.agent_talk_s += stop - start
            prev = turns[i - 1] if i else None
            if prev is not None and prev.is_user and _reflects(prev.text, t.text):
                out.active_listening += 1
            continue
        if not t.is_user or not is_question(t.text):
            continue
        out.questions += 1
        words = content_words(t.text.lower())
        if words and any(len(words & w) >= max(2, (len(words) + 1) // 2) for w in asked):
            out.repeated += 1
        asked.append(words)
        reply = next((r for r in turns[i + 1 :] if r.is_agent and r.text.strip()), None)
        out.unanswered += not _answered(t, reply)
    return out


def _reflects(caller: str, agent: str) -> bool:
    """The agent turn takes up the caller's words: two content words, or a reflecting phrase
    with one."""
    shared = content_words(caller.lower()) & content_words(agent.lower())
    return len(shared) >= 2 or (bool(shared) and bool(_REFLECT.search(agent.lower())))


def wpm(words: int, seconds: float) -> float | None:
    return round(words / (seconds / 60.0), 1) if seconds > 3.0 else None
