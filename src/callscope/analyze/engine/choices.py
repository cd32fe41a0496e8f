"""One-of fields chosen by weight of evidence: the job the caller wants done, what the
business is, and the generic ``mention`` reader any profile field can use.
"""

from __future__ import annotations

import re

from callscope.analyze.engine import language as lang
from callscope.analyze.engine.turns import Evidence, UTurn, negated
from callscope.analyze.engine.vocab import Vocab
from callscope.analyze.text.normalize import clause_bounds, next_clause
from callscope.analyze.text.phrases import Hit

_IDENTITY_BONUS = 2.0
_NOT_JUST_BEFORE = re.compile(r"\b(?:not|no|never)\W+(?:\w+\W+){0,1}$")


def _hits(t: UTurn, fname: str) -> list[Hit]:
    return [h for h in t.topics if h.group == fname]


def _job_weight(t: UTurn, n: int, h: Hit, fname: str, vocab: Vocab) -> float | None:
    span = clause_bounds(t.low, h.start)
    if lang.USE_NEG.search(t.low[span.start : h.start]) or lang.NEG_NEXT.search(
        next_clause(t.low, max(h.end, span.end - 1))
    ):
        return None
    sentence = t.low[max(0, span.start - 80) : span.end]
    weight = 1.0
    if fname in t.asked or n < 2:
        weight += 1.0
    if lang.EMPHASIS.search(sentence):
        weight += 1.5
    names_job = vocab.job_names.get((fname, h.id))
    if names_job is not None and names_job.match(h.phrase):
        weight += 0.5  # names the job itself, not a kind of thing it is done to
    return weight


def read_job(fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence) -> str | None:
    """What the caller wants done: weighted mentions; a value's patterns state it outright."""
    spec = vocab.spec(fname)
    scores: dict[str, float] = {}
    first: dict[str, int] = {}
    decided: dict[str, UTurn] = {}
    for n, t in enumerate(turns):
        for h in _hits(t, fname):
            weight = _job_weight(t, n, h, fname, vocab)
            if weight is None:
                continue
            if spec.values[h.id].decides_when_phrased and len(h.phrase.split()) > 1:
                decided.setdefault(h.id, t)
            scores[h.id] = scores.get(h.id, 0.0) + weight
            first.setdefault(h.id, t.index)
    for vid, t in decided.items():
        if vid in scores:
            ev.add(fname, t)
            return vid
    for t in turns:
        for vid in spec.values:
            pats = vocab.patterns.get((fname, vid), ())
            if any(p.search(t.low) for p in pats):
                ev.add(fname, t)
                return vid
    if not scores:
        return _fallback(fname, turns, vocab, ev, vocab.fallbacks.get(fname, ()))
    best = max(scores, key=lambda k: (scores[k], -first[k]))
    for t in turns:
        if t.index == first[best]:
            ev.add(fname, t)
    return best


def _fallback(
    fname: str,
    turns: list[UTurn],
    vocab: Vocab,
    ev: Evidence,
    patterns: tuple[re.Pattern[str], ...],
) -> str | None:
    """A value stated in words the profile has no synonym for: the field's fallback value."""
    other = vocab.role_id(fname, "fallback")
    if other is None:
        return None
    for t in turns:
        if any(p.search(t.low) for p in patterns):
            ev.add(fname, t)
            return other
    return None


def _identity_spans(low: str) -> list[tuple[int, int]]:
    spans = []
    for m in lang.IDENTITY.finditer(low):
        cut = lang.IDENTITY_END.search(low, m.end())
        spans.append((m.end(), cut.start() if cut else len(low)))
    return spans


