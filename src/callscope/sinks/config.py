"""The ``sinks:`` section of the callscope config: destinations, routes, retries, digests.

Validated at start (unknown keys, unknown destinations in routes, a route sending events a
backend cannot take, missing secrets) so a typo fails ``callscope sinks run`` immediately
with one line, never at 3 a.m. on the first hot lead. Secrets never live in the YAML: each
destination names the environment variable that holds its secret.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class SinkConfigError(Exception):
    """A sinks section that cannot be used; ``str()`` is one line naming the setting."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlackDest(_Strict):
    type: Literal["slack"]
    webhook_url_env: str = "CALLSCOPE_SLACK_WEBHOOK_URL"
    timeout_s: float = Field(default=10.0, gt=0)


class SalesforceDest(_Strict):
    type: Literal["salesforce"]
    instance_url: str
    session_id_env: str = "CALLSCOPE_SALESFORCE_SESSION_ID"
    api_version: str = "59.0"
    ca_bundle: str | None = None  # a private CA (corporate proxy); default: system store
    timeout_s: float = Field(default=15.0, gt=0)


class AmplitudeDest(_Strict):
    type: Literal["amplitude"]
    api_key_env: str = "CALLSCOPE_AMPLITUDE_API_KEY"
    server_url: str | None = None  # default US; EU: https://api.eu.amplitude.com/2/httpapi
    timeout_s: float = Field(default=15.0, gt=0)


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
    tiers: list[str] | None = None  # leads: qualification tiers (default tier_1 and tier_2)

    def matches_alert(self, channel: str | None, rule: str, severity: str) -> bool:
        return (
            self.events == "alert"
            and (self.channels is None or channel in self.channels)
            and (self.rules is None or rule in self.rules)
            and SEVERITY_RANK.get(severity, 0) >= SEVERITY_RANK[self.min_severity]
        )

    def matches_lead(self, tier: str | None) -> bool:
        tiers = self.tiers if self.tiers is not None else ["tier_1", "tier_2"]
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
        loaded = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SinkConfigError(f"{p}: not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(loaded, dict):
        raise SinkConfigError(f"{p}: a config file is a YAML mapping")
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
