"""The ``sinks:`` section of the callscope config: destinations, routes, retries, digests.

Validated at start (unknown keys, unknown destinations in routes, a route sending events a
backend cannot take, missing secrets) so a typo fails ``callscope sinks run`` immediately
with one line, never at 3 a.m. on the first hot lead. Secrets never live in the YAML: each
destination names the environment variable that holds its secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from callscope.sinks.field_map import (
    DEFAULT_LEAD_MAP,
    DEFAULT_VOICE_CALL_MAP,
    FieldRule,
    merged,
)
from callscope.yamlfile import YamlError, load_yaml_mapping


class SinkConfigError(Exception):
    """A sinks section that cannot be used; ``str()`` is one line naming the setting."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackDest(_Strict):
    type: Literal["slack"]
    webhook_url_env: str = "CALLSCOPE_SLACK_WEBHOOK_URL"
    timeout_s: float = Field(default=10.0, gt=0)


class OwnerRule(_Strict):
    path: str  # e.g. insights.location, sales.industry, next_step.recommended_owner
    values: list[str] = Field(min_length=1)
    owner_id: str = Field(min_length=15, max_length=18)


class SalesforceTask(_Strict):
    """The follow-up Task created once per qualified session."""

    enabled: bool = True
    subject: str = "Follow up on voice trial call"
    status: str = "Not Started"  # an open status of the org's Task picklist
    tiers: list[str] | None = None  # None: every tier of the profile above its below-tiers id
    # Days from the call to ActivityDate, by next_step.follow_up_priority (else insights.urgency,
    # else from the lead).
    due_days: dict[str, int] = Field(default_factory=lambda: {"high": 1, "medium": 3, "low": 7})
    # Territory rules: the first rule whose path equals one of ``values`` gives the owner.
    owner_rules: list[OwnerRule] = Field(default_factory=list)
    default_owner_id: str | None = None


class SalesforceDest(_Strict):
    type: Literal["salesforce"]
    # auth: refresh_token (OAuth web-server flow's refresh token), jwt (JWT bearer, server to
    # server) or session (a static access token: expires silently, for quick trials only).
    auth: Literal["refresh_token", "jwt", "session"] = "refresh_token"
    domain: str = "login"  # login | test | <mydomain>.my  ->  https://<domain>.salesforce.com
    token_url: str | None = None  # an OAuth token endpoint elsewhere (proxy, stand-in)
    client_id_env: str = "CALLSCOPE_SALESFORCE_CLIENT_ID"
    client_secret_env: str = "CALLSCOPE_SALESFORCE_CLIENT_SECRET"
    refresh_token_env: str = "CALLSCOPE_SALESFORCE_REFRESH_TOKEN"
    username: str | None = None  # jwt: the integration user
    private_key_file: str | None = None  # jwt: the connected app's certificate key (PEM)
    private_key_env: str = "CALLSCOPE_SALESFORCE_PRIVATE_KEY"  # jwt, when no key file
    instance_url: str | None = None  # session auth; the token response gives it otherwise
    session_id_env: str = "CALLSCOPE_SALESFORCE_SESSION_ID"
    api_version: str = "59.0"
    ca_bundle: str | None = None  # a private CA (corporate proxy); default: system store
    timeout_s: float = Field(default=15.0, gt=0)
    contact_first: bool = True  # update the Contact with the email if one exists, else Lead
    field_map: dict[str, FieldRule | None] = Field(default_factory=dict)  # over the default
    missing_fields: Literal["fail", "skip"] = "fail"  # map fields the org lacks
    voice_call: bool = True
    voice_call_object: str = "Voice_Call__c"
    voice_call_external_id: str = "Session_Id__c"
    voice_call_map: dict[str, FieldRule | None] = Field(default_factory=dict)
    transcript_url: str | None = None  # e.g. https://callscope.example.com/sessions/{session_id}
    task: SalesforceTask = Field(default_factory=SalesforceTask)
    owner_ids: dict[str, str] = Field(default_factory=dict)  # recommended owner name -> User Id
    erase: Literal["anonymise", "delete"] = "anonymise"  # on forget: the Lead/Contact
    limit_threshold: float = Field(default=0.9, gt=0, le=1)  # Sforce-Limit-Info share: back off
    limit_backoff_s: float = Field(default=900.0, ge=0)

    @model_validator(mode="after")
    def _auth_has_what_it_needs(self) -> SalesforceDest:
        if self.auth == "jwt" and not self.username:
            raise ValueError("auth jwt needs username (the integration user)")
        if self.auth == "session" and not self.instance_url:
            raise ValueError("auth session needs instance_url")
        return self

    def lead_map(self) -> dict[str, FieldRule]:
        return merged(DEFAULT_LEAD_MAP, self.field_map)

    def call_map(self) -> dict[str, FieldRule]:
        return merged(DEFAULT_VOICE_CALL_MAP, self.voice_call_map)


