"""Action items: follow-ups promised, materials to send, the meeting, owner and due date.

A follow-up is a commitment in the first person ("I'll send the pricing", "I'll have a
specialist email you", "I'll circle back in the spring"), never an offer still hanging
("Would it help if I sent..."). Owner: ``agent`` when the agent does it, ``sales`` when the
agent hands it to a specialist or another team, ``caller`` when the caller commits.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from callscope.analyze.modules import tools as tools_module
from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_COMMIT = re.compile(
    r"\b(?:i'?ll|i will|i'?m going to|we'?ll|we will|let me|will do)\b"
    r"(?:\s+(?:also|just|then|now|personally|make sure to|go ahead and))?"
    r"\s*(?P<verb>email|e-mail|send|have|get|include|submit|flag|note|follow up|forward|share"
    r"|pass|loop|ask|circle back|get back|bring|take|run|look|check|talk|call|reach out|put"
    r"|make sure|mail|text|set up|schedule|book|review|think|discuss|read|try|sign|do)?"
)
_OFFER = re.compile(
    r"\b(?:would|could|should|shall|can) (?:i|we|you)\b|\?$|\bif you(?:'d| would)\b"
)
_HANDOFF = re.compile(
    r"\b(?:have|get|ask) (?:a|an|our|the|one of our|someone (?:from|on)(?: our| the)?)\s*"
    r"(?:[a-z]+ ){0,2}(?:specialist|team|engineer|rep|representative|manager|colleague|billing"
    r"|support|someone|account executive|ae|sales)\b"
    r"|\b(?:a|our|the) (?:[a-z]+ )?(?:specialist|team|engineer|billing|support)\b"
    r"(?: team)? will\b"
)
_MATERIALS = re.compile(
    r"\b(?P<m>pricing (?:summary|breakdown|details|sheet|information|info)|pricing|quote"
    r"|security (?:overview|documentation|docs|review|details)|(?:one[- ]page )?summary"
    r"|comparison|case stud(?:y|ies)|guide|documentation|docs|details|info(?:rmation)?"
    r"|baa|business associate agreement|contract|proposal|template(?:s)?|demo|recording"
    r"|link|invite|invitation|walkthrough|overview|refund(?: request)?|checklist|deck"
    r"|brochure|trial extension)\b"
)
_DUE = re.compile(
    r"\b(?P<d>today|tonight|tomorrow|this (?:afternoon|morning|evening|week|month|quarter)"
    r"|next (?:week|month)|(?:by |on |this |next )?(?:monday|tuesday|wednesday|thursday"
    r"|friday|saturday|sunday)|end of (?:the )?(?:day|week|month)|after (?:the|this) call"
    r"|right away|in the (?:spring|summer|fall|autumn|winter)|(?:in|within) (?:a|one|two"
    r"|three|\d+) (?:days?|weeks?|business days?)|asap)\b"
)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3}


def due_date(phrase: str, on: date) -> str | None:
    """ISO date for a spoken due phrase, read against the call's date; None when vague."""
    p = phrase.lower()
    if p in ("today", "tonight", "asap", "right away") or p.startswith(
        ("this after", "this morn", "this even", "after ")
    ):
        return on.isoformat()
    if p == "tomorrow":
        return (on + timedelta(days=1)).isoformat()
    for i, day in enumerate(_WEEKDAYS):
        if day in p:
            ahead = (i - on.weekday()) % 7 or 7
            if p.startswith("next ") and ahead < 7:
                ahead += 7 if ahead <= 2 else 0
            return (on + timedelta(days=ahead)).isoformat()
    if p in ("end of day", "end of the day"):
        return on.isoformat()
    if p in ("this week", "end of week", "end of the week"):
        return (on + timedelta(days=(4 - on.weekday()) % 7)).isoformat()
    m = re.match(r"(?:in|within) (\w+) (day|week|business day)", p)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _NUMBERS.get(m.group(1), 0)
        if n and m.group(2) == "business day":
            when = on
            while n:
                when += timedelta(days=1)
                n -= when.weekday() < 5  # weekends are not business days
            return when.isoformat()
        if n:
            return (on + timedelta(days=n * (7 if m.group(2) == "week" else 1))).isoformat()
    return None


def _items(text: str, role: str, turn: int, on: date) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for sentence in _SENTENCE.split(text):
        low = sentence.lower().strip()
        m = _COMMIT.search(low)
        if not m or _OFFER.search(low[: m.start()] + low[m.end() : m.end() + 1]):
            continue
        verb = m.group("verb")
        if verb is None:
            continue  # a bare "Will do." acknowledges; the commitment follows in its own words
        if m.group(0).startswith("let me") and verb not in (
            "email",
            "e-mail",
            "send",
            "have",
            "forward",
            "share",
            "get back",
        ):
            continue  # "let me look that up" is live work, not a follow-up
        if (
            role == "assistant"
            and verb in ("look", "check", "try", "think", "do")
            and not _MATERIALS.search(low)
        ):
            continue
        owner = "caller"
        if role == "assistant":
            owner = "sales" if _HANDOFF.search(low) else "agent"
        due = _DUE.search(low)
        found.append(
            {
                "owner": owner,
                "action": verb,
                "materials": sorted({mm.group("m") for mm in _MATERIALS.finditer(low)}),
                "due": due.group("d") if due else None,
                "due_date": due_date(due.group("d"), on) if due else None,
                "turn": turn,
                "text": sentence.strip()[:300],
            }
        )
    return found


def _meeting(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> dict[str, Any]:
    tools = upstream.get("tools")
    detail: Mapping[str, Any]
    if isinstance(tools, Mapping) and "meeting_booked" in tools:
        booked = bool(tools.get("meeting_booked"))
        attempts = int(tools.get("booking_attempts") or 0)
        found = tools.get("meeting")
        detail = found if isinstance(found, Mapping) else {}
    else:
        calls = [
            c for c in tools_module.tool_calls(view) if c.name == profile.tools.meeting_booking
        ]
        ok = [c for c in calls if tools_module.booking_succeeded(c)]
        booked, attempts = bool(ok), len(calls)
        detail = (
            {
                "date": ok[0].arguments.get("preferred_date"),
                "time": ok[0].arguments.get("preferred_time"),
            }
            if ok
            else {}
        )
    status = "booked" if booked else ("failed" if attempts else "none")
    return {
        "status": status,
        "attempts": attempts,
        "date": detail.get("date") if booked else None,
        "time": detail.get("time") if booked else None,
    }


@registry.register("actions", "1.0.0")
def analyze_actions(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    on = view.started_at.date()
    follow_ups: list[dict[str, Any]] = []
    for turn in view.turns:
        if turn.text:
            follow_ups += _items(turn.text, turn.role, turn.index, on)
    meeting = _meeting(view, profile, upstream)
    materials = sorted({m for f in follow_ups if f["owner"] != "caller" for m in f["materials"]})
    owners = sorted({f["owner"] for f in follow_ups})
    return {
        "follow_ups": follow_ups,
        "follow_up_count": len(follow_ups),
        "materials_to_send": materials,
        "owners": owners,
        "meeting": meeting,
        # A failed booking with no promised follow-up is a lead left hanging.
        "needs_attention": meeting["status"] == "failed"
        and not any(f["owner"] in ("agent", "sales") for f in follow_ups),
    }
