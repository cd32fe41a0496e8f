"""Products the caller names: in use or wanted (present tense), named in any tense, in use now.

One pass over the caller's turns fills every ``brands`` field and the ``current_tool`` field:
a product named in a present-tense clause (or first in the answer to "what do you use
today?") is the current tool; a stated manual process outranks "nothing really".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from callscope.analyze.engine import language as lang
from callscope.analyze.engine.turns import Evidence, UTurn, is_question_clause, negated
from callscope.analyze.engine.vocab import Vocab
from callscope.analyze.text.normalize import clause_bounds
from callscope.analyze.text.phrases import Hit

# A tool the caller no longer has or never had: "we moved from X to Y", "X is gone",
# "it's built for X shops and we aren't one".
_LEFT_BEFORE = re.compile(
    r"\b(?:migrated|moved|switched|came over|got off|moving|migrating|switching|"
    r"transitioned|went)\s+(?:away\s+)?(?:from|off(?: of)?)\s+(?:\w+\s+)?$|"
    r"\b(?:got rid of|dropped|ditched|cancell?ed|no longer (?:use|have|on)|stopped using|"
    r"used to (?:use|have|be on))\s+(?:\w+\s+)?$"
)
_LEFT_AFTER = re.compile(r"^\s*(?:is|'s|are)\s+(?:gone|dead|out|history|finished)\b")
# "built for X shops" describes another product's buyers; "we're X users" is the caller.
_SHOP_AFTER = re.compile(r"^\s+(?:shops?|houses?|users|customers|people|teams|companies|orgs?)\b")
_SHOP_BEFORE = re.compile(r"\b(?:not|ain't|aren't|isn't)\s+(?:a|an)\s+$|\bfor\s+$")
# "does it work with X? actually, no, forget it": the caller takes the question back.
_RETRACT = re.compile(
    r"^[^.?!]*\?\s*(?:\w+[,.]?\s+){0,3}?(?:forget (?:it|that|about it)|never ?mind|"
    r"scratch that|i don't need (?:it|that)|we don't need (?:it|that)|doesn't matter)"
)
_AFTER_NOUN = re.compile(r"^\s*(?:is|of|are|has|was|team)\b")


def brand_ok(low: str, hit: Hit, vocab: Vocab) -> bool:
    """Reject split product names read as plain words ("we can sign now", "our sales force is")."""
    surface = low[hit.start : hit.end]
    parts = re.split(r"[\s-]+", surface)
    if len(parts) < 2 or not all(p in vocab.plain_words for p in parts):
        return True
    before, after = low[max(0, hit.start - 20) : hit.start], low[hit.end : hit.end + 12]
    if parts[0] in vocab.plain_verbs and lang.VERB_BEFORE.search(before):
        return False
    return not (lang.DET_BEFORE.search(before) and _AFTER_NOUN.match(after))


def dropped(low: str, start: int, end: int) -> bool:
    """The caller names the tool only to say it is gone, foreign, or not wanted after all."""
    before, after = low[max(0, start - 40) : start], low[end : end + 80]
    if _LEFT_BEFORE.search(before):
        return True
    if _SHOP_BEFORE.search(before) and _SHOP_AFTER.match(after):
        return True
    if _LEFT_AFTER.match(after):
        return True
    return bool(_RETRACT.match(after))


@dataclass
class BrandResult:
    values: dict[str, list[str]] = field(default_factory=dict)  # brands field -> ids
    current: str | None = None
    manual: str | None = None


class _Pass:
    """State of the one pass over the caller's turns."""

    def __init__(self, vocab: Vocab, ev: Evidence) -> None:
        self.vocab, self.ev = vocab, ev
        roles = vocab.roles
        self.res = BrandResult({f: [] for f in (*roles.present_brands, *roles.any_brands)})
        self.tool_field = roles.current_tool
        self.none_id = vocab.role_id(roles.current_tool, "none")

    def add(self, fname: str, vid: str, t: UTurn, start: int | None = None) -> None:
        ids = self.res.values[fname]
        if vid not in ids:
            ids.append(vid)
        self.ev.add(fname, t, start)

    def turn(self, t: UTurn) -> None:
        vocab, roles = self.vocab, self.vocab.roles
        hits = [h for h in t.brands if brand_ok(t.low, h, vocab)]
        tool_asked = self.tool_field is not None and self.tool_field in t.asked
        nothing_yet = not hits and tool_asked and lang.NOTHING_YET.search(t.low)
        if nothing_yet and self.res.manual is None and self.none_id and self.tool_field:
            self.res.manual = self.none_id
            self.ev.add(self.tool_field, t)
        alternatives = (
            bool(hits)
            and bool(t.agent_low)
            and bool(lang.Q_ALTERNATIVES.search(t.agent_low[-200:]))
        )
        if not hits and lang.AFFIRM.search(t.low) and t.agent_low and "?" in t.agent_low[-200:]:
            self._confirmed(t)
        first_in_answer = True
        for h in hits:
            fname, vid = vocab.family(h)
            if fname in roles.any_brands:
                self._any_tense(t, h, fname, vid, alternatives, first_in_answer, tool_asked)
                first_in_answer = False
            elif fname in roles.present_brands:
                self._present(t, h, fname, vid)
            elif fname == self.tool_field:
                self._manual(t, h, vid)

    def _confirmed(self, t: UTurn) -> None:
        """ "So you're on X?" - "yes": the caller confirms the agent's one named product."""
        present = self.vocab.roles.present_brands
        agent_hits = [
            h
            for h in self.vocab.brands.find(t.agent_low[-200:])
            if self.vocab.family(h)[0] in present
        ]
        if len({h.id for h in agent_hits}) == 1:
            fname, vid = self.vocab.family(agent_hits[0])
            if vid not in self.res.values[fname]:
                self.add(fname, vid, t)

    def _any_tense(
        self,
        t: UTurn,
        h: Hit,
        fname: str,
        vid: str,
        alternatives: bool,
        first_in_answer: bool,
        tool_asked: bool,
    ) -> None:
        self.add(fname, vid, t, h.start)
        if (
            self.tool_field is None
            or self.res.current is not None
            or fname not in self.vocab.spec(self.tool_field).values_from
            or negated(t.low, h.start, h.end)
            or alternatives
            or is_question_clause(t.low, h.start)
        ):
            return
        span = clause_bounds(t.low, h.start)
        clause = t.low[span.start : span.end]
        if not lang.EVALUATING.search(clause) and (
            lang.PRESENT.search(clause) or (tool_asked and first_in_answer)
        ):
            self.res.current = vid
            self.ev.add(self.tool_field, t, h.start)

    def _present(self, t: UTurn, h: Hit, fname: str, vid: str) -> None:
        if lang.MAKER_ONE.match(t.low[h.end :]):
            return  # "hello sign, the dropbox one": a maker naming its product
        if dropped(t.low, h.start, h.end):
            return
        if not negated(t.low, h.start, h.end) and vid not in self.res.values[fname]:
            self.add(fname, vid, t, h.start)

    def _manual(self, t: UTurn, h: Hit, vid: str) -> None:
        manual = self.res.manual
        instead = lang.INSTEAD_OF_MINE.search(t.low[max(0, h.start - 30) : h.start])
        if (not negated(t.low, h.start, h.end) or instead) and (
            manual is None or (manual == self.none_id and vid != self.none_id)
        ):
            self.res.manual = vid  # a stated manual process outranks "nothing really"
            self.ev.add(self.tool_field or "", t, h.start)


def read_brands(turns: list[UTurn], vocab: Vocab, ev: Evidence) -> BrandResult:
    state = _Pass(vocab, ev)
    for t in turns:
        state.turn(t)
    return state.res
