"""Deliver a digest (callscope.alerts.digest) to the destinations that take them."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

import orjson

from callscope.alerts.digest import Digest, to_html, to_slack_blocks, to_text
from callscope.sinks.base import Sink, SinkError
from callscope.sinks.slack import SlackSink
from callscope.sinks.smtp import EmailSink
from callscope.sinks.webhook import WebhookSink


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def send_digest(sink: Sink, digest: Digest) -> None:
    """Slack gets blocks, email gets text + HTML, a webhook gets the digest as JSON."""
    if isinstance(sink, SlackSink):
        sink.send(digest.title, to_slack_blocks(digest))
    elif isinstance(sink, EmailSink):
        sink.send_message(
            f"[callscope] {digest.title}", to_text(digest), to_html(digest), message_id=digest.id
        )
    elif isinstance(sink, WebhookSink):
        body = {
            "id": digest.id,
            "type": f"digest.{digest.kind}",
            "data": dataclasses.asdict(digest),
        }
        sink.post(digest.id, orjson.dumps(body, default=_default, option=orjson.OPT_SORT_KEYS))
    else:
        raise SinkError(f"{sink.name}: cannot receive digests", retryable=False)
