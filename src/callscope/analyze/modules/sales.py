"""Sales intelligence: every field the profile declares, with its evidence, plus BANT.

The signal engine (:mod:`callscope.analyze.engine`) reads the fields; this module adds what
sales teams read beside them: a BANT view built from the fields' roles, pain points, the
people named as deciding, and the next steps the caller asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from callscope.analyze.engine import Extraction, UTurn, compiled, extract_fields
from callscope.analyze.engine import language as lang
from callscope.analyze.engine.turns import sentence_at
from callscope.analyze.registry import registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

VERSION = "2.0.0"

_AUTHORITY = {"self": 1.0, "influencer": 0.6, "approval": 0.3}
_HORIZON = {"week": 1.0, "month": 0.8, "quarter": 0.6, "beyond": 0.2}


def bant(values: Mapping[str, Any], profile: Profile, pains: int) -> dict[str, float]:
    """Budget, authority, need and timeline, each 0..1, from the roles of the fields' values."""
    vocab = compiled(profile)
    roles = vocab.roles
    auth_role = (
        vocab.role_of(roles.authority, values[roles.authority])
        if roles.authority and values.get(roles.authority)
        else None
    )
    horizon = None
    if roles.timeline and values.get(roles.timeline):
        spec = vocab.spec(roles.timeline).values.get(values[roles.timeline])
        horizon = spec.horizon if spec else None
    budget = 0.5 if auth_role == "self" else 0.25
    if any(values.get(f) is not None for f in roles.numbers):
        budget += 0.25
    hurdles = (values.get(roles.hurdles) or []) if roles.hurdles else []
    if roles.hurdles and any(vocab.role_of(roles.hurdles, h) == "cost" for h in hurdles):
        budget = max(0.0, budget - 0.4)
    need = 0.4 if roles.job and values.get(roles.job) else 0.0
    if roles.rate and values.get(roles.rate):
        need += 0.2
    need += min(0.4, 0.2 * pains)
    return {
        "budget": round(min(1.0, budget), 2),
        "authority": _AUTHORITY.get(auth_role or "", 0.0),
        "need": round(min(1.0, need), 2),
        "timeline": _HORIZON.get(horizon or "", 0.0),
    }


def pain_points(x: Extraction) -> list[dict[str, Any]]:
    """Quotes of every text field of the profile, with their turns."""
    out: list[dict[str, Any]] = []
    for fname, spec in x.vocab.profile.fields.items():
        if spec.kind == "text":
            out += x.evidence.get(fname, [])
    return out[:8]


def _decision_makers(turns: list[UTurn]) -> list[str]:
    names: list[str] = []
    for t in turns:
        for m in lang.DECIDER.finditer(t.low):
            name = m.group(1) or m.group(0)
            name = re.sub(r"^(?:our|my|the|to|by) ", "", name.split(",")[0]).strip()
            if name and name not in names:
                names.append(name)
    return names


def _next_steps(view: CallView, turns: list[UTurn], profile: Profile) -> list[str]:
    steps: list[str] = []
    booking = profile.tools.booking
    for tool in view.tools:
        if tool.name == booking.name:
            out = tool.output if isinstance(tool.output, dict) else {}
            if not tool.is_error and out.get(booking.success_key) is True:
                steps.append("meeting_booked")
                break
    for t in turns:
        m = lang.NEXT_STEP.search(t.low)
        if m:
            steps.append(sentence_at(t.text, t.low, m.start()))
    return steps[:6]


def extract(view: CallView, profile: Profile) -> dict[str, Any]:
    x = extract_fields(view, profile)
    values: dict[str, Any] = dict(x.values)
    values["signals"] = dict(x.values)
    values["pain_points"] = pain_points(x)
    values["bant"] = bant(x.values, profile, len(values["pain_points"]))
    values["decision_makers"] = _decision_makers(x.turns)
    values["next_steps"] = _next_steps(view, x.turns, profile)
    values["evidence"] = x.evidence
    values["signal_evidence"] = {f: x.evidence_for(f) for f in profile.fields}
    return values


@registry.register("sales", VERSION)
def analyze_sales(view: CallView, profile: Profile, upstream: Mapping[str, Any]) -> dict[str, Any]:
    return extract(view, profile)
