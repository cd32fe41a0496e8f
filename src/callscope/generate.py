"""Realistic synthetic calls of a profile, as SessionRecord v1 dicts.

Each call is a persona (company, industry, team, volume, tools, authority, timeline,
objections) spoken through varied phrasings, with the agent's questions, knowledge-base
searches (some failing), meeting bookings (some failing), abandoned and very short calls,
interruptions, ASR noise, latency drawn per agent version, usage, connection stats and
errors. Deterministic per ``(seed, index)`` and cheap: a million calls is a few minutes.

The generated ``expected`` labels (``with_labels=True``) follow the same labeling rules as
the evaluation set, so generated calls double as a smoke test of the analyzers.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from callscope.profile.model import Profile

_NUM_WORDS = {
    1: "one",
    2: "two",
    3: "three",
    4: "four",
    5: "five",
    6: "six",
    7: "seven",
    8: "eight",
    9: "nine",
    10: "ten",
    11: "eleven",
    12: "twelve",
    13: "thirteen",
    14: "fourteen",
    15: "fifteen",
    16: "sixteen",
    17: "seventeen",
    18: "eighteen",
    19: "nineteen",
    20: "twenty",
    25: "twenty five",
    30: "thirty",
    40: "forty",
    50: "fifty",
    60: "sixty",
    80: "eighty",
    100: "a hundred",
    200: "two hundred",
    300: "three hundred",
    500: "five hundred",
}

FIRST = [
    "Marisol",
    "Keisha",
    "Daniel",
    "Priya",
    "Tom",
    "Aisha",
    "Lukas",
    "Mei",
    "Carlos",
    "Hannah",
    "Omar",
    "Grace",
    "Ivan",
    "Sofia",
    "Jamal",
    "Emma",
    "Raj",
    "Chloe",
    "Diego",
    "Nora",
    "Ben",
    "Yuki",
    "Fatima",
    "Liam",
    "Olivia",
    "Kwame",
    "Elena",
    "Sam",
    "Zoe",
]
LAST = [
    "Echeverria",
    "Holloway",
    "Okafor",
    "Patel",
    "Nguyen",
    "Schmidt",
    "Rossi",
    "Kim",
    "Garcia",
    "Brown",
    "Haddad",
    "Novak",
    "Silva",
    "Cohen",
    "Murphy",
    "Tanaka",
    "Khan",
    "Dubois",
    "Larsen",
    "Walker",
    "Mensah",
    "Ortiz",
    "Fischer",
    "Ahmed",
    "Clarke",
]
COMPANY_WORDS = [
    "Summit",
    "Harbor",
    "Peachtree",
    "Northwind",
    "Bluebird",
    "Granite",
    "Maple",
    "Redwood",
    "Silverline",
    "Brightpath",
    "Lakeside",
    "Ironwood",
    "Cedar",
    "Atlas",
]
INDUSTRY_NOUN = {
    "real_estate": ("Realty", "we're a real estate brokerage"),
    "legal": ("Law Group", "we're a small law firm"),
    "healthcare": ("Family Care", "we run a few medical clinics"),
    "software_saas": ("Labs", "we're a SaaS startup"),
    "financial_services": ("Wealth Partners", "we're a wealth management firm"),
    "insurance": ("Insurance", "we're an independent insurance agency"),
    "construction": ("Builders", "we're a construction company, mostly remodeling"),
    "marketing_agency": ("Creative", "we're a digital marketing agency"),
    "education": ("Academy", "we're a private school"),
    "manufacturing": ("Manufacturing", "we're a manufacturer of industrial parts"),
    "nonprofit": ("Foundation", "we're a nonprofit"),
    "recruiting_staffing": ("Staffing", "we're a staffing agency"),
}
USE_CASE_PHRASE = {
    "proposals": "mainly for proposals to new clients",
    "contracts": "mostly contracts, getting agreements out and signed",
    "quotes": "sending quotes to customers",
    "esignature": "honestly just getting signatures on documents we already have",
    "forms": "intake forms that people fill in online",
    "hr_onboarding": "onboarding paperwork, offer letters for new hires",
}
INTEGRATION_PHRASE = {
    "salesforce": "we live in Salesforce",
    "hubspot": "our CRM is HubSpot",
    "pipedrive": "we track deals in Pipedrive",
    "zoho_crm": "we use Zoho CRM",
    "microsoft_dynamics": "we're on Microsoft Dynamics",
    "zapier": "we glue things with Zapier",
    "api": "we'd hit your REST API from our own app",
    "google_drive": "everything is in Google Drive",
    "dropbox": "files are in Dropbox",
    "slack": "we'd want notifications in Slack",
    "stripe": "payments go through Stripe",
    "quickbooks": "invoicing is QuickBooks",
    "monday": "projects live in monday.com",
    "notion": "our wiki is Notion",
}
COMPETITOR_NAME = {
    "docusign": "DocuSign",
    "adobe_sign": "Adobe Sign",
    "dropbox_sign": "HelloSign",
    "proposify": "Proposify",
    "qwilr": "Qwilr",
    "better_proposals": "Better Proposals",
    "signnow": "SignNow",
    "zoho_sign": "Zoho Sign",
    "conga": "Conga",
    "ironclad": "Ironclad",
    "juro": "Juro",
    "oneflow": "Oneflow",
    "getaccept": "GetAccept",
}
OBJECTION_PHRASE = {
    "price": "honestly the price is a concern, it's more than we pay now",
    "security_compliance": "we need to know it's SOC 2 compliant before anything else",
    "integration_gap": "if it doesn't integrate with our billing system that's a problem",
    "switching_cost": "migrating all our templates over sounds like a lot of work",
    "timing": "it's our busy season, so the timing is not great",
    "feature_gap": "we need bulk send and I'm not sure you have it",
    "needs_approval": "I'd need approval from my boss before we buy anything",
    "complexity": "the editor felt complicated when I tried it",
    "contract_lock_in": "we're locked into our current contract until March",
}
AUTHORITY_PHRASE = {
    "decision_maker": "I own the budget, it's my call",
    "influencer": "I'm putting the recommendation together for our director",
    "needs_approval": "my CFO signs off on anything like this",
}
TIMELINE_PHRASE = {
    "this_week": "we need this live by Friday",
    "this_month": "we'd like to be up and running this month",
    "this_quarter": "sometime before the end of the quarter",
    "later": "no rush, probably sometime next year",
}
KB_QUERIES_FOUND = [
    ("HubSpot integration setup", "integrations"),
    ("Salesforce integration", "integrations"),
    ("pricing tables in proposals", "features"),
    ("bulk send documents", "features"),
    ("SOC 2 report", "security"),
    ("template library", "templates"),
    ("signing order multiple signers", "esignature"),
    ("payment collection with Stripe", "payments"),
]
KB_QUERIES_MISSING = [
    ("notary witness signing", "esignature"),
    ("import templates from DocuSign", "migration"),
    ("Dynamics 365 field mapping", "integrations"),
    ("HIPAA BAA on essentials plan", "security"),
    ("conditional pricing by region", "features"),
    ("offline signing in the field", "esignature"),
    ("bulk import contacts csv", "migration"),
    ("QuickBooks invoice sync", "integrations"),
    ("custom SSO SAML okta", "security"),
    ("Spanish language templates", "templates"),
]
AGENT_VERSIONS = [("trial-success-agent", "2.0.3", 1.0), ("trial-success-agent", "2.1.0", 1.25)]
LLM_MODELS = [("openai", "gpt-4.1-mini"), ("openai", "gpt-4o-mini")]
DEVICES = [
    ("Chrome 131", "macOS 15"),
    ("Safari 18.1", "iOS 18"),
    ("Edge 131", "Windows 11"),
    ("Chrome 131", "Windows 11"),
    ("Firefox 133", "Ubuntu 24.04"),
    ("Chrome 131", "Android 15"),
]
REGIONS = ["US-CA", "US-NY", "US-TX", "US-IL", "GB", "DE", "CA-ON", "AU-NSW", "IN-KA", "BR-SP"]
ERROR_SOURCES = [
    ("stt", "deepgram websocket closed (1011)"),
    ("llm", "openai 429 rate limited"),
    ("tts", "cartesia timeout after 5s"),
    ("tool", "calendar service unavailable (503)"),
]


@dataclass
class _Call:
    rng: random.Random
    t: float
    items: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    slow: float = 1.0
    n: int = 0
    llm_in: int = 0
    llm_out: int = 0
    tts_chars: int = 0
    stt_audio: float = 0.0
    tts_audio: float = 0.0
    interruptions: int = 0
    prefix: str = ""

    def _id(self) -> str:
        self.n += 1
        return f"item_{self.prefix}_{self.n:03d}"

    def user(self, text: str, confidence: float | None = None) -> None:
        rng = self.rng
        dur = max(0.6, len(text.split()) / rng.uniform(2.3, 3.0))
        eot = round(rng.uniform(0.25, 0.7) * self.slow, 3)
        m = {
            "started_speaking_at": self.t,
            "stopped_speaking_at": self.t + dur,
            "transcription_delay": round(rng.uniform(0.05, 0.25) * self.slow, 3),
            "end_of_turn_delay": eot,
        }
        self.items.append(
            {
                "id": self._id(),
                "type": "message",
                "role": "user",
                "content": [text],
                "interrupted": False,
                "transcript_confidence": confidence or round(rng.uniform(0.82, 0.99), 2),
                "extra": {},
                "metrics": m,
                "created_at": self.t + dur,
            }
        )
        self.stt_audio += dur
        self.t += dur + eot

    def agent(self, text: str, interrupted: bool = False) -> None:
        rng = self.rng
        ttft = rng.lognormvariate(math.log(0.38), 0.35) * self.slow
        ttfb = rng.lognormvariate(math.log(0.16), 0.35) * self.slow
        dur = max(0.6, len(text.split()) / rng.uniform(2.3, 3.0))
        if interrupted:
            dur *= rng.uniform(0.3, 0.6)
            self.interruptions += 1
        start = self.t + ttft + ttfb
        m = {
            "started_speaking_at": start,
            "stopped_speaking_at": start + dur,
            "llm_node_ttft": round(ttft, 3),
            "llm_node_tps": round(rng.uniform(40, 115), 1),
            "tts_node_ttfb": round(ttfb, 3),
            "e2e_latency": round(ttft + ttfb + rng.uniform(0.25, 0.55) * self.slow, 3),
        }
        self.items.append(
            {
                "id": self._id(),
                "type": "message",
                "role": "assistant",
                "content": [text],
                "interrupted": interrupted,
                "extra": {},
                "metrics": m,
                "created_at": start,
            }
        )
        self.llm_in += 900 + 40 * self.n
        self.llm_out += int(len(text.split()) * 1.4)
        self.tts_chars += len(text)
        self.tts_audio += dur
        self.t = start + dur + rng.uniform(0.2, 1.0)

    def tool(
        self,
        name: str,
        args: dict[str, Any],
        result: dict[str, Any] | None,
        error: str | None = None,
    ) -> None:
        import orjson

        item_id = self._id()
        call_id = item_id.replace("item_", "call_")
        dur_ms = round(self.rng.uniform(120, 900) * self.slow)
        is_error = error is not None
        out_text = error if is_error else orjson.dumps(result).decode()
        self.items.append(
            {
                "id": f"{item_id}a",
                "type": "function_call",
                "call_id": call_id,
                "arguments": orjson.dumps(args).decode(),
                "name": name,
                "created_at": self.t,
                "extra": {},
            }
        )
        self.items.append(
            {
                "id": f"{item_id}b",
                "type": "function_call_output",
                "name": name,
                "call_id": call_id,
                "output": out_text,
                "is_error": is_error,
                "created_at": self.t + dur_ms / 1000,
            }
        )
        self.tool_calls.append(
            {
                "name": name,
                "arguments": args,
                "output": error if is_error else result,
                "is_error": is_error,
                "started_at": _iso(self.t),
                "duration_ms": dur_ms,
            }
        )
        self.llm_in += 300
        self.t += dur_ms / 1000


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _say_number(rng: random.Random, n: int) -> str:
    if n in _NUM_WORDS and rng.random() < 0.5:
        return _NUM_WORDS[n]
    return str(n)


def _weighted(rng: random.Random, options: dict[str, float]) -> str:
    return rng.choices(list(options), weights=list(options.values()))[0]


def _business_generator(profile: Profile | None) -> Callable[..., dict[str, Any]] | None:
    if profile is None:
        return None
    from callscope.devtools import generator_for

    return generator_for(profile.name)


def generate_record(
    index: int,
    *,
    seed: int = 0,
    profile: Profile | None = None,
    start: datetime | None = None,
    days: int = 30,
    with_labels: bool = False,
) -> dict[str, Any]:
    """One synthetic call. ``start`` is the end of the window the calls spread over.

    The parts are drawn from one seeded RNG in a fixed order (time, agent, persona, the
    conversation, then the record's envelope): reordering the calls changes every dataset.
    """
    own = _business_generator(profile)
    if own is not None:  # a profile whose business has a generator of its own
        return own(
            index, seed=seed, profile=profile, start=start, days=days, with_labels=with_labels
        )
    rng = random.Random(seed * 1_000_003 + index)
    t0 = _start_time(rng, start, days)
    agent_name, agent_version, slow = rng.choices(AGENT_VERSIONS, weights=[0.6, 0.4])[0]
    if rng.random() < 0.05:
        slow *= 2.2  # a bad hour for a provider
    call = _Call(rng=rng, t=t0 + rng.uniform(0.5, 1.5), slow=slow, prefix=f"g{seed}_{index}")
    who = _person(rng, profile)
    persona = _persona(rng)
    outcome = _weighted(rng, {"full": 0.72, "abandoned": 0.12, "short": 0.08, "frustrated": 0.08})
    sentiment = _converse(call, rng, who, persona, outcome, index)
    record = _envelope(rng, call, who, t0, outcome)
    record["session_id"] = f"room-{seed:x}-{index:08d}"
    record["agent"] = {"name": agent_name, "version": agent_version}
    record = _in_contract_order(record)
    if with_labels:
        record["_expected"] = _labels(persona, outcome, sentiment, call)
    return record


@dataclass(frozen=True)
class _Person:
    first: str
    last: str
    company: str
    email: str
    intro: str


def _start_time(rng: random.Random, start: datetime | None, days: int) -> float:
    end_window = (start or datetime.now(UTC)).timestamp()
    # More calls on weekdays and business hours: pick a day, then an hour by weight.
    day = rng.randrange(days)
    hour = rng.choices(
        range(24),
        weights=[1, 1, 1, 1, 1, 1, 2, 4, 8, 10, 10, 10, 9, 10, 10, 10, 9, 7, 5, 3, 2, 2, 1, 1],
    )[0]
    t0 = end_window - (day + 1) * 86400 + hour * 3600 + rng.uniform(0, 3600)
    return min(t0, end_window - 600)


def _person(rng: random.Random, profile: Profile | None) -> _Person:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    industries = [k for k in INDUSTRY_NOUN if profile is None or k in profile.signals.industry]
    industry = rng.choice(industries)
    noun, intro = INDUSTRY_NOUN[industry]
    company = f"{rng.choice(COMPANY_WORDS)} {noun}"
    domain = company.lower().replace(" ", "") + rng.choice([".com", ".io", ".co", ".org"])
    return _Person(first, last, company, f"{first.lower()}@{domain}", intro)


def _persona(rng: random.Random) -> dict[str, Any]:
    persona: dict[str, Any] = {
        "team_size": rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 60]),
        "volume_kind": _weighted(rng, {"month": 0.6, "week": 0.3, "day": 0.1}),
        "use_case": rng.choice(list(USE_CASE_PHRASE)),
        "integration": _weighted(
            rng,
            {
                "salesforce": 0.25,
                "hubspot": 0.25,
                "api": 0.1,
                "pipedrive": 0.08,
                "zapier": 0.06,
                "google_drive": 0.06,
                "quickbooks": 0.05,
                "none": 0.15,
            },
        ),
        "competitor": _weighted(rng, {k: 1.0 for k in COMPETITOR_NAME} | {"none": 8.0}),
        "manual": rng.random() < 0.4,
        "authority": _weighted(
            rng, {"decision_maker": 0.4, "influencer": 0.25, "needs_approval": 0.2, "none": 0.15}
        ),
        "timeline": _weighted(
            rng,
            {
                "this_week": 0.12,
                "this_month": 0.3,
                "this_quarter": 0.28,
                "later": 0.15,
                "none": 0.15,
            },
        ),
        "objections": rng.sample(
            list(OBJECTION_PHRASE), k=rng.choices([0, 1, 2], [0.5, 0.35, 0.15])[0]
        ),
    }
    per_unit = {
        "month": rng.choice([5, 8, 20, 40, 60, 80, 150, 300]),
        "week": rng.choice([2, 5, 10, 20, 40]),
        "day": rng.choice([2, 5, 10, 15]),
    }
    persona["volume"] = per_unit[persona["volume_kind"]]
    return persona


def _converse(
    call: _Call,
    rng: random.Random,
    who: _Person,
    persona: dict[str, Any],
    outcome: str,
    index: int,
) -> str:
    """The transcript and tool calls of one call; returns the caller's sentiment."""
    first, company, intro = who.first, who.company, who.intro
    sentiment = "positive"
    call.agent(f"Hi, this is Ava from the PandaDoc trial team. Is this {first}?")
    call.user(
        rng.choice(
            [
                f"yes this is {first.lower()} hi",
                f"Yes, {first} speaking.",
                "yeah hi, that's me",
                f"hi, yes, {first} here",
            ]
        )
    )
    if outcome == "short":
        call.agent("Great! Do you have a few minutes to talk about your trial?")
        call.user(
            rng.choice(
                [
                    "sorry, i'm driving, can you call back later",
                    "not a good time, bye",
                    "i'm in a meeting right now, sorry",
                ]
            )
        )
        call.agent("No problem, I'll follow up by email. Have a good day!")
        sentiment = "neutral"
    else:
        call.agent(
            f"Hi {first}! I saw you started your trial. What are you hoping to use PandaDoc for?"
        )
        call.user(f"{intro}, {company}. {USE_CASE_PHRASE[persona['use_case']]}.")
        call.agent("Got it. How many people on your team would be using it?")
        _team_size(call, rng, persona["team_size"])
        if outcome == "abandoned":
            call.agent("Thanks! And roughly how many documents do you send in a", interrupted=True)
            call.user(
                rng.choice(["sorry you're breaking up", "hello? i can't hear you"]),
                confidence=round(rng.uniform(0.45, 0.65), 2),
            )
            call.agent(f"Sorry, I didn't catch that. {first}, are you still there?")
            sentiment = "neutral"
        else:
            interrupted = rng.random() < 0.2
            call.agent(
                "And roughly how many documents go out?"
                if not interrupted
                else "And roughly how many documents go out each—",
                interrupted=interrupted,
            )
            vol = _say_number(rng, persona["volume"])
            unit = {"month": "a month", "week": "a week", "day": "a day"}[persona["volume_kind"]]
            call.user(f"i'd say {vol} {unit}, give or take")
            if rng.random() < 0.1:
                call.user("sorry, can you repeat the question about integrations?")
            _integration(call, rng, persona["integration"])
            comp = persona["competitor"]
            if comp != "none":
                call.user(f"right now we use {COMPETITOR_NAME[comp]} for signatures")
            elif persona["manual"]:
                call.user("right now it's all Word docs and email")
            for obj in persona["objections"]:
                call.user(OBJECTION_PHRASE[obj])
                call.agent(
                    "That's a fair concern. Many teams in your position found the "
                    "switch paid off within a couple of months."
                )
            if outcome == "frustrated":
                call.user(
                    rng.choice(
                        [
                            "this is really frustrating, the editor keeps crashing, nobody answers",
                            "honestly i'm annoyed, i've been waiting on support for three days",
                        ]
                    )
                )
                call.agent("I'm sorry about that. I'll escalate it to our support team today.")
                call.user("fine. whatever. bye")
                sentiment = "negative"
            else:
                _wrap_up(call, rng, who, persona, index)
    return sentiment


def _team_size(call: _Call, rng: random.Random, ts: int) -> None:
    if ts == 1:
        call.user("just me for now")
    elif ts == 2:
        call.user("me and my business partner")
    elif rng.random() < 0.25:
        call.user(
            f"we're {ts * 3} people overall but only the {_say_number(rng, ts)} "
            "on the sales side would use it"
        )
    else:
        call.user(f"about {_say_number(rng, ts)} people would use it")


def _integration(call: _Call, rng: random.Random, integ: str) -> None:
    """The caller's integration, looked up in the knowledge base (sometimes not found)."""
    call.agent("Which tools would you want it to connect with?")
    if integ == "none":
        call.user("nothing really, we keep it simple")
    else:
        call.user(INTEGRATION_PHRASE[integ])
        found = rng.random() < 0.75
        query, category = rng.choice(KB_QUERIES_FOUND) if found else rng.choice(KB_QUERIES_MISSING)
        if rng.random() < 0.03:
            call.tool(
                "unleash_search_knowledge",
                {"query": query, "category": category},
                None,
                error="knowledge base timeout",
            )
            found = False
        else:
            total = rng.randint(1, 5) if found else 0
            call.tool(
                "unleash_search_knowledge",
                {"query": query, "category": category},
                {
                    "found": found,
                    "total_results": total,
                    "results": [{"title": query.title()}] * min(total, 2),
                },
            )
        call.agent(
            "Good news, that's supported, and I can send you the setup guide."
            if found
            else "I couldn't find documentation on that, I'll have a specialist follow up."
        )


def _wrap_up(
    call: _Call, rng: random.Random, who: _Person, persona: dict[str, Any], index: int
) -> None:
    """Decision makers, timeline, the meeting offer (booked or not) and goodbye."""
    first, last, email = who.first, who.last, who.email
    if persona["authority"] != "none":
        call.agent("Who else would be involved in the decision?")
        call.user(AUTHORITY_PHRASE[persona["authority"]])
    if persona["timeline"] != "none":
        call.agent("What's your timeline for getting this in place?")
        call.user(TIMELINE_PHRASE[persona["timeline"]])
    call.agent("Would it help to meet with a specialist to walk through setup?")
    if rng.random() < 0.55:
        call.user("yes, let's do that. tuesday at ten works")
        date = datetime.fromtimestamp(call.t, UTC) + timedelta(days=rng.randint(1, 6))
        args = {
            "customer_name": f"{first} {last}",
            "customer_email": email,
            "preferred_date": date.date().isoformat(),
            "preferred_time": "10:00",
        }
        if rng.random() < 0.06:
            call.tool(
                "book_sales_meeting",
                args,
                None,
                error="Calendar service unavailable (503)",
            )
            call.agent(
                "Sorry, the booking system failed; a specialist will email you to confirm a time."
            )
        else:
            call.tool(
                "book_sales_meeting",
                args,
                {
                    "success": True,
                    "meeting_link": f"https://meet.example.com/{index:x}",
                },
            )
            call.agent("You're all set for Tuesday at ten. The invite is on its way.")
    else:
        call.user("not yet, i want to play with the trial a bit more first")
        call.agent("Sounds good. I'll send you a few templates to try.")
    call.user(
        rng.choice(
            [
                "great, thanks so much, this was really helpful",
                "perfect, thank you",
                "thanks, talk soon",
            ]
        )
    )
    call.agent(f"Thanks {first}, have a great day!")


def _envelope(
    rng: random.Random, call: _Call, who: _Person, t0: float, outcome: str
) -> dict[str, Any]:
    """Everything of the record around the transcript: times, participant, usage, network."""
    first, last, email, company = who.first, who.last, who.email, who.company
    ended = call.t + rng.uniform(0.5, 2.0)
    provider, model = rng.choice(LLM_MODELS)
    device = rng.choice(DEVICES)
    errors: list[dict[str, Any]] = []
    if rng.random() < 0.04:
        src, msg = rng.choice(ERROR_SOURCES)
        errors.append(
            {"at": _iso(t0 + rng.uniform(0, max(1.0, ended - t0))), "source": src, "message": msg}
        )
    record: dict[str, Any] = {
        "schema_version": "1",
        "started_at": _iso(t0),
        "ended_at": _iso(ended),
        "duration_seconds": round(ended - t0, 2),
        "participant": {
            "identity": f"web-{rng.getrandbits(24):06x}",
            "name": f"{first} {last}",
            "email": email,
            "metadata": {
                "trial_day": rng.randint(1, 14),
                "company": company,
                "plan": rng.choice(["business_trial", "essentials_trial"]),
            },
        },
        "consent": {"recording": True, "analytics": rng.random() > 0.03},
        "transcript": {"items": call.items},
        "metrics": [],
        "usage": {
            "model_usage": [
                {
                    "type": "llm_usage",
                    "provider": provider,
                    "model": model,
                    "input_tokens": call.llm_in,
                    "input_cached_tokens": int(call.llm_in * 0.6),
                    "output_tokens": call.llm_out,
                },
                {
                    "type": "stt_usage",
                    "provider": "deepgram",
                    "model": "nova-3",
                    "audio_duration": round(call.stt_audio, 2),
                },
                {
                    "type": "tts_usage",
                    "provider": "cartesia",
                    "model": "sonic-2",
                    "characters_count": call.tts_chars,
                    "audio_duration": round(call.tts_audio, 2),
                },
            ]
        },
        "discovered_signals": {},
        "tool_calls": call.tool_calls,
        "connection": {
            "bandwidth_in_bytes": int((ended - t0) * rng.uniform(5500, 7000)),
            "bandwidth_out_bytes": int((ended - t0) * rng.uniform(5000, 6500)),
            "packet_loss_pct": round(rng.expovariate(1 / 0.6), 2),
            "jitter_ms": round(rng.lognormvariate(math.log(12), 0.5), 1),
            "device": {"browser": device[0], "os": device[1], "location": rng.choice(REGIONS)},
        },
        "errors": errors,
        "close_reason": "participant_disconnected" if outcome != "frustrated" else "user_hangup",
    }
    return record


_KEY_ORDER = ("schema_version", "session_id", "agent")


def _in_contract_order(record: dict[str, Any]) -> dict[str, Any]:
    """The keys in the order the record has always been written (stable output files)."""
    head = {k: record[k] for k in _KEY_ORDER}
    return head | {k: v for k, v in record.items() if k not in head}


def _labels(persona: dict[str, Any], outcome: str, sentiment: str, call: _Call) -> dict[str, Any]:
    full = outcome in ("full", "frustrated")
    factor = {"month": 1.0, "week": 4.33, "day": 21.0}[persona["volume_kind"]]
    integ = persona["integration"]
    comp = persona["competitor"]
    return {
        "sales.team_size": persona["team_size"] if outcome != "short" else None,
        "sales.monthly_volume": round(persona["volume"] * factor) if full else None,
        "sales.integrations": [integ] if full and integ != "none" else [],
        "sales.competitors": [comp] if full and comp != "none" else [],
        "sales.use_case": persona["use_case"] if outcome != "short" else None,
        "quality.interruptions": call.interruptions,
        "sentiment.overall": sentiment,
        "tools.meeting_booked": any(
            c["name"] == "book_sales_meeting" and not c["is_error"] for c in call.tool_calls
        ),
    }


def generate_records(
    n: int,
    *,
    seed: int = 0,
    profile: Profile | None = None,
    start: datetime | None = None,
    days: int = 30,
    with_labels: bool = False,
) -> Iterator[dict[str, Any]]:
    anchor = start or datetime.now(UTC)
    for i in range(n):
        yield generate_record(
            i, seed=seed, profile=profile, start=anchor, days=days, with_labels=with_labels
        )
