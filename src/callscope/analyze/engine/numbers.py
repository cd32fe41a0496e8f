"""Number fields: a count of people, a count per period, or a plain number with unit words.

An answer to the field's cue question wins over a number said elsewhere; within one answer
the last value wins (self-corrections), and a caller's "yes" confirms the agent's figure.
"""

from __future__ import annotations

import re

from callscope.analyze.engine import language as lang
from callscope.analyze.engine.turns import Evidence, UTurn
from callscope.analyze.engine.vocab import Vocab, alternation
from callscope.analyze.text.normalize import to_digits
from callscope.analyze.text.numbers import pick_team, team_candidates, volume_candidates


def read_count(fname: str, turns: list[UTurn], ev: Evidence) -> int | None:
    """People who would use it: an answer to the cue question, else an explicit people count."""
    weak_choice: tuple[int, UTurn] | None = None
    for t in turns:
        answering = fname in t.asked
        found = team_candidates(t.digits, answering)
        if answering:
            value = pick_team(found)
            if value is None and lang.AFFIRM.search(t.low):
                value = pick_team(team_candidates(to_digits(t.agent_low), True))
            if value is not None:
                ev.add(fname, t)
                return value
        elif weak_choice is None:
            value = pick_team([f for f in found if f.explicit])
            if value is not None:
                weak_choice = (value, t)
    if weak_choice is not None:
        ev.add(fname, weak_choice[1])
        return weak_choice[0]
    return None


def _period_asked(agent_low: str, default: str) -> str:
    if lang.DAY.search(agent_low):
        return "day"
    if lang.WEEK.search(agent_low):
        return "week"
    if lang.YEAR.search(agent_low):
        return "year"
    return default


def read_rate(
    fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence, per: str = "month"
) -> int | None:
    """A count per ``per`` (per-day and per-week figures converted, ranges to midpoints)."""
    others = set(vocab.roles.numbers) - {fname}
    fallback: tuple[int, UTurn] | None = None
    for t in turns:
        answering = fname in t.asked and not (others & t.asked)
        unit = _period_asked(t.agent_low, per) if answering else per
        found = volume_candidates(t.digits, answering, unit)
        if answering:
            if not found and lang.AFFIRM.search(t.low):
                found = volume_candidates(to_digits(t.agent_low), False, unit)
            if found:
                ev.add(fname, t)
                return found[-1].value
        elif fallback is None and found:
            fallback = (found[-1].value, t)
    if fallback is not None:
        ev.add(fname, fallback[1])
        return fallback[0]
    return None


_NUMBER = r"(\d+(?:\.\d+)?)"
_RANGE_TAIL = r"(?:\s*(?:to|-|or)\s*(\d+(?:\.\d+)?))?"
_CORRECTION = re.compile(r"\b(?:no|actually|sorry|i mean|well|make that|or rather)\b")


def _unit_regex(units: list[str]) -> re.Pattern[str]:
    alt = alternation(units)
    return re.compile(
        rf"(?<![\d$.,:/]){_NUMBER}{_RANGE_TAIL}\s*(?:[a-z'-]+\s+){{0,1}}?{alt}\b"
        rf"|\b{alt}\s+(?:is\s+|are\s+|of\s+|about\s+|around\s+)?{_NUMBER}\b"
    )


def _values(digits: str, pattern: re.Pattern[str]) -> list[tuple[float, int]]:
    out: list[tuple[float, int]] = []
    for m in pattern.finditer(digits):
        groups = [g for g in m.groups() if g is not None]
        if not groups:
            continue
        nums = [float(g) for g in groups]
        out.append((sum(nums) / len(nums), m.start()))  # a range -> its midpoint
    return out


_BARE = re.compile(rf"(?<![\d$.,:/]){_NUMBER}{_RANGE_TAIL}(?![\d%])")


def read_number(fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence) -> float | None:
    """A plain number next to the field's unit words; in an answer to its cue, a bare one."""
    spec = vocab.spec(fname)
    with_unit = _unit_regex(spec.unit_words) if spec.unit_words else None
    others = set(vocab.roles.numbers) - {fname}
    fallback: tuple[float, UTurn] | None = None
    for t in turns:
        answering = fname in t.asked and not (others & t.asked)
        found = _values(t.digits, with_unit) if with_unit else []
        if answering and not found:
            found = _values(t.digits, _BARE)
            if not found and lang.AFFIRM.search(t.low):
                found = _values(to_digits(t.agent_low), with_unit or _BARE)
        if found and (answering or fallback is None):
            value = _number(found[-1][0])  # the last figure said corrects the earlier ones
            if answering:
                ev.add(fname, t, found[-1][1] if len(t.digits) == len(t.low) else None)
                return value
            fallback = (value, t)
    if fallback is not None:
        ev.add(fname, fallback[1])
        return fallback[0]
    return None


def _number(value: float) -> float:
    return int(value) if value.is_integer() else round(value, 2)
