"""Destinations: Salesforce, Amplitude, Slack, PagerDuty, email and signed webhooks.

The worker writes alerts and analysed sessions to the warehouse; the dispatcher
(:mod:`callscope.sinks.dispatch`) reads them back as an outbox and delivers them.
"""

from callscope.sinks.base import (
    AlertEvent,
    Event,
    LeadEvent,
    Sink,
    SinkError,
    alert_event_from_row,
    lead_event_from_row,
)

__all__ = [
    "AlertEvent",
    "Event",
    "LeadEvent",
    "Sink",
    "SinkError",
    "alert_event_from_row",
    "lead_event_from_row",
]
