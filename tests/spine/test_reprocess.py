"""History re-analysed from the raw store: new analyzer versions sit beside the old ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from callscope.analyze.registry import Analyzer, registry
from callscope.pipeline.reprocess import reprocess
from callscope.profile import load_profile
from callscope.queue.sqlite import SqliteQueue
from callscope.store import open_store
from callscope.store.raw import open_raw
from callscope.worker import Worker


def test_new_analyzer_version_is_added_beside_the_old(
    tmp_path: Path, dev_cases: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    raw = open_raw(str(tmp_path / "raw"))
    profile = load_profile()
    for case in dev_cases[:5]:
        rec = json.loads(case.read_text())["record"]
        queue.enqueue(rec["session_id"], orjson.dumps(rec))
    Worker(queue, store, profile, raw_store=raw).run_once()

    # Nothing changed: everything is current, nothing is re-run.
    stats = reprocess(raw, store, profile, registry)
    assert (stats.seen, stats.reprocessed, stats.skipped_current) == (5, 0, 5)

    old = registry.get("summary")
    old_derived = registry.versions(profile)["summary"]  # VERSION+digest of code and profile
    monkeypatch.setitem(
        registry._analyzers,
        "summary",
        Analyzer("summary", "9.0.0", old.fn, old.requires, old.needs_text),
    )
    monkeypatch.setattr(registry, "_order", None)
    stats = reprocess(raw, store, profile, registry)
    assert (stats.seen, stats.reprocessed) == (5, 5)
    versions = store.fetch(
        "SELECT analyzer_version, count(*) AS n FROM analysis_results WHERE module = ? "
        "GROUP BY analyzer_version ORDER BY analyzer_version",
        ("summary",),
    )
    assert [(v["analyzer_version"], v["n"]) for v in versions] == [
        (old_derived, 5),
        (f"9.0.0+{old_derived.split('+')[1]}", 5),  # same code and profile, new VERSION
    ]
    assert store.count("sessions") == 5
    monkeypatch.setattr(registry, "_order", None)
    store.close()


def test_reprocess_cli_over_a_window(tmp_path: Path, dev_cases: list[Path]) -> None:
    env = {**os.environ, "CALLSCOPE_DATA_DIR": str(tmp_path)}
    src = tmp_path / "in"
    src.mkdir()
    for case in dev_cases[:3]:
        (src / case.name).write_bytes(orjson.dumps(json.loads(case.read_text())["record"]))
    cli = [sys.executable, "-m", "callscope"]
    for args in (["ingest", str(src)], ["worker", "--once"]):
        assert subprocess.run([*cli, *args], env=env, capture_output=True).returncode == 0
    out = subprocess.run(
        [*cli, "reprocess", "--all", "--since", "2026-09-01", "--until", "2026-09-30"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "reprocessed 1 of 1 sessions" in out.stderr  # only dev_001 falls in September
    bad = subprocess.run(
        [*cli, "reprocess", "--since", "last week"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "--since" in bad.stderr
