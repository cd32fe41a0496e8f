"""LLM versions of the ``sales`` and ``summary`` analyzers, with the offline ones as fallback.

Each wraps the offline analyzer it replaces and always computes its result first (it takes
milliseconds): the LLM answer is validated with pydantic and filtered to the profile's
vocabulary, a scalar the model got wrong falls back field by field, and any failure of the
call itself (timeout, 429/5xx after the retries, invalid JSON, schema mismatch) returns the
offline result whole. Either way the result carries an ``llm`` block saying what happened,
what it cost and how long it took, so the pipeline never breaks and nothing is silent.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from rapidfuzz import fuzz

from callscope.analyze.modules.sales import bant as sales_bant
from callscope.analyze.registry import Analyzer, Result
from callscope.analyze.view import CallView
from callscope.governance.redact import redact_text
from callscope.llm import prompts
from callscope.llm.client import LLMClient, LLMError, LLMReply
from callscope.llm.cost import call_cost, find_price
from callscope.profile.model import Profile

LLM_VERSION = "llm-1.0.0"
SALES_MAX_TOKENS = 2048
SUMMARY_MAX_TOKENS = 400
_MAX_QUOTE = 300
_MAX_SENTENCE = 400
_QUOTE_MATCH = 90  # rapidfuzz partial ratio: a quote must really come from the cited turn
_LIMITS = {"team_size": (1, 1_000_000), "monthly_volume": (0, 100_000_000)}
_COMPARED = (
    "team_size",
    "monthly_volume",
    "integrations",
    "current_tool",
    "competitors",
    "objections",
    *prompts.ENUM_SIGNALS,
)


# --- the shapes we accept back --------------------------------------------------------------
class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Quote(_Answer):
    quote: str
    turn: int


class _Evidence(_Quote):
    signal: str


class SalesAnswer(_Answer):
    team_size: float | None
    monthly_volume: float | None
    integrations: list[str]
    current_tool: str | None
    competitors: list[str]
    objections: list[str]
    use_case: str | None
    industry: str | None
    budget_authority: str | None
    timeline: str | None
    pain_points: list[_Quote] = []
    decision_makers: list[str] = []
    next_steps: list[str] = []
    evidence: list[_Evidence] = []

    @field_validator("team_size", "monthly_volume", mode="before")
    @classmethod
    def _no_bool(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("a number, not true/false")
        return value


class SummaryAnswer(_Answer):
    sentences: list[str]


# --- backend ------------------------------------------------------------------------------
@dataclass
class LLMBackend:
    client: LLMClient
    redact: bool = True
    priced_by_wildcard: bool = True  # False for self-hosted servers: "openai/*" is not their price
    _prompts: dict[int, tuple[Profile, str, dict[str, Any]]] = field(default_factory=dict)

    @property
    def version(self) -> str:
        return f"{LLM_VERSION}+{self.client.model}"

    def sales_prompt(self, profile: Profile) -> tuple[str, dict[str, Any]]:
        hit = self._prompts.get(id(profile))
        if hit is None or hit[0] is not profile:
            hit = (profile, prompts.sales_system_prompt(profile), prompts.sales_schema(profile))
            if len(self._prompts) > 8:
                self._prompts.clear()
            self._prompts[id(profile)] = hit
        return hit[1], hit[2]

    def meta(self, reply: LLMReply | None, profile: Profile, started: float) -> dict[str, Any]:
        out: dict[str, Any] = {
            "backend": self.client.provider,
            "model": self.client.model,
            "prompt_version": prompts.PROMPT_VERSION,
            "redacted": self.redact,
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        }
        if reply is not None:
            price = find_price(
                profile.prices.llm,
                self.client.provider,
                reply.model,
                allow_wildcard=self.priced_by_wildcard,
            )
            out.update(
                model=reply.model,
                attempts=reply.attempts,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
                cost_usd=(
                    call_cost(
                        price, reply.input_tokens, reply.output_tokens, reply.cached_input_tokens
                    )
                    if price
                    else None
                ),
            )
        return out


def _failure(exc: Exception) -> str:
    if isinstance(exc, LLMError):
        return str(exc)
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "response"
        return f"response does not match the schema: {err['msg']} at {where}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:200]


def _guarded(
    backend: LLMBackend,
    profile: Profile,
    offline: Result,
    ask: Callable[[], LLMReply],
    build: Callable[[LLMReply, dict[str, Any]], Result],
) -> Result:
    """Run the call and the conversion; on any failure return the offline result, annotated."""
    started = time.perf_counter()
    reply: LLMReply | None = None
    try:
        reply = ask()
        meta = backend.meta(reply, profile, started)
        result = build(reply, meta)
        meta["used"] = True
        result["llm"] = meta
        return result
    except Exception as exc:  # the fallback is the point: no failure may leave this function
        if reply is None and isinstance(exc, LLMError):
            reply = exc.billed
        meta = backend.meta(reply, profile, started)
        meta["used"] = False
        meta["fallback"] = _failure(exc)
        if isinstance(exc, LLMError):
            meta["attempts"] = exc.attempts
        return {**offline, "llm": meta}


# --- sales --------------------------------------------------------------------------------
def _norm_id(value: str) -> str:
    return re.sub(r"[\s-]+", "_", value.strip().lower())


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())


def _quote_ok(quote: str, turn: int, transcript: prompts.Transcript) -> bool:
    said = transcript.turns.get(turn)
    if said is None or turn not in transcript.caller_turns:
        return False
    q, s = _squash(quote), _squash(said)
    return bool(q) and (q in s or fuzz.partial_ratio(q, s) >= _QUOTE_MATCH)


@dataclass
class _Notes:
    dropped: dict[str, list[Any]] = field(default_factory=dict)
    field_fallbacks: dict[str, str] = field(default_factory=dict)

    def drop(self, key: str, value: Any) -> None:
        self.dropped.setdefault(key, []).append(value)


def to_sales(
    answer: SalesAnswer,
    profile: Profile,
    transcript: prompts.Transcript,
    offline: Mapping[str, Any],
    notes: _Notes,
) -> dict[str, Any]:
    """The contract's ``sales`` result from a validated answer, kept inside the vocabulary."""
    vocab = prompts.vocabulary(profile)
    values: dict[str, Any] = {}
    for key in ("team_size", "monthly_volume"):
        number = getattr(answer, key)
        low, high = _LIMITS[key]
        if number is None:
            values[key] = None
        elif low <= number <= high:
            values[key] = round(number)
        else:
            values[key] = offline.get(key)
            notes.field_fallbacks[key] = f"out of range: {number:g}"
    for key in prompts.LIST_SIGNALS:
        kept: list[str] = []
        for raw in getattr(answer, key):
            vid = _norm_id(raw)
            if vid in vocab[key]:
                if vid not in kept:
                    kept.append(vid)
            else:
                notes.drop(key, raw)
        values[key] = kept
    for key in ("current_tool", *prompts.ENUM_SIGNALS):
        raw = getattr(answer, key)
        if raw is None:
            values[key] = None
            continue
        vid = _norm_id(raw)
        if vid in vocab[key]:
            values[key] = vid
        else:
            notes.drop(key, raw)
            values[key] = offline.get(key)
            notes.field_fallbacks[key] = f"out of vocabulary: {raw!r}"

    evidence: dict[str, list[dict[str, Any]]] = {}
    allowed = set(prompts.evidence_signals(profile))
    for item in answer.evidence:
        signal = item.signal.strip()
        if signal not in allowed or not _quote_ok(item.quote, item.turn, transcript):
            notes.drop("evidence", {"signal": signal, "turn": item.turn})
            continue
        entries = evidence.setdefault(signal, [])
        entry = {"quote": item.quote.strip()[:_MAX_QUOTE], "turn": item.turn}
        if entry not in entries:
            entries.append(entry)
    offline_ev: Mapping[str, Any] = offline.get("evidence") or {}
    for oid in values["objections"]:
        # The objections module reads each objection's first quote; borrow the offline one.
        key = f"objection:{oid}"
        borrowed = offline_ev.get(f"{profile.field_read_by('hurdles')}:{oid}")
        if key not in evidence and borrowed:
            evidence[key] = list(borrowed)

    pains: list[dict[str, Any]] = []
    for p in answer.pain_points:
        if _quote_ok(p.quote, p.turn, transcript):
            pains.append({"quote": p.quote.strip()[:_MAX_QUOTE], "turn": p.turn})
        else:
            notes.drop("pain_points", {"turn": p.turn})
    steps = [s.strip()[:_MAX_QUOTE] for s in answer.next_steps if s.strip()]
    if "meeting_booked" in (offline.get("next_steps") or []):
        # Read from the booking tool's result, which the model never sees.
        steps = ["meeting_booked", *[s for s in steps if s != "meeting_booked"]]
    values["bant"] = sales_bant(values, profile, len(pains))
    values["pain_points"] = pains[:8]
    values["decision_makers"] = [
        d.strip().lower() for d in answer.decision_makers if d.strip() and len(d) <= 60
    ][:6]
    values["next_steps"] = steps[:6]
    values["evidence"] = evidence
    values["signals"] = {f: values.get(f, offline.get(f)) for f in profile.fields}
    return values


