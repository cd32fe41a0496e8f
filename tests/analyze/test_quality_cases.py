"""Accuracy targets over the labeled calls in quality_cases/, written for the quality and
sentiment fields (sarcasm, polite refusals, abrupt endings, "sorry, what?").

The cases are built from quality_specs/ by shared/evals/build.py; labels follow the dev
set's README rules, not the analyzers' output.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from callscope.analyze import analyze_to_contract
from callscope.contract.record import SessionRecord
from callscope.profile import load_profile

HERE = pathlib.Path(__file__).parent
CASES = sorted((HERE / "quality_cases").glob("q_*.json"))
SPECS = sorted((HERE / "quality_specs").glob("q_*.json"))
FIELDS = (
    "quality.natural_ending",
    "sentiment.overall",
    "quality.clarification_requests",
    "quality.interruptions",
    "tools.kb_failed_searches",
    "tools.meeting_booked",
)
TARGETS = {
    "quality.natural_ending": 0.90,
    "sentiment.overall": 0.85,
    "quality.clarification_requests": 0.85,
    "quality.interruptions": 1.0,
    "tools.kb_failed_searches": 1.0,
    "tools.meeting_booked": 1.0,
}


def test_every_spec_is_built_with_its_labels() -> None:
    assert len(SPECS) >= 25
    assert [p.name for p in SPECS] == [p.name for p in CASES]
    for spec_path, case_path in zip(SPECS, CASES, strict=True):
        spec = json.loads(spec_path.read_text())
        expected = json.loads(case_path.read_text())["expected"]
        for key, value in spec["expected"].items():
            assert expected[key] == value, (case_path.name, key)


@pytest.fixture(scope="module")
def results() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    profile = load_profile()
    out = []
    for path in CASES:
        data = json.loads(path.read_text())
        rec = SessionRecord.model_validate(data["record"])
        out.append((path.stem, analyze_to_contract(rec, profile), data["expected"]))
    return out


@pytest.mark.parametrize("key", FIELDS)
def test_quality_cases_meet_the_targets(
    key: str, results: list[tuple[str, dict[str, Any], dict[str, Any]]]
) -> None:
    section, field = key.split(".")
    misses = [
        (name, out[section][field], exp[key])
        for name, out, exp in results
        if out[section][field] != exp[key]
    ]
    accuracy = 1 - len(misses) / len(results)
    assert accuracy >= TARGETS[key], misses
