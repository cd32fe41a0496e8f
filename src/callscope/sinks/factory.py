"""Build sink objects from validated config, reading each secret from its env variable."""

from __future__ import annotations

from collections.abc import Mapping

from callscope.extras import needs
from callscope.sinks.base import Sink
from callscope.sinks.config import (
    AmplitudeDest,
    EmailDest,
    PagerDutyDest,
    SalesforceDest,
    SinksConfig,
    SlackDest,
    WebhookDest,
    secret,
)


def build_sink(name: str, dest: object, env: Mapping[str, str] | None = None) -> Sink:
    if isinstance(dest, SlackDest):
        with needs("the Slack sink"):
            from callscope.sinks.slack import SlackSink

        return SlackSink(name, secret(dest.webhook_url_env, name, env), timeout=dest.timeout_s)
    if isinstance(dest, SalesforceDest):
        with needs("the Salesforce sink"):
            from callscope.sinks.salesforce import SalesforceSink

        return SalesforceSink(
            name,
            dest.instance_url,
            secret(dest.session_id_env, name, env),
            api_version=dest.api_version,
            verify=dest.ca_bundle or True,
            timeout=dest.timeout_s,
        )
    if isinstance(dest, AmplitudeDest):
        with needs("the Amplitude sink"):
            from callscope.sinks.amplitude_sink import AmplitudeSink

        return AmplitudeSink(
            name,
            secret(dest.api_key_env, name, env),
            server_url=dest.server_url,
            timeout=dest.timeout_s,
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
    raise TypeError(f"unknown destination type {type(dest).__name__}")


def build_sinks(config: SinksConfig, env: Mapping[str, str] | None = None) -> dict[str, Sink]:
    """Every configured destination; raises SinkConfigError (one line) on a missing secret."""
    return {name: build_sink(name, dest, env) for name, dest in config.destinations.items()}