# The strategy's Amplitude event types: key -> (event name, {property: analysis path}).
# ``item.*`` is the search / feature the event is about; ``call.*`` the call's own facts.
AMPLITUDE_EVENTS: dict[str, tuple[str, dict[str, str]]] = {
    "session": (
        "voice_trial_session_completed",
        {
            "session_id": "call.session_id",
            "duration_seconds": "call.duration_seconds",
            "turn_count": "call.turn_count",
            "qualification_tier": "lead.tier",
            "engagement_score": "quality.engagement_score",
            "sentiment": "sentiment.overall",
            "meeting_booked": "tools.meeting_booked",
            "tool_calls_count": "call.tool_calls_count",
        },
    ),
    "knowledge_search": (
        "knowledge_base_searched",
        {"query": "item.query", "results_found": "item.found", "category": "item.category"},
    ),
    "meeting": (
        "sales_meeting_booked",
        {"meeting_time": "tools.meeting.time", "preferred_date": "tools.meeting.date"},
    ),
    "feature": (
        "feature_discussed",
        {"feature_name": "item.feature", "interest_level": "item.interest"},
    ),
    "quality": (
        "conversation_quality_measured",
        {
            "quality_score": "call.quality_score",
            "interruption_count": "quality.interruptions",
            "natural_ending": "quality.natural_ending",
        },
    ),
    "latency": (
        "latency_measured",
        {
            "avg_latency_ms": "performance.e2e_latency_ms.avg",
            "p95_latency_ms": "performance.e2e_latency_ms.p95",
            "total_tokens": "call.total_tokens",
        },
    ),
}

AMPLITUDE_USER_PROPERTIES: dict[str, str] = {
    "team_size": "sales.team_size",
    "monthly_volume": "sales.monthly_volume",
    "industry": "sales.industry",
    "location": "call.location",
    "qualification_tier": "lead.tier",
    "lead_score": "lead.score",
}


class AmplitudeEvent(_Strict):
    """One Amplitude event type: its name and the properties it carries (name -> path)."""

    name: str
    enabled: bool = True
    properties: dict[str, str] | None = None  # None: the strategy's properties


def _default_events() -> dict[str, AmplitudeEvent]:
    return {key: AmplitudeEvent(name=name) for key, (name, _) in AMPLITUDE_EVENTS.items()}


class AmplitudeDest(_Strict):
    type: Literal["amplitude"]
    api_key_env: str = "CALLSCOPE_AMPLITUDE_API_KEY"
    secret_key_env: str = "CALLSCOPE_AMPLITUDE_SECRET_KEY"  # the user deletion API only
    server_url: str | None = None  # default US; EU: https://api.eu.amplitude.com/2/httpapi
    deletion_url: str = "https://amplitude.com/api/2/deletions/users"
    timeout_s: float = Field(default=15.0, gt=0)
    events: dict[str, AmplitudeEvent] = Field(default_factory=dict)  # over the defaults
    user_properties: dict[str, str] = Field(default_factory=lambda: dict(AMPLITUDE_USER_PROPERTIES))

    @model_validator(mode="after")
    def _known_events(self) -> AmplitudeDest:
        unknown = sorted(set(self.events) - set(AMPLITUDE_EVENTS))
        if unknown:
            raise ValueError(
                f"unknown amplitude event {unknown[0]!r} (one of {', '.join(AMPLITUDE_EVENTS)})"
            )
        return self

    def event_specs(self) -> dict[str, tuple[str, dict[str, str]]]:
        """Every enabled event type: key -> (name, properties), configured over the defaults."""
        out = {}
        for key, (name, props) in AMPLITUDE_EVENTS.items():
            conf = self.events.get(key)
            if conf is None:
                out[key] = (name, props)
            elif conf.enabled:
                out[key] = (conf.name, conf.properties if conf.properties is not None else props)
        return out


class PagerDutyDest(_Strict):
    type: Literal["pagerduty"]
    routing_key_env: str = "CALLSCOPE_PAGERDUTY_ROUTING_KEY"
    base_url: str = "https://events.pagerduty.com"
    source: str = "callscope"
    timeout_s: float = Field(default=10.0, gt=0)


class EmailDest(_Strict):
    type: Literal["email"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: str = "CALLSCOPE_SMTP_PASSWORD"
    sender: str
    recipients: list[str] = Field(min_length=1)
    ca_file: str | None = None
    timeout_s: float = Field(default=15.0, gt=0)


class WebhookDest(_Strict):
    type: Literal["webhook"]
    url: str
    secret_env: str = "CALLSCOPE_WEBHOOK_SECRET"
    timeout_s: float = Field(default=10.0, gt=0)


class SmsDest(_Strict):
    """Twilio SMS (critical alerts to the on-call phones)."""

    type: Literal["sms"]
    account_sid: str
    auth_token_env: str = "CALLSCOPE_TWILIO_AUTH_TOKEN"
    from_number: str
    to_numbers: list[str] = Field(min_length=1)
    base_url: str | None = None  # default: Twilio's https://api.twilio.com
    timeout_s: float = Field(default=10.0, gt=0)


Destination = Annotated[
    SlackDest | SalesforceDest | AmplitudeDest | PagerDutyDest | EmailDest | WebhookDest | SmsDest,
    Field(discriminator="type"),
]

# Which event kinds each backend can take (mirrors the classes' ``kinds``).
KINDS: dict[str, frozenset[str]] = {
    "slack": frozenset({"alert", "lead"}),
    "salesforce": frozenset({"lead"}),
    "amplitude": frozenset({"lead"}),
    "pagerduty": frozenset({"alert"}),
    "email": frozenset({"alert", "lead"}),
    "webhook": frozenset({"alert", "lead"}),
    "sms": frozenset({"alert"}),
}
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2, "critical": 3}


