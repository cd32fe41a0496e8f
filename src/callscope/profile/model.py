"""A profile is data: the whole description of one company's voice agent.

It declares the facts a call reveals (``fields``: any number, each of a kind), how they score
a lead (``scoring``), which tools play which role (``tools``), and the thresholds, prices,
retention and knowledge-base topics the generic modules read. The analyzers are an engine
that reads it; a new business is served by writing a YAML file (see docs/profiles.md).

The default profile ``pandadoc_trial`` ships beside this module with ``home_services``;
``--profile FILE`` (or ``CALLSCOPE_PROFILE``) swaps it. Loading validates everything at start,
so a broken profile fails with a one-line message naming the file and field.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callscope.profile.alerts import AlertsConfig
from callscope.profile.insights import InsightsConfig
from callscope.profile.loader import YamlError, load_yaml_mapping

DEFAULT_PROFILE = "pandadoc_trial"
# Profile sections no analyzer reads (tests/analyze/test_versions.py checks): left out of the
# fingerprint that every analyzer version carries.
NOT_ANALYSED = ("alerts", "retention")
_HERE = Path(__file__).parent

FieldKind = Literal["one_of", "many_of", "number", "yes_no", "text"]
# Generic reading strategies of the signal engine (callscope.analyze.engine): language skills,
# never business words. ``mention`` suits most one-of / many-of fields.
Reader = Literal[
    "mention",
    "brands",
    "current_tool",
    "job",
    "identity",
    "authority",
    "timeline",
    "hurdles",
    "count",
    "rate",
    "number",
    "yes_no",
    "text",
]
_KIND_READERS: dict[str, frozenset[str]] = {
    "one_of": frozenset({"mention", "current_tool", "job", "identity", "authority", "timeline"}),
    "many_of": frozenset({"mention", "brands", "hurdles"}),
    "number": frozenset({"count", "rate", "number"}),
    "yes_no": frozenset({"yes_no"}),
    "text": frozenset({"text"}),
}
_DEFAULT_READER: dict[str, str] = {
    "one_of": "mention",
    "many_of": "mention",
    "number": "number",
    "yes_no": "yes_no",
    "text": "text",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phrase(_Strict):
    """A synonym with generic conditions ("needs": context the sentence must carry)."""

    phrase: str
    needs: list[Literal["cost_context", "term_context"]] = Field(default_factory=list)
    unless: list[Literal["department", "learn_more"]] = Field(default_factory=list)


class ValueSpec(_Strict):
    """One value of a one-of / many-of field."""

    label: str | None = None
    synonyms: list[str | Phrase] = Field(default_factory=list)
    # What the value means to the field's reader (authority: self | influencer | approval;
    # current_tool: manual | none; hurdles: cost | approval | lock_in | timing | switching |
    # complexity | feature_gap | integration_gap | compliance; job / identity: fallback).
    role: str | None = None
    horizon: Literal["week", "month", "quarter", "beyond"] | None = None  # timeline values
    patterns: list[str] = Field(default_factory=list)  # regexes that state the value outright
    # The job itself named (not a document kind): a small bonus when choosing the job.
    names_the_job: list[str] = Field(default_factory=list)
    decides_when_phrased: bool = False  # a multi-word synonym settles a job field on its own
    judges_product: bool = False  # hurdles: said about a competitor it is no hurdle for us
    context: list[str] = Field(default_factory=list)  # hurdles: words that make this the kind

    def phrases(self) -> list[str]:
        return [s if isinstance(s, str) else s.phrase for s in self.synonyms]

    def conditions(self) -> dict[str, Phrase]:
        return {s.phrase: s for s in self.synonyms if isinstance(s, Phrase)}


class Band(_Strict):
    """A numeric range ``min <= value <= max`` (``max`` omitted: no upper bound)."""

    min: float = float("-inf")
    max: float | None = None
    label: str
    points: int | None = None  # legacy: points may also be given under scoring.points

    def contains(self, value: float) -> bool:
        return value >= self.min and (self.max is None or value <= self.max)


class FieldSpec(_Strict):
    kind: FieldKind
    label: str = ""
    description: str = ""
    speaker: Literal["caller", "agent", "any"] = "caller"
    reader: Reader | None = None
    tense: Literal["present", "any"] = "present"
    cues: list[str] = Field(default_factory=list)  # agent question phrases (plain words)
    cue_patterns: list[str] = Field(default_factory=list)  # the same, as regexes
    values: dict[str, ValueSpec] = Field(default_factory=dict)
    values_from: list[str] = Field(default_factory=list)  # current_tool: ids of other fields
    synonyms: list[str] = Field(default_factory=list)  # yes_no / text: what the field is about
    fallback_patterns: list[str] = Field(default_factory=list)  # job / identity: unnamed value
    patterns: list[str] = Field(default_factory=list)  # yes_no / text: regexes of a mention
    unit_words: list[str] = Field(default_factory=list)  # number: words the count goes with
    per: Literal["day", "week", "month", "year"] | None = None  # rate: the period reported
    bands: list[Band] = Field(default_factory=list)

    @model_validator(mode="after")
    def _reader_fits_kind(self) -> FieldSpec:
        if self.reader is not None and self.reader not in _KIND_READERS[self.kind]:
            allowed = sorted(_KIND_READERS[self.kind])
            raise ValueError(f"reader {self.reader!r} does not read a {self.kind} field: {allowed}")
        return self

    @property
    def read_by(self) -> str:
        return self.reader or _DEFAULT_READER[self.kind]

    def value_label(self, value_id: str) -> str:
        spec = self.values.get(value_id)
        if spec is not None and spec.label:
            return spec.label
        return value_id.replace("_", " ").capitalize()

    def band_for(self, value: float | None) -> Band | None:
        if value is None:
            return None
        return next((b for b in self.bands if b.contains(value)), None)

    def ids_with_role(self, role: str) -> list[str]:
        return [vid for vid, v in self.values.items() if v.role == role]


class Tier(_Strict):
    id: str
    min: int
    label: str | None = None


class BelowTiers(_Strict):
    id: str = "unqualified"
    label: str | None = None


class Scoring(_Strict):
    """Points per value or band, the maximum, the tiers and the hot-lead line."""

    points: dict[str, dict[str, int] | int] = Field(default_factory=dict)
    combine: dict[str, Literal["max", "sum"]] = Field(default_factory=dict)
    max_points: int = Field(gt=0)
    tiers: list[Tier]
    below_tiers: BelowTiers = Field(default_factory=BelowTiers)
    hot_lead_above: int = 80

    @model_validator(mode="before")
    @classmethod
    def _short_forms(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if isinstance(data.get("tiers"), dict):  # {tier_1: 60, tier_2: 30}
                data["tiers"] = [{"id": k, "min": v} for k, v in data["tiers"].items()]
            if isinstance(data.get("below_tiers"), str):
                data["below_tiers"] = {"id": data["below_tiers"]}
        return data

    def tier_for(self, score: float) -> str:
        for tier in sorted(self.tiers, key=lambda t: -t.min):
            if score >= tier.min:
                return tier.id
        return self.below_tiers.id

    def tier_ids(self) -> list[str]:
        """Best tier first, the below-tiers id last."""
        return [t.id for t in sorted(self.tiers, key=lambda t: -t.min)] + [self.below_tiers.id]

    def tier_label(self, tier_id: str) -> str:
        for tier in self.tiers:
            if tier.id == tier_id and tier.label:
                return tier.label
        if tier_id == self.below_tiers.id and self.below_tiers.label:
            return self.below_tiers.label
        return tier_id.replace("_", " ").capitalize()

    def qualified_ids(self) -> list[str]:
        return [t.id for t in sorted(self.tiers, key=lambda t: -t.min)]


class ToolRole(_Strict):
    """A tool playing a role, and the output keys that say how it went."""

    name: str
    query_arg: str | None = "query"
    category_arg: str | None = "category"
    success_key: str = "success"
    results_key: str | None = None
    name_arg: str | None = None
    email_arg: str | None = None
    phone_arg: str | None = None
    date_arg: str | None = None
    time_arg: str | None = None
    link_key: str | None = None


class Tools(_Strict):
    """``knowledge_search`` / ``meeting_booking`` are tool names; ``roles`` holds the details."""

    knowledge_search: str
    meeting_booking: str
    known: list[str] = Field(default_factory=list)
    roles: dict[str, ToolRole] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _role_mappings(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        roles = dict(data.get("roles") or {})
        defaults: dict[str, dict[str, Any]] = {
            "knowledge_search": {"success_key": "found", "results_key": "total_results"},
            "meeting_booking": {"success_key": "success", "query_arg": None, "category_arg": None},
        }
        for role, extra in defaults.items():
            value = data.get(role)
            if isinstance(value, dict):
                roles[role] = {**extra, **value}
                data[role] = value.get("name", "")
            elif isinstance(value, str) and role not in roles:
                roles[role] = {**extra, "name": value}
        data["roles"] = roles
        return data

    @property
    def knowledge(self) -> ToolRole:
        return self.roles["knowledge_search"]

    @property
    def booking(self) -> ToolRole:
        return self.roles["meeting_booking"]


class Thresholds(_Strict):
    e2e_latency_ms: float = 1500
    stt_duration_ms: float = 500
    llm_ttft_ms: float = 700
    tts_ttfb_ms: float = 300
    llm_tokens_per_second_min: float = 50
    audio_quality_min: float = 3.5
    error_rate_pct: float = 5
    interruptions_per_call: int = 3


class LlmPrice(_Strict):
    input_per_million: float
    output_per_million: float
    cached_input_per_million: float | None = None


class Prices(_Strict):
    """USD list prices by ``provider/model``; ``*`` under a provider is its fallback."""

    llm: dict[str, LlmPrice] = Field(default_factory=dict)
    stt_per_minute: dict[str, float] = Field(default_factory=dict)
    tts_per_million_chars: dict[str, float] = Field(default_factory=dict)
    livekit_per_minute: float = 0.0


class Retention(_Strict):
    transcripts_days: int = 90
    metrics_days: int = 365
    pii_redact_days: int = 30


class Vocabulary(_Strict):
    """Business words the generic readers need beside the fields' own synonyms."""

    # What the product handles ("documents", "contracts"; "furnace", "water heater"): an
    # approval of these is a workflow step, not a purchase hurdle.
    product_nouns: list[str] = Field(default_factory=list)
    # Words that make a missing capability an integration gap ("crm", "api", "sync").
    integration_words: list[str] = Field(default_factory=list)
    # Parts of product names that are also plain words ("hub", "spot"): a split name made
    # only of these is read in context ("our sales force is" is a team, not a CRM).
    plain_words: list[str] = Field(default_factory=list)
    plain_verbs: list[str] = Field(default_factory=list)  # ...of which these read as verbs


