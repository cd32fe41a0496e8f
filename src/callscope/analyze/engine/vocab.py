"""A profile compiled for the engine: phrase dictionaries, cue questions, roles and patterns.

Built once per profile and reused for every session. Everything business-specific the
readers need comes from here, so the readers themselves hold only language structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from callscope.analyze.text.phrases import Hit, PhraseMatcher
from callscope.profile.model import FieldSpec, Profile

NEVER = re.compile(r"(?!x)x")
BRAND_GROUP = "brand"


def alternation(words: list[str]) -> str:
    """A regex alternation of literal phrases (spaces match any whitespace), longest first."""
    if not words:
        return NEVER.pattern
    parts = sorted({re.escape(w.lower()).replace(r"\ ", r"\s+") for w in words}, key=len)
    return "(?:" + "|".join(reversed(parts)) + ")"


def _nouns(words: list[str]) -> str:
    if not words:
        return NEVER.pattern
    return "(?:" + "|".join(re.escape(w.lower()) for w in words) + ")s?"


@dataclass(frozen=True, slots=True)
class Roles:
    """Which profile field each generic reader fills (None: the profile has no such field)."""

    team: str | None  # a count of people (reader ``count``)
    rate: str | None  # a count per period (reader ``rate``)
    numbers: tuple[str, ...]  # every number field
    present_brands: tuple[str, ...]  # products in use or wanted (tense: present)
    any_brands: tuple[str, ...]  # products named in any tense (competitors)
    current_tool: str | None
    job: str | None
    identity: str | None
    authority: str | None
    timeline: str | None
    hurdles: str | None


@dataclass(frozen=True, slots=True)
class Vocab:
    profile: Profile
    roles: Roles
    matcher: PhraseMatcher  # brands and topics in one pass over each caller turn
    brands: PhraseMatcher
    question: re.Pattern[str]
    cue_groups: dict[str, str]  # regex group name -> field
    vendor: str  # alternation of the names callers use for the company itself
    about_us: re.Pattern[str]
    lack_user: re.Pattern[str]
    price_condition: re.Pattern[str]
    product_subject: re.Pattern[str]
    workflow_approval: re.Pattern[str]
    product_modifier: re.Pattern[str]
    integration_talk: re.Pattern[str]
    plain_words: frozenset[str]
    plain_verbs: frozenset[str]
    patterns: dict[tuple[str, str], tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    fallbacks: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)
    job_names: dict[tuple[str, str], re.Pattern[str]] = field(default_factory=dict)
    field_patterns: dict[str, tuple[re.Pattern[str], ...]] = field(default_factory=dict)

    def family(self, hit: Hit) -> tuple[str, str]:
        """``(field, value id)`` of a brand hit."""
        fname, _, vid = hit.id.partition(":")
        return fname, vid

    def spec(self, name: str) -> FieldSpec:
        return self.profile.fields[name]

    def role_id(self, field_name: str | None, role: str) -> str | None:
        """The value id playing ``role`` in a field (the first one declared)."""
        if field_name is None:
            return None
        ids = self.profile.fields[field_name].ids_with_role(role)
        return ids[0] if ids else None

    def role_of(self, field_name: str, value_id: str) -> str | None:
        spec = self.profile.fields[field_name].values.get(value_id)
        return spec.role if spec else None


def _roles(profile: Profile) -> Roles:
    by = profile.fields_read_by
    brands = by("brands")
    return Roles(
        team=profile.field_read_by("count"),
        rate=profile.field_read_by("rate"),
        numbers=tuple(n for n, s in profile.fields.items() if s.kind == "number"),
        present_brands=tuple(n for n in brands if profile.fields[n].tense == "present"),
        any_brands=tuple(n for n in brands if profile.fields[n].tense == "any"),
        current_tool=profile.field_read_by("current_tool"),
        job=profile.field_read_by("job"),
        identity=profile.field_read_by("identity"),
        authority=profile.field_read_by("authority"),
        timeline=profile.field_read_by("timeline"),
        hurdles=profile.field_read_by("hurdles"),
    )


def _matchers(profile: Profile) -> tuple[PhraseMatcher, PhraseMatcher]:
    brand_ids: dict[str, list[str]] = {}
    brand_fields = [*profile.fields_read_by("brands"), *profile.fields_read_by("current_tool")]
    for fname in brand_fields:
        for vid, value in profile.fields[fname].values.items():
            brand_ids[f"{fname}:{vid}"] = value.phrases()
    topics = {
        fname: {vid: v.phrases() for vid, v in spec.values.items()}
        for fname, spec in profile.fields.items()
        if spec.kind in ("one_of", "many_of") and fname not in brand_fields
    }
    for fname, spec in profile.fields.items():
        if spec.kind in ("yes_no", "text") and spec.synonyms:
            topics[fname] = {"mention": list(spec.synonyms)}
    return (
        PhraseMatcher({BRAND_GROUP: brand_ids, **topics}),
        PhraseMatcher({BRAND_GROUP: brand_ids}),
    )


def _cue_regex(spec: FieldSpec) -> str | None:
    parts = list(spec.cue_patterns)
    if spec.cues:
        parts.append(r"\b" + alternation(spec.cues) + r"\b")
    return "|".join(f"(?:{p})" for p in parts) if parts else None


def _question(profile: Profile) -> tuple[re.Pattern[str], dict[str, str]]:
    from callscope.analyze.engine import language as lang

    how_many = lang.HOW_MANY.pattern.replace("(", "(?P<how_many_words>", 1)
    groups: list[tuple[str, str]] = [("how_many", how_many)]
    cue_groups: dict[str, str] = {}
    for i, (fname, spec) in enumerate(profile.fields.items()):
        regex = _cue_regex(spec)
        if regex:
            gname = f"cue{i}"
            cue_groups[gname] = fname
            groups.append((gname, regex))
    groups.append(("meeting", lang.Q_MEETING.pattern))
    return re.compile("|".join(f"(?P<{g}>{p})" for g, p in groups)), cue_groups


def _vendor_patterns(profile: Profile, vendor: str) -> dict[str, re.Pattern[str]]:
    return {
        "about_us": re.compile(rf"\b(?:you|your|yours|{vendor}|{vendor}'s|than)\b"),
        "lack_user": re.compile(
            r"\bif (?:[\w'-]+ ){1,4}?(?:can't|cannot|doesn't|does not|"
            r"won't|isn't able|is not able|don't|do not)\b|\b(?:it|you) (?:can't|doesn't|"
            r"don't) (?:do|have|support)\b"
            # "so it won't print booklets": any capability the caller found missing
            rf"|\b(?:so|then|and) (?:it|you|{vendor}) (?:can't|cannot|won't|doesn't|does not) "
            r"[a-z]{3,}\b"
        ),
        "price_condition": re.compile(
            rf"\bif (?:your|{vendor}'s|the {vendor}) (?:[\w-]+ ){{0,2}}?"
            r"(?:price|pricing|cost|plan)s?\b"
            # "if you're not close to that price i'm not switching": our price at a yardstick
            rf"|\bif (?:you're|you are|{vendor} is|it's|it is) not (?:close to|near|under|below|"
            r"around|competitive with|in the same ballpark as) (?:that|their|the same|what)\b"
        ),
    }


def _product_patterns(profile: Profile) -> dict[str, re.Pattern[str]]:
    voc = profile.vocabulary
    nouns = _nouns(voc.product_nouns)
    return {
        # "the handbook sign off": a form the document's signers approve, not a buyer
        "product_subject": re.compile(rf"(?:my|our|the) {nouns}\b"),
        # approval inside the product's workflow ("before it goes out"), not of the purchase
        "workflow_approval": re.compile(
            r"\b(?:discount\w*|goes out|go out|before (?:it|they|we) (?:is |are )?"
            rf"(?:sent|send|goes|go)|(?:each|every) {nouns})\b"
        ),
        # "the confidentiality agreement" names a document, not a worry
        "product_modifier": re.compile(rf"^\s+{nouns}\b"),
        "integration_talk": re.compile(
            r"\b(?:integrat\w*|connect\w*|talks? to|sync\w*|pull\w*|push\w*|mapping|map|"
            rf"plug[- ]?ins?|native|{alternation(voc.integration_words)})\b"
        ),
    }


def _value_patterns(
    profile: Profile,
) -> tuple[
    dict[tuple[str, str], tuple[re.Pattern[str], ...]],
    dict[str, tuple[re.Pattern[str], ...]],
    dict[tuple[str, str], re.Pattern[str]],
    dict[str, tuple[re.Pattern[str], ...]],
]:
    patterns: dict[tuple[str, str], tuple[re.Pattern[str], ...]] = {}
    fallbacks: dict[str, tuple[re.Pattern[str], ...]] = {}
    job_names: dict[tuple[str, str], re.Pattern[str]] = {}
    field_patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    for fname, spec in profile.fields.items():
        if spec.fallback_patterns:
            fallbacks[fname] = tuple(re.compile(p) for p in spec.fallback_patterns)
        if spec.patterns:
            field_patterns[fname] = tuple(re.compile(p) for p in spec.patterns)
        for vid, value in spec.values.items():
            if value.patterns:
                patterns[(fname, vid)] = tuple(re.compile(p, re.S) for p in value.patterns)
            if value.names_the_job:
                job_names[(fname, vid)] = re.compile("^(?:" + "|".join(value.names_the_job) + ")")
    return patterns, fallbacks, job_names, field_patterns


_CACHE: dict[int, tuple[Profile, Vocab]] = {}


def compiled(profile: Profile) -> Vocab:
    """The profile compiled for the engine, built once and reused for every session."""
    got = _CACHE.get(id(profile))
    if got is not None and got[0] is profile:
        return got[1]
    roles = _roles(profile)
    matcher, brands = _matchers(profile)
    question, cue_groups = _question(profile)
    vendor = alternation(profile.vendor_names)
    patterns, fallbacks, job_names, field_patterns = _value_patterns(profile)
    vocab = Vocab(
        profile=profile,
        roles=roles,
        matcher=matcher,
        brands=brands,
        question=question,
        cue_groups=cue_groups,
        vendor=vendor,
        **_vendor_patterns(profile, vendor),
        **_product_patterns(profile),
        plain_words=frozenset(w.lower() for w in profile.vocabulary.plain_words),
        plain_verbs=frozenset(w.lower() for w in profile.vocabulary.plain_verbs),
        patterns=patterns,
        fallbacks=fallbacks,
        job_names=job_names,
        field_patterns=field_patterns,
    )
    if len(_CACHE) > 16:
        _CACHE.clear()
    _CACHE[id(profile)] = (profile, vocab)
    return vocab
