"""Normalisation of ASR text: lower case, plain punctuation, spoken numbers as digits.

Spoken contact details (emails, phone numbers) are blanked before numbers are read, so
"six one seven, five five five" never becomes a team size or a volume.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from text_to_num import alpha2digit  # type: ignore[import-untyped]

_PUNCT = str.maketrans(
    {
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2014": " - ",
        "\u2013": " - ",
        "\u2026": "...",
    }
)
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9]+(?:['.][a-z0-9]+)*")
_CLAUSE = re.compile(r"[.?!;,]+|\s-\s|\bbut\b")
_SENTENCE = re.compile(r"(?<=[.?!])\s+")

_DIGIT_WORD = r"(?:zero|oh|o|one|two|three|four|five|six|seven|eight|nine|double|triple|\d)"
# Four or more digit words in a row (commas allowed): a spoken phone or account number.
_SPOKEN_DIGITS = re.compile(rf"\b{_DIGIT_WORD}(?:[\s,]+{_DIGIT_WORD}){{3,}}\b")
_TLD = r"(?:com|org|net|io|co|ca|edu|gov|uk|au|us|de|law|ai|app|biz|info|me)"
_SPOKEN_EMAIL = re.compile(
    rf"\b[a-z0-9]+(?:\s+(?:dot\s+)?[a-z0-9]+){{0,5}}\s+at\s+[a-z0-9]+(?:\s+[a-z0-9]+){{0,5}}"
    rf"\s+dot\s+{_TLD}\b(?:\.?\s*(?:dot\s+)?{_TLD}\b)?"
)
_WRITTEN_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_DIGIT_GROUPS = re.compile(r"\b\d{1,4}(?:[\s,.-]+\d{1,4}){2,}\b")

_PER_PERIOD = r"(?:a|per|each|every) (?:day|week|month|year)\b"
# Hundreds said the short way, "two fifty a month" or "200, 2 50": the parser leaves "2 50",
# which reads as a digit run unless joined; only right before a period ("a month").
_SHORT_HUNDREDS = re.compile(rf"\b([1-9]) ([1-9]\d)\b(?= {_PER_PERIOD})")
# Quantities the number parser leaves as words, applied after it ("a couple 100" -> 200).
_QUANTITY_WORDS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b{pat}\b"), rep)
    for pat, rep in (
        (r"a couple (?:of )?100", "200"),
        (r"a few 100", "300"),
        (r"several 100", "300"),
        (r"a couple (?:of )?1000", "2000"),
        (r"a few 1000", "3000"),
        (r"a few dozen", "36"),
        (r"a couple (?:of )?dozen", "24"),
        (r"half a dozen", "6"),
        (r"a dozen", "12"),
        (r"dozens", "36"),
        (r"a handful", "5"),
        # "just a few a month": a vague count that still names its period.
        (rf"a few(?= {_PER_PERIOD})", "3"),
        (rf"a couple(?= {_PER_PERIOD})", "2"),
    )
)
_QUANTITY_HINT = re.compile(r"\b(?:a couple|a few|several|dozens?|handful)\b")
_LETTER_RUN_HINT = re.compile(r"\b[b-hj-z] [b-hj-z]\b")
_LETTER_RUN = re.compile(r"(?<![\w'])[b-hj-z](?: [b-hj-z]){1,4}(?![\w])")
_ISH = re.compile(r"\b([a-z]+)-ish\b")
# Any digit or English number word: a cheap test before the number parser runs.
NUMBERISH = re.compile(
    r"\d|\b(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand|million|dozens?|couple|few|several|handful|"
    r"half|first|second|third|fourth|fifth)"
)


def normalize(text: str) -> str:
    """Lower case with typographic punctuation made plain and spaces collapsed."""
    return _SPACES.sub(" ", text.translate(_PUNCT).lower()).strip()


def join_letters(low: str) -> str:
    """Acronyms spelled out by ASR joined up: "our c f o" -> "our cfo", "s d r's" -> "sdr's".

    "a" and "i" are words of their own, so runs containing them are left alone.
    """
    if " " not in low or not _LETTER_RUN_HINT.search(low):
        return low
    return _LETTER_RUN.sub(lambda m: m.group().replace(" ", ""), low)


def strip_contacts(low: str) -> str:
    """Blank spoken and written emails and digit runs (phones, postcodes are kept as words)."""
    if "@" in low:
        low = _WRITTEN_EMAIL.sub(" ", low)
    if " dot " in low:
        low = _SPOKEN_EMAIL.sub(" ", low)
    return _SPOKEN_DIGITS.sub(" ", low)


def to_digits(low: str) -> str:
    """Spoken numbers as digits ("twenty six" -> "26", "a couple hundred" -> "200")."""
    if not NUMBERISH.search(low):
        return low  # no number words: the number parser would return the text unchanged
    text = strip_contacts(low)
    if "-ish" in text:
        text = _ISH.sub(r"\1", text)
    text = alpha2digit(text, "en", threshold=0)
    if _QUANTITY_HINT.search(text):
        for pattern, rep in _QUANTITY_WORDS:
            text = pattern.sub(rep, text)
    if " " in text and _SHORT_HUNDREDS.search(text):
        text = _SHORT_HUNDREDS.sub(r"\1\2", text)
    return _DIGIT_GROUPS.sub(" ", text)


def tokens(low: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(low)]


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text) if s]


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


def clause_bounds(low: str, pos: int) -> Span:
    """The clause around ``pos``: between punctuation marks or a "but"."""
    start, end = 0, len(low)
    for m in _CLAUSE.finditer(low):
        if m.end() <= pos:
            start = m.end()
        elif m.start() >= pos:
            end = m.start()
            break
    return Span(start, end)


def next_clause(low: str, end: int) -> str:
    """The clause that follows position ``end`` (after the next separator)."""
    m = _CLAUSE.search(low, end)
    if not m:
        return ""
    nxt = _CLAUSE.search(low, m.end())
    return low[m.end() : nxt.start() if nxt else len(low)]
