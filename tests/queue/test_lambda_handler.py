"""The Lambda handler on real SQS event shapes (the example event from the AWS Lambda docs)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from callscope.aws import handle_sqs_event, lambda_handler

# Structure copied from "Using Lambda with Amazon SQS" (example standard queue event).
AWS_EXAMPLE_EVENT: dict[str, Any] = {
    "Records": [
        {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": "test",
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185",
            },
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
            "awsRegion": "us-east-2",
        },
        {
            "messageId": "2e1424d4-f796-459a-8184-9c92662be6da",
            "receiptHandle": "AQEBzWwaftRI0KuVm4tP+/7q1rGgNqicHq...",
            "body": "test",
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082650636",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082650649",
            },
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-2:123456789012:my-queue",
            "awsRegion": "us-east-2",
        },
    ]
}


def _event(*bodies: tuple[str, str, dict[str, Any]]) -> dict[str, Any]:
    """The AWS example with our bodies and message attributes, one record per body."""
    template = AWS_EXAMPLE_EVENT["Records"][0]
    records = []
    for message_id, body, attrs in bodies:
        rec = copy.deepcopy(template)
        rec["messageId"], rec["body"], rec["messageAttributes"] = message_id, body, attrs
        records.append(rec)
    return {"Records": records}


class Recorder:
    def __init__(self, fail_on: set[bytes] | None = None) -> None:
        self.seen: list[bytes] = []
        self.settings: list[Any] = []
        self.fail_on = fail_on or set()

    def __call__(self, payload: bytes, *, settings: Any) -> None:
        self.seen.append(payload)
        self.settings.append(settings)
        if payload in self.fail_on:
            raise RuntimeError("analyzer exploded")


def test_aws_example_event_all_succeed() -> None:
    rec = Recorder()
    out = handle_sqs_event(AWS_EXAMPLE_EVENT, process=rec, settings="cfg")
    assert out == {"batchItemFailures": []}
    assert rec.seen == [b"test", b"test"] and rec.settings == ["cfg", "cfg"]


def test_partial_batch_failure_reports_only_failed_message_ids() -> None:
    good = json.dumps({"session_id": "a"})
    bad = json.dumps({"session_id": "b"})
    rec = Recorder(fail_on={bad.encode()})
    event = _event(("m1", good, {}), ("m2", bad, {}), ("m3", good, {}))
    out = handle_sqs_event(event, process=rec, settings=object())
    assert out == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert len(rec.seen) == 3  # one failure does not stop the batch


def test_base64_bodies_from_sqs_queue_are_decoded() -> None:
    raw = b"\x00\xffbinary"
    attrs = {"enc": {"stringValue": "b64", "dataType": "String"}}
    rec = Recorder()
    ok = handle_sqs_event(
        _event(("m1", base64.b64encode(raw).decode(), attrs), ("m2", "%%%not base64", attrs)),
        process=rec,
        settings=None,
    )
    assert rec.seen == [raw]
    assert ok == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


def test_record_without_body_is_a_failure_not_a_drop() -> None:
    event = _event(("m1", "x", {}))
    del event["Records"][0]["body"]
    out = handle_sqs_event(event, process=Recorder(), settings=object())
    assert out == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_not_an_sqs_event_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an SQS event"):
        handle_sqs_event({"detail": {}}, process=Recorder(), settings=object())


def test_lambda_handler_uses_the_worker_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    import callscope.worker

    rec = Recorder(fail_on={b"bad"})
    monkeypatch.setattr(callscope.worker, "process_payload", rec)
    out = lambda_handler(_event(("m1", "good", {}), ("m2", "bad", {})), None)
    assert out == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert rec.seen == [b"good", b"bad"]
    assert rec.settings[0] is not None  # loaded from callscope.config
