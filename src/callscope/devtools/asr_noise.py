"""Make a labeled set sound like raw speech-to-text, to measure how the analyzers cope.

What a streaming STT engine without formatting hands the agent: lower case, no punctuation,
digits spoken as words ("$1,200" -> "twelve hundred dollars", "555-0142" -> "five five five
zero one four two"), fillers ("um", "uh", "like", "you know"), restarts ("we we have") and
brand names split ("hub spot", "docu sign") from the profile's own synonyms. Only caller
turns are transformed: the agent's words come from the LLM, already written.

Deterministic: the same case, profile phrases and seed give the same noisy case. Labels are
kept as they are (the call says the same things); ``pii`` entries get the same spelling-out.
"""

from __future__ import annotations

import copy
import json
import random
import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_ORDINALS = {
    "1st": "first",
    "2nd": "second",
    "3rd": "third",
    "4th": "fourth",
    "5th": "fifth",
    "6th": "sixth",
    "7th": "seventh",
    "8th": "eighth",
    "9th": "ninth",
    "10th": "tenth",
    "12th": "twelfth",
    "15th": "fifteenth",
    "20th": "twentieth",
    "30th": "thirtieth",
}
# Short English words that brand names are often heard as ("hub spot", "docu sign").
_PIECES = frozenset(
    [
        "hub",
        "spot",
        "docu",
        "sign",
        "sales",
        "force",
        "panda",
        "doc",
        "quick",
        "books",
        "pipe",
        "drive",
        "drop",
        "box",
        "zap",
        "word",
        "press",
        "mail",
        "chimp",
        "net",
        "suite",
        "roto",
        "rooter",
        "home",
        "depot",
        "one",
        "hour",
        "out",
        "look",
        "share",
        "point",
        "air",
        "table",
        "data",
        "base",
        "fire",
        "wall",
        "lock",
        "smith",
        "auto",
        "mate",
        "up",
        "work",
        "free",
        "lance",
        "pay",
        "pal",
        "code",
        "red",
        "door",
        "dash",
        "smart",
        "sheet",
        "base",
        "camp",
        "iron",
        "clad",
        "pro",
        "posify",
        "get",
        "accept",
        "sign",
        "now",
        "ever",
        "note",
        "go",
        "daddy",
        "micro",
        "soft",
        "link",
        "din",
        "face",
        "book",
        "you",
        "tube",
        "in",
        "stagram",
    ]
)
FILLERS = ("um", "uh", "like", "you know", "i mean")


