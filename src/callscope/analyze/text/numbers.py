"""Numbers the caller states: team size (people who would use the product) and monthly volume.

Both read text already passed through :func:`normalize.to_digits`. Within one answer the
last value wins, which is how people correct themselves ("thirty, well, actually twenty
six"); values that only describe something else ("the two we just hired", "two more",
"sixty bucks", "forty rental units") are not candidates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PEOPLE = (
    r"(?:people|persons?|users?|reps?|agents?|staff(?:ers)?|employees|folks|guys|gals|members|"
    r"recruiters?|paralegals?|attorneys?|lawyers?|advis[eo]rs?|producers?|coordinators?|"
    r"managers?|executives?|aes?|sdrs?|bdrs?|estimators?|salespeople|sellers?|brokers?|realtors?|"
    r"seats?|licen[cs]es?|designers?|consultants?|associates?|partners?|assistants?|admins?|"
    r"accountants?|nurses?|doctors?|therapists?|engineers?|developers?|officers?|specialists?|"
    r"closers?|writers?|planners?|directors?|teammates?|colleagues?|coworkers?|co-workers?|"
    r"account managers?|account executives?|project managers?|pms?|p m's|of us|of them|"
    r"on the team|in the office|on my team|on our team|in total|total|head ?count|"
    r"salesmen|saleswomen|loan officers?|underwriters?|dentists?|hygienists?|teachers?|"
    r"instructors?|volunteers|fundraisers?|marketers?|analysts?|operators?|dispatchers?|"
    r"counsel(?:l)?ors?|crew|"
    r"on (?:the|our|my) (?:[a-z-]+ ){0,2}?(?:side|team|desk|crew|staff|floor))"
)
_PEOPLE_RE = re.compile(rf"^(?:[a-z'-]+\s+){{0,2}}?{PEOPLE}\b")
# An answer to "how many would use it?" may name a role we have no word for ("our three
# admissions counselors"): a plural noun right after the number.
_PLURAL_RE = re.compile(r"^(?:[a-z'-]+\s+){0,2}?[a-z'-]{3,}s\b")
# Headcount of the whole company, not the people who would use the product: "we're about
# 120 employees", "18 people overall", "the whole org is about thirty".
_HEADCOUNT_AFTER = re.compile(
    r"^\s*(?:[a-z'-]+\s+){0,1}?(?:employees|(?:people|folks|staff|of us)\s+(?:overall|in total|"
    r"in the (?:company|org|organi[sz]ation|business|firm)|at the (?:company|firm|org)|"
    r"company[- ]wide))\b"
    r"|^\s*(?:overall|company[- ]wide|in the (?:whole )?(?:company|org|business|firm))\b"
)
_HEADCOUNT_BEFORE = re.compile(
    r"\b(?:company|company's|org|organi[sz]ation|business|firm|agency|brokerage|practice|group|"
    r"whole [a-z]+|entire [a-z]+|headcount)(?:\s*,\s*|\s+(?:is|has|of|'s|employs|totals?)?\s*)"
    r"(?:about |around |roughly |like |maybe |over |almost |nearly |just |only )?$"
)
# "twenty-two AEs and four sales engineers", "four estimators and me": parts of one team.
_JOIN = re.compile(r"^\s*,?\s*(?:and|plus|as well as|\+|&)\s+(?:(?:our|the|my)\s+)?$")
_PEOPLE_AFTER = re.compile(rf"^(?:[a-z'-]+\s+){{0,1}}?{PEOPLE}\b")
_SUBSET = re.compile(r"^\d+\s+of\s+(?:us|them)\b")  # "40 people and 6 of us": a part
_TOTAL = re.compile(r"^\d+\s+(?:of us|in total|total|all together|altogether)\b")
_ROLL_CALL = re.compile(
    r"^\s*(?:total|in total|all told)?\s*[.,:;-]?\s*(?:so\s+|that's\s+|there's\s+)?"
    r"(?:me|myself)\s*(?:,|and\b|plus\b)"
)
_PLUS_ME = re.compile(r"^\s*,?\s*(?:and|plus)\s+(?:me|myself)\b")
_DIGIT = re.compile(r"\d")
_NUM = re.compile(r"(?<![\d$.,:/])(\d+(?:\.\d+)?)(?![\d%]|\.\d|:\d|\s*(?:%|percent))")
# What may follow a bare number in an answer ("eight.", "ten or so", "twelve now").
_BARE_END = re.compile(
    r"^\s*(?:$|[.,!?;)-]|(?:now|total|tops|max|maybe|or so|give or take|roughly|approx\w*|"
    r"i (?:think|guess|'d say|would say)|i'd say|at most|at least|and|all|right now|"
    r"currently|people)\b)"
)
_NOT_PEOPLE_AFTER = re.compile(
    r"^\s*(?:more|additional|new hires?|extra|others?)\b|^\s*(?:a|per|each|every)\s+"
    r"(?:day|week|month|year)\b"
)
_DEF_REF = re.compile(r"\bthe\s+$")
# "every one of them", "each one of our clients": a quantifier, not a count of one.
_QUANTIFIER_ONE = re.compile(r"\b(?:every|each|any|no|which|that|this|the other)\s+$")
_REL_AFTER = re.compile(
    r"^\s*(?:[a-z'-]+\s+){0,2}?(?:we|who|that|i|they)\s+(?:just\s+)?"
    r"(?:hired|added|brought|took|got|lost|had)\b"
)
_POSSESSIVE = re.compile(r"\b(?:our|my|his|her|their|your)\s+$")
_ALL_N = re.compile(r"\ball\s+(\d+)\b(?!\s*(?:of (?:the|them|those|our))?\s*(?:%|percent|a |per ))")
_SOLO = re.compile(
    r"\b(?:(?:just|only) (?:me|myself)\b(?!\s+and\b)|one[- ](?:man|woman|person) "
    r"(?:shop|show|operation|business|band|team)|1[- ](?:man|woman|person)\b|solo\b|"
    r"by myself|on my own|i'm the only one|i am the only one|it's only me|"
    r"it's just me\b(?!\s+and\b))"
)
_PERSON_WORD = (
    r"(?:business partner|partner|co-?founder|cofounder|husband|wife|spouse|"
    r"colleague|assistant|brother|sister|son|daughter|dad|father|mom|mother|"
    r"associate|friend|boss|bookkeeper|office manager|manager|admin|intern|va)"
)
_ME_AND_N = re.compile(rf"\bme and (?:my |our )?(\d+)\s+(?:[a-z'-]+\s+)?{PEOPLE}")
_ME_AND_ONE = re.compile(
    rf"\bme and (?:my |our |one |a |an )?(?:[a-z-]+ ){{0,2}}?{_PERSON_WORD}\b|"
    r"\bme and (?!a\b|an\b|the\b|my\b|our\b|some\b|that\b|this\b|it\b|everything\b|everyone\b|"
    r"\d)([a-z]+)(?=\s*(?:[.,!?;]|$|\band\b|\bwho\b|\bdo\b|\bhandle\b|\bsend\b|\bwould\b))"
)

PERIOD_FACTORS = {"day": 21.0, "week": 4.33, "month": 1.0, "quarter": 1 / 3, "year": 1 / 12}
_PERIOD = (
    r"(?:(?:a|per|each|every|an|in a|/|over the next|in the next|over the coming)\s+"
    r"(?:typical\s+|normal\s+|average\s+|good\s+|"
    r"slow\s+|busy\s+|given\s+)?(?P<unit>day|week|month|year|quarter)\b|"
    r"(?P<adj>daily|weekly|monthly|yearly|annually|quarterly)\b)"
)
# "ten, twelve a week" is a spoken range as much as "ten to twelve"; with hundreds a comma
# is a correction ("a hundred, one fifty"), so only small counts pair up that way.
_RANGE = (
    r"(?P<a>\d+(?:\.\d+)?)(?:(?:\s*(?:to|-|or|and)\s*|(?<!\d\d\d),\s+(?=\d{1,2}\b))"
    r"(?:a\s+|maybe\s+)?"
    r"(?P<b>\d+(?:\.\d+)?))?"
)
_VOLUME_EXPLICIT = re.compile(
    rf"(?<![\d$.,:/]){_RANGE}(?P<between>(?:\s+[a-z'-]+){{0,4}}?)\s*,?\s+{_PERIOD}"
)
# The period said first: "each week we send maybe 10 to 15", "per month we are sending 400".
_VOLUME_LEAD = re.compile(
    r"(?:^|[.?!,;]\s*|\b(?:and|so|but)\s+)(?:(?:on |in )?(?:a|per|each|every|an?)\s+"
    r"(?:typical\s+|normal\s+|given\s+|average\s+|good\s+|slow\s+|busy\s+|regular\s+)?"
    r"(?P<unit>day|week|month|year)|(?P<adj>daily|weekly|monthly))\b"
    rf",?[^.?!,;\d$]{{0,40}}?(?<![\d$.,:/]){_RANGE}\b(?!\s*(?:%|percent))"
)
_VOLUME_BARE = re.compile(rf"(?<![\d$.,:/]){_RANGE}\b(?!\s*(?:%|percent))")
_NOT_DOCS = re.compile(
    rf"\b(?:dollars?|bucks|usd|euros?|pounds|grand|k|cents|hours?|minutes?|seconds?|days?|"
    rf"weeks?|months?|years?|times? (?:a|per)|percent|calls?|meetings?|emails?|"
    rf"per (?:user|seat|person)|{PEOPLE})\b"
)
_ADJ_UNIT = {
    "daily": "day",
    "weekly": "week",
    "monthly": "month",
    "yearly": "year",
    "annually": "year",
    "quarterly": "quarter",
}


@dataclass(frozen=True, slots=True)
class Found:
    value: int
    pos: int
    strong: bool = True
    explicit: bool = True  # for volume: a period was said; for team: a people word was
    end: int = -1  # team: where the people phrase ends (for "N reps and M engineers")
    headcount: bool = False  # team: the whole company's size, not the product's users


def _num(text: str) -> float:
    return float(text)


def team_candidates(digits: str, answering: bool) -> list[Found]:
    """People counts in one caller turn, in order. ``answering``: the agent just asked."""
    found: list[Found] = []
    role_guess: list[Found] = []
    used: set[int] = set()
    if not _DIGIT.search(digits):
        # Without a digit only the word forms can count: "just me", "me and my partner".
        found.extend(Found(1, m.start()) for m in _SOLO.finditer(digits))
        found.extend(Found(2, m.start()) for m in _ME_AND_ONE.finditer(digits))
        found.sort(key=lambda f: f.pos)
        return found
    for m in _ME_AND_N.finditer(digits):
        found.append(Found(int(_num(m.group(1))) + 1, m.start()))
        used.add(m.start(1))
    for m in _SOLO.finditer(digits):
        found.append(Found(1, m.start()))
    for m in _ME_AND_ONE.finditer(digits):
        if not any(m.start() <= u < m.end() for u in used):
            found.append(Found(2, m.start()))
    for m in _ALL_N.finditer(digits):
        found.append(Found(int(_num(m.group(1))), m.start(1)))
        used.add(m.start(1))
    for m in _NUM.finditer(digits):
        if m.start() in used:
            continue
        value = _num(m.group(1))
        if value != int(value) or not 1 <= value <= 100000:
            continue
        before, after = digits[max(0, m.start() - 40) : m.start()], digits[m.end() : m.end() + 60]
        if (
            before.endswith("$")
            or (value == 1 and _QUANTIFIER_ONE.search(before))
            or _NOT_PEOPLE_AFTER.match(after)
            or (_DEF_REF.search(before) and _REL_AFTER.match(after))
        ):
            continue
        headcount = bool(_HEADCOUNT_AFTER.match(after) or _HEADCOUNT_BEFORE.search(before))
        weak = headcount or bool(_POSSESSIVE.search(before))
        stripped = after.lstrip()
        people = _PEOPLE_RE.match(stripped)
        if people is None and answering and not _NOT_DOCS.match(stripped):
            plural = _PLURAL_RE.match(stripped)
            if plural:
                role_guess.append(Found(int(value), m.start(), not weak, True, -1, headcount))
                continue
        if people:
            end = m.end() + (len(after) - len(stripped)) + people.end()
            found.append(Found(int(value), m.start(), not weak, True, end, headcount))
        elif answering and _BARE_END.match(after) and not _NOT_DOCS.match(stripped):
            found.append(Found(int(value), m.start(), not weak, False, -1, headcount))
    found.sort(key=lambda f: f.pos)
    # A plural we have no people word for counts only when nothing else does ("our three
    # admissions counselors", but not "nine people across the three offices").
    return _join_parts(digits, found) if found else role_guess


def _join_parts(digits: str, found: list[Found]) -> list[Found]:
    """Add up the parts of one team ("22 AEs and 4 sales engineers", "four estimators and me")."""
    out: list[Found] = []
    for f in found:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.end >= 0
            and f.end >= 0
            and not (prev.headcount or f.headcount)
            and _JOIN.match(digits[prev.end : f.pos])
            and not _SUBSET.match(digits[f.pos : f.end])
        ):
            out[-1] = Found(prev.value + f.value, prev.pos, prev.strong or f.strong, True, f.end)
        else:
            out.append(f)
    for i, f in enumerate(out):
        if f.end >= 0 and _PLUS_ME.match(digits[f.end : f.end + 14]):
            out[i] = Found(f.value + 1, f.pos, f.strong, True, f.end)
    for i, f in enumerate(out):
        if f.end >= 0 and _TOTAL.match(digits[f.pos : f.end]) and _ROLL_CALL.match(digits[f.end :]):
            # "four of us. me, my PM and two office people": the names after a total are
            # its members, so a smaller count among them is a part, not a correction.
            return out[: i + 1] + [g for g in out[i + 1 :] if g.value >= f.value]
    return out


def pick_team(found: list[Found]) -> int | None:
    strong = [f for f in found if f.strong]
    # "fifty people, and our three reps would use it": a possessive group of the company is
    # still closer to the users than the company's own headcount.
    chosen = strong or [f for f in found if not f.headcount] or found
    return chosen[-1].value if chosen else None


def volume_candidates(digits: str, answering: bool, default_unit: str) -> list[Found]:
    """Document counts per month in one caller turn, in order (ranges -> midpoint)."""
    found: list[Found] = []
    spans: list[tuple[int, int]] = []
    if not _DIGIT.search(digits):
        return found
    for m in _VOLUME_EXPLICIT.finditer(digits):
        between = m.group("between") or ""
        if _NOT_DOCS.search(between) or digits[max(0, m.start() - 1) : m.start()] == "$":
            continue
        unit = m.group("unit") or _ADJ_UNIT[m.group("adj")]
        found.append(Found(_monthly(m.group("a"), m.group("b"), unit), m.start()))
        spans.append((m.start(), m.end()))
    for m in _VOLUME_LEAD.finditer(digits):
        if any(s <= m.start("a") < e for s, e in spans):
            continue
        after = digits[m.end() : m.end() + 40].lstrip()
        if _NOT_DOCS.match(after) or _PEOPLE_AFTER.match(after):
            continue
        unit = m.group("unit") or _ADJ_UNIT[m.group("adj")]
        found.append(Found(_monthly(m.group("a"), m.group("b"), unit), m.start("a")))
        spans.append((m.start("a"), m.end()))
    if answering:
        for m in _VOLUME_BARE.finditer(digits):
            if any(s <= m.start() < e for s, e in spans):
                continue
            after = digits[m.end() : m.end() + 40]
            if not _BARE_END.match(after) or _NOT_DOCS.match(after.lstrip()):
                continue
            if digits[max(0, m.start() - 1) : m.start()] == "$":
                continue
            found.append(
                Found(_monthly(m.group("a"), m.group("b"), default_unit), m.start(), explicit=False)
            )
    found.sort(key=lambda f: f.pos)
    if len(found) > 1:
        # "two to three hundred a month, closer to three": a later bare count a tenth or less
        # of a stated one drops its scale word, it does not correct the count.
        top = max((f.value for f in found if f.explicit), default=0)
        found = [f for f in found if f.explicit or f.value * 10 > top]
    return found


def _monthly(a: str, b: str | None, unit: str) -> int:
    low = _num(a)
    if b is not None and low < 10 and _num(b) >= 100 and _num(b) % 100 == 0:
        # "two to three hundred" shares the scale word: 200-300, not 2-300.
        scale = 1000.0 if _num(b) % 1000 == 0 and _num(b) >= 1000 else 100.0
        if low * scale < _num(b):
            low *= scale
    value = low if b is None else (low + _num(b)) / 2
    # Half-up rounding: 60 a week is 259.8 -> 260, 35 a week 151.55 -> 152.
    return int(value * PERIOD_FACTORS[unit] + 0.5)
