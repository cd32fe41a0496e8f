"""Does the booked slot match what the caller asked for? (``tools.booking_accurate``)

Reads the caller's last turns before the booking call for a weekday, a clock time ("two
thirty", "10am", "at one") and a part of the day ("morning", "afternoon"), and compares each
one said with the booked date and time. ``None`` when the caller named nothing checkable or
the booked slot cannot be read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from callscope.analyze.text.normalize import normalize, to_digits
from callscope.analyze.view import Turn

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b")
_CLOCK = re.compile(
    r"\b(?:(?:at|around|like|maybe|say|about)\s+)?(\d{1,2})(?:[: ](\d{2}))?\s*"
    r"(am|pm|a\.m\.|p\.m\.|a m|p m|o'?clock)?(?=\W|$)"
)
_PART = re.compile(r"\b(morning|afternoon|evening|noon|lunch)\b")
_PART_HOURS = {
    "morning": (5, 12),
    "afternoon": (12, 18),
    "evening": (17, 23),
    "noon": (11, 14),
    "lunch": (11, 14),
}
_LOOKBACK = 3
_BARE = re.compile(r"\d{1,2}(?: \d{2})?\W*")


def _hour(text: str) -> tuple[int, int | None, str | None] | None:
    for m in _CLOCK.finditer(text):
        hour, minute, suffix = int(m.group(1)), m.group(2), m.group(3)
        explicit = suffix or minute or m.group(0).split()[0] in ("at", "around", "say")
        if not explicit or not 1 <= hour <= 23:
            continue
        if minute is not None and int(minute) >= 60:
            continue
        return hour, int(minute) if minute else None, suffix
    return None


def _parse_booked(day: object, time: object) -> tuple[date | None, int | None, int | None]:
    booked_day = None
    if isinstance(day, str):
        try:
            booked_day = date.fromisoformat(day.strip()[:10])
        except ValueError:
            booked_day = None
    hour = minute = None
    if isinstance(time, str):
        m = re.match(r"\s*(\d{1,2})(?::(\d{2}))?\s*(am|pm)?", time.lower())
        if m:
            hour = int(m.group(1)) % 12 + (12 if m.group(3) == "pm" else 0)
            if m.group(3) is None:
                hour = int(m.group(1))
            minute = int(m.group(2)) if m.group(2) else 0
    return booked_day, hour, minute


def booking_accurate(
    turns: Sequence[Turn],
    after_turn: int | None,
    day: object,
    time: object,
    since_turn: int | None = None,
) -> bool | None:
    booked_day, booked_hour, booked_minute = _parse_booked(day, time)
    limit = after_turn if after_turn is not None else (turns[-1].index if turns else -1)
    floor = since_turn if since_turn is not None else -1
    asked = [t for t in turns if t.is_user and floor < t.index <= limit][-_LOOKBACK:]
    checks: list[bool] = []
    said = [to_digits(normalize(t.text)) for t in asked]
    # A bare "Ten." answering "which time?" is a clock time.
    text = " ".join(f"at {s}" if _BARE.fullmatch(s) else s for s in said)
    weekday = _WEEKDAY.findall(text)
    if weekday and booked_day is not None:
        checks.append(_WEEKDAYS[booked_day.weekday()] == weekday[-1])
    clock = _hour(text)
    if clock is not None and booked_hour is not None:
        hour, minute, suffix = clock
        same_hour = hour % 12 == booked_hour % 12
        if suffix and suffix.startswith("p"):
            same_hour = (hour % 12 + 12) == booked_hour
        checks.append(same_hour and (minute is None or minute == booked_minute))
    part = _PART.findall(text)
    if part and booked_hour is not None:
        lo, hi = _PART_HOURS[part[-1]]
        checks.append(lo <= booked_hour < hi)
    return all(checks) if checks else None
