"""When the caller wants to start: fixed phrases from the profile, or a date read on the
calendar against the call's day, mapped to the value whose ``horizon`` it falls in.
"""

from __future__ import annotations

from datetime import date

from callscope.analyze.engine import language as lang
from callscope.analyze.engine.turns import MEETING, Evidence, UTurn
from callscope.analyze.engine.vocab import Vocab
from callscope.analyze.text.normalize import clause_bounds
from callscope.analyze.text.timeline import calendar_timeline


def _skips_turn(t: UTurn, fname: str, vocab: Vocab) -> bool:
    """ "it peaks in the spring" answers how many, not when."""
    if fname in t.asked:
        return False
    numbers_asked = bool(t.asked.intersection(vocab.roles.numbers))
    return MEETING in t.asked or (numbers_asked and "?" in t.agent_low[-260:])


def _stated(t: UTurn, fname: str) -> tuple[int, str] | None:
    explicit: list[tuple[int, str]] = []
    for h in t.topics:
        if h.group != fname:
            continue
        span = clause_bounds(t.low, h.start)
        clause = t.low[span.start : span.end]
        negator = lang.NEGATOR_NEAR.search(t.low[max(0, h.start - 20) : h.start])
        if negator and not lang.NEGATED_SPAN.match(h.phrase):
            continue  # "not this week" (but "no rush" is itself the phrase)
        if lang.PAST_CLAUSE.search(clause) and not lang.WISH.search(clause):
            continue
        if lang.DURATION_OF.search(t.low[span.start : h.start]):
            continue  # "procurement takes six months": how long a process lasts
        explicit.append((h.start, h.id))
    return min(explicit) if explicit else None


def _on_calendar(t: UTurn, fname: str, today: date) -> str | None:
    if not lang.CALENDAR_HINT.search(t.low):
        return None
    parts = lang.SENTENCE_OR_BUT.split(t.low)
    # A stated deadline ("so December at the latest") outranks the turn's other dates.
    parts.sort(key=lambda p: not lang.DEADLINE_MARK.search(p))
    for sentence in parts:
        if lang.PAST_CLAUSE.search(sentence):
            continue
        if lang.CONTRACT_CLAUSE.search(sentence) and not (
            fname in t.asked and not lang.LOCKED.search(sentence)
        ):
            continue
        horizon = calendar_timeline(sentence, today)
        if horizon is not None:
            return horizon
    return None


def read_timeline(
    fname: str, turns: list[UTurn], vocab: Vocab, today: date, ev: Evidence
) -> str | None:
    by_horizon = {v.horizon: vid for vid, v in vocab.spec(fname).values.items() if v.horizon}
    ordered = [t for t in turns if fname in t.asked] + [t for t in turns if fname not in t.asked]
    for t in ordered:
        if _skips_turn(t, fname, vocab):
            continue
        stated = _stated(t, fname)
        if stated is not None:
            ev.add(fname, t, stated[0])
            return stated[1]
        horizon = _on_calendar(t, fname, today)
        if horizon is not None and horizon in by_horizon:
            ev.add(fname, t)
            return by_horizon[horizon]
    return None
