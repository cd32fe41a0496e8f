"""The queue contract every backend (SQLite, Redis Streams, SQS) implements.

Semantics, from the strategy:
- dedup by ``session_id``: an identical re-send is a no-op (``duplicate``); a changed record
  is queued again as a new revision (``revision``);
- priority: higher first (hot leads), then oldest first;
- leases with a visibility timeout: a message leased and neither acked nor nacked before its
  lease expires is delivered again (a worker that died mid-batch);
- ``nack`` retries with exponential backoff and jitter; after ``max_attempts`` deliveries the
  message moves to the dead-letter queue with the reason; ``replay`` moves it back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeAlias, runtime_checkable

MAX_ATTEMPTS = 3
PRIORITY_HOT = 10
PRIORITY_NORMAL = 0


class EnqueueOutcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REVISION = "revision"


@dataclass(frozen=True)
class EnqueueResult:
    session_id: str
    outcome: EnqueueOutcome
    revision: int


@dataclass(frozen=True)
class Message:
    """A leased message. ``receipt`` identifies this delivery for ``ack`` / ``nack``."""

    session_id: str
    payload: bytes
    revision: int
    attempts: int
    priority: int
    receipt: str
    enqueued_at: float


@dataclass(frozen=True)
class DeadLetter:
    session_id: str
    revision: int
    attempts: int
    reason: str
    failed_at: float
    payload: bytes = field(repr=False)


@dataclass(frozen=True)
class QueueStats:
    ready: int  # waiting, deliverable now or after their backoff
    leased: int  # in flight
    dead: int
    oldest_ready_age_s: float | None
    delayed: int = 0  # waiting out a retry backoff


# ``(session_id, payload)`` or ``(session_id, payload, priority)`` for ``enqueue_many``.
EnqueueItem: TypeAlias = tuple[str, bytes] | tuple[str, bytes, int]


class QueueUnavailable(Exception):
    """The broker cannot be reached; callers answer 503 / retry later, never drop data."""


@runtime_checkable
class Queue(Protocol):
    def enqueue(
        self, session_id: str, payload: bytes, *, priority: int = PRIORITY_NORMAL
    ) -> EnqueueResult: ...

    def enqueue_many(self, items: Sequence[EnqueueItem]) -> list[EnqueueResult]:
        """Enqueue a batch at once (results in input order); same semantics as ``enqueue``."""
        ...

    def lease(self, max_messages: int, *, visibility_timeout: float = 60.0) -> list[Message]: ...

    def ack(self, message: Message) -> None: ...

    def nack(self, message: Message, reason: str) -> None: ...

    def dead_letter(self, message: Message, reason: str) -> None:
        """Move straight to the DLQ: retrying cannot help (e.g. the payload is unreadable)."""
        ...

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]: ...

    def replay(self, session_id: str | None = None) -> int:
        """Move one dead letter (or all, with ``None``) back to the ready queue."""
        ...

    def stats(self) -> QueueStats: ...

    def ping(self) -> bool: ...

    def close(self) -> None: ...


def content_hash(payload: bytes) -> str:
    """Dedup key for identical re-sends (a changed record is a new revision)."""
    return hashlib.blake2b(payload, digest_size=16).hexdigest()


def backoff_seconds(
    attempt: int, *, base: float = 2.0, cap: float = 300.0, jitter: float = 0.5
) -> float:
    """Exponential backoff with proportional jitter: ~2s, ~4s, ~8s... capped."""
    import random

    delay: float = min(cap, base * float(2 ** max(0, attempt - 1)))
    return delay * (1 - jitter / 2 + random.random() * jitter)


def normalize_items(items: Iterable[EnqueueItem]) -> list[tuple[str, bytes, int]]:
    """``enqueue_many`` input as ``(session_id, payload, priority)`` triples."""
    out: list[tuple[str, bytes, int]] = []
    for item in items:
        if len(item) == 2:
            out.append((item[0], item[1], PRIORITY_NORMAL))
        else:
            out.append((item[0], item[1], item[2]))
    return out
