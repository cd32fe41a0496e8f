"""The in-agent collector: a few lines in a LiveKit agent turn every call into one
SessionRecord v1, delivered reliably without slowing the call down.

    from callscope.collect import attach
    collector = attach(session, session_id=ctx.room.name, transport="https://...", room=ctx.room)
    collector.note_signal("team_size", 12)

Imports stay light (stdlib, orjson; httpx / boto3 / redis only when their transport sends).
"""

from callscope.collect.collector import Collector, attach, metrics_collected_deprecated
from callscope.collect.delivery import Delivery, DeliveryOptions, DeliveryStats, get_delivery
from callscope.collect.session_end import make_on_session_end, on_session_end
from callscope.collect.transports import (
    Envelope,
    FileTransport,
    HttpTransport,
    PermanentError,
    RedisTransport,
    SqsTransport,
    TransientError,
    Transport,
    TransportConfigError,
    transport_from_url,
)

__all__ = [
    "Collector",
    "Delivery",
    "DeliveryOptions",
    "DeliveryStats",
    "Envelope",
    "FileTransport",
    "HttpTransport",
    "PermanentError",
    "RedisTransport",
    "SqsTransport",
    "TransientError",
    "Transport",
    "TransportConfigError",
    "attach",
    "get_delivery",
    "make_on_session_end",
    "metrics_collected_deprecated",
    "on_session_end",
    "transport_from_url",
]
