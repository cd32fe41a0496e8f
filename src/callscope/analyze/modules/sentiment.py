"""Caller sentiment: overall, by segment, per turn, with frustration and enthusiasm markers.

VADER scores each caller turn (the agent is polite by design, so its turns say nothing about
the call). Plain VADER reads phone speech as upbeat: "yes", "okay", "sure", "thanks" all
carry positive weight in its lexicon, so every cooperative answer looks happy. This module
neutralises courtesy and backchannel words, adds sales-call vocabulary ("deal breaker",
"clunky", "non-starter"), strips fillers and ASR debris, reads a bare "great." after a
complaint as sarcasm, and judges the call mostly by how it closes: a polite "thanks" at the
end does not turn a frustrated call positive.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

# Words VADER scores as positive that, on a call, are acknowledgement or courtesy.
_NEUTRAL_WORDS = (
    "thanks",
    "thank",
    "yes",
    "yeah",
    "yep",
    "ok",
    "okay",
    "sure",
    "please",
    "like",
    "well",
    "welcome",
    "help",
    "free",
    "want",
    "true",
    "right",
    "hi",
    "hello",
    "kind",
    "pretty",
    "no",
    "fair",
    "interested",
    "play",
    "agree",
    "share",
    "alright",
    "careful",
    # Business nouns and adverbs that describe the caller's world, not their mood.
    "honestly",
    "honest",
    "agreement",
    "agreements",
    "certificate",
    "super",
    "fancy",
    "ideally",
    "important",
    "forever",
    "care",
    "save",
    "saves",
    "security",
    "secure",
    "safe",
    "protect",
    "trust",
    "credit",
    "party",
    "approval",
    "approved",
    "accept",
    "accepted",
    "support",
    "supported",
    "matter",
    "legal",
    "justice",
    "benefit",
    "benefits",
    "value",
    "win",
    "promote",
    "big",
    "growth",
    "clear",
    "ready",
    "reach",
    "best",
    "top",
    "wish",
    "chance",
    "solid",
    "freedom",
    "innovative",
    "commercial",
    "popular",
    "spam",
)
_LEXICON_CHANGES: dict[str, float] = {
    "clunky": -1.5,
    "steep": -1.2,
    "whatever": -1.5,
    "slow": -1.0,
    "overkill": -0.8,
    "expensive": -1.2,
    "pricey": -1.2,
    "breaks": -1.2,
    "broken": -1.6,
    "rigid": -1.0,
    "ridiculous": -2.4,
    "unacceptable": -2.5,
    "useless": -2.2,
    "dealbreaker": -2.5,
    "nonstarter": -2.3,
    "hardsell": -1.2,
    "wasteoftime": -2.6,
    "moneyback": -1.8,
    "sold": 1.5,
    "patient": 1.5,
    "relief": 2.0,
    "fine": 0.4,
    "nice": 1.5,
    "cool": 1.0,
    "gap": -0.8,
    "worry": -1.2,
    "charged": -1.4,
    "scam": -3.0,
    "annoying": -2.0,
    "noworries": 0.3,
    "noproblem": 0.3,
    "notaconcern": 0.3,
    "strongfit": 2.2,
}
# Multi-word expressions rewritten to single lexicon tokens, fillers dropped. One combined
# pattern (one pass per turn) instead of a pass per phrase: this runs on every caller turn.
_PHRASE_LIST: list[tuple[str, str]] = [
    (r"deal[\s-]?breakers?\b", "dealbreaker"),
    (r"non[\s-]?starters?\b", "nonstarter"),
    (r"hard sell\b", "hardsell"),
    (r"waste of (?:my |our )?time\b", "wasteoftime"),
    (r"(?:my|our|the) money back\b", "moneyback"),
    (r"no worries\b", "noworries"),
    (r"no problem\b", "noproblem"),
    (r"not (?:a|any) (?:concern|problem|issue)(?: at all)?\b", "notaconcern"),
    (r"strong fit\b", "strongfit"),
    (r"no,? wait\b", ""),  # self-correction, not refusal
    # VADER's negation reaches across commas: "not me, sadly" is not "not sad".
    (r"(?:not|no|never) \w+,", "_JOIN"),
    (r"(?:um+|uh+|erm|hmm+|mm+|ah+)\b", ""),
    (r"(?:you know|i mean|kind of|sort of)\b", ""),
    (r"like (?=(?:a |an |the )?(?:\d|one|two|three|four|five|ten|twenty|fifty|hundred))", ""),
]
_PHRASES = re.compile(
    r"\b(?:" + "|".join(f"(?P<p{i}>{p})" for i, (p, _) in enumerate(_PHRASE_LIST)) + ")"
)
_REPLACEMENT = {f"p{i}": r for i, (_, r) in enumerate(_PHRASE_LIST)}


def _phrase(match: re.Match[str]) -> str:
    repl = _REPLACEMENT[match.lastgroup or ""]
    return match.group(0).replace(" ", "_", 1) if repl == "_JOIN" else repl


# ASR debris: anything that is not a letter, digit, space or ordinary punctuation.
_DEBRIS = re.compile(r"[^\w\s'.,!?;:\-—]+|_+")
_SPACES = re.compile(r"\s+")
_EMPTY_CLAUSES = re.compile(r"(?:\s*,)+(?=\s*[,.!?])|^\s*[,.;]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+(?=[,.!?])")
_NEGATED = re.compile(r"\b(?:can'?t|cannot|won'?t|don'?t|doesn'?t|didn'?t|isn'?t|not|no|never)\b")
_SENTENCES = re.compile(r"(?<=[.!?])\s+")
_SARCASM_WORD = re.compile(
    r"^(?:oh,? )?(?:great|perfect|wonderful|fantastic|brilliant|awesome|lovely|terrific|super"
    r"|nice|thanks a lot|thanks for nothing|yeah,? right|sure you (?:do|are|will))[.!]*$"
)
_SARCASM_ANY = re.compile(r"\b(?:thanks for nothing|yeah,? right|oh,? great|oh,? perfect)\b")

# Frustration with the call, the agent or the company. Complaints about the caller's current
# tool ("the producers hate it", "it's clunky") are pain points, which a sales call welcomes,
# and conditional objections ("if it can't, that's a deal breaker") are not anger.
_FRUSTRATION = re.compile(
    r"\b(?:ridiculous|waste of (?:my |our )?time|what the (?:hell|heck|fuck)|don'?t call me"
    r"|i want (?:my|a) (?:money|refund)|(?:i'?m|this is) (?:so |really )?frustrat\w*"
    r"|(?:i'?m|this is) (?:so |really )?annoy\w*|fed up|unacceptable|useless|not interested"
    r"|stop calling|^whatever\b|[.!?] whatever\b|terrible service|scam|why (?:are|do) you"
    r"(?: already)? call\w*|hang(?:ing)? up|you people|are you kidding|give me a break)",
)
_ENTHUSIASM = re.compile(
    r"\b(?:love|loving|awesome|amazing|excellent|fantastic|perfect|exactly what|really "
    r"(?:helpful|useful|useful|great|nice|excited)|so (?:helpful|useful|patient)|excited"
    r"|i'?m sold|lovely|strong fit|that'?s (?:huge|great|awesome|clever)|would be huge"
    r"|that'?s a relief|a lot better|super helpful|game changer|can'?t wait)\b",
)

_ANALYZER = SentimentIntensityAnalyzer()
for _w in _NEUTRAL_WORDS:
    _ANALYZER.lexicon[_w] = 0.0
_ANALYZER.lexicon.update(_LEXICON_CHANGES)
# A turn with no scored word gets 0 from VADER; knowing it up front skips the scorer.
_SCORED = frozenset(w for w, v in _ANALYZER.lexicon.items() if v)
_EDGE_PUNCT = "\"'.,!?;:-—()"

POSITIVE_AT = 0.10
NEGATIVE_AT = -0.12


def clean(text: str) -> str:
    """Lower-case caller text with fillers, ASR debris and known phrases normalised."""
    low = _DEBRIS.sub(" ", text.lower())
    low = _PHRASES.sub(_phrase, low)
    low = _EMPTY_CLAUSES.sub("", _SPACES.sub(" ", low))
    return _SPACE_BEFORE_PUNCT.sub("", low).strip()


def _compound(text: str) -> float:
    if not text or not any(w.strip(_EDGE_PUNCT) in _SCORED for w in text.split()):
        return 0.0
    return float(_ANALYZER.polarity_scores(text)["compound"])


def score_turn(text: str) -> float:
    """Compound score -1..1 of one caller turn, after cleaning and sarcasm handling."""
    cleaned = clean(text[:2000])
    if not cleaned:
        return 0.0
    if _SARCASM_ANY.search(cleaned) or any(
        _SARCASM_WORD.match(s) for s in _SENTENCES.split(cleaned)
    ):
        # Score sentence by sentence so a bare "great." after a complaint counts against.
        total = 0.0
        complaint = False
        parts = [s for s in _SENTENCES.split(cleaned) if s]
        for s in parts:
            c = _compound(s)
            if _SARCASM_ANY.search(s) or (_SARCASM_WORD.match(s) and complaint):
                c = -abs(c) if c else -0.5
            total += c
            complaint = c < -0.05 or bool(_NEGATED.search(s))
        return max(-1.0, min(1.0, total / max(1, len(parts)) * 1.5))
    return _compound(cleaned)


def label(score: float) -> str:
    if score >= POSITIVE_AT:
        return "positive"
    if score <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def overall_score(scores: Sequence[float], enthusiasm: int, frustration: int) -> float:
    """Call-level score: the close weighs most, markers shift it, one bad close caps it."""
    if not scores:
        return 0.0
    n = len(scores)
    third = max(1, n // 3)
    # Before the close, negative words mostly describe the caller's problem (the reason for
    # the call), so they count half; frustration with the call shows up in the markers.
    early = [v if v >= 0 else v / 2 for v in scores[: n - third]]
    opening, middle, close = early[:third], early[third:], scores[n - third :]
    base = 0.2 * _mean(opening) + 0.35 * _mean(middle or close) + 0.45 * _mean(close)
    base += 0.07 * min(enthusiasm, 4) - 0.12 * min(frustration, 4)
    # The last word in anger outweighs earlier warmth; a thank-you after anger does not
    # outweigh it.
    worst_close = min(close)
    if worst_close <= -0.5:
        base = min(base, worst_close / 2)
    return max(-1.0, min(1.0, base))


@registry.register("sentiment", "1.0.0")
def analyze_sentiment(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    caller = [t for t in view.user_turns if t.text.strip()]
    scores = [score_turn(t.text) for t in caller]
    frustration: list[str] = []
    enthusiasm: list[str] = []
    for t in caller:
        low = t.text.lower()
        frustration += [m.group(0) for m in _FRUSTRATION.finditer(low)]
        enthusiasm += [m.group(0) for m in _ENTHUSIASM.finditer(low)]
    n = len(scores)
    third = max(1, n // 3)
    segments = {
        "opening": round(_mean(scores[:third]), 3),
        "middle": round(_mean(scores[third : n - third]), 3) if n > 2 * third else None,
        "close": round(_mean(scores[n - third :]), 3) if n else 0.0,
    }
    score = overall_score(scores, len(enthusiasm), len(frustration))
    return {
        "overall": label(score),
        "score": round(score, 3),
        "segments": segments,
        "segment_labels": {k: (label(v) if v is not None else None) for k, v in segments.items()},
        "progression": [
            {"turn": t.index, "score": round(s, 3)} for t, s in zip(caller, scores, strict=True)
        ],
        "trend": round(_mean(scores[n - third :]) - _mean(scores[:third]), 3) if n >= 2 else 0.0,
        "frustration_markers": frustration,
        "enthusiasm_markers": enthusiasm,
    }
