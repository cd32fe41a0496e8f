"""The signal engine: reads every field a profile declares from the caller's words.

Each field names a generic reader (``FieldSpec.read_by``); readers are language skills
(negation, tense, corrections, who approves, dates, money) applied to the profile's words.
``extract`` returns ``{field: value}`` plus the evidence for each value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callscope.analyze.engine.authority import read_authority
from callscope.analyze.engine.brands import read_brands
from callscope.analyze.engine.choices import (
    read_identity,
    read_job,
    read_mentions,
    read_one_mention,
)
from callscope.analyze.engine.hurdles import read_hurdles
from callscope.analyze.engine.numbers import read_count, read_number, read_rate
from callscope.analyze.engine.statements import read_text, read_yes_no
from callscope.analyze.engine.timeline import read_timeline
from callscope.analyze.engine.turns import Evidence, UTurn, prepare
from callscope.analyze.engine.vocab import Vocab, compiled
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

__all__ = ["Extraction", "UTurn", "Vocab", "compiled", "extract_fields", "prepare"]


@dataclass
class Extraction:
    values: dict[str, Any]
    evidence: dict[str, list[dict[str, Any]]]
    turns: list[UTurn]
    vocab: Vocab

    def evidence_for(self, field: str) -> list[dict[str, Any]]:
        """Evidence of one field (a many-of field's per-value entries merged, in turn order)."""
        direct = list(self.evidence.get(field, []))
        prefix = f"{field}:"
        for key, items in self.evidence.items():
            if key.startswith(prefix):
                direct += [e for e in items if e not in direct]
        return sorted(direct, key=lambda e: int(e["turn"]))


def _read(
    fname: str, view: CallView, turns: list[UTurn], vocab: Vocab, ev: Evidence, brands: Any
) -> Any:
    spec = vocab.spec(fname)
    reader = spec.read_by
    if reader == "brands":
        return brands.values.get(fname, [])
    if reader == "current_tool":
        return brands.current or brands.manual
    if reader == "count":
        return read_count(fname, turns, ev)
    if reader == "rate":
        return read_rate(fname, turns, vocab, ev, spec.per or "month")
    if reader == "number":
        return read_number(fname, turns, vocab, ev)
    if reader == "job":
        return read_job(fname, turns, vocab, ev)
    if reader == "identity":
        return read_identity(fname, turns, vocab, ev)
    if reader == "authority":
        return read_authority(fname, turns, vocab, ev)
    if reader == "timeline":
        return read_timeline(fname, turns, vocab, view.started_at.date(), ev)
    if reader == "hurdles":
        return read_hurdles(fname, turns, vocab, ev)
    if reader == "yes_no":
        return read_yes_no(fname, turns, vocab, ev)
    if reader == "text":
        return read_text(fname, turns, vocab, ev)
    if spec.kind == "many_of":
        return read_mentions(fname, turns, vocab, ev)
    return read_one_mention(fname, turns, vocab, ev)


def extract_fields(view: CallView, profile: Profile) -> Extraction:
    vocab = compiled(profile)
    turns = prepare(view, vocab)
    ev = Evidence()
    brands = read_brands(turns, vocab, ev)
    values: dict[str, Any] = {}
    # Hurdles read what the other fields found (lock-in before money): they go last.
    order = sorted(profile.fields, key=lambda f: profile.fields[f].read_by == "hurdles")
    for fname in order:
        values[fname] = _read(fname, view, turns, vocab, ev, brands)
    ordered = {f: values[f] for f in profile.fields}
    return Extraction(ordered, ev.items, turns, vocab)