def spell_int(n: int) -> str:
    """An integer as English words ("1200" -> "one thousand two hundred")."""
    if n < 0:
        return "minus " + spell_int(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    for size, word in (
        (10**9, "billion"),
        (10**6, "million"),
        (1000, "thousand"),
        (100, "hundred"),
    ):
        if n >= size:
            head, rest = divmod(n, size)
            return f"{spell_int(head)} {word}" + ("" if rest == 0 else " " + spell_int(rest))
    raise AssertionError(n)  # pragma: no cover - every n >= 100 hits a size


def _say_digits(digits: str) -> str:
    return " ".join(_ONES[int(d)] for d in digits if d.isdigit())


def _say_year(n: int) -> str:
    head, tail = divmod(n, 100)
    if tail == 0:
        return f"{spell_int(head)} hundred"
    return f"{spell_int(head)} {'oh ' + _ONES[tail] if tail < 10 else spell_int(tail)}"


def _say_number(raw: str, rng: random.Random) -> str:
    plain = raw.replace(",", "")
    if "." in plain:
        whole, _, frac = plain.partition(".")
        return f"{spell_int(int(whole or '0'))} point {_say_digits(frac)}"
    n = int(plain)
    if len(plain) > 1 and plain.startswith("0"):
        return _say_digits(plain)
    if 1900 <= n <= 2099 and "," not in raw:
        return _say_year(n)
    if 1100 <= n <= 9999 and n % 100 == 0 and n % 1000 != 0 and rng.random() < 0.5:
        return f"{spell_int(n // 100)} hundred"  # "twelve hundred"
    return spell_int(n)


_PHONE = re.compile(r"(?<![\w$])\+?\d[\d().-]*(?:[ -]\d[\d().-]*){0,3}\d(?!\w)")
_MONEY = re.compile(r"\$(\d[\d,]*(?:\.\d+)?)(k|K)?")
_PERCENT = re.compile(r"(\d[\d,]*(?:\.\d+)?)\s?%")
_TIME = re.compile(r"\b(\d{1,2}):(\d{2})\b")
_ORDINAL = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_RANGE = re.compile(r"\b(\d+)\s?-\s?(\d+)\b")


def _phone_like(token: str) -> bool:
    digits = re.sub(r"\D", "", token)
    return len(digits) >= 7 and not re.fullmatch(r"\d{1,3}(?:,\d{3})+", token)


def numbers_to_words(text: str, rng: random.Random) -> str:
    """Every digit in ``text`` spoken the way people say it."""
    if not any(ch.isdigit() for ch in text):
        return text
    text = _PHONE.sub(
        lambda m: _say_digits(m.group()) if _phone_like(m.group()) else m.group(), text
    )
    text = _MONEY.sub(
        lambda m: _say_number(m.group(1), rng) + (" thousand" if m.group(2) else "") + " dollars",
        text,
    )
    text = _PERCENT.sub(lambda m: _say_number(m.group(1), rng) + " percent", text)
    text = _TIME.sub(
        lambda m: (
            spell_int(int(m.group(1)))
            + ("" if m.group(2) == "00" else " " + _say_minutes(m.group(2)))
        ),
        text,
    )
    text = _ORDINAL.sub(
        lambda m: _ORDINALS.get(m.group(), _say_number(m.group(1), rng) + "th"), text
    )
    text = _RANGE.sub(lambda m: f"{m.group(1)} to {m.group(2)}", text)
    text = re.sub(r"\b(\d+)([a-z]+)\b", r"\1 \2", text)  # "10am", "2pm", "12yrs"
    return _NUMBER.sub(lambda m: _say_number(m.group(), rng), text)


def _say_minutes(mm: str) -> str:
    n = int(mm)
    return f"oh {_ONES[n]}" if n < 10 else spell_int(n)


def _best_split(word: str) -> tuple[str, str] | None:
    """Where a run-together brand name is heard as two words, or None if nowhere plausible."""
    if len(word) < 6 or not word.isalpha():
        return None
    best: tuple[float, int] | None = None
    for i in range(3, len(word) - 2):
        left, right = word[:i], word[i:]
        score = (left in _PIECES) + (right in _PIECES) - abs(len(word) / 2 - i) / len(word)
        if best is None or score > best[0]:
            best = (score, i)
    if best is None or best[0] < 1.5:  # both halves are words people hear
        return None
    return word[: best[1]], word[best[1] :]


@dataclass(frozen=True)
class NoiseConfig:
    """How much noise: probabilities per caller turn (filler, restart) and per brand mention."""

    filler_rate: float = 0.5
    restart_rate: float = 0.35
    split_rate: float = 0.9


def brand_splits(phrases: Iterable[str]) -> dict[str, str]:
    """Profile phrases that ASR hears as two words: ``{"hubspot": "hub spot", ...}``."""
    out: dict[str, str] = {}
    for phrase in phrases:
        words = phrase.split()
        for w in words:
            split = _best_split(w)
            if split and w not in out:
                out[w] = " ".join(split)
    return out


_KEEP = re.compile(r"[^a-z0-9' ]+")


def _strip_punctuation(text: str) -> str:
    text = text.replace("&", " and ").replace("@", " at ")
    text = re.sub(r"(?<=\w)\.(?=\w)", " dot ", text)  # "monday.com", emails
    text = re.sub(r"(?<=\w)[-/](?=\w)", " ", text)
    return " ".join(_KEEP.sub(" ", text).split())


def _add_fillers(words: list[str], rng: random.Random, cfg: NoiseConfig) -> list[str]:
    if len(words) < 3:
        return words
    out = list(words)
    if rng.random() < cfg.filler_rate:
        at = rng.randrange(0, len(out))
        out[at:at] = rng.choice(FILLERS).split()
    if rng.random() < cfg.restart_rate:
        at = rng.randrange(0, len(out) - 1)
        span = rng.choice((1, 1, 2))
        out[at:at] = out[at : at + span]
    return out


def noisy_text(text: str, rng: random.Random, splits: dict[str, str], cfg: NoiseConfig) -> str:
    """One caller turn as raw STT output."""
    low = numbers_to_words(text, rng).lower()
    low = _strip_punctuation(low)
    words: list[str] = []
    for w in low.split():
        split = splits.get(w)
        words.extend((split if split and rng.random() < cfg.split_rate else w).split())
    return " ".join(_add_fillers(words, rng, cfg))


def spell_out(text: str) -> str:
    """The deterministic part of the noise (no fillers, no splits): for ``pii`` labels."""
    return _strip_punctuation(numbers_to_words(text, random.Random(0)).lower())


def _user_content(
    item: dict[str, Any], rng: random.Random, splits: dict[str, str], cfg: NoiseConfig
) -> None:
    content = item.get("content")
    if isinstance(content, str):
        item["content"] = noisy_text(content, rng, splits, cfg)
    elif isinstance(content, list):
        item["content"] = [
            noisy_text(c, rng, splits, cfg) if isinstance(c, str) else c for c in content
        ]


def noisy_case(
    case: dict[str, Any], phrases: Sequence[str], seed: int = 0, cfg: NoiseConfig | None = None
) -> dict[str, Any]:
    """A copy of ``{"record", "expected"}`` whose caller turns read like raw STT."""
    cfg = cfg or NoiseConfig()
    sid = str(case.get("record", {}).get("session_id", ""))
    rng = random.Random(zlib.crc32(f"{seed}:{sid}".encode()))
    splits = brand_splits(phrases)
    out = copy.deepcopy(case)
    for item in out["record"].get("transcript", {}).get("items", []):
        if item.get("type") == "message" and item.get("role") == "user":
            _user_content(item, rng, splits, cfg)
    pii = out.get("expected", {}).get("pii")
    if isinstance(pii, list):
        out["expected"]["pii"] = [spell_out(p) if isinstance(p, str) else p for p in pii]
    return out


def noisy_set(src: Path, dst: Path, phrases: Sequence[str], seed: int = 0) -> int:
    """Write a noisy copy of every ``*.json`` case of ``src`` into ``dst``; returns the count."""
    dst.mkdir(parents=True, exist_ok=True)
    n = 0
    for path in sorted(src.glob("*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        noisy = noisy_case(case, phrases, seed)
        (dst / path.name).write_text(
            json.dumps(noisy, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        n += 1
    return n
