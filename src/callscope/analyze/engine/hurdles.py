"""Hurdles the caller presents (objections): a concern waved off is none, a judgement of a
competitor is none, and money, approval, lock-in and missing capabilities are read from the
structure of what the caller says as well as from the profile's phrases.

Values take their meaning from their ``role``: cost, approval, lock_in, timing, switching,
complexity, feature_gap, integration_gap, compliance (or none: plain phrases).
"""

from __future__ import annotations

import re

from callscope.analyze.engine import language as lang
from callscope.analyze.engine.turns import Evidence, UTurn, sentence_at
from callscope.analyze.engine.vocab import Vocab
from callscope.analyze.text.normalize import to_digits
from callscope.analyze.text.phrases import Hit
from callscope.profile.model import Phrase

_SELF_NEGATING = re.compile(r"(?:can't|cannot|couldn't|don't|doesn't|not|no)\b")
_COST_WORDS = ("pric", "cost", "money", "budget", "plan", "subscri", "spend", "pay", "fee", "tier")
_HIGH_WORDS = ("high", "steep", "expensive", "a lot", "too much")
_BIG_WORDS = (
    "lot", "too much", "steep", "ridiculous", "stretch", "crazy", "insane",
    "t pay", "na pay", "to pay",
)  # fmt: skip
_LOCK_WORDS = ("contract", "agreement", "commitment", "deal")
_LEARN_TAIL = re.compile(r"\blearn$")


def mentions_cost(low: str) -> bool:
    return any(w in low for w in _COST_WORDS)


def _about_other_tool(t: UTurn, vocab: Vocab, pos: int, integration: bool = False) -> bool:
    """A judgement about a product the caller names in this or the previous sentence.

    "we're moving off X. it's gotten so pricey" complains about X, not about us; "yours is a
    lot more" or "more than we pay X" is about us.
    """
    low = t.low
    sentence_start = max(low.rfind(". ", 0, pos), low.rfind("? ", 0, pos), low.rfind("! ", 0, pos))
    sentence = sentence_at(low, low, pos)
    if vocab.about_us.search(sentence):
        return False
    if lang.CURRENT_THING.search(sentence):
        return True
    prev_start = max(
        low.rfind(". ", 0, max(0, sentence_start)),
        low.rfind("? ", 0, max(0, sentence_start)),
        low.rfind("! ", 0, max(0, sentence_start)),
    )
    lo = prev_start + 1 if sentence_start >= 0 else 0
    # An integration gap names the system it is about; any other judgement names its subject.
    roles = vocab.roles
    families = roles.any_brands if integration else (*roles.any_brands, *roles.present_brands)
    # "X is less than that. the price has to come down": the product named is the yardstick
    # our price is measured against, so the judgement is about us.
    if sentence_start >= 0 and vocab.about_us.search(low[lo:sentence_start]):
        return False
    return any(lo <= h.start < pos and vocab.family(h)[0] in families for h in t.brands)


