"""Sales insights beyond the scored signals (``insights.*``), from the caller's words.

Buying signals, stakeholders, switching barriers, feature requests, location, urgency, key
quotes, pain points and use cases. Every business word (feature names, the cue phrases of a
buying signal or a stakeholder role) comes from the profile's ``insights:`` section and its
field vocabularies; the code only knows sentence structure (where a name sits next to a role,
how a place follows "based in").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from callscope.analyze.modules import vocab
from callscope.analyze.registry import Result, registry
from callscope.analyze.text.normalize import normalize
from callscope.analyze.text.phrases import Hit, PhraseMatcher
from callscope.analyze.view import CallView, Turn
from callscope.profile.model import Profile

VERSION = "1.0.0"
_KEY_QUOTES_MIN, _KEY_QUOTES_MAX = 3, 5
_QUOTE_MIN_WORDS = 5
_BARRIER_GROUP, _FEATURE_GROUP, _BUY_GROUP = "barrier", "feature", "buy"
_ROLE_GROUP, _INTEREST_GROUP, _URGENCY_GROUP, _USE_GROUP = "role", "interest", "urgency", "use"

# A name said next to a role: "run it by Marco, our founder", "our CFO, Dana", "take it to dale,
# he's the owner". Pronouns and determiners are not names.
_NAME_BEFORE = re.compile(
    r"\b(?:by|to|with|ask|asking|and|from|tell|convince)\s+([a-z][a-z'-]{1,20}),?\s+"
    r"(?:(?:he|she)(?:'s| is)\s+|who(?:'s| is)\s+|our\s+|my\s+|the\s+)*$"
)
# After the role only an apposition is a name ("our CFO, Dana"): without the comma the next
# word is the sentence going on ("<role> separately", "our <team> has").
_NAME_AFTER = re.compile(
    r"^,\s+(?:(?:mr|mrs|ms|dr)\.?\s+)?([a-z][a-z'-]{1,20})\b(?=\s*(?:,|\.|$|who|signs|has|is|does))"
)
_NOT_NAMES = frozenset(
    [
        "him",
        "her",
        "them",
        "it",
        "me",
        "us",
        "you",
        "he",
        "she",
        "they",
        "we",
        "the",
        "our",
        "my",
        "a",
        "an",
        "this",
        "that",
        "who",
        "which",
        "someone",
        "everyone",
        "anyone",
        "somebody",
        "whoever",
        "first",
        "then",
    ]
)
# Where the caller says they are: "here in Austin", "based out of Phoenix", "clinics around
# Atlanta". Up to three words, stopped by punctuation or a clause word.
_PLACE = re.compile(
    r"\b(?:here in|based in|based out of|located in|headquartered in|offices? in|"
    r"(?:clinics?|sites?|locations?|stores?|branches) (?:around|in)|we're in|we are in|"
    r"(?:agency|firm|company|practice|brokerage|office|shop|group|business|school|college) in)\s+"
    r"((?:[a-z][a-z.'-]*\s?){1,3}?)(?=\s*(?:[,.;!?]|\band\b|\bwe\b|\bbut\b|\bso\b|\bthat\b|$))"
)
_PLACE_STOP = frozenset(
    [
        "the",
        "a",
        "an",
        "our",
        "my",
        "this",
        "that",
        "it",
        "there",
        "here",
        "town",
        "office",
        "house",
        "business",
        "terms",
        "general",
        "mind",
        "question",
        "line",
        "person",
        "charge",
    ]
)


@dataclass(frozen=True)
class _Vocab:
    profile: Profile
    matcher: PhraseMatcher


_CACHE: dict[int, _Vocab] = {}


def _vocab(profile: Profile) -> PhraseMatcher:
    found = _CACHE.get(id(profile))
    if found is not None and found.profile is profile:
        return found.matcher
    cfg = profile.insights
    lists: dict[str, Mapping[str, list[str]]] = {
        _BUY_GROUP: cfg.buying_signals,
        _ROLE_GROUP: cfg.stakeholders,
        _BARRIER_GROUP: cfg.switching_barriers,
        _FEATURE_GROUP: {fid: [f.label.lower(), *f.synonyms] for fid, f in cfg.features.items()},
        _INTEREST_GROUP: {str(k): v for k, v in cfg.interest.items()},
        _URGENCY_GROUP: {str(k): v for k, v in cfg.urgency.items()},
        _USE_GROUP: vocab.synonyms(profile, "use_case"),
    }
    matcher = PhraseMatcher(lists)
    _CACHE[id(profile)] = _Vocab(profile, matcher)
    return matcher


@dataclass
class _Read:
    turn: Turn
    low: str
    hits: list[Hit]

    def of(self, group: str) -> list[Hit]:
        return [h for h in self.hits if h.group == group]


def _title(words: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in words.split())


def _stakeholder(read: _Read, hit: Hit, decision_makers: list[str]) -> dict[str, Any]:
    low = read.low
    before = _NAME_BEFORE.search(low[max(0, hit.start - 60) : hit.start])
    after = _NAME_AFTER.match(low[hit.end : hit.end + 30])
    name = None
    for m in (before, after):
        if m and m.group(1) not in _NOT_NAMES:
            name = m.group(1)
            break
    if name is None:
        near = low[max(0, hit.start - 60) : hit.end + 30]
        name = next((d for d in decision_makers if re.search(rf"\b{re.escape(d)}\b", near)), None)
        if name is not None and hit.id in name:
            name = None  # "founder" listed as a decision maker is the role, not a name
    return {
        "role": hit.id,
        "name": _title(name) if name else None,
        "quote": vocab.clip(read.turn.text),
        "turn": read.turn.index,
    }


def _interest(read: _Read) -> str:
    levels = {h.id for h in read.of(_INTEREST_GROUP)}
    return next((lvl for lvl in ("high", "low") if lvl in levels), "medium")


def _location(view: CallView, reads: list[_Read], keys: list[str]) -> str | None:
    for read in reads:
        for m in _PLACE.finditer(read.low):
            words = m.group(1).strip(" .'-").split()
            if words and words[0] not in _PLACE_STOP:
                return _title(" ".join(words))
    meta = view.record.participant.metadata if view.record.participant else None
    if isinstance(meta, Mapping):
        for key in keys:
            if isinstance(meta.get(key), str) and meta[key].strip():
                return str(meta[key]).strip()
    device = view.record.connection.device if view.record.connection else None
    where = getattr(device, "location", None) if device is not None else None
    return str(where) if isinstance(where, str) and where.strip() else None


def _urgency(profile: Profile, upstream: Mapping[str, Result], reads: list[_Read]) -> str:
    cfg = profile.insights
    levels = {h.id for r in reads for h in r.of(_URGENCY_GROUP)}
    timeline = vocab.signal(upstream, "timeline")
    if isinstance(timeline, str) and timeline in cfg.urgency_from_timeline:
        levels.add(cfg.urgency_from_timeline[timeline])
    return next((lvl for lvl in ("high", "medium") if lvl in levels), "low")


def _buying_signals(reads: list[_Read], upstream: Mapping[str, Result]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    for read in reads:
        for hit in read.of(_BUY_GROUP):
            if (hit.id, read.turn.index) not in seen:
                seen.add((hit.id, read.turn.index))
                out.append(
                    {"kind": hit.id, "quote": vocab.clip(read.turn.text), "turn": read.turn.index}
                )
    # A stated near-term timeline is a start date named, whatever words carried it.
    timeline = vocab.signal(upstream, "timeline")
    kinds = {s["kind"] for s in out}
    if timeline and timeline != "later" and "named_start_date" not in kinds:
        for ev in vocab.evidence(upstream, "timeline")[:1]:
            out.append(
                {"kind": "named_start_date", "quote": vocab.clip(ev["quote"]), "turn": ev["turn"]}
            )
    return sorted(out, key=lambda s: int(s["turn"]))


def _barriers(
    profile: Profile, reads: list[_Read], upstream: Mapping[str, Result]
) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for oid in profile.insights.barrier_objections:
        for ev in vocab.evidence(upstream, f"objection:{oid}")[:1]:
            out[oid] = {"barrier": oid, "quote": vocab.clip(ev["quote"]), "turn": ev["turn"]}
    for read in reads:
        for hit in read.of(_BARRIER_GROUP):
            out.setdefault(
                hit.id,
                {"barrier": hit.id, "quote": vocab.clip(read.turn.text), "turn": read.turn.index},
            )
    return sorted(out.values(), key=lambda b: int(b["turn"]))


def _key_quotes(reads: list[_Read], upstream: Mapping[str, Result]) -> list[dict[str, Any]]:
    """The caller turns carrying most facts: evidence behind signals, then insight cues."""
    weight: dict[int, float] = {}
    sales = upstream.get("sales") or {}
    for items in (sales.get("evidence") or {}).values():
        for ev in items if isinstance(items, list) else []:
            if isinstance(ev, Mapping) and isinstance(ev.get("turn"), int):
                weight[ev["turn"]] = weight.get(ev["turn"], 0.0) + 2.0
    ranked = []
    for read in reads:
        words = len(read.turn.text.split())
        if words < _QUOTE_MIN_WORDS:
            continue
        w = weight.get(read.turn.index, 0.0) + len(read.hits) + min(words, 40) / 40
        ranked.append((w, read))
    ranked.sort(key=lambda p: (-p[0], p[1].turn.index))
    chosen = [r for w, r in ranked[:_KEY_QUOTES_MAX] if w >= 1.0 or len(ranked) <= 3]
    if len(chosen) < _KEY_QUOTES_MIN:
        chosen = [r for _, r in ranked[:_KEY_QUOTES_MIN]]
    return [
        {"quote": vocab.clip(r.turn.text), "turn": r.turn.index}
        for r in sorted(chosen, key=lambda r: r.turn.index)
    ]


def _features(reads: list[_Read]) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for read in reads:
        for hit in read.of(_FEATURE_GROUP):
            item = {
                "feature": hit.id,
                "interest": _interest(read),
                "quote": vocab.clip(read.turn.text),
                "turn": read.turn.index,
            }
            prev = out.get(hit.id)
            # A later, stronger statement of the same need replaces a weaker one.
            if prev is None or _RANK[str(item["interest"])] > _RANK[str(prev["interest"])]:
                out[hit.id] = item
    return sorted(out.values(), key=lambda f: int(f["turn"]))


_RANK = {"low": 0, "medium": 1, "high": 2}


@registry.register("insights", VERSION, requires=("sales",))
def analyze_insights(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    matcher = _vocab(profile)
    reads = []
    for t in vocab.caller_turns(view):
        low = normalize(t.text)
        reads.append(_Read(t, low, matcher.find(low)))
    sales = upstream.get("sales") or {}
    # A decision maker said as a role ("my boss", "our finance team") is not a name.
    role_words = {
        w for cues in profile.insights.stakeholders.values() for c in cues for w in c.split()
    }
    makers = [
        d
        for d in (str(d).lower() for d in sales.get("decision_makers") or [])
        if not set(d.split()) <= role_words
    ]
    stakeholders = [_stakeholder(r, h, makers) for r in reads for h in r.of(_ROLE_GROUP)]
    use_case = vocab.signal(upstream, "use_case")
    use_cases = [use_case] if isinstance(use_case, str) else []
    for r in reads:
        use_cases += [h.id for h in r.of(_USE_GROUP) if h.id not in use_cases]
    return {
        "buying_signals": _buying_signals(reads, upstream),
        "stakeholders": _dedupe_roles(stakeholders),
        "switching_barriers": _barriers(profile, reads, upstream),
        "feature_requests": _features(reads),
        "location": _location(view, reads, profile.insights.location_metadata_keys),
        "urgency": _urgency(profile, upstream, reads),
        "key_quotes": _key_quotes(reads, upstream),
        "pain_points": list(sales.get("pain_points") or []),
        "use_cases": use_cases,
    }


def _dedupe_roles(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per role; a named mention beats an unnamed one."""
    out: dict[str, dict[str, Any]] = {}
    for item in items:
        prev = out.get(item["role"])
        if prev is None or (prev["name"] is None and item["name"] is not None):
            out[item["role"]] = item
    return sorted(out.values(), key=lambda s: int(s["turn"]))
