"""Relative timelines read against the call's date.

"before our fiscal year starts in January" said in October is this quarter; "so February"
said in November is later. Fixed phrases ("this week", "next year") live in the profile;
this module handles the ones that need the calendar.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from callscope.analyze.text.normalize import to_digits

MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS.update({"sept": 9})
_SEASON_START = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DEADLINE = re.compile(r"\b(?:by|before|until|till|no later than|ahead of)\b")
_MONTH_CUE = re.compile(
    rf"\b(?P<prep>by|before|until|till|for|in|starting|start|from|so|around|early|mid|late|"
    rf"end of|beginning of|ahead of)[\s-]+(?:(?:our|the|my|this|next)\s+)?"
    rf"(?:(?P<end>early|mid|late|the end of|the beginning of)[\s-]+)?(?P<month>{_MONTH_RE})\b"
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
_WEEKDAYS = {name.lower(): i for i, name in enumerate(calendar.day_name)}
_WEEKDAY = re.compile(
    r"\b(?:(?P<rel>this|next|on|by|before|until|till|coming)\s+)(?P<day>"
    + "|".join(_WEEKDAYS)
    + r")\b"
)
# A calendar date, read on digits: "december 14th", "the 26th of march", "by the 3rd".
_MONTH_DAY = re.compile(
    rf"\b(?P<month>{_MONTH_RE})\s+(?:the\s+)?(?P<day>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"|\bthe (?P<day2>\d{{1,2}})(?:st|nd|rd|th) of (?P<month2>{_MONTH_RE})\b"
)
# "by the 15th", "is on the 3rd.": an ordinal with a noun after it ("the 1st thing") is no date.
_DAY_OF_MONTH = re.compile(
    r"\b(?:by|before|on|until|till|for|is|'s)\s+(?:the\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)\b"
    r"(?=\s*(?:$|[.,;!?]|(?:of|so|and|at|when|because|if|which|then)\b))"
)
# "not before January", "not until March", "after the new year": the start is the target.
_DIGITS_NEEDED = re.compile(
    rf"\b(?:{_MONTH_RE})\b|\b(?:weeks?|days|months)\b|\bthe (?:[a-z]+[- ])?[a-z]+(?:st|nd|rd|th)\b"
)
# "after the holidays", "after January", "once March is over": the start comes after the
# named month or holiday ends.
_AFTER = re.compile(
    rf"\b(?:after|past|once|when)\s+(?:the\s+|our\s+)?(?:(?P<month>{_MONTH_RE})|"
    r"(?P<hol>holidays|christmas|new year(?:'s)?|first of the year|year[- ]end|end of the year))\b"
    r"(?P<over>\s+(?:is|are)\s+(?:over|done|behind us|wrapped up))?"
)
_NOT_BEFORE = re.compile(r"\b(?:not|never|no sooner)\s+$")
# "by month end", "before quarter-end", "end of month": the close of the current period.
_PERIOD_END = re.compile(
    r"\b(?:(?:by|before|at|for|until|till|around)\s+(?:the\s+)?(?P<p>month|quarter)[- ]end|"
    r"end of (?:the |this )?(?P<p2>month|quarter))\b"
)
# "by the end of next month": the last day of the month after this one.
_NEXT_MONTH_END = re.compile(r"\b(?:end of|before the end of) next month\b")
# The number parser leaves spoken ordinals alone; a day of the month needs them as digits.
_ORDINAL_DAYS = {
    word: i + 1
    for i, word in enumerate(
        (
            "first",
            "second",
            "third",
            "fourth",
            "fifth",
            "sixth",
            "seventh",
            "eighth",
            "ninth",
            "tenth",
            "eleventh",
            "twelfth",
            "thirteenth",
            "fourteenth",
            "fifteenth",
            "sixteenth",
            "seventeenth",
            "eighteenth",
            "nineteenth",
            "twentieth",
        )
    )
}
_ORDINAL_DAYS["thirtieth"] = 30
_ORDINAL_DAY_RE = re.compile(
    r"\b(?:(?P<tens>twenty|thirty)[- ](?P<unit>first|second|third|fourth|fifth|sixth|seventh|"
    r"eighth|ninth)|(?P<word>" + "|".join(sorted(_ORDINAL_DAYS, key=len, reverse=True)) + r"))\b"
)


def _suffix(n: int) -> str:
    if n in (1, 21, 31):
        return "st"
    if n in (2, 22):
        return "nd"
    if n in (3, 23):
        return "rd"
    return "th"


def _ordinal_digits(text: str) -> str:
    """ "by the twenty-third" -> "by the 23rd", so day-of-month rules read one spelling."""

    def sub(m: re.Match[str]) -> str:
        if m.group("word"):
            n = _ORDINAL_DAYS[m.group("word")]
        else:
            n = (20 if m.group("tens") == "twenty" else 30) + _ORDINAL_DAYS[m.group("unit")]
            if n > 31:
                return m.group(0)
        return f"{n}{_suffix(n)}"

    return _ORDINAL_DAY_RE.sub(sub, text)


_NEXT_MONTH = re.compile(
    r"\b(?:next month|in a month|"
    r"(?:in|within) (?:the next )?(?P<n>\d+) (?P<u>weeks?|days?|months?))\b"
)
_NEXT_WEEK = re.compile(r"\bnext week\b")
_FUTURE = re.compile(
    r"\b(?:want|need|would|'d|will|'ll|going to|gonna|hoping|hope|plan|"
    r"planning|aim|looking to|should|must|have to|has to|by|before|so|when|opens?|starts?|"
    r"launch\w*|goes live|is)\b"
)


def _upcoming(today: date, month: int, day: int) -> date | None:
    """The next ``month``/``day`` on or after today (a date already gone this year is next year)."""
    for year in (today.year, today.year + 1):
        try:
            when = date(year, month, day)
        except ValueError:
            return None
        if when >= today:
            return when
    return None


def date_timeline(clause: str, digits: str, today: date) -> str | None:
    """A bucket from a named day: a weekday ("this Saturday"), a day of the month ("the 3rd")."""
    m = _WEEKDAY.search(clause)
    # "on Friday" is a plan only in a clause that looks ahead; "this/next/by Friday" always is.
    if m and (m.group("rel") != "on" or _FUTURE.search(clause)):
        ahead = (_WEEKDAYS[m.group("day")] - today.weekday()) % 7
        if m.group("rel") == "next" and ahead < 7 - today.weekday():
            ahead += 7  # "next Tuesday" said on a Monday is the week after
        return bucket(today + timedelta(days=ahead), today)
    m = _DAY_OF_MONTH.search(digits)
    if m:
        day = int(m.group("day"))
        if not 1 <= day <= 31:
            return None
        nxt = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        when = _upcoming(today, today.month, day) if day >= today.day else None
        if when is None or when.month != today.month:
            when = _upcoming(nxt, nxt.month, day)
        return bucket(when, today) if when else None
    return None


def bucket(target: date, today: date) -> str | None:
    if target < today:
        return None
    if target.isocalendar()[:2] == today.isocalendar()[:2]:
        return "week"
    if (target.year, target.month) == (today.year, today.month):
        return "month"
    if target.year == today.year and (target.month - 1) // 3 == (today.month - 1) // 3:
        return "quarter"
    return "beyond"


def _month_target(month: int, today: date, deadline: bool) -> date:
    year = today.year if month >= today.month else today.year + 1
    if deadline:  # "before March": done by the last day of February
        first = date(year, month, 1)
        if first <= today:
            first = date(year + 1, month, 1)
        return first - timedelta(days=1)
    return date(year, month, 15)


def calendar_timeline(clause: str, today: date) -> str | None:
    """A bucket from a clause naming a date, month, season, year end or a span of time."""
    # The number parser is the costly step: only clauses that may hold a date or a count of
    # weeks go through it.
    digits = _ordinal_digits(to_digits(clause)) if _DIGITS_NEEDED.search(clause) else clause
    m = _MONTH_DAY.search(digits)
    year_end = _YEAR_END.search(clause)
    if m and year_end and not _DEADLINE.search(digits[max(0, m.start() - 12) : m.start()]):
        # "before year end, new pricing goes out January first": the deadline is the plan,
        # the named date is why.
        return bucket(date(today.year, 12, 31), today)
    if m:
        month = MONTHS[m.group("month") or m.group("month2")]
        when = _upcoming(today, month, int(m.group("day") or m.group("day2")))
        if when and when.day == 1 and _DEADLINE.search(digits[max(0, m.start() - 12) : m.start()]):
            when -= timedelta(days=1)  # "by November first": ready when October ends
        return bucket(when, today) if when else None
    m = _AFTER.search(clause)
    if m and (m.group(0).startswith(("after", "past")) or m.group("over")):
        if m.group("hol"):
            return bucket(date(today.year + 1, 1, 2), today)
        month = MONTHS[m.group("month")]
        year = today.year if month >= today.month else today.year + 1
        return bucket(date(year, month, calendar.monthrange(year, month)[1]) + timedelta(1), today)
    if year_end:
        return bucket(date(today.year, 12, 31), today)
    m = _NEXT_MONTH_END.search(clause)
    if m:
        nxt = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
        return bucket(nxt.replace(day=calendar.monthrange(nxt.year, nxt.month)[1]), today)
    m = _PERIOD_END.search(clause)
    if m:
        if (m.group("p") or m.group("p2")) == "month":
            return "month"
        return "quarter"
    cues = [
        c for c in _MONTH_CUE.finditer(clause) if c.group("prep") != "in" or _FUTURE.search(clause)
    ]
    # "opens in January, so I want it set up by December": the deadline is the timeline.
    m = next((c for c in cues if _DEADLINE.fullmatch(c.group("prep"))), cues[0] if cues else None)
    if m:
        month = MONTHS[m.group("month")]
        if m.group("prep") == "end of" or (m.group("end") or "") in ("late", "the end of"):
            # "by end of November": the whole month counts, its last day is the target.
            year = today.year if month >= today.month else today.year + 1
            last = calendar.monthrange(year, month)[1]
            return bucket(date(year, month, last), today)
        part = m.group("end") or m.group("prep")
        if part in ("early", "mid", "the beginning of") or m.group("prep") == "beginning of":
            # "by early December", "before mid-December": a day inside the month, not the
            # month before it.
            year = today.year if month >= today.month else today.year + 1
            when = date(year, month, 15 if part == "mid" else 5)
            if when < today:
                when = date(year + 1, month, when.day)
            if _DEADLINE.search(clause[: m.start()]):
                when -= timedelta(days=1)
            return bucket(when, today)
        if _NOT_BEFORE.search(clause[: m.start()]) or m.group("prep") in (
            "starting",
            "start",
            "from",
        ):
            year = today.year if month > today.month else today.year + 1
            return bucket(date(year, month, 1), today)
        deadline = bool(_DEADLINE.search(clause[: m.end()]))
        return bucket(_month_target(month, today, deadline), today)
    m = _QUARTER.search(clause)
    if m:
        current = (today.month - 1) // 3 + 1
        if m.group("next"):
            return "beyond"
        q = int(m.group("q")) if m.group("q") else _ORDINAL[m.group("ord")]
        return "quarter" if q == current else "beyond"
    m = _SEASON_CUE.search(clause)
    if m and _FUTURE.search(clause):
        month = _SEASON_START[m.group("season")]
        deadline = bool(_DEADLINE.search(clause[: m.end()]))
        return bucket(_month_target(month, today, deadline), today)
    if _NEXT_WEEK.search(clause):
        # "by the end of next week": the working week after this one, read on the calendar.
        return bucket(today + timedelta(days=7 - today.weekday() + 4), today)
    m = _NEXT_MONTH.search(digits)
    if m:
        if not m.group("n"):
            nxt = today.replace(day=28) + timedelta(days=7)
            return bucket(nxt.replace(day=min(15, nxt.day)), today)
        n = int(m.group("n"))
        days = n * {"w": 7, "d": 1, "m": 30}[m.group("u")[0]]
        return bucket(today + timedelta(days=days), today)
    return date_timeline(clause, digits, today)
