"""The AWS deployment path: an SQS event through the real worker code into the warehouse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callscope.aws import lambda_handler
from callscope.store import open_store


def _event(bodies: list[str]) -> dict:
    # The shape AWS documents for an SQS-triggered Lambda.
    return {
        "Records": [
            {
                "messageId": f"msg-{i}",
                "receiptHandle": f"rh-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1",
                },
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:callscope",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


def test_sqs_event_is_analyzed_and_stored_bad_items_reported(
    tmp_path: Path, dev_cases: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    monkeypatch.setenv("CALLSCOPE_STORE_URL", url)
    monkeypatch.setenv("CALLSCOPE_DATA_DIR", str(tmp_path))
    good = [json.dumps(json.loads(c.read_text())["record"]) for c in dev_cases[:3]]
    result = lambda_handler(_event([good[0], "{not json", good[1], good[2], good[0]]), None)
    assert result == {"batchItemFailures": [{"itemIdentifier": "msg-1"}]}
    from callscope.aws.lambda_handler import close_pipeline

    close_pipeline()
    store = open_store(url)
    try:
        assert store.session_ids() == {"room-dev_001", "room-dev_002", "room-dev_003"}
        assert store.count("sessions") == 3
    finally:
        store.close()
    # The raw store under the data dir holds each original, as the worker's does.
    from callscope.store.raw import open_raw

    kept = {o.session_id for o in open_raw(str(tmp_path / "raw")).iter()}
    assert kept == {"room-dev_001", "room-dev_002", "room-dev_003"}
