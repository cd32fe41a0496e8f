"""What is sent to the model: instructions, the profile's vocabulary, a JSON schema, the turns.

Only the transcript's spoken text leaves the process (optionally redacted), with the call's
date for relative timelines. Participant metadata, tool arguments and outputs, usage and
metrics never do. The schemas are built from the profile's ids, so the model is constrained
to the same vocabulary the offline analyzers use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from callscope.analyze.view import CallView
from callscope.governance.redact import redact_text
from callscope.profile.model import Profile

PROMPT_VERSION = "1.0.0"
MAX_TRANSCRIPT_CHARS = 48_000  # about 12k tokens: longer calls keep their start and end
_SYNONYMS_SHOWN = 8

ENUM_SIGNALS = ("use_case", "industry", "budget_authority", "timeline")
LIST_SIGNALS = ("integrations", "competitors", "objections")

SALES_RULES = """\
Labeling rules:
- Only what the CALLER says, or clearly confirms ("yes, exactly"), counts. The agent's guesses,
  suggestions and product descriptions never count on their own.
- When the caller corrects themselves, the corrected value wins.
- team_size: the number of people who would use the product ("just me" = 1, "me and my
  co-founder" = 2, "40 people but only the 6 reps would use it" = 6).
- monthly_volume: documents sent per month. Weekly figures x 4.33, daily x 21, yearly / 12;
  a range gives its midpoint; "a couple hundred" = 200, "a few dozen" = 36; round to an integer.
- integrations: tools the caller uses now or wants connected; negated or past ones do not count.
- competitors: every competitor the caller names, whatever the tense.
- current_tool: what does the job today (a competitor id, "manual" for Word/Google Docs/PDF/
  email/paper, "none" when nothing).
- objections: only concerns the caller presents as a hurdle; a concern the caller waves off
  ("approval is just a formality", "not a concern at all") is not an objection.
- use_case is "esignature" only when the caller just needs signatures on documents they already
  have; signed agreements otherwise are "contracts".
- budget_authority: decision_maker (the caller decides or owns the budget), influencer (the
  caller recommends or evaluates for others), needs_approval (someone else signs off).
- timeline: when the caller wants to be live, read against the call date given below.
- Use null or [] when the caller does not state something. Never guess.
- evidence: for each value you set, one short verbatim quote from the caller's turn and that
  turn's number; signal is the field name, or "objection:<id>" for an objection.
- Use only the ids listed in the vocabulary."""

SUMMARY_RULES = """\
Write an executive summary of the call for a sales manager: one to three short factual
sentences. Say what the caller wants and the key numbers (team size, monthly volume), the
outcome (lead tier, whether a meeting was booked, follow-ups) and the main objection if any.
Use the facts given; do not invent numbers, names or commitments. Do not include email
addresses, phone numbers or other personal data."""


@dataclass(frozen=True)
class Transcript:
    text: str  # what is sent
    turns: dict[int, str]  # turn index -> the (possibly redacted) text sent for it
    caller_turns: frozenset[int]
    truncated: bool
    redacted: bool


def render_transcript(view: CallView, *, redact: bool) -> Transcript:
    lines: list[tuple[int, str]] = []
    sent: dict[int, str] = {}
    for turn in view.turns:
        text = " ".join(turn.text.split())
        if not text:
            continue
        if redact:
            text = redact_text(text)
        sent[turn.index] = text
        who = "caller" if turn.is_user else "agent"
        lines.append((turn.index, f"[{turn.index}] {who}: {text}"))
    truncated = False
    total = sum(len(line) + 1 for _, line in lines)
    if total > MAX_TRANSCRIPT_CHARS:
        # Qualification happens early and next steps late: keep both ends, drop the middle.
        truncated = True
        head: list[tuple[int, str]] = []
        tail: list[tuple[int, str]] = []
        budget = MAX_TRANSCRIPT_CHARS // 2
        for item in lines:
            if budget - len(item[1]) < 0:
                break
            head.append(item)
            budget -= len(item[1]) + 1
        budget = MAX_TRANSCRIPT_CHARS // 2
        for item in reversed(lines[len(head) :]):
            if budget - len(item[1]) < 0:
                break
            tail.insert(0, item)
            budget -= len(item[1]) + 1
        lines = [*head, (-1, "[...]"), *tail]
    kept = {i for i, _ in lines if i >= 0}
    return Transcript(
        text="\n".join(line for _, line in lines),
        turns={i: t for i, t in sent.items() if i in kept},
        caller_turns=frozenset(t.index for t in view.turns if t.is_user and t.index in kept),
        truncated=truncated,
        redacted=redact,
    )


def vocabulary(profile: Profile) -> dict[str, dict[str, list[str]]]:
    sig = profile.signals
    return {
        "integrations": sig.integrations,
        "competitors": sig.competitors,
        "current_tool": {**sig.competitors, **sig.current_tool},
        "objections": sig.objections,
        "use_case": sig.use_case,
        "industry": sig.industry,
        "budget_authority": sig.budget_authority,
        "timeline": sig.timeline,
    }


def _vocabulary_text(profile: Profile) -> str:
    out: list[str] = []
    for signal, ids in vocabulary(profile).items():
        if signal == "current_tool":
            extra = ", ".join(profile.signals.current_tool)
            out.append(f"current_tool: any competitor id, or {extra}")
            continue
        out.append(f"{signal}:")
        for vid, phrases in ids.items():
            shown = ", ".join(phrases[:_SYNONYMS_SHOWN])
            out.append(f"  - {vid}" + (f" (e.g. {shown})" if shown else ""))
    return "\n".join(out)


def sales_system_prompt(profile: Profile) -> str:
    product = profile.product or "the product"
    company = profile.company or "the company"
    return (
        f"You extract sales-qualification signals from a phone call between {company}'s voice "
        f"agent and a caller interested in {product}. Turns are numbered; cite them.\n\n"
        f"{SALES_RULES}\n\nVocabulary (id, then how callers say it):\n{_vocabulary_text(profile)}"
    )


def summary_system_prompt(profile: Profile) -> str:
    return (
        f"You summarise phone calls between {profile.company or 'a company'}'s voice agent and "
        f"its callers.\n\n{SUMMARY_RULES}"
    )


def call_message(view: CallView, transcript: Transcript, facts: Mapping[str, Any] | None) -> str:
    parts = [f"Call date: {view.started_at.date().isoformat()}"]
    if facts is not None:
        parts.append("Facts from the analysis: " + json.dumps(facts, sort_keys=True))
    if transcript.truncated:
        parts.append("(The middle of a long call is left out.)")
    parts.append("Transcript:\n" + transcript.text)
    return "\n\n".join(parts)


# --- schemas (the strict subset both OpenAI and Anthropic accept) ---------------------------
def _obj(properties: Mapping[str, Any]) -> dict[str, Any]:
    # Strict structured outputs want every property required and no extra keys.
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(properties),
        "additionalProperties": False,
    }


def _enum(ids: Sequence[str], description: str) -> dict[str, Any]:
    return {
        "anyOf": [{"type": "string", "enum": list(ids)}, {"type": "null"}],
        "description": description,
    }


def _enum_list(ids: Sequence[str], description: str) -> dict[str, Any]:
    return {
        "type": "array",
        "items": {"type": "string", "enum": list(ids)},
        "description": description,
    }


def evidence_signals(profile: Profile) -> list[str]:
    names = ["team_size", "monthly_volume", "current_tool", "integrations", "competitors"]
    names += list(ENUM_SIGNALS)
    return names + [f"objection:{oid}" for oid in profile.signals.objections]


def sales_schema(profile: Profile) -> dict[str, Any]:
    vocab = vocabulary(profile)
    quote = _obj({"quote": {"type": "string"}, "turn": {"type": "integer"}})
    return _obj(
        {
            "team_size": {
                "type": ["integer", "null"],
                "description": "people who would use the product",
            },
            "monthly_volume": {
                "type": ["integer", "null"],
                "description": "documents per month",
            },
            "integrations": _enum_list(list(vocab["integrations"]), "used now or wanted"),
            "current_tool": _enum(list(vocab["current_tool"]), "what does the job today"),
            "competitors": _enum_list(list(vocab["competitors"]), "every competitor named"),
            "objections": _enum_list(list(vocab["objections"]), "hurdles the caller raises"),
            "use_case": _enum(list(vocab["use_case"]), "the main job"),
            "industry": _enum(list(vocab["industry"]), "the caller's industry"),
            "budget_authority": _enum(list(vocab["budget_authority"]), "who decides"),
            "timeline": _enum(list(vocab["timeline"]), "when they want to be live"),
            "pain_points": {"type": "array", "items": quote},
            "decision_makers": {
                "type": "array",
                "items": {"type": "string"},
                "description": "roles of other people who decide, e.g. cfo, board",
            },
            "next_steps": {"type": "array", "items": {"type": "string"}},
            "evidence": {
                "type": "array",
                "items": _obj(
                    {
                        "signal": {"type": "string", "enum": evidence_signals(profile)},
                        "quote": {"type": "string"},
                        "turn": {"type": "integer"},
                    }
                ),
            },
        }
    )


def summary_schema() -> dict[str, Any]:
    return _obj(
        {
            "sentences": {
                "type": "array",
                "items": {"type": "string"},
                "description": "one to three factual sentences",
            }
        }
    )