class _Reader:
    def __init__(self, fname: str, vocab: Vocab, ev: Evidence) -> None:
        self.fname, self.vocab, self.ev = fname, vocab, ev
        self.spec = vocab.spec(fname)
        self.out: list[str] = []
        self.conditions: dict[str, Phrase] = {}
        for value in self.spec.values.values():
            self.conditions.update(value.conditions())
        self.authority = vocab.roles.authority

    def role(self, vid: str) -> str | None:
        return self.vocab.role_of(self.fname, vid)

    def add_role(self, role: str, t: UTurn, pos: int) -> bool:
        vid = self.vocab.role_id(self.fname, role)
        if vid is None:
            return False
        self.add(vid, t, pos)
        return True

    def add(self, vid: str, t: UTurn, pos: int) -> None:
        if vid not in self.out:
            self.out.append(vid)
        self.ev.add(f"{self.fname}:{vid}", t, pos)

    def has_role(self, role: str) -> bool:
        return any(self.role(v) == role for v in self.out)

    def decision_asked(self, t: UTurn) -> bool:
        return self.authority is not None and self.authority in t.asked

    # --- the profile's phrases -------------------------------------------------------------

    def _phrase_ok(self, t: UTurn, h: Hit, sentence: str) -> bool:
        cond = self.conditions.get(h.phrase)
        if cond is None:
            return True
        before = t.low[max(0, h.start - 30) : h.start]
        if "cost_context" in cond.needs and not (
            mentions_cost(sentence) or mentions_cost(t.agent_low[-200:])
        ):
            return False  # "this is too much for us" after the screens confused them
        if "term_context" in cond.needs and not lang.TERM_WORDS.search(sentence):
            return False  # "if it tied into our CRM": systems joined up, not a contract
        if "department" in cond.unless and (
            lang.DEPARTMENT_BEFORE.search(before) or lang.DEPARTMENT_AFTER.match(t.low[h.end :])
        ):
            return False
        return not ("learn_more" in cond.unless and lang.LEARN_MORE.match(t.low[h.end :]))

    def _skip(self, t: UTurn, h: Hit, sentence: str) -> bool:
        role = self.role(h.id)
        before = t.low[max(0, h.start - 30) : h.start]
        value = self.spec.values[h.id]
        return bool(
            lang.WAIVE.search(sentence)
            or (
                lang.NEGATOR_NEAR.search(t.low[max(0, h.start - 25) : h.start])
                and not _SELF_NEGATING.match(h.phrase)
                and not lang.CONDITION.search(before)
            )
            or (role == "approval" and self._approval_is_authority(t, h))
            or not self._phrase_ok(t, h, sentence)
            or (
                role in ("feature_gap", "integration_gap")
                and lang.WORKED_AROUND.search(t.low[h.end : h.end + 80])
            )
            or (
                value.judges_product
                and not lang.SEARCHED.search(h.phrase)
                and _about_other_tool(t, self.vocab, h.start, role == "integration_gap")
            )  # "we demoed X, too complicated": a complaint about them
            or self.vocab.product_modifier.match(t.low[h.end :])
            or (
                role == "timing"
                and (lang.TIME_ANCHOR.search(before) or lang.PAST_STATE.search(before))
            )  # "we looked last year, it was bad timing": a reason gone by
            or (role == "complexity" and lang.NOT_PRODUCT.search(sentence))
            or (role == "switching" and lang.PLANNED.search(before))
        )

    def _approval_is_authority(self, t: UTurn, h: Hit) -> bool:
        """Answering "who decides?" describes authority; it is no hurdle."""
        must = lang.MUST_CLEAR.search(t.low)
        return bool(
            (self.decision_asked(t) and not must)
            or (lang.SELF_EVALUATES.search(t.low) and not must)
            or lang.APPROVAL_NOUN.match(t.low[h.end :])
        )

    def phrases(self, t: UTurn) -> bool:
        found = False
        for h in t.topics:
            if h.group != self.fname:
                continue
            sentence = sentence_at(t.low, t.low, h.start)
            if self._skip(t, h, sentence):
                continue
            before = t.low[max(0, h.start - 30) : h.start]
            if (
                self.role(h.id) == "complexity"
                and _LEARN_TAIL.search(h.phrase)
                and lang.NO_TIME.search(before)
                and lang.WHEN_WORD.search(sentence)
            ):
                found |= self.add_role("timing", t, h.start)  # "nobody has time to learn it"
                continue
            self.add(h.id, t, h.start)
            found = True
        return found

    # --- structure: approval, money, lock-in, gaps ----------------------------------------

    def approval(self, t: UTurn) -> bool:
        h = t.approver()
        if not h:
            return False
        sentence = sentence_at(t.low, t.low, h.start())
        burden = lang.MUST_CLEAR.search(t.low) or lang.APPROVAL_BURDEN.search(t.low)
        if (
            (not self.decision_asked(t) or burden)
            and not lang.SELF_EVALUATES.search(t.low)
            and not lang.WAIVE.search(sentence)
            and not self.vocab.workflow_approval.search(sentence)
        ):
            return self.add_role("approval", t, h.start())
        return False

    def _price_judged(self, t: UTurn) -> re.Match[str] | None:
        if not any(w in t.low for w in _BIG_WORDS):
            return None
        judged = lang.BIG_JUDGE.search(t.low)
        if not judged:
            return None
        denied = lang.NEGATED_SPAN.search(t.low[max(0, judged.start() - 12) : judged.end()])
        priced = (
            lang.PRICE_CONTEXT.search(t.low)
            or lang.PRICE_CONTEXT.search(t.digits)
            or lang.PRICE_CONTEXT.search(to_digits(t.agent_low))
        )
        if (
            (judged.group("refuse") or not denied)
            and priced
            and not _about_other_tool(t, self.vocab, judged.start())
        ):
            return judged
        return None

    def _price(self, t: UTurn) -> re.Match[str] | None:
        price = lang.PRICE_HIGH.search(t.low) if any(w in t.low for w in _HIGH_WORDS) else None
        if price is None and mentions_cost(t.low):
            price = self.vocab.price_condition.search(t.low)
            burden = None if price else lang.PRICE_BURDEN.search(t.low)
            if (
                burden
                and not lang.NEGATED_SPAN.search(burden.group())
                and not _about_other_tool(t, self.vocab, burden.start())
            ):
                price = burden
        if price is None:
            price = self._price_judged(t)
        if price is None and lang.HURDLE_ASKED.search(t.agent_low[-200:]):
            price = lang.NAMED_HURDLE.search(t.low)
        return price

    def cost(self, t: UTurn) -> bool:
        price = self._price(t)
        if price is None:
            return False
        sentence = sentence_at(t.low, t.low, price.start())
        if (
            lang.WAIVE.search(sentence)
            or (self.has_role("lock_in") and lang.DOUBLE_PAY.search(sentence))
            or (lang.TOO_MUCH_WORK.search(sentence) and not mentions_cost(sentence))
        ):
            return False
        return self.add_role("cost", t, price.start())

    def lock_in(self, t: UTurn) -> bool:
        if not any(w in t.low for w in _LOCK_WORDS):
            return False
        locked = lang.IN_CONTRACT.search(t.low)
        if locked and not lang.NEGATOR_NEAR.search(
            t.low[max(0, locked.start() - 25) : locked.start()]
        ):
            return self.add_role("lock_in", t, locked.start())
        return False

    def gap(self, t: UTurn, found_here: bool) -> None:
        hurdle = lang.HURDLE.search(t.low)
        if not hurdle:
            return
        sentence = sentence_at(t.low, t.low, hurdle.start())
        if lang.WAIVE.search(sentence):
            return
        if lang.MONEY.search(sentence) and not (
            self.has_role("lock_in") and lang.DOUBLE_PAY.search(sentence)
        ):
            self.add_role("cost", t, hurdle.start())
            return
        user_lack = self.vocab.lack_user.search(t.low)
        lack = user_lack or lang.LACK_AGENT.search(t.agent_low)
        if not lack or (found_here and not user_lack):
            return
        # A lack the caller states is read in the caller's words (and the products they
        # name); one the agent admits is read with the agent's turn as well.
        if user_lack:
            integration = bool(self.vocab.integration_talk.search(t.low)) or any(
                self.vocab.family(b)[0] in self.vocab.roles.present_brands for b in t.brands
            )
        else:
            window = " ".join((t.low, t.agent_low, t.prev_user_low))
            integration = bool(self.vocab.integration_talk.search(window))
        self.add_role("integration_gap" if integration else "feature_gap", t, hurdle.start())

    def turn(self, t: UTurn) -> None:
        found_here = self.phrases(t)
        found_here |= self.approval(t)
        found_here |= self.cost(t)
        found_here |= self.lock_in(t)
        self.gap(t, found_here)


def read_hurdles(fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence) -> list[str]:
    reader = _Reader(fname, vocab, ev)
    for t in turns:
        reader.turn(t)
    return reader.out
