"""Raw store and Parquet archive: one suite over a local directory and S3 (moto server)."""

from __future__ import annotations

import gzip
import pathlib
from collections.abc import Iterator
from datetime import UTC, date, datetime

import boto3
import pytest

from callscope.store import StoreError
from callscope.store.archive import Archive, open_archive
from callscope.store.objects import open_objects
from callscope.store.raw import open_raw, parse_key, raw_key


@pytest.fixture(params=["local", "s3"])
def objects_url(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[str]:
    if request.param == "local":
        yield str(tmp_path / "objects")
        return
    endpoint = request.getfixturevalue("moto_endpoint")
    bucket = f"cs-{request.node.name.lower().replace('[', '-').replace(']', '')}"[:60]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    request.getfixturevalue("monkeypatch").setenv("CALLSCOPE_S3_ENDPOINT_URL", endpoint)
    yield f"s3://{bucket}/callscope/raw"


def test_raw_round_trip_by_day(objects_url: str, dev_paths: list[pathlib.Path]) -> None:
    raw = open_raw(objects_url)
    payloads = {p.stem: p.read_bytes() for p in dev_paths[:3]}
    days = [date(2026, 9, 30), date(2026, 10, 1), date(2026, 10, 2)]
    for (sid, data), day in zip(payloads.items(), days, strict=True):
        raw.put(sid, 1, day, data)
    raw.put("dev_001", 2, datetime(2026, 10, 2, 23, 59, tzinfo=UTC), b'{"v": 2}')
    everything = list(raw.iter())
    assert [(o.session_id, o.revision, o.day) for o in everything] == [
        ("dev_001", 1, days[0]),
        ("dev_002", 1, days[1]),
        ("dev_001", 2, days[2]),
        ("dev_003", 1, days[2]),
    ]
    assert everything[0].data == payloads["dev_001"]  # byte for byte
    window = list(raw.iter(since=days[1], until=days[1]))
    assert [o.session_id for o in window] == ["dev_002"]
    assert [o.session_id for o in raw.iter(since=days[2])] == ["dev_001", "dev_003"]
    assert raw.get("dev_002", 1, days[1]) == payloads["dev_002"]
    assert raw.get("dev_002", 9, days[1]) is None
    assert raw.delete("dev_001") == 2
    assert [o.session_id for o in raw.iter()] == ["dev_002", "dev_003"]
    assert raw.delete("dev_003", day=days[2]) == 1
    assert raw.delete("absent") == 0


def test_raw_keys_survive_odd_session_ids(tmp_path: pathlib.Path) -> None:
    raw = open_raw(str(tmp_path))
    odd = ["room/with/slashes", "..", "a.r5", "ünï cødé", "x" * 200]
    for sid in odd:
        key = raw.put(sid, 3, date(2026, 1, 2), b"{}")
        assert parse_key(key) == (sid, 3, date(2026, 1, 2))
        assert key.startswith("2026/01/02/") and key.count("/") == 3
    assert sorted(o.session_id for o in raw.iter()) == sorted(odd)
    assert raw.delete("a") == 0 and raw.delete("a.r5") == 1
    # Stored compressed, deterministically.
    path = tmp_path / raw_key("..", 3, date(2026, 1, 2))
    assert gzip.decompress(path.read_bytes()) == b"{}"


def test_raw_skips_foreign_files_and_reports_corrupt_ones(tmp_path: pathlib.Path) -> None:
    raw = open_raw(str(tmp_path))
    raw.put("s1", 1, date(2026, 1, 1), b"{}")
    (tmp_path / "README.txt").write_text("not a record")
    (tmp_path / "2026" / "01" / "01" / "junk.txt").write_text("x")
    assert [o.session_id for o in raw.iter()] == ["s1"]
    (tmp_path / "2026" / "01" / "01" / "s2.r1.json.gz").write_bytes(b"not gzip")
    with pytest.raises(StoreError, match="corrupt gzip"):
        list(raw.iter())


def test_object_storage_urls_fail_clearly(tmp_path: pathlib.Path, moto_endpoint: str) -> None:
    afile = tmp_path / "f"
    afile.write_text("x")
    with pytest.raises(StoreError, match="not a directory"):
        open_raw(str(afile))
    with pytest.raises(StoreError, match="unsupported object storage scheme 'ftp'"):
        open_raw("ftp://host/x")
    with pytest.raises(StoreError, match="needs a bucket"):
        open_raw("s3:///prefix")
    with pytest.raises(StoreError, match="bucket not usable") as exc:
        open_raw("s3://no-such-bucket-here/x", endpoint_url=moto_endpoint)
    assert "\n" not in str(exc.value)
    assert list(open_objects(f"file://{tmp_path}/d").keys()) == []


def test_archive_parquet_partitioned_by_day(objects_url: str) -> None:
    archive = open_archive(objects_url.replace("/raw", "/archive"))
    rows = [
        {
            "session_id": "a",
            "ts": datetime(2026, 1, 1, 10, tzinfo=UTC),
            "metric": "e2e_latency",
            "value": 1.2,
            "unit": "s",
            "component": "e2e",
            "turn_index": 1,
            "source": "turn",
        },
        {
            "session_id": "a",
            "ts": datetime(2026, 1, 1, 11, tzinfo=UTC),
            "metric": "ttft",
            "value": 0.4,
            "unit": "s",
            "component": "llm",
            "turn_index": None,
            "source": "event",
        },
        {
            "session_id": "b",
            "ts": datetime(2026, 1, 3, 9, tzinfo=UTC),
            "metric": "e2e_latency",
            "value": 0.9,
            "unit": "s",
            "component": "e2e",
            "turn_index": 0,
            "source": "turn",
        },
    ]
    keys = archive.write("metrics", rows, "ts")
    assert [k.split("/")[1] for k in keys] == ["date=2026-01-01", "date=2026-01-03"]
    assert archive.days("metrics") == [date(2026, 1, 1), date(2026, 1, 3)]
    back = archive.read("metrics")
    assert back.num_rows == 3
    assert sorted(back.column("value").to_pylist()) == [0.4, 0.9, 1.2]
    assert archive.read("metrics", since=date(2026, 1, 2)).column("session_id").to_pylist() == ["b"]
    assert archive.read("leads").num_rows == 0
    json_rows = [
        {
            "session_id": "s",
            "module": "lead",
            "analyzer_version": "1",
            "result": {"tier": "tier_1"},
            "created_at": datetime(2026, 2, 1, tzinfo=UTC),
        }
    ]
    archive.write("analysis_results", json_rows, "created_at")
    got = archive.read("analysis_results").to_pylist()
    assert got[0]["result"] == '{"tier":"tier_1"}'
    with pytest.raises(StoreError, match="partition"):
        archive.write("metrics", rows, "no_such_column")


def test_archive_reads_as_hive_dataset_in_duckdb(tmp_path: pathlib.Path) -> None:
    import duckdb

    archive = Archive(open_objects(str(tmp_path)))
    archive.write(
        "sessions",
        [{"session_id": "x", "revision": 1, "started_at": datetime(2026, 3, 4, tzinfo=UTC)}],
        "started_at",
    )
    got = duckdb.sql(
        f"SELECT session_id, date FROM read_parquet('{tmp_path}/sessions/*/*.parquet', "
        "hive_partitioning = true)"
    ).fetchall()
    assert [(r[0], str(r[1])) for r in got] == [("x", "2026-03-04")]
