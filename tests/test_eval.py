"""`callscope eval` scores the way shared/evals/score.py does, and fails loudly on bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.cli import _load, app
from callscope.eval import EvalSetError, Report, load_cases, score

DEV = Path("/work/shared/evals/dev")
SCORE_PY = Path("/work/shared/evals/score.py")
CASES = Path(__file__).parent / "analyze" / "cases"
CALLSCOPE = Path(sys.executable).parent / "callscope"
runner = CliRunner()
_load()


def _json_report(directory: Path) -> dict[str, object]:
    res = runner.invoke(app, ["eval", str(directory), "--format", "json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.slow
@pytest.mark.skipif(not DEV.is_dir() or not SCORE_PY.is_file(), reason="shared dev set absent")
def test_agrees_with_reference_scorer_on_dev_set() -> None:
    ours = _json_report(DEV)
    ref = subprocess.run(
        [sys.executable, str(SCORE_PY), str(CALLSCOPE), str(DEV)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    m = re.search(r"micro-F1=([\d.]+) \(P=([\d.]+) R=([\d.]+)\) tier=([\d.]+)", ref.stdout)
    assert m, ref.stdout + ref.stderr
    micro = ours["signal_micro"]
    assert isinstance(micro, dict)
    assert f"{micro['f1']:.3f}" == m.group(1)
    assert f"{micro['precision']:.2f}" == m.group(2) and f"{micro['recall']:.2f}" == m.group(3)
    acc = ours["accuracy"]
    assert isinstance(acc, dict)
    assert f"{acc['lead.tier']['accuracy']:.2f}" == m.group(4)


def test_scoring_bands_sets_and_misses() -> None:
    gold = {
        "a": {
            "sales.team_size": 12,
            "sales.monthly_volume": 43,
            "sales.integrations": ["hubspot"],
            "sales.timeline": None,
            "lead.tier": "tier_2",
        }
    }
    pred = {
        "a": {
            "sales": {
                "team_size": 15,
                "monthly_volume": 60,
                "integrations": ["hubspot", "api"],
                "timeline": "later",
                "evidence": {"timeline": [{"quote": "next year", "turn": 3}]},
            },
            "lead": {"tier": "tier_1"},
        }
    }
    rep: Report = score(gold, pred)
    assert rep.fields["sales.team_size"].tp == 1  # 12 and 15 share the 11+ band
    assert rep.fields["sales.monthly_volume"].fp == 1 and rep.fields["sales.monthly_volume"].fn == 1
    assert rep.fields["sales.integrations"].tp == 1 and rep.fields["sales.integrations"].fp == 1
    assert rep.fields["sales.timeline"].fp == 1 and rep.fields["sales.timeline"].fn == 0
    assert rep.tier_confusion == {"tier_2": {"tier_1": 1}}
    assert any(m.field == "sales.timeline" and m.quote == "next year" for m in rep.misses)
    assert rep.acc("lead.tier") == 0.0


def test_own_cases_pass_thresholds_and_threshold_fails_exit_1() -> None:
    res = runner.invoke(app, ["eval", str(CASES), "--min-f1", "0.9", "--min-tier", "0.9"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["eval", str(CASES), "--min-f1", "1.01"])
    assert res.exit_code == 1


def test_bad_sets_give_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(EvalSetError, match="not a directory"):
        load_cases(tmp_path / "missing")
    with pytest.raises(EvalSetError, match=re.escape("no *.json cases")):
        load_cases(tmp_path)
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(EvalSetError, match=re.escape("bad.json: not valid JSON")):
        load_cases(tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({"record": {}, "expected": {}}))
    with pytest.raises(EvalSetError, match=re.escape("bad.json")):
        load_cases(tmp_path)
    res = runner.invoke(app, ["eval", str(tmp_path)])
    assert res.exit_code == 2
    res = runner.invoke(app, ["eval", str(CASES), "--format", "xml"])
    assert res.exit_code == 2
    with pytest.raises(EvalSetError, match="no analysis result"):
        score({"x": {}}, {})