class _SignalsView:
    """``profile.signals.<field>`` -> ``{value id: synonyms}`` (read-only convenience)."""

    def __init__(self, fields: dict[str, FieldSpec]) -> None:
        self._fields = fields

    def __getattr__(self, name: str) -> dict[str, list[str]]:
        spec = self._fields.get(name)
        if spec is None:
            raise AttributeError(name)
        return {vid: v.phrases() for vid, v in spec.values.items()}


class Profile(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, ignored_types=(cached_property,))

    name: str
    label: str = ""
    description: str = ""
    company: str = ""
    product: str = ""
    vendor_names: list[str] = Field(default_factory=list)
    fields: dict[str, FieldSpec]
    scoring: Scoring
    tools: Tools
    vocabulary: Vocabulary = Field(default_factory=Vocabulary)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    prices: Prices = Field(default_factory=Prices)
    retention: Retention = Field(default_factory=Retention)
    kb_topics: dict[str, list[str]] = Field(default_factory=dict)
    insights: InsightsConfig = Field(default_factory=InsightsConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references_exist(self) -> Profile:
        problems: list[str] = []
        for fname, points in self.scoring.points.items():
            spec = self.fields.get(fname)
            if spec is None:
                problems.append(f"scoring.points.{fname}: no such field")
            elif isinstance(points, dict):
                known = {b.label for b in spec.bands} if spec.kind == "number" else set(spec.values)
                problems += [f"scoring.points.{fname}.{k}" for k in points if k not in known]
        for fname, spec in self.fields.items():
            problems += [
                f"fields.{fname}.values_from.{src}"
                for src in spec.values_from
                if src not in self.fields
            ]
        if problems:
            raise ValueError(f"names ids the profile does not define: {problems}")
        return self

    @property
    def signals(self) -> _SignalsView:
        return _SignalsView(self.fields)

    def value_label(self, field: str, value: Any) -> str:
        """Display label of one value of a field (ids fall back to a readable form)."""
        spec = self.fields.get(field)
        if spec is None or not isinstance(value, str):
            return "" if value is None else str(value)
        if spec.kind in ("one_of", "many_of"):
            for src in (field, *spec.values_from):
                other = self.fields.get(src)
                if other is not None and value in other.values:
                    return other.value_label(value)
        return spec.value_label(value)

    def value_ids(self, field: str) -> set[str]:
        """Every id a one-of / many-of field may take (its own and those it borrows)."""
        spec = self.fields[field]
        ids = set(spec.values)
        for src in spec.values_from:
            ids |= set(self.fields[src].values)
        return ids

    def field_label(self, field: str) -> str:
        spec = self.fields.get(field)
        return spec.label if spec and spec.label else field.replace("_", " ").capitalize()

    def fields_read_by(self, reader: str) -> list[str]:
        return [name for name, spec in self.fields.items() if spec.read_by == reader]

    def field_read_by(self, reader: str) -> str | None:
        names = self.fields_read_by(reader)
        return names[0] if names else None

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Profile:
        """A copy; the fingerprint cached on this one is not carried over to it."""
        copied = super().model_copy(update=update, deep=deep)
        copied.__dict__.pop("fingerprint", None)
        return copied

    @cached_property
    def fingerprint(self) -> str:
        """A short hash of everything the analyzers read: part of every analyzer version.

        Canonical JSON (sorted keys) of the whole profile except the sections only the
        alerting and retention code read, so tuning an alert re-analyses nothing.
        """
        data = self.model_dump(mode="json", exclude=set(NOT_ANALYSED))
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:12]


class ProfileError(Exception):
    """A profile that cannot be used; ``str()`` is a one-line message naming file and field."""


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


def bundled_profiles() -> list[str]:
    return sorted(p.stem for p in _HERE.glob("*.yaml"))


def load_profile(source: str | Path | None = None) -> Profile:
    """Load and validate a profile: a path, a bundled name, or the default.

    ``None`` reads ``CALLSCOPE_PROFILE`` and falls back to ``pandadoc_trial``.
    """
    chosen = (
        source if source is not None else os.environ.get("CALLSCOPE_PROFILE") or DEFAULT_PROFILE
    )
    return _load(str(chosen))


@lru_cache(maxsize=8)
def _load(chosen: str) -> Profile:
    path = Path(chosen)
    if not path.suffix and not path.exists():
        path = _HERE / f"{chosen}.yaml"
    if not path.is_file():
        raise ProfileError(f"{chosen}: profile not found (a YAML file or a bundled name)")
    try:
        data = load_yaml_mapping(path)
    except YamlError as exc:
        raise ProfileError(str(exc)) from None
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ProfileError(f"{path}: {err['msg']} at {_where(err['loc'])}") from None
