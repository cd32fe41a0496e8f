"""Objections in detail: where each was raised, whether the agent answered, how the caller took it.

The objection ids themselves come from the ``sales`` module (they are a sales signal); this
module adds the conversation around each one, the competitors with their quotes, and the
caller's requests to compare us with someone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from callscope.analyze.registry import registry
from callscope.analyze.text.normalize import normalize
from callscope.analyze.view import CallView, Turn
from callscope.profile.model import Profile

VERSION = "1.1.0"
_ACCEPT = re.compile(
    r"\b(?:okay|ok|good|great|perfect|that works|that helps|makes sense|relief|"
    r"changes things|that's fine|fair enough|love that|nice|awesome|sounds good|"
    r"useful|helpful|got it)\b"
)
_REJECT = re.compile(
    r"\b(?:still|not interested|no thanks|whatever|non[- ]?starter|waste|"
    r"don't want|doesn't help|too bad|stay with|i'll pass|not good enough)\b"
)
_COMPARE = re.compile(
    r"\b(?:compar\w*|versus|vs|better than|cheaper than|different from|"
    r"difference between|how do you stack up|against)\b"
)
_MIN_ANSWER_WORDS = 6


def _next(turns: tuple[Turn, ...], after: int, role: str) -> Turn | None:
    for t in turns[after + 1 :]:
        if t.role == role and t.text.strip():
            return t
        if role == "assistant" and t.role == "user" and t.index > after + 1:
            return None
    return None


def _reaction(turn: Turn | None) -> str:
    if turn is None:
        return "none"
    low = normalize(turn.text)
    if _REJECT.search(low):
        return "rejected"
    if _ACCEPT.search(low):
        return "accepted"
    return "unresolved"


@registry.register("objections", VERSION, requires=("sales",))
def analyze_objections(
    view: CallView, profile: Profile, upstream: Mapping[str, Any]
) -> dict[str, Any]:
    sales = upstream["sales"]
    signals: Mapping[str, Any] = sales.get("signals") or sales
    evidence: Mapping[str, list[dict[str, Any]]] = sales.get("evidence") or {}
    hurdles = profile.field_read_by("hurdles")
    items: list[dict[str, Any]] = []
    for oid in (signals.get(hurdles) if hurdles else None) or []:
        # the engine keys each value's evidence "<field>:<id>"; the LLM backend "objection:<id>"
        found = evidence.get(f"{hurdles}:{oid}") or evidence.get(f"objection:{oid}") or []
        for ev in found[:1]:
            turn_idx = int(ev["turn"])
            answer = _next(view.turns, turn_idx, "assistant")
            answered = answer is not None and len(answer.text.split()) >= _MIN_ANSWER_WORDS
            reply = _next(view.turns, answer.index, "user") if answer is not None else None
            items.append(
                {
                    "id": oid,
                    "turn": turn_idx,
                    "quote": ev["quote"],
                    "answered_by_agent": answered,
                    "caller_reaction": _reaction(reply) if answered else "none",
                }
            )
    competitors = [
        {"id": e_id, "quote": e["quote"], "turn": e["turn"]}
        for fname in profile.fields_read_by("brands")
        if profile.fields[fname].tense == "any"
        for e_id in signals.get(fname) or []
        for e in _first_mention(evidence.get(fname, []), fname, e_id, profile)
    ]
    comparisons: list[dict[str, Any]] = []
    for t in view.user_turns:
        low = normalize(t.text)
        if _COMPARE.search(low) and (
            any(c["turn"] == t.index for c in competitors) or "compar" in low
        ):
            comparisons.append({"quote": t.text.strip(), "turn": t.index})
    return {
        "items": items,
        "count": len(items),
        "unanswered": sum(1 for i in items if not i["answered_by_agent"]),
        "competitors": competitors,
        "comparison_requests": comparisons,
    }


def _first_mention(
    entries: list[dict[str, Any]], fname: str, cid: str, profile: Profile
) -> list[dict[str, Any]]:
    value = profile.fields[fname].values.get(cid)
    names = [n.replace(" ", "") for n in (value.phrases() if value else [])]
    for e in entries:
        squashed = normalize(str(e["quote"])).replace(" ", "").replace("-", "")
        if any(n in squashed for n in names):
            return [e]
    return []