class Route(_Strict):
    """Events matching every given filter go to each destination in ``to``."""

    events: Literal["alert", "lead"]
    to: list[str] = Field(min_length=1)
    # alerts: the rule's channel (oncall / ops / sales / product / engineering)
    channels: list[str] | None = None
    rules: list[str] | None = None  # alerts: rule names
    min_severity: Literal["info", "warning", "error", "critical"] = "info"
    # leads: qualification tiers (None: every tier of the profile above its below-tiers id)
    tiers: list[str] | None = None

    def matches_alert(self, channel: str | None, rule: str, severity: str) -> bool:
        return (
            self.events == "alert"
            and (self.channels is None or channel in self.channels)
            and (self.rules is None or rule in self.rules)
            and SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK[self.min_severity]
        )

    def matches_lead(self, tier: str | None, qualified: Sequence[str]) -> bool:
        tiers = self.tiers if self.tiers is not None else qualified
        return self.events == "lead" and tier in tiers


class Retry(_Strict):
    attempts: int = Field(default=4, ge=1, le=20)  # tries within one dispatch pass
    initial_s: float = Field(default=1.0, ge=0)
    max_s: float = Field(default=60.0, ge=0)
    max_deliveries: int = Field(default=12, ge=1)  # tries over all passes before "dead"
    circuit_after: int = Field(default=3, ge=1)  # consecutive failed events: skip sink this pass


class Digests(_Strict):
    hourly: list[str] = Field(default_factory=list)
    daily: list[str] = Field(default_factory=list)
    weekly: list[str] = Field(default_factory=list)


class SinksConfig(_Strict):
    destinations: dict[str, Destination] = Field(default_factory=dict)
    routes: list[Route] = Field(default_factory=list)
    digests: Digests = Field(default_factory=Digests)
    retry: Retry = Field(default_factory=Retry)
    backfill_hours: float = Field(default=24.0, ge=0)  # history a newly added sink receives
    poll_interval_s: float = Field(default=10.0, gt=0)
    batch_size: int = Field(default=200, ge=1, le=10_000)

    @model_validator(mode="after")
    def _routes_name_known_sinks(self) -> SinksConfig:
        for i, route in enumerate(self.routes):
            for name in route.to:
                dest = self.destinations.get(name)
                if dest is None:
                    raise ValueError(f"routes[{i}] sends to unknown destination {name!r}")
                if route.events not in KINDS[dest.type]:
                    raise ValueError(
                        f"routes[{i}]: {name!r} ({dest.type}) cannot receive {route.events} events"
                    )
        for period in ("hourly", "daily", "weekly"):
            for name in getattr(self.digests, period):
                dest = self.destinations.get(name)
                if dest is None:
                    raise ValueError(f"digests.{period} names unknown destination {name!r}")
                if dest.type not in ("slack", "email", "webhook"):
                    raise ValueError(
                        f"digests.{period}: {name!r} ({dest.type}) cannot take digests"
                    )
        return self


def parse_sinks_config(data: Mapping[str, Any] | None, source: str = "config") -> SinksConfig:
    try:
        return SinksConfig.model_validate(dict(data or {}))
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise SinkConfigError(
            f"{source}: sinks: {msg}" + (f" at {where}" if where else "")
        ) from None


def load_sinks_config(path: str | Path | None) -> SinksConfig:
    """The ``sinks:`` section of a YAML config file (no file: no destinations)."""
    if path is None:
        return SinksConfig()
    p = Path(path)
    if not p.is_file():
        raise SinkConfigError(f"{p}: config file not found")
    try:
        loaded = load_yaml_mapping(p, empty_ok=True)
    except YamlError as exc:
        raise SinkConfigError(str(exc)) from None
    section = loaded.get("sinks")
    if section is not None and not isinstance(section, dict):
        raise SinkConfigError(f"{p}: sinks: must be a mapping")
    return parse_sinks_config(section, str(p))


def secret(env_name: str, dest: str, env: Mapping[str, str] | None = None) -> str:
    value = (env if env is not None else os.environ).get(env_name, "").strip()
    if not value:
        raise SinkConfigError(
            f"sinks.destinations.{dest}: environment variable {env_name} is not set"
        )
    return value


def qualified_tiers(profile: Any = None) -> list[str]:
    """The tiers that make a lead qualified: every profile tier but the below-tiers id."""
    if profile is None:
        from callscope.profile import load_profile

        profile = load_profile()
    return list(profile.scoring.tier_ids()[:-1])
