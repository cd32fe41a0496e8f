"""Lambda handler for an SQS event source mapping, with partial batch failures.

Configure the mapping with ``FunctionResponseTypes: ["ReportBatchItemFailures"]``: only the
records listed in ``batchItemFailures`` return to the queue (and, after
``maxReceiveCount`` receives, go to the DLQ by the queue's redrive policy); the others are
deleted by Lambda. A record that can never succeed (not valid base64 when flagged so, no
body) is reported as a failure too - SQS's redrive then parks it in the DLQ with its
attributes intact, so nothing is dropped silently.
"""

from __future__ import annotations

import base64
import gzip
import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

log = logging.getLogger("callscope.aws")


class ProcessPayload(Protocol):
    def __call__(self, payload: bytes, *, settings: Any) -> None: ...


def _default_processor() -> ProcessPayload:
    # Imported lazily: a cold start should pay for the worker only when it is used.
    from callscope.worker import process_payload

    fn: ProcessPayload = process_payload
    return fn


def _default_settings() -> Any:
    from callscope.config import load_settings

    return load_settings()


def record_payload(record: Mapping[str, Any]) -> bytes:
    """The payload bytes an ``SqsQueue`` producer put in this record's body."""
    body = record.get("body")
    if not isinstance(body, str):
        raise ValueError("sqs record has no body")
    attrs = record.get("messageAttributes") or {}
    enc = (attrs.get("enc") or {}).get("stringValue")
    if enc is None:  # the producer wire format (callscope.queue.wire), e.g. the collector
        enc = (attrs.get("content_encoding") or {}).get("stringValue")
    if enc == "b64":
        return base64.b64decode(body, validate=True)
    if enc == "gzip+base64":
        return gzip.decompress(base64.b64decode(body, validate=True))
    return body.encode("utf-8")


def handle_sqs_event(
    event: Mapping[str, Any],
    *,
    process: ProcessPayload | Callable[..., None] | None = None,
    settings: Any = None,
) -> dict[str, list[dict[str, str]]]:
    """Process every record; return the ids of the failed ones for SQS to redeliver."""
    records = event.get("Records")
    if not isinstance(records, list):
        raise ValueError("not an SQS event: no Records list")
    fn = process or _default_processor()
    cfg = settings if settings is not None else _default_settings()
    failures: list[dict[str, str]] = []
    for record in records:
        message_id = str(record.get("messageId", ""))
        attempts = (record.get("attributes") or {}).get("ApproximateReceiveCount", "?")
        try:
            fn(record_payload(record), settings=cfg)
        except Exception as exc:
            log.warning("record %s failed (receive %s): %s", message_id, attempts, str(exc)[:300])
            failures.append({"itemIdentifier": message_id})
    return {"batchItemFailures": failures}


def lambda_handler(event: Mapping[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """The AWS Lambda entry point: ``callscope.aws.lambda_handler``."""
    return handle_sqs_event(event)
