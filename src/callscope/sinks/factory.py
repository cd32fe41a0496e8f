"""Build sink objects from validated config, reading each secret from its env variable."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from callscope.extras import needs
from callscope.sinks.base import Sink
from callscope.sinks.config import (
    AmplitudeDest,
    EmailDest,
    PagerDutyDest,
    SalesforceDest,
    SinksConfig,
    SlackDest,
    SmsDest,
    WebhookDest,
    secret,
)
from callscope.sinks.field_map import Labeler, title_label

if TYPE_CHECKING:
    from callscope.sinks.salesforce import Credentials


def _optional(env_name: str, env: Mapping[str, str] | None) -> str | None:
    return (env if env is not None else os.environ).get(env_name, "").strip() or None


def salesforce_credentials(
    name: str, dest: SalesforceDest, env: Mapping[str, str] | None
) -> Credentials:
    """The secrets the configured auth flow needs, each from its environment variable."""
    from callscope.sinks.salesforce import Credentials

    if dest.auth == "session":
        return Credentials(session_id=secret(dest.session_id_env, name, env))
    client_id = secret(dest.client_id_env, name, env)
    if dest.auth == "jwt":
        key = None if dest.private_key_file else secret(dest.private_key_env, name, env)
        return Credentials(client_id=client_id, private_key=key)
    return Credentials(
        client_id=client_id,
        client_secret=secret(dest.client_secret_env, name, env),
        refresh_token=secret(dest.refresh_token_env, name, env),
    )


def build_sink(
    name: str,
    dest: object,
    env: Mapping[str, str] | None = None,
    labeler: Labeler | None = None,
    qualified: Sequence[str] | None = None,
) -> Sink:
    if isinstance(dest, SlackDest):
        with needs("the Slack sink"):
            from callscope.sinks.slack import SlackSink

        return SlackSink(name, secret(dest.webhook_url_env, name, env), timeout=dest.timeout_s)
    if isinstance(dest, SalesforceDest):
        with needs("the Salesforce sink"):
            from callscope.sinks.salesforce import SalesforceSink

        creds = salesforce_credentials(name, dest, env)
        if labeler is None:
            return SalesforceSink(name, dest, creds, qualified=qualified)
        return SalesforceSink(name, dest, creds, labeler=labeler, qualified=qualified)
    if isinstance(dest, AmplitudeDest):
        with needs("the Amplitude sink"):
            from callscope.sinks.amplitude_sink import AmplitudeSink

        return AmplitudeSink(
            name,
            secret(dest.api_key_env, name, env),
            dest,
            secret_key=_optional(dest.secret_key_env, env),
        )
    if isinstance(dest, PagerDutyDest):
        from callscope.sinks.pagerduty import PagerDutySink

        return PagerDutySink(
            name,
            secret(dest.routing_key_env, name, env),
            base_url=dest.base_url,
            source=dest.source,
            timeout=dest.timeout_s,
        )
    if isinstance(dest, EmailDest):
        from callscope.sinks.smtp import EmailSink

        return EmailSink(
            name,
            dest.host,
            dest.port,
            dest.sender,
            dest.recipients,
            username=dest.username,
            password=secret(dest.password_env, name, env) if dest.username else None,
            security=dest.security,
            timeout=dest.timeout_s,
            ca_file=dest.ca_file,
        )
    if isinstance(dest, WebhookDest):
        from callscope.sinks.webhook import WebhookSink

        return WebhookSink(
            name, dest.url, secret(dest.secret_env, name, env), timeout=dest.timeout_s
        )
    if isinstance(dest, SmsDest):
        with needs("the SMS sink"):
            from callscope.sinks.sms import SmsSink

        return SmsSink(
            name,
            dest.account_sid,
            secret(dest.auth_token_env, name, env),
            dest.from_number,
            dest.to_numbers,
            base_url=dest.base_url,
            timeout=dest.timeout_s,
        )
    raise TypeError(f"unknown destination type {type(dest).__name__}")


def build_sinks(
    config: SinksConfig, env: Mapping[str, str] | None = None, labeler: Labeler | None = None
) -> dict[str, Sink]:
    """Every configured destination; raises SinkConfigError (one line) on a missing secret."""
    return {
        name: build_sink(name, dest, env, labeler) for name, dest in config.destinations.items()
    }


def profile_labeler(profile: Any) -> Labeler:
    """Labels from the profile (``profile.label(field, id)`` where the profile has one; the
    tier labels of its scoring), falling back to a title-cased id."""
    label = getattr(profile, "label", None)
    scoring = getattr(profile, "scoring", None)
    tier_label = getattr(scoring, "tier_label", None)

    def labeler(field: str, value: str) -> str:
        try:
            if field == "tier" and callable(tier_label):
                return str(tier_label(value))
            if callable(label):
                return str(label(field, value))
        except (KeyError, ValueError, LookupError):
            pass
        return title_label(value)

    return labeler
