"""Caller turns prepared once per call: normalised text, what the agent just asked, hits.

Only the caller's words count. The agent's turns are read for one thing: what it just asked,
so a bare "eight." answers the field whose cue question came before it, and a caller's
"yes, exactly" confirms the value the agent put in its question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from callscope.analyze.engine import language as lang
from callscope.analyze.engine.vocab import BRAND_GROUP, Vocab
from callscope.analyze.text.normalize import (
    NUMBERISH,
    clause_bounds,
    join_letters,
    next_clause,
    normalize,
    to_digits,
)
from callscope.analyze.text.phrases import Hit
from callscope.analyze.view import CallView

MEETING = "meeting"  # the booking question: not a profile field


@dataclass
class UTurn:
    """One caller turn with what extraction needs."""

    index: int
    text: str
    low: str
    digits: str
    asked: frozenset[str]  # profile fields (and "meeting") the agent's question was about
    agent_low: str
    agent_index: int | None
    brands: list[Hit]
    topics: list[Hit]
    prev_user_low: str = ""
    product_subject: re.Pattern[str] | None = None
    _third: re.Match[str] | bool | None = False  # False: not searched yet
    _approver: re.Match[str] | bool | None = False

    def third_party(self) -> re.Match[str] | None:
        """Someone else approves or decides ("my CFO signs off"), searched once per turn."""
        if self._third is False:
            self._third = self._find_third_party()
        return self._third if isinstance(self._third, re.Match) else None

    def _find_third_party(self) -> re.Match[str] | None:
        low = self.low
        if not any(v in low for v in lang.APPROVAL_VERBS) or lang.JOINT.search(low):
            return None
        found = lang.THIRD_PARTY.search(low)
        if found is None:
            return None
        if self.product_subject is not None and self.product_subject.match(found.group()):
            return None  # a form the document's signers approve, not a buyer
        if lang.CHOOSE_ASKED.search(found.group()):
            # "they can pick the package themselves?": a question about what the document's
            # recipients may choose, not about who approves the purchase.
            tail = low[found.end() : found.end() + 80]
            if re.match(r"[^.!?]*\?", tail):
                return None
        return found

    def approver(self) -> re.Match[str] | None:
        """Someone else's approval, as a clause ("my CFO signs off") or a noun ("her okay")."""
        if self._approver is False:
            low = self.low
            found = self.third_party() or (
                (lang.OTHERS_APPROVAL.search(low) or lang.CHECK_WITH.search(low))
                if lang.APPROVER_HINT.search(low)
                else None
            )
            if found is not None and (
                lang.RECIPIENT.search(found.group())
                or lang.NOBODY.search(low[max(0, found.start() - 20) : found.start()])
            ):
                found = None  # "the customer can just approve", "nobody else needs to sign off"
            if found is None and (
                "through" in low or "myself" in low or "can't" in low or "to go " in low
            ):
                found = lang.GATEKEEPER.search(low)
            self._approver = found
        return self._approver if isinstance(self._approver, re.Match) else None


@dataclass
class Evidence:
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def add(self, signal: str, turn: UTurn, start: int | None = None) -> None:
        quote = sentence_at(turn.text, turn.low, start) if start is not None else turn.text
        entries = self.items.setdefault(signal, [])
        if not any(e["turn"] == turn.index and e["quote"] == quote for e in entries):
            entries.append({"quote": quote, "turn": turn.index})


def sentence_at(text: str, low: str, pos: int) -> str:
    # ``low`` is ``text`` lower-cased with the same length when no typographic marks changed it.
    src = text if len(text) == len(low) else low
    start = max(src.rfind(". ", 0, pos), src.rfind("? ", 0, pos), src.rfind("! ", 0, pos))
    start = 0 if start < 0 else start + 2
    ends = [i for i in (src.find(". ", pos), src.find("? ", pos), src.find("! ", pos)) if i >= 0]
    end = min(ends) + 1 if ends else len(src)
    return src[start:end].strip()


def _how_many_field(words: list[str], vocab: Vocab) -> str | None:
    """Which number field "how many <words>" asks about: by unit words, people, or rate."""
    roles = vocab.roles
    for fname in roles.numbers:
        units = vocab.spec(fname).unit_words
        if units and any(w in units for w in words):
            return fname
    if any(lang.PEOPLE_WORD.fullmatch(w) for w in words) or (
        words and words[0] in ("of", "on") and "you" in words
    ):
        return roles.team
    return roles.rate


def questions(agent_low: str, vocab: Vocab) -> frozenset[str]:
    """The fields the agent's turn asks about (its last two sentences carry the question)."""
    tail = agent_low[-260:]
    asked: set[str] = set()
    for m in vocab.question.finditer(tail):
        kind = m.lastgroup or ""
        if kind == "how_many":
            words = m.group("how_many_words").split()[: lang.TEAM_Q_PEOPLE_LOOKAHEAD]
            target = _how_many_field(words, vocab)
            if target:
                asked.add(target)
        elif kind == MEETING:
            asked.add(MEETING)
        elif kind in vocab.cue_groups:
            asked.add(vocab.cue_groups[kind])
    team = vocab.roles.team
    if (
        team is not None
        and not asked.intersection(vocab.roles.numbers)
        and "?" in tail
        and NUMBERISH.search(tail)
        and lang.GUESS_TEAM.search(to_digits(tail))
    ):
        asked.add(team)
    return frozenset(asked)


def prepare(view: CallView, vocab: Vocab) -> list[UTurn]:
    out: list[UTurn] = []
    agent_low, agent_index = "", None
    prev_user = ""
    for turn in view.turns:
        if turn.is_agent:
            agent_low, agent_index = normalize(turn.text), turn.index
            continue
        if not turn.is_user or not turn.text.strip():
            continue
        low = join_letters(normalize(turn.text))
        hits = vocab.matcher.find(low)
        out.append(
            UTurn(
                index=turn.index,
                text=turn.text.strip(),
                low=low,
                digits=to_digits(low),
                asked=questions(agent_low, vocab) if agent_low else frozenset(),
                agent_low=agent_low,
                agent_index=agent_index,
                brands=[h for h in hits if h.group == BRAND_GROUP],
                topics=[h for h in hits if h.group != BRAND_GROUP],
                prev_user_low=prev_user,
                product_subject=vocab.product_subject,
            )
        )
        prev_user = low
        agent_low, agent_index = "", None  # a question is answered once
    return out


# "we moved to Salesforce last year": the past move is how they came to be on it now.
_ARRIVED_BEFORE = re.compile(
    r"\b(?:moved|switched|migrated|went|came over|changed|transitioned)\s+(?:over\s+|back\s+)?"
    r"(?:to|onto)\s+(?:\w+\s+)?$"
)


def negated(low: str, start: int, end: int) -> bool:
    """The mention is denied, past, or hypothetical in its clause (or the next one)."""
    span = clause_bounds(low, start)
    if _ARRIVED_BEFORE.search(low[max(span.start, start - 40) : start]):
        return bool(lang.NEG_BEFORE.search(low[span.start : start]))
    if lang.NEG_BEFORE.search(low[span.start : start]) or lang.NEG_AFTER.search(
        low[end : span.end]
    ):
        return True
    return bool(lang.NEG_NEXT.search(next_clause(low, max(end, span.end - 1))))


def is_question_clause(low: str, start: int) -> bool:
    span = clause_bounds(low, start)
    return low[span.end : span.end + 1] == "?"
