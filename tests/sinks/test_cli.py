"""``callscope sinks|digest|roi`` as an operator runs them: real processes, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.sinks.conftest import WEBHOOK_SECRET
from tests.sinks.servers import HttpService, slack_service, webhook_service


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "callscope", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
    )


@pytest.fixture
def services() -> Iterator[tuple[HttpService, HttpService]]:
    slack, hook = slack_service(), webhook_service(WEBHOOK_SECRET)
    yield slack, hook
    slack.stop()
    hook.stop()


@pytest.fixture
def setup(
    tmp_path: Path, warehouse_file: Path, services: tuple[HttpService, HttpService]
) -> tuple[list[str], dict[str, str]]:
    slack, hook = services
    db = tmp_path / "w.duckdb"
    shutil.copy(warehouse_file, db)
    cfg = tmp_path / "callscope.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "sinks": {
                    "destinations": {
                        "slack": {"type": "slack"},
                        "hook": {"type": "webhook", "url": f"{hook.base_url}/in"},
                    },
                    "routes": [
                        {"events": "alert", "channels": ["sales"], "to": ["slack"]},
                        {"events": "lead", "to": ["hook"]},
                    ],
                    "digests": {"weekly": ["slack"]},
                }
            }
        )
    )
    env = {
        "CALLSCOPE_SLACK_WEBHOOK_URL": f"{slack.base_url}/services/T/B/X",
        "CALLSCOPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    return ["--config", str(cfg)], env | {"CALLSCOPE_STORE_URL": f"duckdb:///{db}"}


def test_run_once_status_and_restart(
    setup: tuple[list[str], dict[str, str]], services: tuple[HttpService, HttpService]
) -> None:
    base, env = setup
    first = run(*base, "sinks", "run", "--once", env=env)
    assert first.returncode == 0, first.stderr
    slack, hook = services
    n = len(slack.accepted) + len(hook.accepted)
    assert n > 0 and f"delivered {n}," in first.stdout
    again = run(*base, "sinks", "run", "--once", env=env)
    assert again.returncode == 0 and "delivered 0," in again.stdout
    status = run(*base, "sinks", "status", "--json", env=env)
    rows = {r["sink"]: r for r in json.loads(status.stdout)}
    assert rows["slack"]["delivered"] == len(slack.accepted) and rows["hook"]["pending"] == 0


def test_sinks_test_sends_a_labelled_test_alert(
    setup: tuple[list[str], dict[str, str]], services: tuple[HttpService, HttpService]
) -> None:
    base, env = setup
    got = run(*base, "sinks", "test", "slack", env=env)
    assert got.returncode == 0, got.stderr
    (req,) = services[0].accepted
    assert "callscope_test" in req.json()["text"]
    missing = run(*base, "sinks", "test", "nope", env=env)
    assert missing.returncode == 2 and "unknown destination 'nope'" in missing.stderr


def test_config_errors_exit_2_with_one_line(
    tmp_path: Path, setup: tuple[list[str], dict[str, str]]
) -> None:
    base, env = setup
    no_secret = run(*base, "sinks", "run", "--once", env={**env, "CALLSCOPE_WEBHOOK_SECRET": ""})
    assert no_secret.returncode == 2 and "CALLSCOPE_WEBHOOK_SECRET is not set" in no_secret.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("sinks:\n  routes:\n    - events: alert\n      to: [ghost]\n")
    got = run("--config", str(bad), "sinks", "run", "--once", env=env)
    assert got.returncode == 2
    assert got.stderr.strip().count("\n") == 0 and "unknown destination 'ghost'" in got.stderr


def test_digest_and_roi_commands(
    setup: tuple[list[str], dict[str, str]], services: tuple[HttpService, HttpService]
) -> None:
    base, env = setup
    daily = run(
        *base, "digest", "daily", "--at", "2026-03-02T12:00:00+00:00", "--format", "json", env=env
    )
    assert daily.returncode == 0, daily.stderr
    assert json.loads(daily.stdout)["metrics"]["calls"] > 0
    weekly = run(*base, "digest", "weekly", "--at", "2026-03-02", "--send", env=env)
    assert weekly.returncode == 0, weekly.stderr
    assert "Week over week" in weekly.stdout and services[0].accepted[0].json()["blocks"]
    roi = run(
        *base, "roi", "--format", "json", "--deal-size", "10000", "--close-rate", "0.2", env=env
    )
    assert roi.returncode == 0, roi.stderr
    report = json.loads(roi.stdout)
    assert report["pipeline_value_usd"] == report["meetings_booked"] * 10000
    assert report["roi_multiple"] is not None and report["sdr_hours_saved"] is None
    bad = run(*base, "roi", "--close-rate", "2", env=env)
    assert bad.returncode == 2 and "meeting_to_close_rate" in bad.stderr
    bad_date = run(*base, "roi", "--since", "yesterday", env=env)
    assert bad_date.returncode == 2 and "--since" in bad_date.stderr
