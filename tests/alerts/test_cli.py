"""``callscope alerts check|status`` as an operator runs them: a real process, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from callscope.profile.model import _HERE, Profile
from callscope.store import open_store
from tests.alerts.conftest import NOW
from tests.alerts.test_incident import EXPECTED, incident_profile, script


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callscope", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CALLSCOPE_LOG_LEVEL": "error"},
        timeout=120,
    )


def test_alerts_check_fires_the_incident_once(tmp_path: Path, profile: Profile) -> None:
    data = tmp_path / "data"
    data.mkdir()
    raw = yaml.safe_load((_HERE / "pandadoc_trial.yaml").read_text())
    raw["alerts"]["rules"]["cost_burn"]["budget_usd_per_hour"] = 2.0
    profile_file = tmp_path / "incident.yaml"
    profile_file.write_text(yaml.safe_dump(raw))
    store = open_store(f"duckdb:///{data / 'warehouse.duckdb'}")
    queue = script(store, incident_profile(profile), data)
    queue.close()
    store.close()
    base = ["--data-dir", str(data), "--profile", str(profile_file), "alerts"]
    at = ["--at", NOW.isoformat()]

    first = run(*base, "check", *at, "--json")
    assert first.returncode == 0, first.stderr
    fired = set(json.loads(first.stdout)["fired"])
    queue_key = f"queue_backlog:sqlite:///{data / 'queue.sqlite3'}"
    assert fired == (EXPECTED - {"queue_backlog:queue.sqlite3"}) | {queue_key}

    second = run(*base, "check", *at)
    assert second.returncode == 0, second.stderr
    assert "0 fired, 0 resolved, 10 still firing" in second.stdout

    status = run(*base, "status", "--json")
    assert status.returncode == 0, status.stderr
    body = json.loads(status.stdout)
    assert len(body["open"]) == 10 and len(body["recent"]) == 10


def test_alerts_check_bad_time_is_a_usage_error(tmp_path: Path) -> None:
    got = run("--data-dir", str(tmp_path), "alerts", "check", "--at", "yesterday")
    assert got.returncode == 2 and "not an ISO time" in got.stderr


def test_queue_name_drops_credentials() -> None:
    from callscope.cli.alerts_cmds import queue_name

    assert queue_name("redis://:s3cret@redis.internal:6379/0?stream=x") == (
        "redis://redis.internal:6379/0"
    )
    assert queue_name("/var/lib/q.sqlite3") == "/var/lib/q.sqlite3"
