"""Lambda handler for an SQS event source mapping, with partial batch failures.

Configure the mapping with ``FunctionResponseTypes: ["ReportBatchItemFailures"]``: only the
records listed in ``batchItemFailures`` return to the queue (and, after
``maxReceiveCount`` receives, go to the DLQ by the queue's redrive policy); the others are
deleted by Lambda. The batch runs through the same pipeline as the worker
(:mod:`callscope.pipeline`): raw record kept, warehouse written at the message's revision
(a late older revision never replaces a newer one), alerts fired. A record that can never
succeed (not valid base64 when flagged so, no body, not a SessionRecord) is reported as a
failure too - SQS's redrive then parks it in the DLQ with its attributes intact, so nothing
is dropped silently.
"""

from __future__ import annotations

import base64
import gzip
import time
from collections.abc import Mapping
from typing import Any

import structlog

from callscope.pipeline import Pipeline, Status
from callscope.queue.base import PRIORITY_NORMAL, Message

log = structlog.get_logger("callscope.aws")


def _attr(record: Mapping[str, Any], name: str) -> str | None:
    value = (record.get("messageAttributes") or {}).get(name) or {}
    got = value.get("stringValue")
    return str(got) if got is not None else None


def record_payload(record: Mapping[str, Any]) -> bytes:
    """The payload bytes an ``SqsQueue`` producer put in this record's body."""
    body = record.get("body")
    if not isinstance(body, str):
        raise ValueError("sqs record has no body")
    enc = _attr(record, "enc")
    if enc is None:  # the producer wire format (callscope.queue.wire), e.g. the collector
        enc = _attr(record, "content_encoding")
    if enc == "b64":
        return base64.b64decode(body, validate=True)
    if enc == "gzip+base64":
        return gzip.decompress(base64.b64decode(body, validate=True))
    return body.encode("utf-8")


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text is not None else default
    except ValueError:
        return default


def record_message(record: Mapping[str, Any]) -> Message:
    """An SQS event record as the queue :class:`Message` the pipeline takes.

    ``rev`` (set by ``SqsQueue``) is the revision; a producer-wire message has none and
    counts as revision 1.
    """
    attempts = (record.get("attributes") or {}).get("ApproximateReceiveCount")
    return Message(
        session_id=_attr(record, "sid") or _attr(record, "session_id") or "",
        payload=record_payload(record),
        revision=max(1, _int(_attr(record, "rev"), 1)),
        attempts=_int(str(attempts) if attempts is not None else None, 1),
        priority=_int(_attr(record, "prio"), PRIORITY_NORMAL),
        receipt=str(record.get("messageId", "")),
        enqueued_at=float(_int(_attr(record, "enq"), 0)),
    )


_STATE: dict[str, Any] = {}


def _default_settings() -> Any:
    from callscope.config import load_settings

    return load_settings()


def pipeline_for(settings: Any) -> Pipeline:
    """The pipeline of this Lambda container, kept warm across invocations."""
    from callscope.profile.model import load_profile
    from callscope.store import open_store
    from callscope.store.raw import open_raw_store
    from callscope.store.rows import tool_kinds_of

    key = (settings.resolved_store_url(), settings.resolved_raw_url(), settings.profile)
    if _STATE.get("key") != key:
        close_pipeline()
        profile = load_profile(settings.profile)
        store = open_store(key[0], tool_kinds=tool_kinds_of(profile))
        raw = open_raw_store(key[1])
        _STATE.update(key=key, pipeline=Pipeline(store, profile, raw_store=raw, settings=settings))
    pipeline: Pipeline = _STATE["pipeline"]
    return pipeline


def close_pipeline() -> None:
    """Close the warm pipeline (tests, or a container asked to shut down)."""
    pipeline: Pipeline | None = _STATE.pop("pipeline", None)
    _STATE.pop("key", None)
    if pipeline is not None:
        pipeline.close()
        pipeline.store.close()


def handle_sqs_event(
    event: Mapping[str, Any],
    *,
    pipeline: Pipeline | None = None,
    settings: Any = None,
) -> dict[str, list[dict[str, str]]]:
    """Process every record; return the ids of the failed ones for SQS to redeliver."""
    records = event.get("Records")
    if not isinstance(records, list):
        raise ValueError("not an SQS event: no Records list")
    failures: list[dict[str, str]] = []
    messages: list[Message] = []
    for record in records:
        try:
            messages.append(record_message(record))
        except Exception as exc:
            _fail(failures, str(record.get("messageId", "")), f"undecodable body: {exc}")
    if messages:
        pipe = pipeline or pipeline_for(settings if settings is not None else _default_settings())
        t0 = time.perf_counter()
        for outcome in pipe.process(messages):
            if outcome.status is not Status.STORED:
                _fail(failures, outcome.message.receipt, outcome.reason or str(outcome.status))
        log.info("sqs.batch", size=len(records), failed=len(failures), s=time.perf_counter() - t0)
    return {"batchItemFailures": failures}


def _fail(failures: list[dict[str, str]], message_id: str, reason: str) -> None:
    log.warning("sqs.record_failed", message_id=message_id, reason=reason[:300])
    failures.append({"itemIdentifier": message_id})


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """The AWS Lambda entry point: ``callscope.aws.lambda_handler``."""
    return handle_sqs_event(event)
