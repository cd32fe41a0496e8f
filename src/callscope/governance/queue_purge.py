"""Purge one person's messages from whichever queue backend runs.

SQLite and Redis Streams can look at every message they hold and have ``purge``. SQS cannot
be searched: the only way to read a message is to receive it. ``purge_sqs`` receives from
the hot, normal and dead-letter queues in turn, deletes what mentions the person, and keeps
the rest hidden until the scan ends, then makes them visible again at once (visibility 0),
so no message is seen twice in one scan. Limits, which the report states:

- messages a worker has leased (in flight) are invisible and cannot be seen; the scan reports
  how many there were, and ``complete`` is false when any were. Stop the workers (or let
  them drain) and run ``forget`` again to be sure;
- SQS counts each receive: a kept message has one delivery attempt used up by the scan
  (``maxReceiveCount`` is 3, so one that already failed twice goes to the DLQ on its next
  failure rather than its next-but-one);
- the scan is bounded (``max_messages`` received per queue, ``max_empty`` empty replies in a
  row end a queue: SQS short polls sample servers, so one empty reply proves nothing); a
  queue holding more than ``max_messages`` leaves ``complete`` false.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from callscope.queue.wire import WireError, decode_producer_message

Predicate = Callable[[str, bytes], bool]
_MAX_VISIBILITY = 43_200


@runtime_checkable
class PurgeableQueue(Protocol):
    def purge(self, predicate: Predicate) -> list[str]: ...


@dataclass
class QueuePurge:
    session_ids: list[str] = field(default_factory=list)
    scanned: int = 0  # messages looked at (SQS only; the others purge in place)
    in_flight: int = 0  # leased messages SQS would not show
    complete: bool = True
    note: str = ""


def _attr(msg: dict[str, Any], name: str) -> str:
    value = msg.get("MessageAttributes", {}).get(name) or {}
    if "StringValue" in value:
        return str(value["StringValue"])
    raw = value.get("BinaryValue")
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else ""


def sqs_message_text(msg: dict[str, Any]) -> tuple[str, bytes]:
    """``(session_id, payload)`` of an SQS message in callscope's or the producer's format."""
    body = msg.get("Body") or ""
    sid = _attr(msg, "sid")
    if sid:
        enc = _attr(msg, "enc") or "utf8"
        payload = body.encode("utf-8")
        try:
            if enc == "b64":
                payload = base64.b64decode(body)
            elif enc == "gzip+base64":
                payload = gzip.decompress(base64.b64decode(body))
        except (binascii.Error, OSError, EOFError):
            pass  # undecodable: match on the body as sent
        # A dead letter's reason may quote the record.
        return sid, payload + _attr(msg, "reason").encode("utf-8")
    sid = _attr(msg, "session_id")
    try:
        m = decode_producer_message(sid or None, body, _attr(msg, "content_encoding") or None, None)
        return m.session_id, m.payload
    except WireError:
        return sid, body.encode("utf-8")


def purge_sqs(
    client: Any,
    queue_urls: list[str],
    predicate: Predicate,
    *,
    max_messages: int = 10_000,
    max_empty: int = 3,
    hold_seconds: int = 300,
) -> QueuePurge:
    """Receive-and-filter over ``queue_urls``; see the module docstring for the limits."""
    result = QueuePurge()
    doomed: set[str] = set()
    for url in queue_urls:
        # Counted before the scan hides anything itself: these are the workers' leases.
        attrs = client.get_queue_attributes(
            QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"]
        ).get("Attributes", {})
        result.in_flight += int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0))
        kept: list[str] = []  # receipt handles to make visible again
        seen: set[str] = set()
        empty = 0
        started = time.monotonic()
        try:
            while len(seen) < max_messages and empty < max_empty:
                # Hidden messages must stay hidden until released: stop well before they
                # would reappear and be counted twice.
                if time.monotonic() - started > hold_seconds * 0.8:
                    result.complete = False
                    break
                reply = client.receive_message(
                    QueueUrl=url,
                    MaxNumberOfMessages=10,
                    VisibilityTimeout=min(_MAX_VISIBILITY, hold_seconds),
                    WaitTimeSeconds=0,
                    AttributeNames=["All"],
                    MessageAttributeNames=["All"],
                )
                batch = reply.get("Messages") or []
                if not batch:
                    empty += 1
                    continue
                empty = 0
                for msg in batch:
                    seen.add(str(msg.get("MessageId")))
                    sid, text = sqs_message_text(msg)
                    if predicate(sid, text):
                        client.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
                        doomed.add(sid)
                    else:
                        kept.append(msg["ReceiptHandle"])
            if len(seen) >= max_messages:
                result.complete = False
        finally:
            for i in range(0, len(kept), 10):
                client.change_message_visibility_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(j), "ReceiptHandle": h, "VisibilityTimeout": 0}
                        for j, h in enumerate(kept[i : i + 10])
                    ],
                )
        result.scanned += len(seen)
    if result.in_flight:
        result.complete = False
    result.session_ids = sorted(doomed)
    if not result.complete:
        result.note = (
            f"SQS scan incomplete ({result.scanned} scanned, {result.in_flight} in flight): "
            "stop the workers and run forget again"
        )
    return result


def purge_queue(queue: object, predicate: Predicate, tombstones: Sequence[str] = ()) -> QueuePurge:
    """Purge any backend; raises ``TypeError`` for one that cannot be purged.

    ``tombstones`` (the person's session ids, emails, identities) are left with an SQS queue
    *before* its scan, so a message a worker holds meanwhile is dropped when delivered again.
    """
    if isinstance(queue, PurgeableQueue):
        return QueuePurge(session_ids=sorted(set(queue.purge(predicate))))
    from callscope.queue.sqs import SqsQueue

    if isinstance(queue, SqsQueue):
        if tombstones:
            queue.add_tombstones(list(tombstones))
        # SqsQueue exposes no client; its own is reused so endpoint, region and retries match.
        client = queue._sqs
        return purge_sqs(client, [queue.hot_url, queue.queue_url, queue.dlq_url], predicate)
    raise TypeError(f"the {type(queue).__name__} backend cannot purge messages")


def can_purge(queue: object) -> bool:
    if isinstance(queue, PurgeableQueue):
        return True
    from callscope.queue.sqs import SqsQueue

    return isinstance(queue, SqsQueue)
