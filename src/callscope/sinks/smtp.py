"""Email through smtplib to a configured SMTP relay (SES, Postmark, Gmail, a local MTA)."""

from __future__ import annotations

import html
import re
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from callscope.sinks.base import AlertEvent, Event, LeadEvent, SinkError, describe


def render_event(event: Event) -> tuple[str, str, str]:
    """(subject, plain text, HTML) for one event."""
    subject = f"[callscope] {describe(event)}"[:200]
    rows: list[tuple[str, object]]
    if isinstance(event, AlertEvent):
        rows = [
            ("Rule", event.rule),
            ("Severity", event.severity),
            ("Channel", event.channel),
            ("Session", event.session_id),
            ("Message", event.message),
            *sorted(event.payload.items()),
        ]
    else:
        rows = _lead_rows(event)
    rows = [(k, v) for k, v in rows if v not in (None, "", [])]
    text = "\n".join(f"{k}: {v}" for k, v in rows) + "\n"
    cells = "".join(
        f"<tr><th align='left'>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in rows
    )
    body = (
        f"<html><body><h3>{html.escape(describe(event))}</h3><table>{cells}</table></body></html>"
    )
    return subject, text, body


def _lead_rows(event: LeadEvent) -> list[tuple[str, object]]:
    return [
        ("Name", event.name),
        ("Email", event.email),
        ("Company", event.company),
        ("Tier", event.tier),
        ("Score", event.score),
        ("Meeting booked", "yes" if event.meeting_booked else "no"),
        ("Summary", event.summary),
        ("Session", event.session_id),
        *event.signals.items(),
    ]


def message_id_for(event_id: str) -> str:
    return f"<{re.sub(r'[^A-Za-z0-9._-]', '.', event_id)}@callscope>"


class EmailSink:
    kinds = frozenset({"alert", "lead"})

    def __init__(
        self,
        name: str,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        *,
        username: str | None = None,
        password: str | None = None,
        security: str = "starttls",  # starttls | ssl | none
        timeout: float = 15.0,
        ca_file: str | None = None,
    ) -> None:
        self.name = name
        self.host, self.port = host, port
        self.sender, self.recipients = sender, list(recipients)
        self.username, self.password = username, password
        self.security = security
        self.timeout = timeout
        self._tls = ssl.create_default_context(cafile=ca_file)

    def deliver(self, event: Event) -> None:
        subject, text, body = render_event(event)
        self.send_message(subject, text, body, message_id=event.event_id)

    def send_message(
        self, subject: str, text: str, html_body: str | None = None, *, message_id: str = ""
    ) -> None:
        msg = EmailMessage()
        msg["Subject"] = subject
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        if message_id:
            # A stable Message-ID lets mail clients fold a re-sent event into the first copy.
            msg["Message-ID"] = message_id_for(message_id)
        msg.set_content(text)
        if html_body:
            msg.add_alternative(html_body, subtype="html")
        try:
            self._send(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise SinkError(
                f"email: authentication failed: {exc.smtp_code}", retryable=False
            ) from None
        except smtplib.SMTPRecipientsRefused as exc:
            refused = ", ".join(sorted(exc.recipients))
            raise SinkError(f"email: recipients refused: {refused}", retryable=False) from None
        except smtplib.SMTPResponseException as exc:
            reply = (
                exc.smtp_error.decode(errors="replace")
                if isinstance(exc.smtp_error, bytes)
                else str(exc.smtp_error)
            )
            # SMTP's own rule: 4xx is transient, 5xx is permanent.
            raise SinkError(
                f"email: SMTP {exc.smtp_code}: {reply[:200]}", retryable=exc.smtp_code < 500
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise SinkError(f"email: {type(exc).__name__}: {exc}", retryable=True) from None

    def _send(self, msg: EmailMessage) -> None:
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=self._tls)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(msg)

    def close(self) -> None:
        return None
