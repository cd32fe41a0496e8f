"""Synthetic inbound calls of the ``home_services`` profile, as SessionRecord v1 dicts.

    callscope --profile home_services generate --n 1000

Each call is a caller persona (what broke, how urgent, what property, new or returning, a
competitor used or considered, objections, equipment age, interest in the maintenance plan)
spoken through varied phrasings: negations ("no, it's not leaking anymore"), past tense ("we
used Roto-Rooter last year"), self-corrections ("about ten, no, twelve years old"),
hypotheticals ("if it ever floods..."), emergencies, knowledge-base searches (some failing) and
visit bookings that succeed, fail and are retried, or error out. Deterministic per
``(seed, index)``; ``with_labels=True`` adds ``_expected`` labels by the rules of
``tests/analyze/home_services/README.md`` (``signals.*``, ``lead.*``, ``tools.meeting_booked``).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from callscope.devtools.casebuild import profile_data, record_from_turns, rule_score, tool_labels

FIRST = [
    "Dana",
    "Marcus",
    "Priya",
    "Helen",
    "Greg",
    "Omar",
    "Luis",
    "Karen",
    "Tom",
    "Aisha",
    "Ruth",
    "Nina",
    "Jordan",
    "Sofia",
    "Ben",
    "Victor",
    "Elena",
    "Paul",
    "Irene",
    "Maya",
]
LAST = [
    "Whitfield",
    "Bell",
    "Raman",
    "Ortiz",
    "Sato",
    "Haddad",
    "Mendez",
    "Liu",
    "Brennan",
    "Khan",
    "Adler",
    "Patel",
    "Wells",
    "Greene",
    "Carter",
    "Ramos",
    "Rossi",
    "Nguyen",
]
STREETS = [
    "Linden Avenue",
    "Orchard Lane",
    "Harbor Street",
    "Birch Court",
    "Maple Drive",
    "Elm Street",
    "Main Street",
    "Sycamore Road",
    "Cedar Way",
    "Ridge Road",
]

# What broke, as callers say it: (service_type, opening line, emergency condition line or None)
PROBLEMS: list[tuple[str, str, str | None]] = [
    (
        "plumbing",
        "a pipe under the kitchen sink is leaking",
        "there's water everywhere, it's pouring out",
    ),
    ("plumbing", "the toilet keeps running and the faucet drips", None),
    (
        "plumbing",
        "we've got a leak in the ceiling under the bathroom",
        "water is coming through the ceiling",
    ),
    ("drain", "the kitchen sink is clogged and backing up", None),
    ("drain", "the main line is backed up", "sewage is coming up in the basement"),
    ("drain", "the shower drain is really slow", None),
    ("water_heater", "we have no hot water", None),
    ("water_heater", "no, it's not leaking anymore, but the water heater is banging", None),
    (
        "water_heater",
        "the water heater is leaking from the bottom",
        "there's a puddle spreading on the floor",
    ),
    (
        "hvac_heating",
        "the furnace stopped working",
        "it's freezing in here, the thermostat says 50",
    ),
    ("hvac_heating", "the heat pump is blowing cold air", None),
    ("hvac_cooling", "the AC is blowing warm air", None),
    ("hvac_cooling", "the air conditioner died completely", None),
    ("electrical", "the breaker keeps tripping in the kitchen", None),
    ("electrical", "an outlet in the bedroom is sparking", "there's a burning smell too"),
    ("electrical", "half the house has no power", None),
    ("other", "the dryer vent is clogged, the dryer takes forever", None),
]
URGENCY_SAY = {
    "within_24h": [
        "Tomorrow would be fine.",
        "By tomorrow if you can.",
        "First thing tomorrow works.",
    ],
    "this_week": [
        "Sometime this week would be great.",
        "Later this week is fine.",
        "In the next few days.",
    ],
    "flexible": [
        "No rush, next week is fine.",
        "Whenever works, it's not urgent.",
        "I'm flexible, sometime next week.",
    ],
    "emergency_today": [
        "I need someone today.",
        "Can someone come right now?",
        "As soon as possible, please, today.",
    ],
}
PROPERTY_SAY = {
    "house": ["It's our house.", "It's a single family home, I own it.", "My house, yes."],
    "condo_apartment": ["It's a condo.", "I'm in an apartment, second floor.", "It's a townhouse."],
    "rental_property": [
        "It's a rental property, I rent it out.",
        "I'm the landlord, my tenant called me.",
        "I manage the building for the owner, it's tenants.",
    ],
    "commercial": [
        "It's our restaurant.",
        "It's my business, a small retail store.",
        "It's our office building.",
    ],
}
STATUS_SAY = {
    "existing": [
        "Yes, we've used you before.",
        "I'm a member actually.",
        "Yeah, your guy came out last spring.",
    ],
    "new": [
        "No, first time calling.",
        "Never used you before, found you online.",
        "No, a neighbor recommended you.",
    ],
}
COMPETITOR_SAY = {
    "roto_rooter": ["We used Roto-Rooter last year for this.", "Roto-Rooter gave us a quote too."],
    "mr_rooter": ["Mr. Rooter came out last time.", "I called Mr. Rooter but they're booked."],
    "ars": ["ARS quoted me something already.", "We had ARS out a couple years ago."],
    "one_hour": ["One Hour Heating was out last winter.", "I called One Hour Heating first."],
    "benjamin_franklin": [
        "Benjamin Franklin did our last repair.",
        "I got a quote from Ben Franklin Plumbing.",
    ],
    "home_depot": [
        "Home Depot quoted me for a new unit.",
        "I looked at Home Depot's install service.",
    ],
}
OBJECTION_SAY = {
    "price": ["That's too expensive just to come out.", "The service fee is a lot of money."],
    "timing": [
        "That window doesn't work for me, I'm at work.",
        "I can't be there then, anything later?",
    ],
    "trust": [
        "Are your guys licensed? Last company tried to upsell me.",
        "I've read some bad reviews, I don't want to get upsold.",
    ],
    "diy": [
        "Honestly my husband can probably fix it himself.",
        "I might just do it myself, I watched a video.",
    ],
    "warranty": [
        "Shouldn't this be under warranty?",
        "I have a home warranty, will they cover it?",
    ],
}
AGE_WORDS = {
    3: "three",
    6: "six",
    8: "eight",
    10: "ten",
    12: "twelve",
    15: "fifteen",
    18: "eighteen",
    20: "twenty",
}


def _age_line(rng: random.Random, age: int) -> str:
    words = AGE_WORDS[age]
    roll = rng.random()
    if roll < 0.25:
        wrong = rng.choice([a for a in AGE_WORDS if a != age])
        return f"It's about {AGE_WORDS[wrong]}, no, {words} years old."
    if roll < 0.5:
        return f"It's {age} years old."
    return f"I think it's around {words} years old."


def _persona(rng: random.Random) -> dict[str, Any]:
    st, opening, emergency_line = rng.choice(PROBLEMS)
    emergency = emergency_line is not None and rng.random() < 0.7
    urgency = (
        "emergency" if emergency else rng.choice(["within_24h", "this_week", "flexible", None])
    )
    return {
        "service_type": st,
        "opening": opening,
        "emergency_line": emergency_line if emergency else None,
        "urgency": urgency,
        "property": rng.choice([*PROPERTY_SAY, None]),
        "status": rng.choice(["existing", "new", None]),
        "competitor": rng.choice([*COMPETITOR_SAY, None, None, None]),
        "objections": rng.sample(list(OBJECTION_SAY), rng.choice([0, 0, 1, 1, 2])),
        "age": rng.choice([*AGE_WORDS, None]) if st != "other" else None,
        "plan": rng.choice([True, False, None, None]),
        "hypothetical": rng.random() < 0.15,
        "booking": rng.choices(["ok", "retry", "error", "none"], weights=[6, 2, 1, 1])[0],
    }


def _conversation(
    rng: random.Random, p: dict[str, Any], name: str, day: str
) -> list[dict[str, Any]]:
    t: list[dict[str, Any]] = [
        {"agent": "Thanks for calling Example Home Services, this is Sam. What's going on today?"}
    ]
    opening = f"Hi, {p['opening']}."
    if p["emergency_line"]:
        opening += f" And {p['emergency_line']}."
    t.append({"user": opening})
    if p["hypothetical"] and p["urgency"] != "emergency":
        t.append({"agent": "Is anything leaking or sparking right now?"})
        t.append(
            {
                "user": "No, nothing like that right now. I'm just asking, if it ever floods, "
                "do you do same day?"
            }
        )
    if p["urgency"] == "emergency":
        t.append({"agent": "That sounds urgent. We'll get someone out today."})
        t.append({"user": rng.choice(URGENCY_SAY["emergency_today"])})
    elif p["urgency"]:
        t.append({"agent": "How soon do you need someone?"})
        t.append({"user": rng.choice(URGENCY_SAY[p["urgency"]])})
    if p["property"]:
        t.append({"agent": "Is this a house, an apartment, or a business?"})
        t.append({"user": rng.choice(PROPERTY_SAY[p["property"]])})
    if p["status"]:
        t.append({"agent": "Have we been out to your home before?"})
        t.append({"user": rng.choice(STATUS_SAY[p["status"]])})
    if p["competitor"]:
        t.append({"agent": "Have you had anyone else look at it?"})
        t.append({"user": rng.choice(COMPETITOR_SAY[p["competitor"]])})
    if p["age"]:
        t.append({"agent": "How old is the system, roughly?"})
        t.append({"user": _age_line(rng, p["age"])})
    for obj in p["objections"]:
        t.append(
            {
                "agent": "Our service call is 89 dollars, credited toward the repair."
                if obj == "price"
                else "Okay, we can take care of that for you."
            }
        )
        t.append({"user": rng.choice(OBJECTION_SAY[obj])})
        if rng.random() < 0.4:
            t.append(
                {
                    "tool": "search_service_kb",
                    "args": {"query": f"{obj} policy"},
                    "result": {"found": rng.random() < 0.7, "total_results": rng.randint(0, 3)},
                }
            )
        t.append({"agent": "I understand. Let me see what I can do for you."})
    if p["plan"] is not None:
        t.append(
            {
                "agent": "Would you like to join our maintenance plan? Two tune ups a year "
                "and priority scheduling."
            }
        )
        t.append(
            {
                "user": "Yes, sign me up for the maintenance plan."
                if p["plan"]
                else "No thanks, not right now."
            }
        )
    t.extend(_booking(rng, p, name, day))
    return t


def _booking(rng: random.Random, p: dict[str, Any], name: str, day: str) -> list[dict[str, Any]]:
    if p["booking"] == "none":
        return [
            {"agent": "Would you like me to book a visit?"},
            {"user": "Let me think about it and call you back."},
            {"agent": "Of course. Thanks for calling, goodbye."},
            {"user": "Bye."},
        ]
    args = {
        "customer_name": name,
        "phone": f"555-01{rng.randint(10, 99)}",
        "address": f"{rng.randint(2, 990)} {rng.choice(STREETS)}",
        "date": day,
        "window": rng.choice(["8-12", "12-4", "9-11", "1-3"]),
        "service_type": p["service_type"],
    }
    turns: list[dict[str, Any]] = [
        {"agent": "Let me book that. Can I get your name, phone and address?"},
        {"user": f"{name}, {args['phone']}, {args['address']}."},
    ]
    if p["booking"] == "error":
        return [
            *turns,
            {
                "tool": "schedule_service_visit",
                "args": args,
                "error": "scheduling backend timeout (504)",
            },
            {
                "agent": "Sorry, our scheduling system isn't responding. "
                "The office will call you to confirm."
            },
            {"user": "Okay, thanks."},
            {"agent": "Thanks for calling, goodbye."},
        ]
    if p["booking"] == "retry":
        turns += [
            {
                "tool": "schedule_service_visit",
                "args": args,
                "result": {"success": False, "confirmation": None},
            },
            {"agent": "That window just filled. I'll try the next one."},
        ]
        args = {**args, "window": "4-7"}
    code = f"HS-{name.split()[0][:4].upper()}{day[-2:]}"
    return [
        *turns,
        {
            "tool": "schedule_service_visit",
            "args": args,
            "result": {"success": True, "confirmation": code},
        },
        {"agent": f"You're booked, confirmation {code}. Anything else?"},
        {"user": "No, that's it, thanks."},
        {"agent": "Thanks for calling, goodbye."},
    ]


def _labels(p: dict[str, Any], record: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    e: dict[str, Any] = {
        "signals.service_type": p["service_type"],
        "signals.urgency": p["urgency"],
        "signals.property_type": p["property"],
        "signals.customer_status": p["status"],
        "signals.competitors": [p["competitor"]] if p["competitor"] else [],
        "signals.objections": sorted(p["objections"]),
        "signals.equipment_age_years": p["age"],
        "signals.maintenance_plan_interest": p["plan"],
    }
    e["lead.score"], e["lead.tier"] = rule_score(e, data)
    e.update(tool_labels(record["tool_calls"], data))
    return e


def generate_record(
    index: int,
    *,
    seed: int = 0,
    profile: Any = None,
    start: datetime | None = None,
    days: int = 30,
    with_labels: bool = False,
) -> dict[str, Any]:
    """One synthetic dispatch call; ``start`` is the end of the window calls spread over."""
    del profile  # the phrasings are this business's; the profile is read for scoring labels
    rng = random.Random(seed * 1_000_003 + index)
    end = (start or datetime.now(UTC)).timestamp()
    t0 = end - rng.uniform(600, days * 86400)
    p = _persona(rng)
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    day = (
        datetime.fromtimestamp(
            t0 + (0 if p["urgency"] == "emergency" else 86400 * rng.randint(1, 7)), UTC
        )
        .date()
        .isoformat()
    )
    turns = _conversation(rng, p, name, day)
    started = datetime.fromtimestamp(t0, UTC).isoformat().replace("+00:00", "Z")
    record = record_from_turns(
        f"hs{seed:x}_{index:08d}",
        started,
        turns,
        {"name": "dispatch-agent", "version": "1.4.0"},
        slow=rng.choice([0.8, 1.0, 1.0, 1.3]),
    )
    record["session_id"] = f"room-hs-{seed:x}-{index:08d}"
    if with_labels:
        record["_expected"] = _labels(p, record, profile_data("home_services"))
    return record
