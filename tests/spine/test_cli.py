"""The CLI as a user runs it: a real ``callscope`` process, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from callscope.analyze import CONTRACT_KEYS
from callscope.profile import load_profile

CLI = [sys.executable, "-m", "callscope"]
VOCAB_ENUMS = {
    "lead.tier": {"tier_1", "tier_2", "unqualified"},
    "lead.confidence": {"high", "medium", "low"},
    "sentiment.overall": {"positive", "neutral", "negative"},
    "sales.budget_authority": {"decision_maker", "influencer", "needs_approval", None},
    "sales.timeline": {"this_week", "this_month", "this_quarter", "later", None},
}


def run(
    *args: str, data_dir: Path | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if data_dir is not None:
        env["CALLSCOPE_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        input=stdin.decode() if stdin else None,
    )


def get(d: dict, dotted: str) -> object:
    for k in dotted.split("."):
        d = d[k]  # type: ignore[assignment]
    return d


def test_analyze_dev_set_honours_the_contract(dev_cases: list[Path]) -> None:
    proc = run("analyze", *map(str, dev_cases), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(lines) == len(dev_cases)
    profile = load_profile()
    ids = {
        "sales.integrations": set(profile.signals.integrations),
        "sales.competitors": set(profile.signals.competitors),
        "sales.objections": set(profile.signals.objections),
    }
    for out in lines:
        for key in CONTRACT_KEYS:
            get(out, key)  # every contract key is present
        for key, allowed in VOCAB_ENUMS.items():
            assert get(out, key) in allowed, (key, get(out, key))
        for key, allowed_ids in ids.items():
            assert set(get(out, key)) <= allowed_ids  # type: ignore[arg-type]
        assert get(out, "sales.current_tool") in profile.value_ids("current_tool") | {None}
        assert get(out, "sales.use_case") in set(profile.signals.use_case) | {None}
        assert get(out, "sales.industry") in set(profile.signals.industry) | {None}
        assert 0 <= get(out, "lead.score") <= 100  # type: ignore[operator]
        assert 0 <= get(out, "quality.engagement_score") <= 10  # type: ignore[operator]
        for v in get(out, "sales.bant").values():  # type: ignore[attr-defined]
            assert 0 <= v <= 1
        assert isinstance(out["summary"], str) and out["summary"]
        assert set(out["analyzer_versions"]) >= {
            "sales",
            "lead",
            "quality",
            "sentiment",
            "performance",
            "tools",
            "summary",
        }


def test_analyze_table_format(dev_cases: list[Path]) -> None:
    proc = run("analyze", str(dev_cases[0]), "--format", "table")
    assert proc.returncode == 0, proc.stderr
    assert "room-dev_001" in proc.stdout


def _bad_inputs(tmp: Path, good: dict) -> dict[str, Path]:
    files: dict[str, Path] = {}

    def put(name: str, data: bytes) -> None:
        files[name] = tmp / name
        files[name].write_bytes(data)

    put("malformed.json", b'{"schema_version": "1", "session_id": ')
    put("version2.json", orjson.dumps({**good, "schema_version": "2", "session_id": "v2"}))
    missing = {k: v for k, v in good.items() if k != "session_id"}
    put("no_session_id.json", orjson.dumps(missing))
    put(
        "latin1.json",
        orjson.dumps({**good, "session_id": "latin"}).replace(b'"latin"', b'"caf\xe9"'),
    )
    put("huge.json", b'{"schema_version": "1", "pad": "' + b"x" * (6 * 1024 * 1024) + b'"}')
    return files


@pytest.fixture
def good_record(dev_cases: list[Path]) -> dict:
    return json.loads(dev_cases[0].read_text())["record"]


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("malformed.json", "malformed JSON"),
        ("version2.json", "schema_version"),
        ("no_session_id.json", "session_id"),
        ("latin1.json", "UTF-8"),
        ("huge.json", "limit"),
    ],
)
def test_analyze_bad_input_one_line_nonzero_good_still_processed(
    tmp_path: Path, good_record: dict, name: str, needle: str
) -> None:
    bad = _bad_inputs(tmp_path, good_record)[name]
    good = tmp_path / "good.json"
    good.write_bytes(orjson.dumps(good_record))
    proc = run("analyze", str(bad), str(good))
    assert proc.returncode == 1
    err_lines = [x for x in proc.stderr.splitlines() if x.strip()]
    assert len(err_lines) == 1, proc.stderr
    assert str(bad) in err_lines[0] and needle in err_lines[0]
    assert "Traceback" not in proc.stderr
    assert json.loads(proc.stdout)["session_id"] == good_record["session_id"]


def test_analyze_empty_transcript(tmp_path: Path, good_record: dict) -> None:
    rec = {**good_record, "session_id": "empty", "transcript": {"items": []}, "tool_calls": []}
    path = tmp_path / "empty.json"
    path.write_bytes(orjson.dumps(rec))
    proc = run("analyze", str(path))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["sales"]["team_size"] is None and out["lead"]["tier"] == "unqualified"
    assert out["tools"]["meeting_booked"] is False


def test_ingest_directory_with_one_bad_file_among_good_ones(
    tmp_path: Path, dev_cases: list[Path]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for case in dev_cases[:5]:
        (src / case.name).write_bytes(orjson.dumps(json.loads(case.read_text())["record"]))
    (src / "zz_bad.json").write_bytes(b"{nope")
    data = tmp_path / "data"
    proc = run("ingest", str(src), data_dir=data)
    assert proc.returncode == 1
    assert "zz_bad.json" in proc.stderr and "Traceback" not in proc.stderr
    assert "accepted 5" in proc.stderr
    # The same sessions again: duplicates, nothing new queued.
    again = run("ingest", str(src / dev_cases[0].name), data_dir=data)
    assert again.returncode == 0 and "duplicate 1" in again.stderr
    stats = run("queue", "stats", data_dir=data)
    assert stats.returncode == 0, stats.stderr
    assert "5" in stats.stdout


def test_ingest_changed_record_is_a_new_revision(tmp_path: Path, good_record: dict) -> None:
    data = tmp_path / "data"
    a = tmp_path / "a.json"
    a.write_bytes(orjson.dumps(good_record))
    b = tmp_path / "b.json"
    b.write_bytes(orjson.dumps({**good_record, "close_reason": "error"}))
    assert run("ingest", str(a), data_dir=data).returncode == 0
    proc = run("ingest", str(b), data_dir=data)
    assert proc.returncode == 0 and "revision 1" in proc.stderr


def test_broken_profile_fails_at_start(tmp_path: Path, dev_cases: list[Path]) -> None:
    prof = tmp_path / "p.yaml"
    prof.write_text("name: x\nsignals: 3\n")
    proc = run("--profile", str(prof), "analyze", str(dev_cases[0]))
    assert proc.returncode == 2
    assert str(prof) in proc.stderr and "Traceback" not in proc.stderr


def test_schema_prints_json_schema() -> None:
    proc = run("schema")
    assert proc.returncode == 0
    assert "session_id" in json.loads(proc.stdout)["properties"]


def test_analyze_same_session_twice_is_reported_once(tmp_path: Path, good_record: dict) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.json"
    a.write_bytes(orjson.dumps(good_record))
    b.write_bytes(orjson.dumps(good_record))
    proc = run("analyze", str(a), str(b))
    assert proc.returncode == 1
    assert len(proc.stdout.splitlines()) == 1
    line = proc.stderr.strip()
    assert str(b) in line and "duplicate session_id" in line and str(a) in line


def test_analyze_directory_with_one_bad_file(tmp_path: Path, dev_cases: list[Path]) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for case in dev_cases[:4]:
        (src / case.name).write_bytes(orjson.dumps(json.loads(case.read_text())["record"]))
    (src / "dev_002b.json").write_bytes(b"\x00\x01 not json")
    proc = run("analyze", str(src), "--jobs", "2")
    assert proc.returncode == 1
    assert [json.loads(x)["session_id"] for x in proc.stdout.splitlines()] == [
        "room-dev_001",
        "room-dev_002",
        "room-dev_003",
        "room-dev_004",
    ]
    assert "dev_002b.json" in proc.stderr and "Traceback" not in proc.stderr
