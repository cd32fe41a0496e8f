"""Relative timelines read against the call's date.

"before our fiscal year starts in January" said in October is this quarter; "so February"
said in November is later. Fixed phrases ("this week", "next year") live in the profile;
this module handles the ones that need the calendar.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({"sept": 9})
_SEASON_START = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DEADLINE = re.compile(r"\b(?:by|before|until|till|no later than|ahead of)\b")
_MONTH_CUE = re.compile(
    rf"\b(?P<prep>by|before|until|till|for|in|starting|start|from|so|around|early|mid|late|"
    rf"end of|beginning of|ahead of)\s+(?:(?:our|the|my|this|next)\s+)?"
    rf"(?:(?P<end>early|mid|late|the end of|the beginning of)\s+)?(?P<month>{_MONTH_RE})\b"
)
_YEAR_END = re.compile(
    r"\b(?:by|before|until|till|ahead of)\s+(?:the\s+)?(?:end of (?:the |this )?year|"
    r"year[- ]end|christmas|the holidays|holidays|new year(?:'s)?)\b|\bend of (?:the |this )?year\b"
)
_SEASON_CUE = re.compile(
    r"\b(?:by|before|for|in|this|until)\s+(?:the\s+)?(?P<season>spring|summer|fall|autumn|winter)\b"
)
# "sometime in Q1", "in the second quarter", "next quarter".
_QUARTER = re.compile(
    r"\b(?:q(?P<q>[1-4])|(?P<ord>first|second|third|fourth) quarter|(?P<next>next) quarter)\b"
)
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4}
_NEXT_MONTH = re.compile(r"\b(?:next month|in a month|in (?P<n>\d+) (?P<u>weeks?|days?|months?))\b")
_NEXT_WEEK = re.compile(r"\bnext week\b")
_FUTURE = re.compile(
    r"\b(?:want|need|would|'d|will|'ll|going to|gonna|hoping|hope|plan|"
    r"planning|aim|looking to|should|must|have to|by|before|so|when)\b"
)


def bucket(target: date, today: date) -> str | None:
    if target < today:
        return None
    if target.isocalendar()[:2] == today.isocalendar()[:2]:
        return "this_week"
    if (target.year, target.month) == (today.year, today.month):
        return "this_month"
    if target.year == today.year and (target.month - 1) // 3 == (today.month - 1) // 3:
        return "this_quarter"
    return "later"


def _month_target(month: int, today: date, deadline: bool) -> date:
    year = today.year if month >= today.month else today.year + 1
    if deadline:  # "before March": done by the last day of February
        first = date(year, month, 1)
        if first <= today:
            first = date(year + 1, month, 1)
        return first - timedelta(days=1)
    return date(year, month, 15)


def calendar_timeline(clause: str, today: date) -> str | None:
    """A timeline bucket from a clause naming a month, season, year end or a span of time."""
    m = _YEAR_END.search(clause)
    if m:
        return bucket(date(today.year, 12, 31), today)
    m = _MONTH_CUE.search(clause)
    if m and (m.group("prep") != "in" or _FUTURE.search(clause)):
        month = MONTHS[m.group("month")]
        if m.group("prep") == "end of" or (m.group("end") or "") in ("late", "the end of"):
            # "by end of November": the whole month counts, its last day is the target.
            year = today.year if month >= today.month else today.year + 1
            last = calendar.monthrange(year, month)[1]
            return bucket(date(year, month, last), today)
        deadline = bool(_DEADLINE.search(clause[: m.end()]))
        return bucket(_month_target(month, today, deadline), today)
    m = _QUARTER.search(clause)
    if m:
        current = (today.month - 1) // 3 + 1
        if m.group("next"):
            return "later"
        q = int(m.group("q")) if m.group("q") else _ORDINAL[m.group("ord")]
        return "this_quarter" if q == current else "later"
    m = _SEASON_CUE.search(clause)
    if m and _FUTURE.search(clause):
        month = _SEASON_START[m.group("season")]
        deadline = bool(_DEADLINE.search(clause[: m.end()]))
        return bucket(_month_target(month, today, deadline), today)
    if _NEXT_WEEK.search(clause):
        # "by the end of next week": the working week after this one, read on the calendar.
        return bucket(today + timedelta(days=7 - today.weekday() + 4), today)
    m = _NEXT_MONTH.search(clause)
    if m:
        if not m.group("n"):
            nxt = today.replace(day=28) + timedelta(days=7)
            return bucket(nxt.replace(day=min(15, nxt.day)), today)
        n = int(m.group("n"))
        days = n * {"w": 7, "d": 1, "m": 30}[m.group("u")[0]]
        return bucket(today + timedelta(days=days), today)
    return None
