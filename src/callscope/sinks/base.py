"""The destination interface: events, the ``Sink`` protocol and its one error type.

Shaped like httpx transports and sentry-python's transports: a sink only knows how to hand
one event to one service. Retries, routing and bookkeeping live in the dispatcher, so every
backend stays small and all of them pass the same contract tests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable


class SinkError(Exception):
    """A delivery that did not happen; ``str()`` is one line.

    ``retryable`` says whether the same event may succeed later (rate limits, 5xx, network)
    or never will as sent (bad credentials, rejected payload). ``retry_after`` is the
    service's own hint in seconds (``Retry-After``), honoured by the dispatcher.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        retry_after: float | None = None,
        defer: bool = False,
    ):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        # defer: not again in this pass (an API quota nearly used up): wait ``retry_after``.
        self.defer = defer


@dataclass(frozen=True)
class LeadEvent:
    """The lead facts of one processed call (what CRM and product analytics receive)."""

    session_id: str
    revision: int
    email: str | None
    name: str | None
    company: str | None
    score: int | None
    tier: str | None
    signals: dict[str, Any] = field(default_factory=dict)
    meeting_booked: bool = False
    hot_lead: bool = False
    summary: str | None = None
    started_at: datetime | None = None
    duration_seconds: float | None = None
    sentiment: str | None = None
    engagement_score: float | None = None
    turn_count: int | None = None
    tool_call_count: int | None = None
    participant_identity: str | None = None
    # The full analysis output (``sessions.analysis``): what field maps read.
    analysis: dict[str, Any] = field(default_factory=dict)
    # ``tool_calls`` rows of the session and its transcript text, filled in by the dispatcher.
    tool_calls: tuple[dict[str, Any], ...] = ()
    transcript: str | None = None
    ended_at: datetime | None = None
    total_tokens: int | None = None
    location: str | None = None

    @property
    def event_id(self) -> str:
        # A new revision of a session is new information: it is delivered again (upserts).
        return f"lead:{self.session_id}@{self.revision}"


@dataclass(frozen=True)
class AlertEvent:
    """One row of ``alerts_history``."""

    id: str
    rule: str
    severity: str
    channel: str | None
    message: str
    session_id: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    fired_at: datetime | None = None

    @property
    def event_id(self) -> str:
        return f"alert:{self.id}"


Event = LeadEvent | AlertEvent


@dataclass(frozen=True)
class ErasureRequest:
    """One person to remove from one destination (``callscope forget``'s outbox entry)."""

    id: str
    sink: str
    subject: str  # sha256 of the identifier forget was given; all that is kept once done
    user_ids: tuple[str, ...]  # emails and participant identities callscope may have sent
    emails: tuple[str, ...]
    session_ids: tuple[str, ...]

    @property
    def event_id(self) -> str:
        return f"erase:{self.id}"


@runtime_checkable
class Sink(Protocol):
    """One destination. ``deliver`` returns on success and raises :class:`SinkError` otherwise."""

    name: str

    def deliver(self, event: Event) -> None: ...

    def close(self) -> None: ...


@runtime_checkable
class ErasingSink(Protocol):
    """A destination that can delete what it received about a person."""

    name: str

    def erase(self, request: ErasureRequest) -> None: ...


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def lead_signals(row: Mapping[str, Any]) -> dict[str, Any]:
    """The qualification signals of a ``leads`` row, without empty values."""
    keys = (
        "team_size",
        "monthly_volume",
        "integrations",
        "current_tool",
        "competitors",
        "objections",
        "use_case",
        "industry",
        "budget_authority",
        "timeline",
    )
    return {k: row[k] for k in keys if row.get(k) not in (None, [], "")}


def _analysis(value: Any) -> dict[str, Any]:
    if isinstance(value, str | bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return dict(value) if isinstance(value, Mapping) else {}


def _tokens(row: Mapping[str, Any]) -> int | None:
    parts = [row.get("llm_input_tokens"), row.get("llm_output_tokens")]
    known = [int(p) for p in parts if isinstance(p, int | float)]
    return sum(known) if known else None


def lead_event_from_row(row: Mapping[str, Any]) -> LeadEvent:
    """A :class:`LeadEvent` from a joined ``sessions``/``leads`` row (see dispatch.LEADS_SQL)."""
    score = row.get("score")
    return LeadEvent(
        session_id=str(row["session_id"]),
        revision=int(row.get("revision") or 1),
        email=_text(row.get("email")) or _text(row.get("user_email")),
        name=_text(row.get("user_name")),
        company=_text(row.get("company")),
        score=int(score) if isinstance(score, int | float) else None,
        tier=_text(row.get("tier")),
        signals=lead_signals(row),
        meeting_booked=bool(row.get("meeting_booked")),
        hot_lead=bool(row.get("hot_lead")),
        summary=_text(row.get("summary")),
        started_at=row.get("started_at"),
        duration_seconds=row.get("duration_seconds"),
        sentiment=_text(row.get("sentiment")),
        engagement_score=row.get("engagement_score"),
        turn_count=row.get("turn_count"),
        tool_call_count=row.get("tool_call_count"),
        participant_identity=_text(row.get("participant_identity")),
        analysis=_analysis(row.get("analysis")),
        ended_at=row.get("ended_at"),
        total_tokens=_tokens(row),
        location=_text(row.get("device_location")),
    )


def alert_event_from_row(row: Mapping[str, Any]) -> AlertEvent:
    payload = row.get("payload")
    return AlertEvent(
        id=str(row["id"]),
        rule=str(row["rule"]),
        severity=str(row.get("severity") or "info"),
        channel=_text(row.get("channel")),
        message=str(row.get("message") or ""),
        session_id=_text(row.get("session_id")),
        payload=dict(payload) if isinstance(payload, Mapping) else {},
        fired_at=row.get("fired_at"),
    )


def describe(event: Event) -> str:
    """One human line for an event (Slack text fallback, email subject, PagerDuty summary)."""
    if isinstance(event, AlertEvent):
        return f"[{event.severity}] {event.rule}: {event.message}"
    who = event.name or event.email or event.participant_identity or event.session_id
    at = f" at {event.company}" if event.company else ""
    tier = (event.tier or "unscored").replace("_", " ")
    score = f", score {event.score}" if event.score is not None else ""
    booked = ", meeting booked" if event.meeting_booked else ""
    return f"Lead {who}{at}: {tier}{score}{booked}"


def http_error(service: str, status: int, body: str, retry_after: str | None = None) -> SinkError:
    """The standard status mapping: 408/429/5xx retry later, any other 4xx never will."""
    retryable = status in (408, 425, 429) or status >= 500
    hint: float | None = None
    if retry_after:
        try:
            hint = max(0.0, float(retry_after))
        except ValueError:
            hint = None  # an HTTP-date; the exponential backoff applies instead
    snippet = " ".join(body.split())[:200]
    return SinkError(
        f"{service}: HTTP {status}{': ' + snippet if snippet else ''}",
        retryable=retryable,
        retry_after=hint,
    )
