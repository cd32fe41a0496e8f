"""SessionRecord v1: the wire contract between the in-agent collector and the pipeline.

The models validate the structure the pipeline relies on and keep every field they do not
know (``extra="allow"``): agents on newer collector versions must never be rejected for
sending more than we understand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

SCHEMA_VERSION = "1"
MAX_RECORD_BYTES = 5 * 1024 * 1024


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class AgentInfo(_Open):
    name: str | None = None
    version: str | None = None


class Participant(_Open):
    identity: str | None = None
    name: str | None = None
    email: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class Consent(_Open):
    recording: bool = True
    analytics: bool = True


class TranscriptItem(_Open):
    """One item of ``session.history.to_dict(exclude_timestamp=False)``.

    ``type`` is ``message``, ``function_call``, ``function_call_output``, ``agent_handoff``,
    ``agent_config_update`` or anything a later livekit-agents adds; fields per type are kept
    as sent and read through :mod:`callscope.analyze.view`.
    """

    type: str = "message"
    id: str | None = None
    created_at: float | None = None


class Transcript(_Open):
    items: list[TranscriptItem] = Field(default_factory=list)


class ToolCall(_Open):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    output: Any = None
    is_error: bool = False
    started_at: datetime | None = None
    duration_ms: float | None = None

    @field_validator("arguments", mode="before")
    @classmethod
    def _arguments_from_json(cls, value: Any) -> Any:
        # LiveKit keeps function-call arguments as a JSON string; accept both forms.
        if isinstance(value, str):
            import orjson

            try:
                decoded = orjson.loads(value) if value.strip() else {}
            except orjson.JSONDecodeError:
                return {"_raw": value}
            return decoded if isinstance(decoded, dict) else {"_value": decoded}
        if value is None:
            return {}
        return value


class Device(_Open):
    browser: str | None = None
    os: str | None = None
    location: str | None = None


class Connection(_Open):
    bandwidth_in_bytes: float | None = None
    bandwidth_out_bytes: float | None = None
    packet_loss_pct: float | None = None
    jitter_ms: float | None = None
    device: Device | None = None


class ErrorEntry(_Open):
    at: datetime | float | None = None
    source: str | None = None
    message: str = ""


class SessionRecord(_Open):
    """One call, as the collector sends it when the session ends."""

    schema_version: Literal["1"]
    session_id: str = Field(min_length=1, max_length=512)
    agent: AgentInfo = Field(default_factory=AgentInfo)
    started_at: datetime
    ended_at: datetime
    duration_seconds: float | None = None
    participant: Participant = Field(default_factory=Participant)
    consent: Consent = Field(default_factory=Consent)
    transcript: Transcript = Field(default_factory=Transcript)
    metrics: list[dict[str, Any]] = Field(default_factory=list)
    usage: dict[str, Any] = Field(default_factory=dict)
    discovered_signals: dict[str, Any] = Field(default_factory=dict)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    connection: Connection = Field(default_factory=Connection)
    errors: list[ErrorEntry] = Field(default_factory=list)
    close_reason: str | None = None
    # The decoded JSON this record was validated from (a SessionReport stays a SessionReport),
    # so what is queued and archived is what the agent sent, not a re-serialisation.
    _source: dict[str, Any] | None = PrivateAttr(default=None)

    @field_validator("schema_version", mode="before")
    @classmethod
    def _version_as_text(cls, value: Any) -> Any:
        # A JSON number 1 is the same version; anything else is refused with a clear message.
        if value == 1 and not isinstance(value, bool):
            return "1"
        return value

    @field_validator("started_at", "ended_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # Naive timestamps are taken as UTC: agents run on hosts with any local clock.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def duration(self) -> float:
        """Call length in seconds, from the record or from its timestamps."""
        if self.duration_seconds is not None and self.duration_seconds >= 0:
            return float(self.duration_seconds)
        return max(0.0, (self.ended_at - self.started_at).total_seconds())

    @property
    def clock_skew_seconds(self) -> float:
        """Positive when ``ended_at`` precedes ``started_at`` (an agent host with a bad clock)."""
        return max(0.0, (self.started_at - self.ended_at).total_seconds())
