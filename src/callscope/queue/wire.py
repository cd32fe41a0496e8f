"""The producer wire format: how any producer puts a record on a broker without the ingest.

A producer (our in-agent collector, or an agent written in another language) sends one
message per record; the queue backends adopt such "foreign" messages on ``lease`` through
the same dedup / revision / priority logic as ``enqueue``.

Fields (Redis: stream entry fields; SQS: message attributes, the payload is the body):

- ``session_id`` (required): the dedup key, 1..512 characters;
- ``payload`` (Redis only; the SQS body): the SessionRecord JSON, UTF-8;
- ``content_encoding`` (optional): ``identity`` (default), ``gzip+base64`` (gzip, then
  base64 - what the collector sends for bodies over 240 KB) or ``gzip`` (raw gzip bytes,
  Redis only: stream values are binary-safe, SQS bodies are not);
- ``priority`` (optional): an integer (``>= 10`` is hot) or ``hot`` / ``normal``. Absent,
  the record's own hints decide: a top-level ``"priority"`` or
  ``discovered_signals.hot_lead == true`` / ``qualification_tier == "tier_1"``.

Anything that cannot be decoded (no session id, bad base64 or gzip, unknown encoding, not
JSON, larger than 5 MiB decoded) is parked in the dead-letter queue with the reason; the
consumer never crashes on it.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from callscope.queue._common import MAX_SESSION_ID_LEN
from callscope.queue.base import PRIORITY_HOT, PRIORITY_NORMAL

MAX_DECODED_BYTES = 5 * 1024 * 1024  # the contract's record limit
ENCODINGS = ("identity", "gzip+base64", "gzip")
_HOT_WORDS = frozenset({"hot", "hot_lead", "high"})
_NORMAL_WORDS = frozenset({"", "normal", "low", "default"})


class WireError(ValueError):
    """A producer message that can never be processed; ``str()`` is the one-line reason."""


@dataclass(frozen=True)
class ProducerMessage:
    session_id: str
    payload: bytes  # canonical JSON (sorted keys), like the ingest's, so re-sends dedup
    priority: int


def _text(value: bytes | str | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise WireError("a field is not valid UTF-8") from None
    return value


def _gunzip(data: bytes) -> bytes:
    # Bounded: a small message must not inflate into gigabytes inside the consumer.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, MAX_DECODED_BYTES + 1)
    except zlib.error as exc:
        raise WireError(f"payload is not valid gzip ({exc})") from None
    if len(out) > MAX_DECODED_BYTES:
        raise WireError(f"decoded payload is over the {MAX_DECODED_BYTES:,}-byte limit")
    if not inflater.eof:
        raise WireError("payload is truncated gzip")
    return out


def _decode_payload(raw: bytes, encoding: str) -> bytes:
    if encoding == "identity":
        return raw
    if encoding == "gzip":
        return _gunzip(raw)
    try:
        packed = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise WireError("payload is not valid base64 (content_encoding=gzip+base64)") from None
    return _gunzip(packed)


def parse_priority(value: bytes | str | None) -> int | None:
    """An explicit priority field; ``None`` when absent. A bad hint never costs the record."""
    text = _text(value)
    if text is None:
        return None
    word = text.strip().lower()
    if word.lstrip("-").isdigit():
        return max(-100, min(100, int(word)))
    if word in _HOT_WORDS:
        return PRIORITY_HOT
    if word in _NORMAL_WORDS:
        return PRIORITY_NORMAL
    return None


def record_priority(record: Mapping[str, Any]) -> int:
    """The record's own hot-lead hints (profile-free: the consumer has no profile)."""
    explicit = record.get("priority")
    if isinstance(explicit, int) and not isinstance(explicit, bool):
        return max(-100, min(100, explicit))
    if isinstance(explicit, str) and explicit.strip().lower() in _HOT_WORDS:
        return PRIORITY_HOT
    signals = record.get("discovered_signals")
    if isinstance(signals, Mapping):
        tier = str(signals.get("qualification_tier", "")).strip().lower().replace(" ", "_")
        if signals.get("hot_lead") is True or tier in ("tier_1", "tier1"):
            return PRIORITY_HOT
    return PRIORITY_NORMAL


def decode_producer_message(
    session_id: bytes | str | None,
    payload: bytes | str | None,
    content_encoding: bytes | str | None = None,
    priority: bytes | str | None = None,
) -> ProducerMessage:
    """Validate and decode one producer message, or raise :class:`WireError`."""
    sid = _text(session_id)
    if sid is None or not sid.strip():
        raise WireError("no session_id")
    if len(sid) > MAX_SESSION_ID_LEN:
        raise WireError(f"session_id longer than {MAX_SESSION_ID_LEN} characters")
    if payload is None:
        raise WireError("no payload")
    raw = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
    encoding = (_text(content_encoding) or "identity").strip().lower()
    if encoding not in ENCODINGS:
        raise WireError(f"unknown content_encoding {encoding!r} (use {', '.join(ENCODINGS)})")
    data = _decode_payload(raw, encoding)
    if len(data) > MAX_DECODED_BYTES:
        raise WireError(f"payload is over the {MAX_DECODED_BYTES:,}-byte limit")
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise WireError(f"payload is not JSON ({str(exc).splitlines()[0][:120]})") from None
    if not isinstance(record, dict):
        raise WireError(f"payload is a JSON {type(record).__name__}, not a record object")
    if isinstance(record.get("session_id"), str) and record["session_id"] != sid:
        raise WireError(
            f"session_id {sid!r} does not match the record's session_id {record['session_id']!r}"
        )
    prio = parse_priority(priority)
    return ProducerMessage(
        sid,
        orjson.dumps(record, option=orjson.OPT_SORT_KEYS),
        record_priority(record) if prio is None else prio,
    )


def foreign_key(session_id: bytes | str | None, message_id: str) -> tuple[str, str]:
    """Dead-letter id and reason prefix for a message that could not be decoded.

    The id is never the session's own (that would clobber a live revision's state), but the
    reason names the session so operators can find it."""
    try:
        sid = _text(session_id)
    except WireError:
        sid = None
    named = f" (session_id {sid[:120]!r})" if sid else ""
    return f"foreign:{message_id}", f"unreadable producer message {message_id}{named}"
