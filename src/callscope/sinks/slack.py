"""Slack incoming webhooks through the official ``slack_sdk`` client."""

from __future__ import annotations

from typing import Any

from slack_sdk.webhook import WebhookClient

from callscope.sinks.base import AlertEvent, Event, SinkError, describe, http_error

_EMOJI = {"critical": ":rotating_light:", "warning": ":warning:", "info": ":information_source:"}


def _fields(pairs: list[tuple[str, Any]]) -> list[dict[str, str]]:
    return [
        {"type": "mrkdwn", "text": f"*{label}*\n{value}"[:2000]}
        for label, value in pairs
        if value not in (None, "", [])
    ][:10]  # Slack allows at most 10 fields per section


def _value(value: Any) -> Any:
    if isinstance(value, dict):
        return "\n".join(f"{k}: {v}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return value


# Business alerts: the facts a rep acts on, in reading order (payload key, label).
_BUSINESS: dict[str, list[tuple[str, str]]] = {
    "hot_lead": [
        ("company", "Company"),
        ("score", "Score"),
        ("email", "Email"),
        ("key_signals", "Key signals"),
        ("recommended_action", "Recommended action"),
    ],
    "meeting_booked": [
        ("name", "Customer"),
        ("email", "Email"),
        ("meeting_time", "Meeting time"),
        ("calendar_link", "Calendar link"),
        ("qualification", "Qualification"),
    ],
    "competitor_mentioned": [
        ("competitor", "Competitor"),
        ("company", "Company"),
        ("context", "What the caller said"),
        ("battlecard", "Battlecard"),
    ],
    "meeting_booking_failed": [
        ("name", "Customer"),
        ("email", "Email"),
        ("qualification", "Qualification"),
    ],
}
_INTERNAL = frozenset({"dedup_key", "action"})


def _alert_blocks(event: AlertEvent) -> tuple[str, list[dict[str, str]]]:
    if event.payload.get("action") == "resolve":
        return f":white_check_mark: *{event.rule.replace('_', ' ')} resolved*", []
    head = f"{_EMOJI.get(event.severity, '')} *{event.rule.replace('_', ' ')}*".strip()
    if event.rule in _BUSINESS:
        pairs = [(label, _value(event.payload.get(k))) for k, label in _BUSINESS[event.rule]]
        pairs.append(("Channel", event.channel))
    else:
        pairs = [("Severity", event.severity), ("Channel", event.channel)] + [
            (k.replace("_", " "), _value(v))
            for k, v in sorted(event.payload.items())
            if k not in _INTERNAL
        ]
    return head, _fields(pairs)


def _link_button(event: AlertEvent) -> dict[str, Any] | None:
    url = event.payload.get("salesforce_url") or event.payload.get("calendar_link")
    if not isinstance(url, str) or not url.startswith("http"):
        return None
    text = "Open in Salesforce" if event.payload.get("salesforce_url") else "Open meeting"
    return {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": text}, "url": url[:3000]}
        ],
    }


def blocks_for(event: Event) -> list[dict[str, Any]]:
    """Block Kit layout: a header line, the facts as fields, the session id as context."""
    button = None
    if isinstance(event, AlertEvent):
        head, facts = _alert_blocks(event)
        body = event.message
        button = _link_button(event)
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
    if button:
        blocks.append(button)
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