def _differences(llm: Mapping[str, Any], offline: Mapping[str, Any]) -> dict[str, Any]:
    def same(a: Any, b: Any) -> bool:
        if isinstance(a, list) and isinstance(b, list):
            return sorted(map(str, a)) == sorted(map(str, b))
        return bool(a == b)

    return {k: offline.get(k) for k in _COMPARED if not same(llm.get(k), offline.get(k))}


def llm_sales(offline: Analyzer, backend: LLMBackend) -> Analyzer:
    def analyze(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
        base = offline.fn(view, profile, upstream)
        transcript = prompts.render_transcript(view, redact=backend.redact)
        if not transcript.caller_turns:
            meta = backend.meta(None, profile, time.perf_counter())
            return {**base, "llm": {**meta, "used": False, "fallback": "no caller turns"}}
        system, schema = backend.sales_prompt(profile)

        def ask() -> LLMReply:
            return backend.client.complete_json(
                system=system,
                user=prompts.call_message(view, transcript, None),
                name="record_sales_signals",
                schema=schema,
                max_tokens=SALES_MAX_TOKENS,
            )

        def build(reply: LLMReply, meta: dict[str, Any]) -> Result:
            notes = _Notes()
            values = to_sales(
                SalesAnswer.model_validate(reply.data), profile, transcript, base, notes
            )
            meta["offline_version"] = offline.version
            meta["offline_differs"] = _differences(values, base)
            if notes.dropped:
                meta["dropped"] = notes.dropped
            if notes.field_fallbacks:
                meta["field_fallbacks"] = notes.field_fallbacks
            if transcript.truncated:
                meta["truncated"] = True
            return values

        return _guarded(backend, profile, base, ask, build)

    return Analyzer(offline.name, backend.version, analyze, offline.requires, offline.needs_text)


# --- summary ------------------------------------------------------------------------------
def _facts(upstream: Mapping[str, Result]) -> dict[str, Any]:
    """Derived values only (ids, numbers, flags): nothing personal, nothing verbatim."""

    def section(name: str) -> Mapping[str, Any]:
        value = upstream.get(name)
        return value if isinstance(value, Mapping) else {}

    sales, lead, tools = section("sales"), section("lead"), section("tools")
    facts: dict[str, Any] = {k: sales.get(k) for k in _COMPARED if k in sales}
    for key in ("score", "tier", "hot_lead"):
        if key in lead:
            facts[f"lead_{key}"] = lead[key]
    for key in ("meeting_booked", "booking_failed", "kb_searches", "kb_failed_searches"):
        if key in tools:
            facts[key] = tools[key]
    if "overall" in section("sentiment"):
        facts["caller_sentiment"] = section("sentiment")["overall"]
    if "natural_ending" in section("quality"):
        facts["natural_ending"] = section("quality")["natural_ending"]
    follow = section("actions").get("follow_up_count")
    if isinstance(follow, int):
        facts["follow_ups_promised"] = follow
    return facts


def llm_summary(offline: Analyzer, backend: LLMBackend) -> Analyzer:
    schema = prompts.summary_schema()

    def analyze(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
        base = offline.fn(view, profile, upstream)
        transcript = prompts.render_transcript(view, redact=backend.redact)
        if not transcript.caller_turns:
            meta = backend.meta(None, profile, time.perf_counter())
            return {**base, "llm": {**meta, "used": False, "fallback": "no caller turns"}}

        def ask() -> LLMReply:
            return backend.client.complete_json(
                system=prompts.summary_system_prompt(profile),
                user=prompts.call_message(view, transcript, _facts(upstream)),
                name="write_summary",
                schema=schema,
                max_tokens=SUMMARY_MAX_TOKENS,
            )

        def build(reply: LLMReply, meta: dict[str, Any]) -> Result:
            answer = SummaryAnswer.model_validate(reply.data)
            sentences = [" ".join(s.split()) for s in answer.sentences if s.strip()]
            if not sentences:
                raise ValueError("the summary is empty")
            if any(len(s) > _MAX_SENTENCE for s in sentences):
                raise ValueError(f"a summary sentence is over {_MAX_SENTENCE} characters")
            if backend.redact:
                sentences = [redact_text(s) for s in sentences]
            if len(sentences) > 3:
                meta["dropped"] = {"sentences": sentences[3:]}
                sentences = sentences[:3]
            meta["offline_version"] = offline.version
            return {"text": " ".join(sentences), "sentences": len(sentences)}

        return _guarded(backend, profile, base, ask, build)

    return Analyzer(offline.name, backend.version, analyze, offline.requires, offline.needs_text)
