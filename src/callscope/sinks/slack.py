"""Slack incoming webhooks through the official ``slack_sdk`` client."""

from __future__ import annotations

from typing import Any

from slack_sdk.webhook import WebhookClient

from callscope.sinks.base import AlertEvent, Event, SinkError, describe, http_error

_EMOJI = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}


def _fields(pairs: list[tuple[str, Any]]) -> list[dict[str, str]]:
    return [
        {"type": "mrkdwn", "text": f"*{label}*\n{value}"}
        for label, value in pairs
        if value not in (None, "", [])
    ][:10]  # Slack allows at most 10 fields per section


def blocks_for(event: Event) -> list[dict[str, Any]]:
    """Block Kit layout: a header line, the facts as fields, the session id as context."""
    if isinstance(event, AlertEvent):
        head = f"{_EMOJI.get(event.severity, '')} *{event.rule.replace('_', ' ')}*".strip()
        facts = _fields(
            [("Severity", event.severity), ("Channel", event.channel)]
            + [(k.replace("_", " "), v) for k, v in sorted(event.payload.items())]
        )
        body = event.message
    else:
        head = f":telephone_receiver: *{describe(event)}*"
        facts = _fields(
            [
                ("Email", event.email),
                ("Tier", event.tier),
                ("Score", event.score),
                ("Meeting booked", "yes" if event.meeting_booked else "no"),
            ]
            + [
                (k.replace("_", " "), ", ".join(map(str, v)) if isinstance(v, list) else v)
                for k, v in event.signals.items()
            ]
        )
        body = event.summary or ""
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": head}}]
    if body:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body[:2900]}})
    if facts:
        blocks.append({"type": "section", "fields": facts})
    if event.session_id:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"session `{event.session_id}`"}],
            }
        )
    return blocks


class SlackSink:
    """Posts each event to one incoming-webhook URL (the webhook fixes the channel)."""

    kinds = frozenset({"alert", "lead"})

    def __init__(self, name: str, webhook_url: str, *, timeout: float = 10.0) -> None:
        self.name = name
        # No client-side retries: the dispatcher owns retries and the delivery log.
        self._client = WebhookClient(webhook_url, timeout=int(max(1, timeout)), retry_handlers=[])

    def deliver(self, event: Event) -> None:
        self.send(describe(event), blocks_for(event))

    def send(self, text: str, blocks: list[dict[str, Any]] | None = None) -> None:
        try:
            response = self._client.send(text=text, blocks=blocks)
        except OSError as exc:  # connection refused, DNS, TLS, timeout
            raise SinkError(f"slack: {exc}", retryable=True) from None
        if response.status_code == 200:
            return
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        retry_after = headers.get("retry-after")
        if isinstance(retry_after, list):
            retry_after = retry_after[0] if retry_after else None
        raise http_error("slack", response.status_code, response.body or "", retry_after)

    def close(self) -> None:
        return None
