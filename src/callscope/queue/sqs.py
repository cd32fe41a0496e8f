"""Queue on Amazon SQS (standard queues) via boto3.

Three queues per deployment: ``<name>`` (normal), ``<name>-hot`` (read first) and
``<name>-dlq``. The two work queues carry a redrive policy to the DLQ with
``maxReceiveCount = 3``, so a message whose lease keeps expiring (its worker dies) ends up
there even if no worker ever gets to ``nack`` it. A ``nack`` extends the message's
visibility by the backoff; on the third failed delivery it is sent to the DLQ with the
reason as a message attribute.

Dedup (SQS has none for standard queues, and delivers at least once) is kept in a small
local SQLite file, ``dedup_path``: per session the content hash, the latest revision, the
last revision acked, and the receipt of the current delivery. The producer consults it to
answer duplicate / revision; the consumer uses it to drop redeliveries of a revision that
is already done or superseded, and to ignore stale receipts. Each message also carries
``sid``, ``rev`` and ``hash`` attributes, so consumers without that file (Lambda) still
dedup by ``(session_id, revision)`` at the warehouse, whose writes are idempotent upserts.
Producer and consumer share the file when they run on one host (the usual self-hosted
setup); across hosts the warehouse upsert is the backstop. No DynamoDB needed.

Producers without the ingest service (the collector's ``sqs://`` transport, agents in other
languages) send the producer wire format (``callscope.queue.wire``: body = record JSON,
attribute ``session_id``, optional ``content_encoding`` and ``priority``) to ``<name>``.
Such a message has no ``rev`` attribute; ``lease`` adopts it through the same dedup /
revision / priority logic as ``enqueue`` (re-sent in our format to ``<name>`` or
``<name>-hot``, then deleted), and parks an undecodable one in the DLQ with the reason.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import math
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.exceptions
import orjson
from botocore.config import Config

from callscope.queue._common import check_item, check_lease_args
from callscope.queue.base import (
    MAX_ATTEMPTS,
    PRIORITY_HOT,
    PRIORITY_NORMAL,
    DeadLetter,
    EnqueueItem,
    EnqueueOutcome,
    EnqueueResult,
    Message,
    QueueStats,
    QueueUnavailable,
    backoff_seconds,
    content_hash,
    normalize_items,
)
from callscope.queue.wire import WireError, decode_producer_message, foreign_key

SQS_MAX_BYTES = 262_144
_ATTR_ROOM = 2_048  # what our message attributes take, with margin
_MAX_VISIBILITY = 43_200  # SQS limit: 12 hours
# Characters SQS accepts in a message body; anything else goes base64.
_SQS_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_UNAVAILABLE = (
    botocore.exceptions.EndpointConnectionError,
    botocore.exceptions.ConnectionClosedError,
    botocore.exceptions.ConnectTimeoutError,
    botocore.exceptions.ReadTimeoutError,
    botocore.exceptions.NoCredentialsError,
)

_DEDUP_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    hash TEXT NOT NULL,
    revision INTEGER NOT NULL,
    done_revision INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE TABLE IF NOT EXISTS tombstones (
    digest TEXT PRIMARY KEY,
    at REAL NOT NULL
);
"""
# How long a forgotten person's tombstone is kept: the longest a message sent before the
# forget can still be delivered (14 days' retention in a work queue, 14 more in the DLQ,
# from which `queue replay` can send it back) and a day of margin.
TOMBSTONE_TTL_S = 2 * 1_209_600 + 86_400


def tombstone_digest(value: str) -> str:
    """Tombstones hold digests only: the list must not itself keep what was forgotten."""
    return hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()


def _who(session_id: str, payload: bytes) -> set[str]:
    """What a message is matched on: its session id and its participant's email/identity."""
    found = {session_id}
    try:
        doc = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return found
    if isinstance(doc, dict) and isinstance(doc.get("record"), dict):
        doc = doc["record"]
    participant = doc.get("participant") if isinstance(doc, dict) else None
    if isinstance(participant, dict):
        for key in ("email", "identity"):
            if isinstance(participant.get(key), str) and participant[key].strip():
                found.add(participant[key])
    return found


