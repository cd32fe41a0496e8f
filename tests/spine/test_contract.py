"""SessionRecord v1: the dev set parses and round-trips; bad records fail with one clear line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import orjson
import pytest

from callscope.contract import RecordError, SessionRecord, parse_record, read_path
from callscope.contract.parse import iter_records


def _record(case: Path) -> dict:
    return json.loads(case.read_text())["record"]


def test_every_dev_case_parses_and_round_trips(dev_cases: list[Path]) -> None:
    for case in dev_cases:
        raw = _record(case)
        record = parse_record(orjson.dumps(raw), str(case))
        again = parse_record(record.model_dump_json(), "round-trip")
        assert again.model_dump() == record.model_dump()
        # Every item of the transcript survives, including fields the model doesn't name.
        dumped = json.loads(record.model_dump_json())
        assert len(dumped["transcript"]["items"]) == len(raw["transcript"]["items"])
        for a, b in zip(dumped["transcript"]["items"], raw["transcript"]["items"], strict=True):
            assert set(b) <= set(a)


def test_unknown_fields_are_kept_not_rejected(dev_cases: list[Path]) -> None:
    raw = _record(dev_cases[0])
    raw["collector_build"] = "9.9.9"
    raw["participant"]["shoe_size"] = 44
    record = parse_record(raw)
    dumped = record.model_dump()
    assert dumped["collector_build"] == "9.9.9"
    assert dumped["participant"]["shoe_size"] == 44


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (lambda r: r.update(schema_version="2"), "schema_version", "schema_version"),
        (lambda r: r.pop("schema_version"), "schema_version", "schema"),
        (lambda r: r.pop("session_id"), "session_id", "schema"),
        (lambda r: r.update(session_id=""), "session_id", "schema"),
        (lambda r: r.update(started_at="yesterday"), "started_at", "schema"),
        (lambda r: r["tool_calls"].append({"arguments": {}}), "tool_calls[2].name", "schema"),
    ],
)
def test_schema_errors_name_the_field(
    dev_cases: list[Path], mutate, field: str, reason: str
) -> None:
    raw = _record(dev_cases[0])
    mutate(raw)
    with pytest.raises(RecordError) as exc:
        parse_record(orjson.dumps(raw), "call.json")
    assert exc.value.field == field
    assert exc.value.reason == reason
    line = str(exc.value)
    assert line.startswith("call.json: ") and "\n" not in line and field in line


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"", "empty"),
        (b"   \n", "empty"),
        (b"{not json", "malformed_json"),
        (b"[1, 2", "malformed_json"),
        (b"\xff\xfe{}", "encoding"),
        (b'"just a string"', "not_an_object"),
        (b"42", "not_an_object"),
    ],
)
def test_bytes_that_are_not_a_record(payload: bytes, reason: str) -> None:
    with pytest.raises(RecordError) as exc:
        parse_record(payload, "body")
    assert exc.value.reason == reason


def test_oversized_payload_is_refused_before_parsing() -> None:
    big = b'{"schema_version": "1", "pad": "' + b"x" * (5 * 1024 * 1024) + b'"}'
    with pytest.raises(RecordError) as exc:
        parse_record(big, "big.json")
    assert exc.value.reason == "too_large"


def test_ended_before_started_is_refused(dev_cases: list[Path]) -> None:
    # Both timestamps come from the same agent host's clock: reversed, they are a bug (issue 13).
    raw = _record(dev_cases[0])
    raw["started_at"], raw["ended_at"] = raw["ended_at"], raw["started_at"]
    raw.pop("duration_seconds")
    with pytest.raises(RecordError) as exc:
        parse_record(raw)
    assert (exc.value.reason, exc.value.field) == ("semantic", "ended_at")


def test_naive_timestamps_are_utc(dev_cases: list[Path]) -> None:
    raw = _record(dev_cases[0])
    raw["started_at"] = "2026-09-15T15:20:07"
    assert parse_record(raw).started_at.utcoffset() is not None


def test_tool_arguments_as_json_string_are_decoded(dev_cases: list[Path]) -> None:
    raw = _record(dev_cases[0])
    raw["tool_calls"][0]["arguments"] = '{"query": "hubspot"}'
    raw["tool_calls"][1]["arguments"] = "{broken"
    record = parse_record(raw)
    assert record.tool_calls[0].arguments == {"query": "hubspot"}
    assert record.tool_calls[1].arguments == {"_raw": "{broken"}


def test_json_lines_file_with_one_bad_line_keeps_the_good_ones(
    tmp_path: Path, dev_cases: list[Path]
) -> None:
    lines = [orjson.dumps(_record(c)) for c in dev_cases[:3]]
    lines.insert(1, b"{oops")
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    items = list(read_path(path))
    assert [type(i) for i in items] == [SessionRecord, RecordError, SessionRecord, SessionRecord]
    bad = items[1]
    assert isinstance(bad, RecordError) and bad.source == f"{path}:2"


def test_gzip_and_arrays_are_read(tmp_path: Path, dev_cases: list[Path]) -> None:
    arr = orjson.dumps([_record(c) for c in dev_cases[:2]])
    path = tmp_path / "calls.json.gz"
    path.write_bytes(gzip.compress(arr))
    assert [r.session_id for r in read_path(path)] == ["room-dev_001", "room-dev_002"]
    assert len(list(iter_records(arr, "arr"))) == 2


def test_json_schema_describes_required_fields() -> None:
    schema = SessionRecord.model_json_schema()
    assert {"schema_version", "session_id", "started_at", "ended_at"} <= set(schema["required"])
