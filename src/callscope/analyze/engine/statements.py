"""Yes/no and free-text fields: the caller's answer to an offer, and quotes on a theme."""

from __future__ import annotations

import re

from callscope.analyze.engine import language as lang
from callscope.analyze.engine.turns import Evidence, UTurn, negated, sentence_at
from callscope.analyze.engine.vocab import Vocab

_DECLINE = re.compile(
    r"^\W*(?:no\b|nope|nah|not (?:really|right now|now|today|at the moment|interested)|"
    r"no thanks|no thank you|i'm (?:good|ok|okay|fine)|we're (?:good|ok|okay|fine)|"
    r"maybe (?:later|another time|next time)|i'll pass|pass\b|i'll think about it)"
)
_WANT = re.compile(
    r"\b(?:sign (?:me|us) up|i'd like|i would like|i want|we want|interested|let's do|"
    r"go ahead|add (?:it|that|the)|put me (?:down|on)|sounds good|tell me (?:more|about)|"
    r"how much is|what does .{0,30} cost|what's included|how does .{0,30} work)\b"
)


def _mentions(t: UTurn, fname: str, vocab: Vocab) -> list[tuple[int, int]]:
    spans = [(h.start, h.end) for h in t.topics if h.group == fname]
    for p in vocab.field_patterns.get(fname, ()):
        m = p.search(t.low)
        if m:
            spans.append(m.span())
    return sorted(spans)


def read_yes_no(fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence) -> bool | None:
    """True when the caller takes up or asks after the thing; False when they decline it.

    An answer to the field's cue (the agent's offer) decides; a mention decides too, denied
    ("we don't need the plan") or not. The last decisive turn wins: callers change their mind.
    """
    value: bool | None = None
    for t in turns:
        mentions = _mentions(t, fname, vocab)
        decided: bool | None = None
        if fname in t.asked:
            if _DECLINE.search(t.low):
                decided = False
            elif lang.AFFIRM.search(t.low) or _WANT.search(t.low):
                decided = True
        if decided is None and mentions:
            start, end = mentions[0]
            decided = not negated(t.low, start, end) and not _DECLINE.search(t.low)
        if decided is not None:
            value = decided
            ev.items.pop(fname, None)
            ev.add(fname, t, mentions[0][0] if mentions else None)
    return value


def read_text(fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence) -> list[str]:
    """Quotes of the caller's sentences on the field's theme (the first per turn, up to 8)."""
    quotes: list[str] = []
    for t in turns:
        mentions = _mentions(t, fname, vocab)
        if not mentions:
            continue
        start, end = mentions[0]
        if negated(t.low, start, end):
            continue
        quote = sentence_at(t.text, t.low, start)
        ev.add(fname, t, start)
        quotes.append(quote)
        if len(quotes) >= 8:
            break
    return quotes