def _encode(payload: bytes) -> tuple[str, str]:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and not _SQS_INVALID.search(text):
        return text, "utf8"
    return base64.b64encode(payload).decode("ascii"), "b64"


def _decode(body: str, encoding: str) -> bytes:
    if encoding == "gzip+base64":  # an adopted producer record too large to send plain
        return gzip.decompress(base64.b64decode(body))
    return base64.b64decode(body) if encoding == "b64" else body.encode("utf-8")


def _fits(body: str) -> bool:
    return len(body.encode("utf-8")) + _ATTR_ROOM <= SQS_MAX_BYTES


# Attributes of the producer wire format, kept on a dead letter so a replay re-adopts it.
_WIRE_ATTRS = ("session_id", "content_encoding", "priority")


def _attr(msg: dict[str, Any], name: str, default: str = "") -> str:
    value = msg.get("MessageAttributes", {}).get(name)
    if not value:
        return default
    if "StringValue" in value:
        return str(value["StringValue"])
    # A foreign producer may send a Binary attribute; read it as UTF-8, never crash on it.
    raw = value.get("BinaryValue")
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else default


def _str_attrs(**values: object) -> dict[str, Any]:
    return {k: {"DataType": "String", "StringValue": str(v)} for k, v in values.items()}


def _client(endpoint_url: str | None, region: str | None) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None,
        region_name=region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        config=Config(
            retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=3, read_timeout=20
        ),
    )