def read_identity(fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence) -> str | None:
    """What the business is: words in "we're a ..." weigh most, the people it serves least."""
    spec = vocab.spec(fname)
    fallback_ids = set(spec.ids_with_role("fallback"))
    scores: dict[str, float] = {}
    first: dict[str, tuple[int, int]] = {}
    where: dict[str, UTurn] = {}

    def score(vid: str, t: UTurn, pos: int, weight: float) -> None:
        scores[vid] = scores.get(vid, 0.0) + weight
        if vid not in first:
            first[vid] = (t.index, pos)
            where[vid] = t

    for t in turns:
        for vid in spec.values:
            for p in vocab.patterns.get((fname, vid), ()):
                m = p.search(t.low)
                if m:
                    score(vid, t, m.start(), 1.0 + _IDENTITY_BONUS)
        identity: list[tuple[int, int]] | None = None
        for h in _hits(t, fname):
            if h.id in fallback_ids or _NOT_JUST_BEFORE.search(
                t.low[max(0, h.start - 20) : h.start]
            ):
                continue
            # Longer phrases are more specific; the people the business serves say little
            # about what it is.
            customer = lang.CUSTOMER_BEFORE.search(t.low[max(0, h.start - 40) : h.start])
            weight = (0.25 if customer else 1.0) + 0.5 * (len(h.phrase.split()) > 1)
            if identity is None:
                identity = _identity_spans(t.low)
            if any(a <= h.start < b for a, b in identity):
                weight += _IDENTITY_BONUS
            score(h.id, t, h.start, weight)
    if not scores or max(scores.values()) < 1.0:
        # A business described in words we have no value for is still a stated one.
        patterns = (*vocab.fallbacks.get(fname, ()), lang.OWN_BUSINESS)
        return _fallback(fname, turns, vocab, ev, patterns)
    best = max(scores, key=lambda k: (scores[k], (-first[k][0], -first[k][1])))
    ev.add(fname, where[best])
    return best


def _mention_ok(t: UTurn, h: Hit, tense_any: bool) -> bool:
    if tense_any:
        return not lang.NEGATOR_NEAR.search(t.low[max(0, h.start - 25) : h.start])
    return not negated(t.low, h.start, h.end)


def read_mentions(fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence) -> list[str]:
    """Every value the caller states (negated, past and hypothetical mentions left out
    unless the field counts any tense); value patterns count as mentions."""
    spec = vocab.spec(fname)
    tense_any = spec.tense == "any"
    out: list[str] = []
    for t in turns:
        for h in _hits(t, fname):
            if _mention_ok(t, h, tense_any) and not lang.WAIVE.search(
                t.low[clause_bounds(t.low, h.start).start : h.end + 40]
            ):
                if h.id not in out:
                    out.append(h.id)
                ev.add(fname, t, h.start)
        for vid in spec.values:
            for p in vocab.patterns.get((fname, vid), ()):
                m = p.search(t.low)
                if m and vid not in out:
                    out.append(vid)
                    ev.add(fname, t, m.start())
    return out


def read_one_mention(fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence) -> str | None:
    """One value: an answer to the cue question first; otherwise the last value stated
    (callers correct themselves), weighted by how often it was said."""
    spec = vocab.spec(fname)
    tense_any = spec.tense == "any"
    answered: str | None = None
    counts: dict[str, float] = {}
    last: dict[str, int] = {}
    where: dict[str, tuple[UTurn, int]] = {}
    for n, t in enumerate(turns):
        found = [(h.id, h.start) for h in _hits(t, fname) if _mention_ok(t, h, tense_any)]
        for vid in spec.values:
            for p in vocab.patterns.get((fname, vid), ()):
                m = p.search(t.low)
                if m:
                    found.append((vid, m.start()))
        found.sort(key=lambda f: f[1])
        for vid, pos in found:
            counts[vid] = counts.get(vid, 0.0) + (2.0 if fname in t.asked else 1.0)
            last[vid] = n
            where[vid] = (t, pos)
        if found and fname in t.asked and answered is None:
            answered = found[-1][0]
    if not counts:
        return _fallback(fname, turns, vocab, ev, vocab.fallbacks.get(fname, ()))
    best = answered or max(counts, key=lambda k: (counts[k], last[k]))
    t, pos = where[best]
    ev.add(fname, t, pos)
    return best
