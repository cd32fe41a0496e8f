"""A profile is data: the vocabulary, scoring and thresholds of one company's agent.

The default profile ``pandadoc_trial`` ships as YAML beside this module; ``--profile FILE``
(or ``CALLSCOPE_PROFILE``) swaps it. Loading validates everything at start, so a broken
profile fails with a message naming the file and field, never later mid-pipeline.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callscope.profile.alerts import AlertsConfig

DEFAULT_PROFILE = "pandadoc_trial"
_HERE = Path(__file__).parent


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """Points for a numeric range ``min <= value <= max`` (``max`` omitted: no upper bound)."""

    min: float
    max: float | None = None
    points: int
    label: str | None = None

    def contains(self, value: float) -> bool:
        return value >= self.min and (self.max is None or value <= self.max)


class Scoring(_Strict):
    team_size: list[Band]
    monthly_volume: list[Band]
    integrations: dict[str, int]
    timeline: dict[str, int]
    budget_authority: dict[str, int]
    max_points: int = Field(gt=0)
    tiers: dict[str, int]  # tier id -> minimum score, checked from highest to lowest
    below_tiers: str = "unqualified"
    hot_lead_above: int = 80

    def tier_for(self, score: int) -> str:
        for tier, minimum in sorted(self.tiers.items(), key=lambda kv: -kv[1]):
            if score >= minimum:
                return tier
        return self.below_tiers

    @staticmethod
    def band_points(bands: list[Band], value: float | None) -> int:
        if value is None:
            return 0
        for band in bands:
            if band.contains(value):
                return band.points
        return 0


class Signals(_Strict):
    """Each enum signal: ``id -> spoken synonyms`` (lower case; matched as whole words)."""

    integrations: dict[str, list[str]]
    competitors: dict[str, list[str]]
    current_tool: dict[str, list[str]]  # non-competitor values such as manual / none
    objections: dict[str, list[str]]
    use_case: dict[str, list[str]]
    industry: dict[str, list[str]]
    budget_authority: dict[str, list[str]]
    timeline: dict[str, list[str]]


class Tools(_Strict):
    knowledge_search: str
    meeting_booking: str
    known: list[str] = Field(default_factory=list)


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


class Profile(_Strict):
    name: str
    description: str = ""
    company: str = ""
    product: str = ""
    signals: Signals
    scoring: Scoring
    tools: Tools
    thresholds: Thresholds = Field(default_factory=Thresholds)
    prices: Prices = Field(default_factory=Prices)
    retention: Retention = Field(default_factory=Retention)
    kb_topics: dict[str, list[str]] = Field(default_factory=dict)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    extra: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _scoring_ids_exist(self) -> Profile:
        unknown = [k for k in self.scoring.integrations if k not in self.signals.integrations]
        unknown += [k for k in self.scoring.timeline if k not in self.signals.timeline]
        unknown += [
            k for k in self.scoring.budget_authority if k not in self.signals.budget_authority
        ]
        if unknown:
            raise ValueError(f"scoring names ids the signals do not define: {unknown}")
        return self

    def current_tool_ids(self) -> set[str]:
        return set(self.signals.competitors) | set(self.signals.current_tool)


class ProfileError(Exception):
    """A profile that cannot be used; ``str()`` is a one-line message naming file and field."""


def _where(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc)


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
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ProfileError(f"{path}: not valid YAML: {first}") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{path}: a profile is a YAML mapping")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise ProfileError(f"{path}: {err['msg']} at {_where(err['loc'])}") from None