class SqsQueue:
    """The ``Queue`` protocol on SQS; ``receipt`` is the SQS ReceiptHandle."""

    def __init__(
        self,
        queue_url: str,
        *,
        hot_queue_url: str | None = None,
        dlq_url: str | None = None,
        endpoint_url: str | None = None,
        region: str | None = None,
        dedup_path: str | Path = ".callscope/sqs-dedup.sqlite3",
        clock: Callable[[], float] = time.time,
        retry_base_s: float = 2.0,
        wait_time_s: int = 0,
        client: Any = None,
    ) -> None:
        self.queue_url = queue_url
        self.hot_url = hot_queue_url or f"{queue_url}-hot"
        self.dlq_url = dlq_url or f"{queue_url}-dlq"
        self._sqs = client or _client(endpoint_url, region)
        self._clock = clock
        self._retry_base = retry_base_s
        self._wait = wait_time_s
        self.dedup_path = str(dedup_path)
        if self.dedup_path != ":memory:":
            Path(self.dedup_path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            self.dedup_path, timeout=30, isolation_level=None, check_same_thread=False
        )
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA busy_timeout = 30000")
        self._db.executescript(_DEDUP_SCHEMA)

    @classmethod
    def create(
        cls,
        name: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        visibility_timeout_s: int = 60,
        **kwargs: Any,
    ) -> SqsQueue:
        """Create (or find) ``name``, ``name-hot`` and ``name-dlq`` with the redrive policy."""
        sqs = kwargs.pop("client", None) or _client(endpoint_url, region)
        try:
            dlq_url = sqs.create_queue(
                QueueName=f"{name}-dlq", Attributes={"MessageRetentionPeriod": "1209600"}
            )["QueueUrl"]
            dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
                "Attributes"
            ]["QueueArn"]
            redrive = f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":"{MAX_ATTEMPTS}"}}'
            attrs = {
                "RedrivePolicy": redrive,
                "VisibilityTimeout": str(visibility_timeout_s),
                "MessageRetentionPeriod": "1209600",
            }
            url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
            hot = sqs.create_queue(QueueName=f"{name}-hot", Attributes=attrs)["QueueUrl"]
        except _UNAVAILABLE as exc:
            raise QueueUnavailable(f"sqs queue {name}: {exc}") from None
        return cls(url, hot_queue_url=hot, dlq_url=dlq_url, client=sqs, **kwargs)

    @classmethod
    def from_url(cls, url: str, *, data_dir: str | Path = ".callscope", **kwargs: Any) -> SqsQueue:
        """``sqs://name?region=..&endpoint=..&create=1&dedup=path`` or a full queue URL."""
        parts = urlsplit(url)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        kwargs.setdefault("dedup_path", query.get("dedup") or Path(data_dir) / "sqs-dedup.sqlite3")
        region = query.get("region")
        if parts.scheme == "sqs":
            name = (parts.netloc + parts.path).strip("/")
            if not name:
                raise ValueError(f"queue: {url}: sqs:// needs a queue name")
            endpoint = query.get("endpoint")
            if query.get("create", "").lower() in {"1", "true", "yes"}:
                return cls.create(name, endpoint_url=endpoint, region=region, **kwargs)
            sqs = _client(endpoint, region)
            try:
                queue_url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
            except _UNAVAILABLE as exc:
                raise QueueUnavailable(f"sqs queue {name}: {exc}") from None
            except botocore.exceptions.ClientError as exc:
                raise QueueUnavailable(f"sqs queue {name}: {exc}") from None
            return cls(queue_url, client=sqs, **kwargs)
        # A queue URL: AWS's own (region in the host) or any SQS-compatible endpoint.
        base = f"{parts.scheme}://{parts.netloc}"
        aws = re.match(r"sqs\.([a-z0-9-]+)\.amazonaws\.com$", parts.hostname or "")
        endpoint = None if aws else base
        region = region or (aws.group(1) if aws else None)
        queue_url = f"{base}{parts.path}"
        return cls(queue_url, endpoint_url=endpoint, region=region, **kwargs)

    # -- plumbing ------------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except _UNAVAILABLE as exc:
            raise QueueUnavailable(f"sqs queue {self.queue_url}: {exc}") from None
        except botocore.exceptions.ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if "NonExistentQueue" in code or code.startswith(("Throttling", "ServiceUnavailable")):
                raise QueueUnavailable(f"sqs queue {self.queue_url}: {code}") from None
            raise

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # -- producer side -------------------------------------------------------------------

    def enqueue(
        self, session_id: str, payload: bytes, *, priority: int = PRIORITY_NORMAL
    ) -> EnqueueResult:
        return self.enqueue_many([(session_id, payload, priority)])[0]

    def enqueue_many(self, items: Sequence[EnqueueItem]) -> list[EnqueueResult]:
        triples = normalize_items(items)
        encoded: list[tuple[str, str]] = []
        for sid, payload, _ in triples:
            check_item(sid, payload)
            body, enc = _encode(bytes(payload))
            if len(body.encode("utf-8")) + _ATTR_ROOM > SQS_MAX_BYTES:
                raise ValueError(
                    f"queue: {sid}: payload of {len(payload)} bytes exceeds the SQS message "
                    "limit (256 KiB); use the sqlite or redis queue for records this large"
                )
            encoded.append((body, enc))
        if not triples:
            return []
        results: list[EnqueueResult] = []
        entries: dict[str, list[dict[str, Any]]] = {self.hot_url: [], self.queue_url: []}
        # The dedup rows are written in the same transaction as the sends: if SQS refuses,
        # nothing is recorded and the caller's retry is not mistaken for a duplicate.
        with self._tx() as db:
            for (sid, payload, prio), (body, enc) in zip(triples, encoded, strict=True):
                h = content_hash(bytes(payload))
                row = db.execute(
                    "SELECT hash, revision FROM sessions WHERE session_id = ?", (sid,)
                ).fetchone()
                if row is not None and row[0] == h:
                    results.append(EnqueueResult(sid, EnqueueOutcome.DUPLICATE, row[1]))
                    continue
                rev = 1 if row is None else row[1] + 1
                db.execute(
                    "INSERT INTO sessions (session_id, hash, revision) VALUES (?, ?, ?) "
                    "ON CONFLICT(session_id) DO UPDATE SET hash = excluded.hash, "
                    "revision = excluded.revision, receipt = NULL",
                    (sid, h, rev),
                )
                outcome = EnqueueOutcome.ACCEPTED if row is None else EnqueueOutcome.REVISION
                results.append(EnqueueResult(sid, outcome, rev))
                target = self.hot_url if prio >= PRIORITY_HOT else self.queue_url
                attrs = _str_attrs(
                    sid=sid, rev=rev, hash=h, prio=prio, enc=enc, enq=f"{self._clock():.6f}"
                )
                entries[target].append({"MessageBody": body, "MessageAttributes": attrs})
            with self._guard():
                for url, batch in entries.items():
                    self._send_batches(url, batch)
        return results

    def _send_batches(self, url: str, batch: list[dict[str, Any]]) -> None:
        for i in range(0, len(batch), 10):
            chunk = [{"Id": str(j), **e} for j, e in enumerate(batch[i : i + 10])]
            reply = self._sqs.send_message_batch(QueueUrl=url, Entries=chunk)
            failed = reply.get("Failed") or []
            if failed:
                raise QueueUnavailable(
                    f"sqs queue {url}: {len(failed)} messages refused: {failed[0].get('Message')}"
                )

    # -- consumer side -------------------------------------------------------------------

    def lease(self, max_messages: int, *, visibility_timeout: float = 60.0) -> list[Message]:
        check_lease_args(max_messages, visibility_timeout)
        vt = min(_MAX_VISIBILITY, max(1, math.ceil(visibility_timeout)))
        out: list[Message] = []
        with self._guard():
            # A producer's hot lead arrives on the normal queue and is re-routed to the hot
            # one: the scan then starts over from the hot queue (bounded), so it is leased
            # ahead of normal work.
            for _ in range(3):
                routed_hot = False
                for url in (self.hot_url, self.queue_url):
                    routed_hot = self._lease_from(url, max_messages, vt, out) or routed_hot
                    if routed_hot:
                        break
                if not routed_hot or len(out) >= max_messages:
                    break
        return out

    def _lease_from(self, url: str, max_messages: int, vt: int, out: list[Message]) -> bool:
        """Receive from ``url`` into ``out``; True when a producer message went to hot."""
        rounds = max(1, math.ceil(max_messages / 10)) + 2
        foreign_rounds = 50  # rounds that only adopted (or dropped) producer messages
        while rounds > 0 and foreign_rounds > 0:
            want = max_messages - len(out)
            if want <= 0:
                break
            reply = self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=min(10, want),
                VisibilityTimeout=vt,
                WaitTimeSeconds=self._wait,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            raw = reply.get("Messages") or []
            if not raw:
                break
            foreign = [m for m in raw if "rev" not in m.get("MessageAttributes", {})]
            ours = [m for m in raw if "rev" in m.get("MessageAttributes", {})]
            if ours:
                rounds -= 1
                out.extend(self._accept(url, ours))
            else:
                foreign_rounds -= 1
            if foreign and self._adopt(url, foreign) and url != self.hot_url:
                return True
        return False

    def _adopt(self, url: str, raw: list[dict[str, Any]]) -> bool:
        """Producer wire-format messages into our format; True if any went to the hot queue."""
        routed_hot = False
        for msg in raw:
            try:
                m = decode_producer_message(
                    _attr(msg, "session_id") or None,
                    msg.get("Body"),
                    _attr(msg, "content_encoding") or None,
                    _attr(msg, "priority") or None,
                )
            except WireError as exc:
                self._bury_foreign(url, msg, str(exc))
                continue
            sent = float(msg.get("Attributes", {}).get("SentTimestamp", 0)) / 1000
            if self._tombstoned(m.session_id, m.payload, sent):
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
                continue
            body, enc = _encode(m.payload)
            if not _fits(body):
                body, enc = (
                    base64.b64encode(gzip.compress(m.payload, 6)).decode("ascii"),
                    ("gzip+base64"),
                )
            if not _fits(body):
                self._bury_foreign(url, msg, "record too large for an SQS message once decoded")
                continue
            h = content_hash(m.payload)
            with self._tx() as db:
                row = db.execute(
                    "SELECT hash, revision FROM sessions WHERE session_id = ?", (m.session_id,)
                ).fetchone()
                if row is None or row[0] != h:
                    rev = 1 if row is None else row[1] + 1
                    db.execute(
                        "INSERT INTO sessions (session_id, hash, revision) VALUES (?, ?, ?) "
                        "ON CONFLICT(session_id) DO UPDATE SET hash = excluded.hash, "
                        "revision = excluded.revision, receipt = NULL",
                        (m.session_id, h, rev),
                    )
                    hot = m.priority >= PRIORITY_HOT
                    routed_hot = routed_hot or hot
                    attrs = _str_attrs(
                        sid=m.session_id, rev=rev, hash=h, prio=m.priority, enc=enc,
                        enq=f"{self._clock():.6f}",
                    )  # fmt: skip
                    # Inside the transaction: if SQS refuses, the revision is not recorded
                    # and the producer's message, still there, is adopted again later.
                    self._sqs.send_message(
                        QueueUrl=self.hot_url if hot else self.queue_url,
                        MessageBody=body,
                        MessageAttributes=attrs,
                    )
            # Duplicate or adopted: the producer's copy is done with. A crash before this
            # delete re-adopts it later as a duplicate.
            self._sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
        return routed_hot

    def _bury_foreign(self, url: str, msg: dict[str, Any], why: str) -> None:
        key, what = foreign_key(_attr(msg, "session_id") or None, str(msg.get("MessageId", "")))
        kept = {k: v for k, v in msg.get("MessageAttributes", {}).items() if k in _WIRE_ATTRS}
        attrs = {
            **kept,
            **_str_attrs(
                sid=key, prio=0, enc="utf8", enq=f"{self._clock():.6f}",
                reason=f"{what}: {why}"[:1000], attempts=0, failed_at=f"{self._clock():.6f}",
            ),
        }  # fmt: skip
        body = msg.get("Body")
        self._sqs.send_message(
            QueueUrl=self.dlq_url,
            MessageBody=body if isinstance(body, str) and body else "(empty)",
            MessageAttributes=attrs,
        )
        self._sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])

    def _accept(self, url: str, raw: list[dict[str, Any]]) -> list[Message]:
        raw = self._drop_forgotten(url, raw)
        out: list[Message] = []
        stale: list[str] = []
        overdue: list[Message] = []
        with self._tx() as db:
            for msg in raw:
                sid, rev = _attr(msg, "sid"), int(_attr(msg, "rev", "0"))
                row = db.execute(
                    "SELECT revision, done_revision FROM sessions WHERE session_id = ?", (sid,)
                ).fetchone()
                if row is not None and (rev < row[0] or rev <= row[1]):
                    # A redelivery of a revision already done, or one a newer one replaced.
                    stale.append(msg["ReceiptHandle"])
                    continue
                receipt = msg["ReceiptHandle"]
                db.execute(
                    "INSERT INTO sessions (session_id, hash, revision, receipt) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(session_id) DO UPDATE SET receipt = ?",
                    (sid, _attr(msg, "hash"), rev, receipt, receipt),
                )
                out.append(
                    Message(
                        session_id=sid,
                        payload=_decode(msg["Body"], _attr(msg, "enc", "utf8")),
                        revision=rev,
                        attempts=int(msg.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
                        priority=int(_attr(msg, "prio", "0")),
                        receipt=receipt,
                        enqueued_at=float(_attr(msg, "enq", "0")),
                    )
                )
        for handle in stale:
            self._sqs.delete_message(QueueUrl=url, ReceiptHandle=handle)
        # Only reachable when the queue has no redrive policy (created by hand): do its job.
        for m in out:
            if m.attempts > MAX_ATTEMPTS:
                overdue.append(m)
                done = m.attempts - 1
                self._bury(replace(m, attempts=done), f"lease expired after {done} deliveries")
        return [m for m in out if m not in overdue]

    def _current(self, message: Message) -> bool:
        """Whether ``message`` is still the live delivery (not superseded by a re-lease)."""
        with self._lock:
            row = self._db.execute(
                "SELECT receipt FROM sessions WHERE session_id = ?", (message.session_id,)
            ).fetchone()
        return row is not None and row[0] == message.receipt

    def _url_of(self, message: Message) -> str:
        return self.hot_url if message.priority >= PRIORITY_HOT else self.queue_url

    def ack(self, message: Message) -> None:
        if not self._current(message):
            return
        with self._guard():
            self._sqs.delete_message(QueueUrl=self._url_of(message), ReceiptHandle=message.receipt)
        with self._tx() as db:
            db.execute(
                "UPDATE sessions SET done_revision = MAX(done_revision, ?), receipt = NULL "
                "WHERE session_id = ? AND receipt = ?",
                (message.revision, message.session_id, message.receipt),
            )

    def nack(self, message: Message, reason: str) -> None:
        if not self._current(message):
            return
        if message.attempts >= MAX_ATTEMPTS:
            self._bury(message, f"{reason} (after {message.attempts} attempts)")
            return
        delay = backoff_seconds(message.attempts, base=self._retry_base)
        with self._guard():
            self._sqs.change_message_visibility(
                QueueUrl=self._url_of(message),
                ReceiptHandle=message.receipt,
                VisibilityTimeout=min(_MAX_VISIBILITY, max(1, math.ceil(delay))),
            )
        self._release(message)

    def dead_letter(self, message: Message, reason: str) -> None:
        if self._current(message):
            self._bury(message, reason)

    def _bury(self, message: Message, reason: str) -> None:
        body, enc = _encode(message.payload)
        attrs = _str_attrs(
            sid=message.session_id,
            rev=message.revision,
            prio=message.priority,
            enc=enc,
            enq=message.enqueued_at,
            reason=reason[:1000],
            attempts=message.attempts,
            failed_at=f"{self._clock():.6f}",
        )
        with self._guard():
            # Send first, then delete: a crash in between leaves a copy in both queues (the
            # dedup file drops the live one later), never in neither.
            self._sqs.send_message(QueueUrl=self.dlq_url, MessageBody=body, MessageAttributes=attrs)
            self._sqs.delete_message(QueueUrl=self._url_of(message), ReceiptHandle=message.receipt)
        self._release(message)

    def _release(self, message: Message) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE sessions SET receipt = NULL WHERE session_id = ? AND receipt = ?",
                (message.session_id, message.receipt),
            )

    # -- forget ----------------------------------------------------------------------------

    def add_tombstones(self, values: Sequence[str]) -> int:
        """Session ids, emails and identities of a forgotten person: a message sent before
        now that carries one is deleted on receipt instead of delivered (one a worker held
        while ``forget`` scanned the queue, or one replayed from the DLQ later)."""
        now = self._clock()
        digests = sorted({tombstone_digest(v) for v in values if v and v.strip()})
        with self._tx() as db:
            db.execute("DELETE FROM tombstones WHERE at < ?", (now - TOMBSTONE_TTL_S,))
            db.executemany(
                "INSERT INTO tombstones (digest, at) VALUES (?, ?) "
                "ON CONFLICT(digest) DO UPDATE SET at = excluded.at",
                [(d, now) for d in digests],
            )
            for value in values:  # their dedup rows name their sessions
                db.execute("DELETE FROM sessions WHERE session_id = ?", (value,))
        return len(digests)

    def _tombstoned(self, session_id: str, payload: bytes, sent_at: float) -> bool:
        digests = sorted(tombstone_digest(v) for v in _who(session_id, payload))
        marks = ",".join("?" * len(digests))
        with self._lock:
            row = self._db.execute(
                f"SELECT 1 FROM tombstones WHERE digest IN ({marks}) AND at >= ? LIMIT 1",
                (*digests, sent_at),
            ).fetchone()
        return row is not None

    def _drop_forgotten(self, url: str, raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Messages of forgotten people are deleted here, never handed to a worker."""
        kept = []
        for msg in raw:
            sent = float(msg.get("Attributes", {}).get("SentTimestamp", 0)) / 1000
            enq = float(_attr(msg, "enq", "0") or 0) or sent
            payload = _decode(msg["Body"], _attr(msg, "enc", "utf8"))
            if self._tombstoned(_attr(msg, "sid"), payload, enq):
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=msg["ReceiptHandle"])
            else:
                kept.append(msg)
        return kept

    # -- operations ----------------------------------------------------------------------

    def _scan_dlq(self, limit: int) -> list[dict[str, Any]]:
        """Peek at up to ``limit`` DLQ messages; the caller must release the rest."""
        seen: dict[str, dict[str, Any]] = {}
        for _ in range(max(1, math.ceil(limit / 10)) + 3):
            if len(seen) >= limit:
                break
            reply = self._sqs.receive_message(
                QueueUrl=self.dlq_url,
                MaxNumberOfMessages=min(10, limit - len(seen)),
                VisibilityTimeout=30,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            raw = reply.get("Messages") or []
            if not raw:
                break
            for msg in raw:
                seen.setdefault(msg["MessageId"], msg)
        return list(seen.values())

    def _unhide(self, messages: list[dict[str, Any]]) -> None:
        for i in range(0, len(messages), 10):
            entries = [
                {"Id": str(j), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for j, m in enumerate(messages[i : i + 10])
            ]
            self._sqs.change_message_visibility_batch(QueueUrl=self.dlq_url, Entries=entries)

    @staticmethod
    def _dead(msg: dict[str, Any]) -> DeadLetter:
        sys_attrs = msg.get("Attributes", {})
        sent = float(sys_attrs.get("SentTimestamp", 0)) / 1000
        return DeadLetter(
            session_id=_attr(msg, "sid"),
            revision=int(_attr(msg, "rev", "0")),
            attempts=int(_attr(msg, "attempts", str(MAX_ATTEMPTS))),
            reason=_attr(msg, "reason")
            or f"lease expired {MAX_ATTEMPTS} times (SQS redrive: maxReceiveCount)",
            failed_at=float(_attr(msg, "failed_at", str(sent))),
            payload=_decode(msg["Body"], _attr(msg, "enc", "utf8")),
        )

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        if limit <= 0:
            return []
        with self._guard():
            peeked = self._scan_dlq(limit)
            self._unhide(peeked)
        return sorted((self._dead(m) for m in peeked), key=lambda d: d.failed_at, reverse=True)

    def replay(self, session_id: str | None = None) -> int:
        moved = 0
        with self._guard():
            peeked = self._scan_dlq(10_000)
            keep: list[dict[str, Any]] = []
            for msg in peeked:
                if session_id is not None and _attr(msg, "sid") != session_id:
                    keep.append(msg)
                    continue
                prio = int(_attr(msg, "prio", "0"))
                attrs = {
                    k: v
                    for k, v in msg.get("MessageAttributes", {}).items()
                    if k in {"sid", "rev", "hash", "prio", "enc", "enq", *_WIRE_ATTRS}
                }
                url = self.hot_url if prio >= PRIORITY_HOT else self.queue_url
                # A fresh message: SQS's receive count (our attempts) starts over.
                self._sqs.send_message(
                    QueueUrl=url, MessageBody=msg["Body"], MessageAttributes=attrs
                )
                self._sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=msg["ReceiptHandle"])
                moved += 1
            self._unhide(keep)
        return moved

    def _attrs(self, url: str) -> dict[str, int]:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        reply = self._sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)
        return {k: int(v) for k, v in reply.get("Attributes", {}).items()}

    def stats(self) -> QueueStats:
        """SQS counts are approximate; a message backing off after a nack counts as leased
        (SQS cannot tell it from one in flight), and the queue API gives no message age."""
        with self._guard():
            hot, normal, dlq = (
                self._attrs(u) for u in (self.hot_url, self.queue_url, self.dlq_url)
            )
        visible = "ApproximateNumberOfMessages"
        hidden = "ApproximateNumberOfMessagesNotVisible"
        return QueueStats(
            ready=hot.get(visible, 0) + normal.get(visible, 0),
            leased=hot.get(hidden, 0) + normal.get(hidden, 0),
            dead=dlq.get(visible, 0) + dlq.get(hidden, 0),
            oldest_ready_age_s=None,
        )

    def ping(self) -> bool:
        try:
            with self._guard():
                self._attrs(self.queue_url)
        except (
            QueueUnavailable,
            botocore.exceptions.BotoCoreError,
            botocore.exceptions.ClientError,
        ):
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __repr__(self) -> str:
        return f"SqsQueue({self.queue_url!r})"
