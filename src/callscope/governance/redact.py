"""PII redaction for call transcripts and tool arguments.

Written forms lean on libraries that already know the rules: ``phonenumbers`` (libphonenumber's
metadata, every region's numbering plan) for phone numbers and ``python-stdnum`` for the IBAN
checksum, the Luhn check and the US SSN number ranges. What no library covers is how people
*say* these things on a call after speech-to-text ("john dot smith at gmail dot com", "four
one five, five five five, oh one nine nine", "double oh"), and street addresses outside the
US/UK: those detectors live here.

Every candidate is collected first, overlaps are resolved (higher-priority kind, then longer
span), and the survivors are replaced by ``[REDACTED_<KIND>]``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

import phonenumbers
from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.us import ssn as _ssn


class Kind(StrEnum):
    EMAIL = "EMAIL"
    IBAN = "IBAN"
    CARD = "CARD"
    SSN = "SSN"
    PHONE = "PHONE"
    ADDRESS = "ADDRESS"


# When two candidates overlap, the more specific kind wins (an IBAN's digits also look like a
# phone number; a card read out is also a long digit run).
_PRIORITY = {Kind.EMAIL: 6, Kind.IBAN: 5, Kind.CARD: 4, Kind.SSN: 3, Kind.ADDRESS: 2, Kind.PHONE: 1}


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: Kind
    text: str


@dataclass(frozen=True)
class RedactionResult:
    text: str
    spans: tuple[Span, ...]  # positions refer to the ORIGINAL text

    @property
    def changed(self) -> bool:
        return bool(self.spans)


def placeholder(kind: Kind) -> str:
    return f"[REDACTED_{kind.value}]"


# --------------------------------------------------------------------------- tokens

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?|@", re.UNICODE)


@dataclass(frozen=True)
class _Tok:
    start: int
    end: int
    low: str


def _tokens(text: str) -> list[_Tok]:
    return [_Tok(m.start(), m.end(), m.group().lower()) for m in _TOKEN.finditer(text)]


def _gap(text: str, a: _Tok, b: _Tok, allowed: str) -> bool:
    """True when only whitespace and ``allowed`` punctuation lie between two tokens."""
    between = text[a.end : b.start]
    return len(between) <= 4 and all(c.isspace() or c in allowed for c in between)


# --------------------------------------------------------------------------- emails

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b"
)

_TLDS = frozenset(
    [
        "com",
        "org",
        "net",
        "io",
        "co",
        "ca",
        "uk",
        "us",
        "de",
        "fr",
        "es",
        "it",
        "nl",
        "be",
        "ch",
        "at",
        "au",
        "nz",
        "ie",
        "in",
        "jp",
        "br",
        "mx",
        "se",
        "no",
        "dk",
        "fi",
        "pl",
        "pt",
        "cz",
        "edu",
        "gov",
        "info",
        "biz",
        "ai",
        "app",
        "dev",
        "me",
        "tv",
        "ly",
        "us",
        "gg",
        "xyz",
        "tech",
        "online",
        "site",
        "store",
        "cloud",
        "eu",
    ]
)
_EMAIL_SEPS = frozenset({"dot", "period", "underscore", "dash", "hyphen", "minus"})
_AT_WORDS = frozenset({"at", "@"})
# Words that cannot start a domain or be an address's local part: "good at the dot com era".
_NOT_DOMAIN = frozenset(
    [
        "the",
        "a",
        "an",
        "my",
        "our",
        "your",
        "his",
        "her",
        "their",
        "this",
        "that",
        "these",
        "those",
        "least",
        "most",
        "all",
        "home",
        "work",
        "about",
        "around",
        "once",
        "first",
        "last",
        "night",
        "noon",
        "some",
        "any",
    ]
)


def _letters_run(toks: list[_Tok], i: int, step: int) -> int:
    """Index just past a run of single-letter tokens starting at ``i`` moving by ``step``."""
    j = i
    while 0 <= j < len(toks) and len(toks[j].low) == 1 and toks[j].low.isalpha():
        j += step
    return j


def _spoken_emails(text: str, toks: list[_Tok]) -> Iterable[Span]:
    n = len(toks)
    for i, tok in enumerate(toks):
        if tok.low not in _AT_WORDS or i == 0 or i + 3 >= n:
            continue
        # Domain: 1-5 words, then one or more "dot <label>", the last a TLD (or two spelled
        # letters, "dot c a").
        j = i + 1
        if toks[j].low in _NOT_DOMAIN or toks[j].low in _EMAIL_SEPS:
            continue
        words = 0
        while (
            j < n
            and toks[j].low not in {"dot", "period"}
            and words < 6
            and _gap(text, toks[j - 1], toks[j], "")
        ):
            j += 1
            words += 1
        if (
            j >= n
            or toks[j].low not in {"dot", "period"}
            or words > 5
            or not _gap(text, toks[j - 1], toks[j], "")
        ):
            continue
        end_tok = -1
        while (
            j + 1 < n
            and toks[j].low in {"dot", "period"}
            and _gap(text, toks[j - 1], toks[j], "")
            and _gap(text, toks[j], toks[j + 1], "")
        ):
            label = toks[j + 1].low
            if (
                j + 2 < n
                and len(label) == 1
                and len(toks[j + 2].low) == 1
                and toks[j + 2].low.isalpha()
                and label + toks[j + 2].low in _TLDS
            ):
                end_tok, j = j + 2, j + 3
            elif label in _TLDS:
                end_tok, j = j + 1, j + 2
            elif label.isalnum() and j + 2 < n and toks[j + 2].low in {"dot", "period"}:
                j += 2  # "dot co dot uk": an inner label
            else:
                break
        if end_tok < 0:
            continue
        # Local part, read backwards from "at": atoms joined by dot/underscore/dash, an atom
        # being a word, spelled letters, or an initial plus a word ("k holloway").
        k = i - 1
        start_tok = -1
        while k >= 0:
            if (
                not _gap(text, toks[k], toks[k + 1], "")
                or not toks[k].low.isalnum()
                or toks[k].low in _NOT_DOMAIN - {"a"}
            ):
                break
            if len(toks[k].low) == 1:
                k2 = _letters_run(toks, k, -1)
            else:
                k2 = k - 1
                if (
                    k2 >= 0
                    and len(toks[k2].low) == 1
                    and toks[k2].low.isalpha()
                    and toks[k2].low not in {"a", "i"}
                ):
                    k2 -= 1  # an initial before the name
            start_tok = k2 + 1
            if k2 >= 1 and toks[k2].low in _EMAIL_SEPS:
                k = k2 - 1
                continue
            break
        if start_tok < 0:
            continue
        s, e = toks[start_tok].start, toks[end_tok].end
        yield Span(s, e, Kind.EMAIL, text[s:e])


# --------------------------------------------------------------------------- digits spoken

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "o": "0",
    "nought": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_REPEAT = {"double": 2, "triple": 3}


def _spoken_digit_runs(text: str, toks: list[_Tok]) -> Iterable[tuple[int, int, str]]:
    """Maximal runs of spoken single digits: ``(start_char, end_char, digits)``.

    Digit strings of up to 4 characters join a run that already holds a spoken digit, since
    STT sometimes writes one group as figures ("four one five, 555, oh one nine nine").
    """
    i, n = 0, len(toks)
    while i < n:
        digits: list[str] = []
        j = i
        first = last = -1
        spoken = False
        while j < n:
            low = toks[j].low
            if digits and not _gap(text, toks[j - 1], toks[j], ",-.;"):
                break
            if (
                low in _REPEAT
                and j + 1 < n
                and toks[j + 1].low in _DIGIT_WORDS
                and _gap(text, toks[j], toks[j + 1], "")
            ):
                digits.append(_DIGIT_WORDS[toks[j + 1].low] * _REPEAT[low])
                spoken = True
                first = j if first < 0 else first
                last, j = j + 1, j + 2
                continue
            if low in _DIGIT_WORDS:
                digits.append(_DIGIT_WORDS[low])
                spoken = True
            elif (
                low.isdigit()
                and len(low) <= 4
                and (spoken or (j + 1 < n and toks[j + 1].low in _DIGIT_WORDS))
            ):
                digits.append(low)
            else:
                break
            first = j if first < 0 else first
            last = j
            j += 1
        if last >= 0 and spoken:
            yield toks[first].start, toks[last].end, "".join(digits)
            i = last + 1
        else:
            i = max(j, i + 1)


def _classify_digits(digits: str, context: str) -> Kind | None:
    if 13 <= len(digits) <= 19 and _luhn.is_valid(digits):
        return Kind.CARD
    if len(digits) == 9 and _SSN_CONTEXT.search(context) and _ssn.is_valid(digits):
        return Kind.SSN
    if 7 <= len(digits) <= 15:
        return Kind.PHONE
    return None


def _spoken_numbers(text: str, toks: list[_Tok]) -> Iterable[Span]:
    for s, e, digits in _spoken_digit_runs(text, toks):
        kind = _classify_digits(digits, text[max(0, s - 40) : s])
        if kind is not None:
            yield Span(s, e, kind, text[s:e])
    yield from _spoken_ibans(text, toks)


def _spoken_ibans(text: str, toks: list[_Tok]) -> Iterable[Span]:
    """IBANs spelled out: two letters, then letters and digits ("D E eight nine three ...")."""
    n = len(toks)
    for i in range(n - 3):
        a, b = toks[i].low, toks[i + 1].low
        if not (len(a) == 1 and len(b) == 1 and a.isalpha() and b.isalpha()):
            continue
        if (a + b).upper() not in _IBAN_COUNTRIES:
            continue
        chars = [a, b]
        j, best = i + 2, -1
        while j < n and len(chars) < 34 and _gap(text, toks[j - 1], toks[j], ",-."):
            low = toks[j].low
            if low in _REPEAT and j + 1 < n and toks[j + 1].low in _DIGIT_WORDS:
                chars.append(_DIGIT_WORDS[toks[j + 1].low] * _REPEAT[low])
                j += 2
            elif low in _DIGIT_WORDS and low != "o":  # a spelled IBAN says "O" for the letter
                chars.append(_DIGIT_WORDS[low])
                j += 1
            elif low.isdigit() or (len(low) == 1 and low.isalpha()):
                chars.append(low)
                j += 1
            else:
                break
            if len("".join(chars)) >= 15 and _iban.is_valid("".join(chars).upper()):
                best = j - 1
        if best >= 0:
            s, e = toks[i].start, toks[best].end
            yield Span(s, e, Kind.IBAN, text[s:e])


# --------------------------------------------------------------------------- written numbers

_IBAN_COUNTRIES = frozenset(
    [
        "AD",
        "AE",
        "AL",
        "AT",
        "AZ",
        "BA",
        "BE",
        "BG",
        "BH",
        "BR",
        "BY",
        "CH",
        "CR",
        "CY",
        "CZ",
        "DE",
        "DK",
        "DO",
        "EE",
        "EG",
        "ES",
        "FI",
        "FO",
        "FR",
        "GB",
        "GE",
        "GI",
        "GL",
        "GR",
        "GT",
        "HR",
        "HU",
        "IE",
        "IL",
        "IQ",
        "IS",
        "IT",
        "JO",
        "KW",
        "KZ",
        "LB",
        "LC",
        "LI",
        "LT",
        "LU",
        "LV",
        "MC",
        "MD",
        "ME",
        "MK",
        "MR",
        "MT",
        "MU",
        "NL",
        "NO",
        "PK",
        "PL",
        "PS",
        "PT",
        "QA",
        "RO",
        "RS",
        "SA",
        "SC",
        "SE",
        "SI",
        "SK",
        "SM",
        "ST",
        "SV",
        "TL",
        "TN",
        "TR",
        "UA",
        "VA",
        "VG",
        "XK",
    ]
)
_IBAN_CAND = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]){11,32}", re.IGNORECASE)
_CARD_CAND = re.compile(r"(?<![\d-])\d(?:[ -]?\d){11,18}(?![\d])")
_CARD_CONTEXT = re.compile(
    r"\b(?:card|visa|mastercard|master\s+card|amex|maestro|discover|"
    r"expir\w*|cvv|cvc|debit|credit)\b",
    re.IGNORECASE,
)
_SSN_WRITTEN = re.compile(r"(?<![\d-])(\d{3})([- ])(\d{2})\2(\d{4})(?![\d-])")
_SSN_BARE = re.compile(r"(?<!\d)\d{9}(?!\d)")
_SSN_CONTEXT = re.compile(
    r"\b(?:ssn|social(?:\s+security)?(?:\s+number)?|"
    r"s\s*s\s*n|tax\s+id|tin)\b",
    re.IGNORECASE,
)


def _written_ibans(text: str) -> Iterable[Span]:
    for m in _IBAN_CAND.finditer(text):
        if m.group()[:2].upper() not in _IBAN_COUNTRIES:
            continue
        raw = m.group()
        # The candidate may run into following words ("... 3000 BIC"): try shorter prefixes.
        positions = [k for k, c in enumerate(raw) if c.isalnum()]
        for cut in range(len(positions), 14, -1):
            compact = "".join(raw[k] for k in positions[:cut]).upper()
            if _iban.is_valid(compact):
                end = m.start() + positions[cut - 1] + 1
                yield Span(m.start(), end, Kind.IBAN, text[m.start() : end])
                break


def _written_cards(text: str) -> Iterable[Span]:
    for m in _CARD_CAND.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if not _luhn.is_valid(digits):
            continue
        # Maestro numbers can be 12 digits; at that length only with a word about cards near.
        if 13 <= len(digits) <= 19 or _CARD_CONTEXT.search(
            text[max(0, m.start() - 40) : m.end() + 40]
        ):
            yield Span(m.start(), m.end(), Kind.CARD, m.group())


def _written_ssns(text: str) -> Iterable[Span]:
    for m in _SSN_WRITTEN.finditer(text):
        if _ssn.is_valid(m.group(1) + m.group(3) + m.group(4)):
            yield Span(m.start(), m.end(), Kind.SSN, m.group())
    for m in _SSN_BARE.finditer(text):
        if _SSN_CONTEXT.search(text[max(0, m.start() - 40) : m.start()]) and _ssn.is_valid(
            m.group()
        ):
            yield Span(m.start(), m.end(), Kind.SSN, m.group())


# Regions whose national formats we recognise without a leading "+": the countries callscope
# users are likely to have callers from. International "+CC ..." numbers match in any region.
PHONE_REGIONS: tuple[str, ...] = (
    "US",
    "GB",
    "DE",
    "FR",
    "ES",
    "IT",
    "NL",
    "AU",
    "IE",
    "IN",
    "CH",
    "AT",
    "BE",
    "SE",
    "MX",
    "BR",
)
_DATE_LIKE = re.compile(
    r"^\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    r"\s*$"
)
_PHONE_CONTEXT = re.compile(
    r"\b(?:phone|number|line|call|reach|mobile|cell|ring|text|tel|"
    r"landline|whatsapp|extension|ext)\b",
    re.IGNORECASE,
)
# Numbers that name a thing rather than a person: "ticket number 741-1847", "order 5590-1123".
_ID_CONTEXT = re.compile(
    r"\b(?:ticket|order|invoice|case|reference|ref|confirmation|po|id|"
    r"tracking|serial|version|build|quote|contract|policy)\b[\s#:.a-z]{0,12}$",
    re.IGNORECASE,
)
_PHONE_SHAPE = re.compile(r"^\s*(?:\+|\(|00)|\d[\s.-]+\d")


def _inside_long_number(text: str, start: int, end: int) -> bool:
    """A piece of a longer digit string (a card number that failed Luhn, an account...)."""
    s, e = start, end
    while s > 0 and (text[s - 1].isdigit() or text[s - 1] in " -"):
        s -= 1
    while e < len(text) and (text[e].isdigit() or text[e] in " -"):
        e += 1
    outer = sum(c.isdigit() for c in text[s:e])
    return outer >= 13 and outer > sum(c.isdigit() for c in text[start:end])


def _written_phones(text: str) -> Iterable[Span]:
    if sum(c.isdigit() for c in text) < 6:
        return
    seen: set[tuple[int, int]] = set()
    for region in PHONE_REGIONS:
        for lv in (phonenumbers.Leniency.VALID, phonenumbers.Leniency.POSSIBLE):
            for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=lv):
                key = (m.start, m.end)
                if key in seen:
                    continue
                raw = m.raw_string
                ndigits = sum(c.isdigit() for c in raw)
                if _DATE_LIKE.match(raw) or (ndigits < 7 and not raw.lstrip().startswith("+")):
                    continue
                if _inside_long_number(text, m.start, m.end):
                    continue
                # A merely "possible" number must also look like a phone number as written:
                # grouped or prefixed, and long enough, so invoice numbers and years survive.
                before = text[max(0, m.start - 40) : m.start]
                if lv is phonenumbers.Leniency.POSSIBLE and (
                    _ID_CONTEXT.search(before)
                    or not (
                        (ndigits >= 8 and _PHONE_SHAPE.search(raw)) or _PHONE_CONTEXT.search(before)
                    )
                ):
                    continue
                seen.add(key)
                yield Span(m.start, m.end, Kind.PHONE, raw)


# --------------------------------------------------------------------------- addresses

_NUM_WORDS = (
    "zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|"
    "fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|"
    "eighty|ninety|hundred|thousand|double|triple"
)
_DIGIT_WORD = "zero|oh|one|two|three|four|five|six|seven|eight|nine"
_HOUSE_NO_DIGITS = r"(?:\d{1,6}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?)"
_HOUSE_NO_WORDS = rf"(?:(?:(?i:{_NUM_WORDS})[\s-]+){{0,5}}(?i:{_NUM_WORDS}))"
_HOUSE_NO = rf"(?:{_HOUSE_NO_DIGITS}|{_HOUSE_NO_WORDS})"
# Street types: USPS Publication 28, the UK's, and Australia's AS 4590 list (the ambiguous
# English words among them, such as Little, Upper, End or Line, left out).
_EN_SUFFIXES = "|".join(
    sorted(
        set(
            [
                "Street",
                "St",
                "Road",
                "Rd",
                "Avenue",
                "Ave",
                "Av",
                "Lane",
                "Ln",
                "Drive",
                "Dr",
                "Boulevard",
                "Blvd",
                "Court",
                "Ct",
                "Highway",
                "Hwy",
                "Parkway",
                "Pkwy",
                "Terrace",
                "Ter",
                "Circle",
                "Cir",
                "Crescent",
                "Cres",
                "Close",
                "Place",
                "Pl",
                "Way",
                "Square",
                "Sq",
                "Trail",
                "Trl",
                "Alley",
                "Annex",
                "Arcade",
                "Bayou",
                "Beach",
                "Bend",
                "Bluff",
                "Bluffs",
                "Bottom",
                "Branch",
                "Bridge",
                "Brook",
                "Brooks",
                "Burg",
                "Burgs",
                "Bypass",
                "Camp",
                "Canyon",
                "Cape",
                "Causeway",
                "Center",
                "Centers",
                "Circles",
                "Cliff",
                "Cliffs",
                "Club",
                "Common",
                "Commons",
                "Corner",
                "Corners",
                "Course",
                "Courts",
                "Cove",
                "Coves",
                "Creek",
                "Crest",
                "Crossing",
                "Crossroad",
                "Curve",
                "Dale",
                "Dam",
                "Divide",
                "Drives",
                "Estate",
                "Estates",
                "Expressway",
                "Extension",
                "Extensions",
                "Falls",
                "Ferry",
                "Field",
                "Fields",
                "Flat",
                "Flats",
                "Ford",
                "Fords",
                "Forest",
                "Forge",
                "Forges",
                "Fork",
                "Forks",
                "Fort",
                "Freeway",
                "Garden",
                "Gardens",
                "Gateway",
                "Glen",
                "Glens",
                "Green",
                "Greens",
                "Grove",
                "Groves",
                "Harbor",
                "Harbors",
                "Haven",
                "Heights",
                "Hill",
                "Hills",
                "Hollow",
                "Inlet",
                "Island",
                "Islands",
                "Isle",
                "Junction",
                "Junctions",
                "Key",
                "Keys",
                "Knoll",
                "Knolls",
                "Lake",
                "Lakes",
                "Land",
                "Landing",
                "Light",
                "Lights",
                "Loaf",
                "Lock",
                "Locks",
                "Lodge",
                "Loop",
                "Mall",
                "Manor",
                "Manors",
                "Meadow",
                "Meadows",
                "Mews",
                "Mill",
                "Mills",
                "Mission",
                "Motorway",
                "Mount",
                "Mountain",
                "Mountains",
                "Neck",
                "Orchard",
                "Oval",
                "Overpass",
                "Park",
                "Parks",
                "Parkways",
                "Pass",
                "Passage",
                "Path",
                "Pike",
                "Pine",
                "Pines",
                "Plain",
                "Plains",
                "Plaza",
                "Point",
                "Points",
                "Port",
                "Ports",
                "Prairie",
                "Radial",
                "Ramp",
                "Ranch",
                "Rapid",
                "Rapids",
                "Rest",
                "Ridge",
                "Ridges",
                "River",
                "Roads",
                "Route",
                "Row",
                "Rue",
                "Run",
                "Shoal",
                "Shoals",
                "Shore",
                "Shores",
                "Skyway",
                "Spring",
                "Springs",
                "Spur",
                "Spurs",
                "Squares",
                "Station",
                "Stravenue",
                "Stream",
                "Streets",
                "Summit",
                "Throughway",
                "Trace",
                "Track",
                "Trafficway",
                "Trailer",
                "Tunnel",
                "Turnpike",
                "Underpass",
                "Union",
                "Unions",
                "Valley",
                "Valleys",
                "Viaduct",
                "View",
                "Views",
                "Village",
                "Villages",
                "Ville",
                "Vista",
                "Walk",
                "Walks",
                "Wall",
                "Ways",
                "Well",
                "Wells",
                "Wharf",
                "Gate",
                "Rise",
                "Parade",
                "Esplanade",
                "Grange",
                "Vale",
                "Wynd",
                "Chase",
                "Fold",
                "Croft",
                "Approach",
                "Broadway",
                "Promenade",
                "Access",
                "Alleyway",
                "Amble",
                "Anchorage",
                "Artery",
                "Basin",
                "Block",
                "Brace",
                "Brae",
                "Break",
                "Brow",
                "Byway",
                "Centre",
                "Centreway",
                "Circlet",
                "Circuit",
                "Circus",
                "Colonnade",
                "Concourse",
                "Copse",
                "Courtyard",
                "Crossway",
                "Cruiseway",
                "Cul-de-sac",
                "Cutting",
                "Dell",
                "Deviation",
                "Distributor",
                "Driveway",
                "Entrance",
                "Fairway",
                "Firetrail",
                "Footway",
                "Foreshore",
                "Formation",
                "Frontage",
                "Gap",
                "Gates",
                "Glade",
                "Gully",
                "Highroad",
                "Interchange",
                "Laneway",
                "Lees",
                "Link",
                "Lookout",
                "Meander",
                "Mew",
                "Nook",
                "Outlook",
                "Parklands",
                "Pathway",
                "Piazza",
                "Plateau",
                "Pocket",
                "Quad",
                "Quadrangle",
                "Quadrant",
                "Quay",
                "Quays",
                "Ramble",
                "Range",
                "Reach",
                "Reserve",
                "Retreat",
                "Ride",
                "Ridgeway",
                "Riverway",
                "Riviera",
                "Roadside",
                "Roadway",
                "Ronde",
                "Rosebowl",
                "Rotary",
                "Siding",
                "Slope",
                "Steps",
                "Strand",
                "Strip",
                "Subway",
                "Tarn",
                "Thoroughfare",
                "Tollway",
                "Tor",
                "Towers",
                "Triangle",
                "Trunkway",
                "Turn",
                "Villas",
                "Wade",
                "Walkway",
                "Cross",
            ]
        ),
        key=lambda w: (-len(w), w),
    )
)
_DIRECTION = (
    r"(?:North|South|East|West|Northeast|Northwest|Southeast|Southwest|N|S|E|W|NE|NW|"
    r"SE|SW)\.?"
)
_UNIT_WORD = (
    r"(?i:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|Fl|Studio|Appartamento|Piso|Puerta|"
    r"Piano|Interno|Scala|Wohnung|Etage|Bus|Level)\b"
)
_UNIT = rf"(?:,?\s+{_UNIT_WORD}\.?\s*#?\w{{1,5}}\b)"
_POSTCODE = (
    r"(?:\d{5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"
    r"|\d{4}\s?[A-Z]{2}(?![a-z])|\d{4})"
)
_CAP = r"[A-ZÀ-ÖØ-Þ][\w'.-]*"
# Place names hold no digits, so a postcode after them is left to the postcode pattern.
_CAPW = r"[A-ZÀ-ÖØ-Þ][^\W\d_]*(?:['.-][^\W\d_]+)*(?![\w'-])\.?"
_CAPS = rf"(?:(?:'t\s+)?{_CAPW}(?:\s+(?:[a-z]{{1,3}}\s+)?{_CAPW}){{0,3}})"
# City, region and postcode after the street, in any order and any of them missing:
# ", Asheville, North Carolina, 28801", ", East Leanne, E4 2RY", ", 84777 Quedlinburg".
_PLACE_TAIL = (
    rf"(?:(?:,\s*|\s+)(?:{_POSTCODE}\b(?:\s+{_CAPS})?|\([A-Z]{{2}}\)))?"
    rf"(?:,\s*(?:{_POSTCODE}\b(?:\s+{_CAPS})?|{_CAPS}|\([A-Z]{{2}}\))(?:\s+\([A-Z]{{2}}\))?){{0,3}}"
    rf"(?:\s+{_POSTCODE}\b)?"
)
_NOT_TIME = r"(?!\s+(?:time|standard|daylight)\b)"
_UNIT_FIRST = rf"(?:{_UNIT_WORD}\.?\s*#?\w{{1,5}}\b,?\s+)"

# "214 Willow Creek Road, Asheville, North Carolina, 28801", "4410 Foundry Lane Southeast",
# "Flat 4, Johnson Corner, Lake Jodie, TA57 4ZF", "nine two four seven Rhonda Plaza Apt. 276".
_EN_CAPITALIZED = re.compile(
    rf"(?<![\w-])(?:{_UNIT_FIRST}(?:{_HOUSE_NO},?\s+)?|{_HOUSE_NO},?\s+)(?:{_CAP}\s+){{0,4}}"
    rf"(?:{_EN_SUFFIXES})\b\.?{_NOT_TIME}(?:\s+{_DIRECTION}(?!\w))?{_UNIT}?{_PLACE_TAIL}",
)
# STT output is often lower case: "one two three main street". The house number must be
# figures or digits said one by one, and the name holds no function word, so "twenty six
# agents in the field" and "twenty miles down the road" stay.
_STOP = (
    "the|a|an|of|in|on|to|per|and|or|for|at|with|by|from|our|my|your|their|this|that|"
    "is|are|was|be|it|we|i|you|they|each|every|people|agents|seats|users|documents|"
    "contracts|day|week|month|year|miles|minutes|hours|days|weeks|months|years|times|"
    "percent|dollars|more|less|about|than|new"
)
_EN_LOWER = re.compile(
    rf"(?<![\w-])(?:\d{{1,6}}|(?:(?:{_DIGIT_WORD})[\s-]+){{0,5}}(?:{_DIGIT_WORD})),?\s+"
    rf"(?:(?!(?:{_STOP})\b)[a-z][a-z'-]*\s+){{1,3}}(?:{_EN_SUFFIXES.lower()})\b{_NOT_TIME}"
    rf"(?:\s+(?:north|south|east|west|northeast|northwest|southeast|southwest)\b)?"
    rf"(?:,?\s+(?:apt|apartment|suite|unit|flat)\.?\s*#?\w{{1,5}})?",
    re.IGNORECASE,
)
# Military mail: "PSC 4451, Box 6691, APO AA 56606", "USNS Miller, FPO AE 12345".
_MILITARY = re.compile(
    r"(?<![\w-])(?:(?:PSC|Unit|CMR)\s+\d{3,5},?\s+Box\s+\d{1,5}|US[NS]S?\s+[A-Z][a-z]+),?\s+"
    r"(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5}\b"
)
# Germany, Austria, Switzerland, the Netherlands: "Hauptstraße 5", "Julie-Walter-Straße 2/5,
# 33776 Neubrandenburg", "Lanaweg 7, 1174 NO, Heerlen".
_DE_STREET = (
    r"(?i:straße|strasse|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|pfad|steig|markt|"
    r"graben|kai|gracht|laan|straat|plein|singel|kade|dijk|dreef|boulevard|park|hof|berg|tor|"
    r"steeg|pad|baan|wal|kanaal|plantsoen|hafen|feld|garten|stieg|zeile)"
)
_DE = re.compile(
    rf"(?<![\w-])[A-ZÄÖÜ][\wäöüß-]*{_DE_STREET}\s+\d{{1,4}}\s?[a-zA-Z]?(?:\s?[-/]\s?\d{{1,4}}"
    rf"[a-zA-Z]?)?\b{_UNIT}?{_PLACE_TAIL}",
)
# France, Belgium: "214, avenue Charlotte Gilles", "chemin de Grondin, 63997 CarlierVille".
_FR_TYPE = (
    r"(?i:rue|avenue|av\.|boulevard|bd|chemin|impasse|allée|place|quai|route|cours|"
    r"square|passage|voie|rond-point|faubourg|sentier|cité|parvis|esplanade)"
)
_FR_NAME = (
    rf"(?:(?:de\s+la|de\s+l'|du|des|de|d'|la|le|les|l')\s*)?{_CAP}"
    rf"(?:\s+(?:de\s+|du\s+|des\s+|la\s+|le\s+)?{_CAP}){{0,3}}"
)
_FR = re.compile(
    rf"(?<![\w-])(?:\d{{1,4}}(?:\s?(?:bis|ter|quater))?,?\s+{_FR_TYPE}|"
    rf"(?i:rue|avenue|boulevard|chemin|impasse|allée|quai|faubourg))\s+{_FR_NAME}"
    rf"{_PLACE_TAIL}",
)
# Spain, Italy, Portugal: "Calle de Teodora Porta 19", "Via Roma, 12", "C. de Dimas Ferrán 5".
_ROMANCE_TYPE = (
    r"(?:Calle|C/|C\.|Avenida|Avda\.|Plaza|Paseo|Camino|Carretera|Ronda|Travesía|Callejón|"
    r"Cañada|Glorieta|Rambla|Pasaje|Pasadizo|Urbanización|Alameda|Acceso|Cuesta|Vial|Via|Viale|"
    r"Piazza|Piazzale|Corso|Largo|Vicolo|Contrada|Strada|Borgo|Incrocio|Rotonda|Canale|Stretto|"
    r"Lungomare|Sentiero|Rua|Travessa|Praça)"
)
_ROMANCE = re.compile(
    rf"(?<![\w-]){_ROMANCE_TYPE}\s+(?:(?:de\s+la|de\s+los|de\s+las|del|de|di|della|delle|dei|"
    rf"degli|da|do|dos)\s+)?[A-ZÁÉÍÓÚÑ][\w'-]*(?:\s+(?:de\s+|del\s+|di\s+)?"
    rf"[A-ZÁÉÍÓÚÑ][\w'-]*){{0,3}},?\s*(?:n\.?\s?º?\s*)?\d{{1,4}}\b"
    rf"(?:,?\s*{_UNIT_WORD}\.?\s*\w{{1,4}})*{_PLACE_TAIL}",
)


def _addresses(text: str) -> Iterable[Span]:
    for pattern in (_EN_CAPITALIZED, _EN_LOWER, _MILITARY, _DE, _FR, _ROMANCE):
        for m in pattern.finditer(text):
            raw = m.group().rstrip(" ,.")
            yield Span(m.start(), m.start() + len(raw), Kind.ADDRESS, raw)


# --------------------------------------------------------------------------- assembly


def _written_emails(text: str) -> Iterable[Span]:
    for m in _EMAIL.finditer(text):
        yield Span(m.start(), m.end(), Kind.EMAIL, m.group())


def _resolve(candidates: Iterable[Span]) -> list[Span]:
    chosen: list[Span] = []
    ranked = sorted(candidates, key=lambda s: (-_PRIORITY[s.kind], -(s.end - s.start), s.start))
    for cand in ranked:
        if all(cand.end <= c.start or cand.start >= c.end for c in chosen):
            chosen.append(cand)
    return sorted(chosen, key=lambda s: s.start)


Detector = Callable[[str], Iterable[Span]]


def _detect(text: str) -> list[Span]:
    toks = _tokens(text)
    candidates: list[Span] = []
    candidates += _written_emails(text)
    candidates += _spoken_emails(text, toks)
    candidates += _written_ibans(text)
    candidates += _written_cards(text)
    candidates += _written_ssns(text)
    candidates += _spoken_numbers(text, toks)
    candidates += _addresses(text)
    candidates += _written_phones(text)
    return _resolve(candidates)


def redact(text: str) -> RedactionResult:
    """Find every PII span in ``text`` and return the text with each one replaced."""
    if not text:
        return RedactionResult(text, ())
    spans = _detect(text)
    if not spans:
        return RedactionResult(text, ())
    out: list[str] = []
    pos = 0
    for span in spans:
        out.append(text[pos : span.start])
        out.append(placeholder(span.kind))
        pos = span.end
    out.append(text[pos:])
    return RedactionResult("".join(out), tuple(spans))


@lru_cache(maxsize=4096)
def redact_text(text: str) -> str:
    return redact(text).text


# --------------------------------------------------------------------------- records


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-like value; JSON held in a string stays JSON."""
    if isinstance(value, str):
        stripped = value.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                parsed = json.loads(value)
            except ValueError:
                return redact_text(value)
            return json.dumps(redact_value(parsed), ensure_ascii=False)
        return redact_text(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    return value


def redact_record(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of a SessionRecord dict with the free text redacted.

    Covers what callers and agents say and what tools receive and return: transcript message
    content, function-call arguments and outputs, ``tool_calls``, ``discovered_signals`` and
    error messages. Identity fields under ``participant`` are left alone: they are the key the
    right-to-be-forgotten uses to find the person (see docs/governance.md).
    """
    out = dict(record)
    transcript = record.get("transcript")
    if isinstance(transcript, dict) and isinstance(transcript.get("items"), list):
        items: list[Any] = []
        for item in transcript["items"]:
            if not isinstance(item, dict):
                items.append(item)
                continue
            new = dict(item)
            kind = item.get("type")
            if kind == "message" and "content" in item:
                new["content"] = redact_value(item["content"])
            elif kind == "function_call" and "arguments" in item:
                new["arguments"] = redact_value(item["arguments"])
            elif kind == "function_call_output" and "output" in item:
                new["output"] = redact_value(item["output"])
            items.append(new)
        out["transcript"] = {**transcript, "items": items}
    for key in ("tool_calls", "discovered_signals"):
        if key in record:
            out[key] = redact_value(record[key])
    if isinstance(record.get("errors"), list):
        out["errors"] = [
            {**e, "message": redact_value(e["message"])}
            if isinstance(e, dict) and "message" in e
            else e
            for e in record["errors"]
        ]
    return out
