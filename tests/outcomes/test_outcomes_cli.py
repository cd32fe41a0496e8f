"""The outcomes loop as an operator runs it: real calls ingested and analyzed by the worker,
then `callscope outcomes import | report` and `callscope scorer train` in real processes
against the real warehouse."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
from typing import Any

import pytest

from callscope.outcomes.store import count
from callscope.outcomes.train import MIN_CALLS
from callscope.profile import load_profile
from callscope.store import open_store

HERE = pathlib.Path(__file__).resolve().parents[1]
MORE_CALLS = [HERE / "analyze" / "heldout", HERE / "analyze" / "blind"]


def run(data: pathlib.Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callscope", "--data-dir", str(data), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CALLSCOPE_LOG_LEVEL": "error", **env},
        timeout=300,
    )


def _records(paths: list[pathlib.Path]) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        data = json.loads(path.read_text())
        out.append(data.get("record", data))
    return out


@pytest.fixture(scope="module")
def warehouse(
    tmp_path_factory: pytest.TempPathFactory, dev_cases: list[pathlib.Path]
) -> pathlib.Path:
    """Dev, held-out and blind calls (81) through ingest and the worker, once per module."""
    root = tmp_path_factory.mktemp("outcomes")
    paths = dev_cases + sorted(p for d in MORE_CALLS for p in d.glob("*.json"))
    calls = root / "calls.jsonl"
    calls.write_text("".join(json.dumps(r) + "\n" for r in _records(paths)))
    data = root / "data"
    got = run(data, "ingest", str(calls))
    assert got.returncode == 0, got.stderr
    got = run(data, "worker", "--once")
    assert got.returncode == 0, got.stderr
    assert f"processed {len(paths)} sessions" in got.stdout + got.stderr
    return data


@pytest.fixture
def data(warehouse: pathlib.Path, tmp_path: pathlib.Path) -> pathlib.Path:
    """A private copy of the analyzed warehouse: each test imports its own outcomes."""
    copy = tmp_path / "data"
    shutil.copytree(warehouse, copy)
    return copy


def _outcomes(data: pathlib.Path) -> int:
    store = open_store(f"duckdb:///{data / 'warehouse.duckdb'}")
    try:
        return count(store)
    finally:
        store.close()


def _dev_outcomes(dev_cases: list[pathlib.Path]) -> list[tuple[str, bool, str]]:
    """(session id, labelled qualified, email) per dev call: the outcome agrees with the label."""
    below = load_profile().scoring.tier_ids()[-1]
    out = []
    for path in dev_cases:
        case = json.loads(path.read_text())
        rec = case["record"]
        out.append(
            (rec["session_id"], case["expected"]["lead.tier"] != below, rec["participant"]["email"])
        )
    return out


def test_import_csv_then_reimport_is_idempotent(
    data: pathlib.Path, dev_cases: list[pathlib.Path], tmp_path: pathlib.Path
) -> None:
    rows = ["session_id,stage,closed_won,amount,occurred_at"]
    for sid, won, _ in _dev_outcomes(dev_cases):
        amount = '"$1,200"' if won else ""  # a CRM export's money column, quoted
        rows.append(f"{sid},{'Closed Won' if won else 'Closed Lost'},{won},{amount},2026-12-01")
    path = tmp_path / "crm.csv"
    path.write_text("\n".join(rows) + "\n")

    first = run(data, "outcomes", "import", str(path))
    assert first.returncode == 0, first.stderr
    assert f"outcomes written: {len(dev_cases)}" in first.stdout
    assert _outcomes(data) == len(dev_cases)

    again = run(data, "outcomes", "import", str(path))
    assert again.returncode == 0, again.stderr
    assert _outcomes(data) == len(dev_cases)  # same rows replace themselves, nothing doubles


def test_a_bad_line_fails_alone_with_its_line_number(
    data: pathlib.Path, dev_cases: list[pathlib.Path], tmp_path: pathlib.Path
) -> None:
    good = _dev_outcomes(dev_cases)[:4]
    lines = [json.dumps({"session_id": sid, "closed_won": won}) for sid, won, _ in good]
    lines.insert(1, json.dumps({"session_id": good[0][0], "closed_won": "maybe"}))
    lines.insert(3, "{not json")
    lines.append(json.dumps({"stage": "Closed Won"}))  # says nobody
    path = tmp_path / "outcomes.jsonl"
    path.write_text("\n".join(lines) + "\n")

    got = run(data, "outcomes", "import", str(path))
    assert got.returncode == 1  # something was rejected
    errors = [line for line in got.stderr.splitlines() if line.strip()]
    assert any(f"{path.name}:2:" in e and "maybe" in e for e in errors), got.stderr
    assert any(f"{path.name}:4:" in e for e in errors), got.stderr
    assert any(f"{path.name}:7:" in e and ("session_id" in e or "email" in e) for e in errors)
    assert "outcomes written: 4" in got.stdout
    assert _outcomes(data) == 4


def test_report_agrees_with_the_labels(
    data: pathlib.Path, dev_cases: list[pathlib.Path], tmp_path: pathlib.Path
) -> None:
    outcomes = _dev_outcomes(dev_cases)
    # Half the dev calls by session id, the other half by the caller's email only.
    lines = [
        json.dumps({"session_id": sid, "closed_won": won, "amount": 1000.0 if won else None})
        if i % 2 == 0
        else json.dumps({"email": email, "closed_won": won, "occurred_at": "2026-12-31"})
        for i, (sid, won, email) in enumerate(outcomes)
    ]
    path = tmp_path / "o.jsonl"
    path.write_text("\n".join(lines) + "\n")
    assert run(data, "outcomes", "import", str(path)).returncode == 0

    got = run(data, "outcomes", "report", "--format", "json")
    assert got.returncode == 0, got.stderr
    body = json.loads(got.stdout)
    weeks = body["weeks"]
    assert sum(w["calls_with_outcome"] for w in weeks) == len(dev_cases)
    # Agreement of the predicted tier with the outcome equals the analyzer's agreement with
    # the labelled tier (qualified or not), computed here from `callscope analyze`.
    analyzed = run(data, "analyze", *map(str, dev_cases))
    tiers = {
        json.loads(line)["session_id"]: json.loads(line)["lead"]["tier"]
        for line in analyzed.stdout.splitlines()
    }
    below = load_profile().scoring.tier_ids()[-1]
    agree = sum((tiers[sid] != below) == won for sid, won, _ in outcomes)
    assert sum(w["agreeing"] for w in weeks) == agree
    assert agree >= 0.9 * len(dev_cases)
    impact = body["impact"]
    assert impact["measured"] is True and impact["calls_with_outcome"] == len(dev_cases)
    won = sum(w for _, w, _ in outcomes[::2])
    assert impact["assisted_revenue"] == pytest.approx(1000.0 * won)


def test_scorer_refuses_too_few_outcomes(
    data: pathlib.Path, dev_cases: list[pathlib.Path], tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "few.jsonl"
    few = _dev_outcomes(dev_cases)[:10]
    path.write_text(
        "".join(json.dumps({"session_id": s, "closed_won": w}) + "\n" for s, w, _ in few)
    )
    assert run(data, "outcomes", "import", str(path)).returncode == 0
    got = run(data, "scorer", "train", "--results", str(tmp_path / "r.json"))
    assert got.returncode == 1
    assert f"need at least {MIN_CALLS} calls with an outcome, have 10" in got.stderr
    assert not (tmp_path / "r.json").exists()
    assert not (data / "models").exists()


def test_scorer_trains_on_imported_outcomes_and_reports_both_models(
    data: pathlib.Path, tmp_path: pathlib.Path, dev_cases: list[pathlib.Path]
) -> None:
    synthetic = tmp_path / "syn.jsonl"
    made = run(data, "outcomes", "synthesize", "--out", str(synthetic), "--share", "1.0")
    assert made.returncode == 0, made.stderr
    assert run(data, "outcomes", "import", str(synthetic)).returncode == 0
    n = _outcomes(data)
    assert n >= MIN_CALLS

    results = tmp_path / "scorer.json"
    got = run(data, "scorer", "train", "--results", str(results))
    assert got.returncode == 0, got.stderr
    assert "learned (calibrated LR)" in got.stdout and "rule score / 100" in got.stdout
    report = json.loads(results.read_text())
    assert report["n_train"] + report["n_test"] == n
    for model in ("learned", "rules"):
        m = report[model]
        assert 0.0 <= m["auc"] <= 1.0 and 0.0 <= m["brier"] <= 1.0 and 0.0 <= m["ece"] <= 1.0
    # Outcomes drawn from the signals are learnable: the model ranks above chance.
    assert report["learned"]["auc"] > 0.6
    model_file = data / "models" / "lead_model.json"
    assert model_file.exists()

    scored = run(data, "analyze", str(dev_cases[0]), CALLSCOPE_LEAD_MODEL=str(model_file))
    lead = json.loads(scored.stdout)["lead"]
    assert (
        0 <= lead["score_model"] <= 100 and lead["tier_model"] in load_profile().scoring.tier_ids()
    )
    assert lead["score"] == 79  # the rule score stays beside the learned one
