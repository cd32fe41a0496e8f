"""The Lambda handler on real SQS event shapes (the example event from the AWS Lambda docs)."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

import pytest

from callscope.aws import handle_sqs_event, lambda_handler
from callscope.aws.lambda_handler import record_message
from callscope.pipeline import Outcome, Status
from callscope.queue.base import Message

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
    """Stands in for the pipeline at the decoding layer: records the payloads it is given."""

    def __init__(self, fail_on: set[bytes] | None = None) -> None:
        self.seen: list[bytes] = []
        self.fail_on = fail_on or set()

    def process(self, messages: list[Message]) -> list[Outcome]:
        self.seen.extend(m.payload for m in messages)
        return [
            Outcome(m, Status.RETRY if m.payload in self.fail_on else Status.STORED)
            for m in messages
        ]


def _handle(event: dict[str, Any], rec: Recorder) -> dict[str, list[dict[str, str]]]:
    return handle_sqs_event(event, pipeline=rec)  # type: ignore[arg-type]


def test_aws_example_event_all_succeed() -> None:
    rec = Recorder()
    assert _handle(AWS_EXAMPLE_EVENT, rec) == {"batchItemFailures": []}
    assert rec.seen == [b"test", b"test"]


def test_partial_batch_failure_reports_only_failed_message_ids() -> None:
    good = json.dumps({"session_id": "a"})
    bad = json.dumps({"session_id": "b"})
    rec = Recorder(fail_on={bad.encode()})
    event = _event(("m1", good, {}), ("m2", bad, {}), ("m3", good, {}))
    assert _handle(event, rec) == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert len(rec.seen) == 3  # one failure does not stop the batch


def test_base64_bodies_from_sqs_queue_are_decoded() -> None:
    raw = b"\x00\xffbinary"
    attrs = {"enc": {"stringValue": "b64", "dataType": "String"}}
    rec = Recorder()
    ok = _handle(
        _event(("m1", base64.b64encode(raw).decode(), attrs), ("m2", "%%%not base64", attrs)),
        rec,
    )
    assert rec.seen == [raw]
    assert ok == {"batchItemFailures": [{"itemIdentifier": "m2"}]}


def test_revision_and_session_come_from_the_message_attributes() -> None:
    attrs = {
        "sid": {"stringValue": "room-7", "dataType": "String"},
        "rev": {"stringValue": "3", "dataType": "String"},
        "prio": {"stringValue": "10", "dataType": "String"},
    }
    msg = record_message(_event(("m1", "{}", attrs))["Records"][0])
    assert (msg.session_id, msg.revision, msg.priority, msg.receipt) == ("room-7", 3, 10, "m1")
    # The producer wire format has no revision: it counts as the first.
    wire = {"session_id": {"stringValue": "room-8", "dataType": "String"}}
    msg = record_message(_event(("m2", "{}", wire))["Records"][0])
    assert (msg.session_id, msg.revision) == ("room-8", 1)


def test_record_without_body_is_a_failure_not_a_drop() -> None:
    event = _event(("m1", "x", {}))
    del event["Records"][0]["body"]
    assert _handle(event, Recorder()) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_not_an_sqs_event_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="not an SQS event"):
        _handle({"detail": {}}, Recorder())


def test_lambda_handler_runs_the_pipeline_from_the_environment(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from callscope.aws.lambda_handler import close_pipeline

    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CALLSCOPE_STORE_URL", raising=False)
    try:
        out = lambda_handler(_event(("m1", "{not json", {})), None)
    finally:
        close_pipeline()
    assert out == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert (tmp_path / "warehouse.duckdb").exists()  # settings came from callscope.config
