"""A labeled corpus of call-like sentences with PII in several locales, made with Faker.

Each PII sample is one sentence with exactly one PII value at a known position, written or
spoken the way speech-to-text renders it. Clean samples are call sentences full of the
numbers sales calls are made of (team sizes, volumes, prices, dates, times, versions) and no
PII. Shared by ``tests/governance`` and ``bench/redaction.py``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from faker import Faker

LOCALES = ("en_US", "en_GB", "en_CA", "en_AU", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")

_DIGIT = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@dataclass(frozen=True)
class Sample:
    text: str
    kind: str | None  # None for clean text
    start: int = 0
    end: int = 0
    locale: str = ""
    form: str = ""  # written / spoken

    @property
    def value(self) -> str:
        return self.text[self.start : self.end]


def _say_digits(digits: str, rng: random.Random, group: list[int] | None = None) -> str:
    words = [("oh" if d == "0" and rng.random() < 0.6 else _DIGIT[int(d)]) for d in digits]
    if not group:
        return " ".join(words)
    out, pos = [], 0
    for g in group:
        out.append(" ".join(words[pos : pos + g]))
        pos += g
    if pos < len(words):
        out.append(" ".join(words[pos:]))
    return ", ".join(p for p in out if p)


def _say_email(email: str, rng: random.Random) -> str:
    local, domain = email.split("@")
    local = local.replace(".", " dot ").replace("_", " underscore ").replace("-", " dash ")
    parts = domain.split(".")
    name = parts[0].replace("-", " dash ")
    if rng.random() < 0.5 and len(name) > 6:
        cut = rng.randint(3, len(name) - 3)
        name = name[:cut] + " " + name[cut:]  # "hill country homes" style word breaks
    tail = " dot ".join(parts[1:])
    return f"{local} at {name} dot {tail}"


def _spoken_iban(iban: str) -> str:
    return " ".join(_DIGIT[int(c)] if c.isdigit() else c for c in iban)


_PII_CARRIERS = {
    "EMAIL": [
        "You can email me at {v}.",
        "my email is {v}",
        "Send the proposal to {v}, thanks.",
        "It's {v}.",
        "Sure, {v}",
    ],
    "PHONE": [
        "My number is {v}.",
        "call me on {v} if anything changes",
        "the direct line is {v}",
        "Sure, {v}.",
        "You can reach me at {v} after lunch.",
    ],
    "CARD": ["The card number is {v}.", "it's {v}, expiry next March", "Use {v} for the plan."],
    "SSN": ["my social is {v}", "SSN {v}", "Social security number {v}."],
    "IBAN": ["Our IBAN is {v}.", "please wire it to {v}", "The account is {v}, under my name."],
    "ADDRESS": [
        "We're at {v}.",
        "Ship it to {v}, please.",
        "The office is {v}, second floor.",
        "Could you mail it? The address is {v}.",
    ],
}


def _one(f: Faker, rng: random.Random, kind: str, locale: str) -> tuple[str, str]:
    spoken = rng.random() < 0.45
    if kind == "EMAIL":
        email = f.email() if rng.random() < 0.5 else (f"{f.user_name()}@{f.domain_name()}")
        return (_say_email(email, rng), "spoken") if spoken else (email, "written")
    if kind == "PHONE":
        if spoken:
            digits = "".join(
                c
                for c in f.numerify("##########" if locale == "en_US" else "0##########")
                if c.isdigit()
            )
            group = [3, 3, 4] if len(digits) == 10 else [5, 6]
            return _say_digits(digits, rng, group), "spoken"
        return f.phone_number(), "written"
    if kind == "CARD":
        number = f.credit_card_number()
        if spoken:
            return _say_digits(number, rng, [4, 4, 4, 4, 3]), "spoken"
        if rng.random() < 0.5:
            return " ".join(number[i : i + 4] for i in range(0, len(number), 4)), "written"
        return number, "written"
    if kind == "SSN":
        ssn = Faker("en_US").ssn()
        if spoken:
            return _say_digits(ssn.replace("-", ""), rng, [3, 2, 4]), "spoken"
        return ssn, "written"
    if kind == "IBAN":
        iban = f.iban()
        if spoken:
            return _spoken_iban(iban), "spoken"
        if rng.random() < 0.5:
            return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)), "written"
        return iban, "written"
    # ADDRESS
    if spoken and locale.startswith("en"):
        street = f.street_address()
        number, _, rest = street.partition(" ")
        if number.isdigit():
            said = _say_digits(number, rng)
            return f"{said} {rest.lower()}" if rng.random() < 0.5 else f"{said} {rest}", "spoken"
    if rng.random() < 0.5:
        return f.street_address(), "written"
    return ", ".join(line.strip() for line in f.address().splitlines() if line.strip()), "written"


def pii_samples(per_kind_locale: int = 12, seed: int = 7) -> list[Sample]:
    out: list[Sample] = []
    for locale in LOCALES:
        f = Faker(locale)
        f.seed_instance(seed)
        rng = random.Random(f"{seed}-{locale}")
        for kind in _PII_CARRIERS:
            if kind == "SSN" and locale != "en_US":
                continue
            for _ in range(per_kind_locale):
                value, form = _one(f, rng, kind, locale)
                carrier = rng.choice(_PII_CARRIERS[kind])
                before = carrier.split("{v}")[0]
                text = carrier.replace("{v}", value)
                out.append(Sample(text, kind, len(before), len(before) + len(value), locale, form))
    return out


_CLEAN = [
    "We have {n} agents on the team and maybe {m} more next quarter.",
    "We send about {n} contracts a month, sometimes {m} in a busy week.",
    "The plan is ${p} per seat, so roughly ${q} a year for us.",
    "Can we do {day} at {h}:{mm}? Around {h} {ampm} works.",
    "Our fiscal year starts on {date}, so before {month} {dom}th would be ideal.",
    "We're on version {v1}.{v2}.{v3} of the CRM and about {n} percent of deals go through it.",
    "I've been at the company for {m} years, we grew from {n} to {k} people.",
    "It's about fifteen a day, maybe twenty on Mondays.",
    "We have twenty six agents across {m} offices.",
    "Roughly {n} documents a week, call it {k} a month.",
    "Our budget is around {p} thousand dollars for the year, {m} hundred a month tops.",
    "I'm looking at the pricing page right now, the business tier at {p} dollars.",
    "We tried it in {year} and again in {year2}, it didn't stick.",
    "The last quote was {p}.{c} euros per user per month.",
    "Between {n} and {k} signatures per deal, at least {m} reviewers.",
    "Good at sales, bad at paperwork, that's us. We're at about {n} deals a quarter.",
    "My team is {m} people, I report to the VP of {dept}.",
    "The meeting on {date} at {h}:{mm} is fine, Eastern time.",
    "Order {n} went out on the {dom}th, order {k} is pending.",
    "We close {n} to {k} deals a month, average ticket around ${q}.",
    "Our office is on the {m}th floor, room {n}.",
    "The call lasted {m} minutes and {n} seconds.",
    "We are {company}, about {n} employees, based in {city}.",
    "Thanks {name}, I'll talk to {name2} and get back to you by {day}.",
    "Ticket number {n}-{k} is still open since {date}.",
    "We process {big} invoices a year across {m} regions.",
    "Wir haben {n} Mitarbeiter und verschicken etwa {k} Verträge im Monat.",
    "Nous avons {n} commerciaux et environ {k} contrats par mois, à {p} euros.",
    "Tenemos {n} agentes y unos {k} contratos al mes desde {year}.",
]


def clean_samples(count: int = 400, seed: int = 11) -> list[Sample]:
    out: list[Sample] = []
    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in LOCALES}
    for f in fakers.values():
        f.seed_instance(seed)
    for i in range(count):
        locale = LOCALES[i % len(LOCALES)]
        f = fakers[locale]
        tpl = _CLEAN[i % len(_CLEAN)]
        text = tpl.format(
            n=rng.randint(2, 900),
            m=rng.randint(2, 40),
            k=rng.randint(100, 5000),
            p=rng.randint(10, 400),
            q=rng.randint(1000, 90000),
            c=rng.randint(10, 99),
            h=rng.randint(1, 12),
            mm=rng.choice(["00", "15", "30", "45"]),
            ampm=rng.choice(["am", "pm"]),
            day=f.day_of_week(),
            date=f.date(),
            month=f.month_name(),
            dom=rng.randint(4, 28),
            v1=rng.randint(1, 9),
            v2=rng.randint(0, 20),
            v3=rng.randint(0, 99),
            year=rng.randint(2015, 2026),
            year2=rng.randint(2015, 2026),
            dept=rng.choice(["Sales", "Ops", "Finance"]),
            company=f.company(),
            city=f.city(),
            name=f.first_name(),
            name2=f.first_name(),
            big=rng.randint(10_000, 900_000),
        )
        out.append(Sample(text, None, locale=locale))
    return out


def dev_texts(dev_dir: Path) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """Dev-set turns: ``([(text, labels present in it)], [texts without a label])``."""
    labeled: list[tuple[str, list[str]]] = []
    clean: list[str] = []
    for path in sorted(dev_dir.glob("dev_*.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        labels: list[str] = case["expected"].get("pii") or []
        for item in case["record"]["transcript"]["items"]:
            if item.get("type") != "message":
                continue
            for text in item.get("content", []):
                if not isinstance(text, str):
                    continue
                present = [p for p in labels if p in text]
                (labeled.append((text, present)) if present else clean.append(text))
    return labeled, clean
