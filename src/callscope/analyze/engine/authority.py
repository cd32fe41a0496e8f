"""Who decides: the caller (role ``self``), someone the caller must win over (``approval``),
or a caller who evaluates for the one who decides (``influencer``).
"""

from __future__ import annotations

import re

from callscope.analyze.engine import language as lang
from callscope.analyze.engine.turns import Evidence, UTurn, sentence_at
from callscope.analyze.engine.vocab import Vocab

# "it's my bakery": said to "who decides?", owning the place answers it.
_MY_OWN = re.compile(r"\b(?:it's|it is) (?:all |just )?my (?:own )?[a-z]+\b")
_SELF_HINTS = ("sign", "approv", "okay", "green", "card", "expense", "pay for")
_DECIDES_HINTS = (
    "authority",
    "budget",
    "purse",
    "anything",
    "purchases",
    "power",
    "checks",
    "'s my",
)


def self_approves(low: str) -> bool:
    return any(w in low for w in _SELF_HINTS) and bool(lang.SELF_APPROVES.search(low))


def self_decides(low: str) -> bool:
    if not (
        any(w in low for w in _DECIDES_HINTS)
        or ("me " in low and ("decid" in low or "making" in low))
    ):
        return False
    m = lang.SELF_DECIDES.search(low)
    return m is not None and not lang.NEGATOR_NEAR.search(low[: m.start()])


def _caller_decides(t: UTurn, asked: bool) -> bool:
    answer_me = asked and lang.ANSWER_ME.search(t.low)
    return bool(
        answer_me
        or lang.TITLE_DM.search(t.low)
        or self_approves(t.low)
        or self_decides(t.low)
        or (asked and _MY_OWN.search(t.low))
    )


def _scan(t: UTurn, fname: str, vocab: Vocab, found: dict[str, UTurn]) -> None:
    asked = fname in t.asked
    not_me = bool(lang.NOT_ME.search(t.low)) and asked
    for h in t.topics:
        if h.group != fname:
            continue
        is_self = vocab.role_of(fname, h.id) == "self"
        if is_self and (not_me or lang.NEGATOR_NEAR.search(t.low[max(0, h.start - 25) : h.start])):
            continue
        found.setdefault(vocab.role_of(fname, h.id) or h.id, t)
    if "decide" in t.low and lang.JOINT.search(t.low):
        found.setdefault("self", t)
    third = t.approver()
    third_sentence = sentence_at(t.low, t.low, third.start()) if third else ""
    if third and not (
        vocab.workflow_approval.search(third_sentence) or lang.WAIVE.search(third_sentence)
    ):
        found.setdefault("approval", t)
        if lang.SELF_EVALUATES.search(t.low):
            found.setdefault("influencer", t)
    if not not_me and _caller_decides(t, asked):
        found.setdefault("self", t)


def read_authority(fname: str, turns: list[UTurn], vocab: Vocab, ev: Evidence) -> str | None:
    found: dict[str, UTurn] = {}
    weak: dict[str, UTurn] = {}
    for t in turns:
        _scan(t, fname, vocab, found)
        if ("me to" in t.low or "testing" in t.low) and lang.ASKED_TO_LOOK.search(t.low):
            weak.setdefault("influencer", t)
    # Someone else's say outranks the caller's own words about deciding.
    for role in ("influencer", "approval", "self"):
        vid = vocab.role_id(fname, role)
        if role in found and vid is not None:
            ev.add(fname, found[role])
            return vid
    for role, t in weak.items():
        vid = vocab.role_id(fname, role)
        if vid is not None:
            ev.add(fname, t)
            return vid
    return None
