"""Queue backends behind one protocol; which one runs is configuration (``open_queue``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from callscope.extras import needs
from callscope.queue.base import (
    MAX_ATTEMPTS,
    PRIORITY_HOT,
    PRIORITY_NORMAL,
    DeadLetter,
    EnqueueItem,
    EnqueueOutcome,
    EnqueueResult,
    Message,
    Queue,
    QueueStats,
    QueueUnavailable,
    backoff_seconds,
    content_hash,
)
from callscope.queue.sqlite import SqliteQueue

if TYPE_CHECKING:
    from callscope.config import Settings


def open_queue(target: str | Path | Settings, **kwargs: Any) -> Queue:
    """Open the queue a URL (or settings) names; picking a backend is configuration.

    - ``sqlite:///path/queue.sqlite3`` or a plain path - the embedded default;
    - ``redis://host:port/db?stream=callscope&group=workers`` (``rediss://`` for TLS);
    - ``sqs://name?region=..&create=1`` or a queue URL ``https://sqs.<region>.amazonaws.com/
      <account>/<name>`` (``AWS_ENDPOINT_URL``, or ``?endpoint=``, points boto3 at moto or
      LocalStack).

    Extra keyword arguments go to the backend's constructor (e.g. ``clock``).
    """
    data_dir: Path | None = None
    if not isinstance(target, str | Path):
        data_dir = target.data_dir
        target = target.resolved_queue_url()
    url = str(target)
    if not url.strip():
        raise ValueError("queue: empty queue URL")
    scheme = urlsplit(url).scheme.lower() if "://" in url else ""
    if scheme in ("", "sqlite", "file"):
        # SQLAlchemy's convention: sqlite:///relative/path, sqlite:////absolute/path.
        if scheme == "sqlite":
            path = url[len("sqlite:///") :] if url.startswith("sqlite:///") else url[9:]
        else:
            path = url.split("://", 1)[1] if scheme else url
        if not path:
            raise ValueError(f"queue: {url}: no database path")
        return SqliteQueue(path, **kwargs)
    if scheme in ("redis", "rediss", "unix"):
        with needs("the Redis queue"):
            from callscope.queue.redis_streams import RedisStreamsQueue

        return RedisStreamsQueue.from_url(url, **kwargs)
    if scheme == "sqs" or (scheme in ("http", "https") and _looks_like_sqs(url)):
        with needs("the SQS queue"):
            from callscope.queue.sqs import SqsQueue

        if data_dir is not None:
            kwargs.setdefault("data_dir", data_dir)
        return SqsQueue.from_url(url, **kwargs)
    raise ValueError(f"queue: unsupported queue URL {url!r} (use sqlite://, redis:// or sqs://)")


def _looks_like_sqs(url: str) -> bool:
    parts = urlsplit(url)
    host = parts.hostname or ""
    # AWS's own host, or an SQS-compatible endpoint's /<account>/<queue> path.
    return host.startswith("sqs.") or len([p for p in parts.path.split("/") if p]) == 2


__all__ = [
    "MAX_ATTEMPTS",
    "PRIORITY_HOT",
    "PRIORITY_NORMAL",
    "DeadLetter",
    "EnqueueItem",
    "EnqueueOutcome",
    "EnqueueResult",
    "Message",
    "Queue",
    "QueueStats",
    "QueueUnavailable",
    "SqliteQueue",
    "backoff_seconds",
    "content_hash",
    "open_queue",
]
