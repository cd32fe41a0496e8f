"""The part-2 analyzers together: registration, the dev set, and inputs that must not break."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from callscope.analyze import analyze_record, analyze_to_contract
from callscope.analyze.registry import registry
from callscope.contract.record import SessionRecord
from callscope.profile import load_profile
from tests.analyze.callbuilder import contract, record

MINE = {
    "quality": "1.5.0",
    "sentiment": "1.6.0",
    "performance": "1.1.0",
    "tools": "1.1.0",
    "insights": "1.0.0",
    "lead_insights": "1.0.0",
    "quality_insights": "1.0.0",
    "next_step": "1.0.0",
    "executive_summary": "1.0.0",
    "actions": "1.0.0",
    "summary": "1.0.0",
}


def test_modules_are_registered_with_versions() -> None:
    derived = registry.versions(load_profile())
    assert {name: derived[name].split("+")[0] for name in MINE} == MINE


def _dev(dev_cases: list[pathlib.Path]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    profile = load_profile()
    out = []
    for case in dev_cases:
        data = json.loads(case.read_text())
        rec = SessionRecord.model_validate(data["record"])
        out.append((analyze_to_contract(rec, profile), data["expected"]))
    return out


def test_dev_set_accuracy(dev_cases: list[pathlib.Path]) -> None:
    results = _dev(dev_cases)
    keys = [
        "tools.meeting_booked",
        "quality.natural_ending",
        "sentiment.overall",
        "quality.clarification_requests",
        "quality.interruptions",
        "tools.kb_failed_searches",
        "tools.kb_searches",
    ]
    acc: dict[str, float] = {}
    for key in keys:
        section, field = key.split(".")
        pairs = [(out[section][field], exp[key]) for out, exp in results if key in exp]
        if pairs:
            acc[key] = sum(a == b for a, b in pairs) / len(pairs)
    assert acc["tools.meeting_booked"] == 1.0
    assert acc["quality.natural_ending"] >= 0.90
    assert acc["sentiment.overall"] >= 0.85
    assert acc["quality.clarification_requests"] >= 0.85
    assert acc.get("quality.interruptions", 1.0) == 1.0
    assert acc.get("tools.kb_failed_searches", 1.0) == 1.0
    for out, _ in results:
        assert not out.get("errors"), out.get("errors")
        assert len(out["summary"]) > 0 and out["summary"].count(". ") <= 2


GARBAGE = "\x00\x07 ���� \udcff? 🙃 \u202e ¿¿ " * 20


@pytest.mark.parametrize(
    "name,rec",
    [
        ("empty", record([])),
        ("one agent turn", record([{"agent": "Hello, is this Sam?"}], duration_seconds=3)),
        ("abandoned", record([{"agent": "Hi"}, {"user": "wr—"}], duration_seconds=4)),
        ("garbage", record([{"agent": GARBAGE}, {"user": GARBAGE}, {"user": ""}])),
        (
            "clock skew",
            record(
                [
                    {"agent": "a", "start": 50, "stop": 10},
                    {"user": "b", "start": -99999, "stop": 1e9},
                ],
                started_at="2026-10-14T16:00:00Z",
                ended_at="2026-10-14T15:00:00Z",
                duration_seconds=None,
            ),
        ),
        (
            "unknown tools",
            record(
                [{"agent": "x"}],
                tools=[
                    {"name": "", "arguments": "}{", "output": ["weird"], "duration_ms": -5},
                    {"name": "unleash_search_knowledge", "arguments": {"query": 42}, "output": 3.5},
                    {"name": "book_sales_meeting", "arguments": {}, "output": "{broken json"},
                ],
            ),
        ),
        (
            "missing metrics",
            record(
                [{"agent": "hi", "metrics": {"e2e_latency": "slow"}}],
                usage={"model_usage": "nope"},
                metrics=[{"type": 5}],
            ),
        ),
        (
            "non-message items",
            record(
                [],
                transcript={
                    "items": [
                        {"type": "agent_handoff"},
                        {"type": "message", "role": "user", "content": None},
                        {"type": "message", "role": "assistant", "content": [{"type": "audio"}, 7]},
                        {"type": "function_call_output", "call_id": "orphan"},
                    ]
                },
            ),
        ),
    ],
)
def test_never_raises(name: str, rec: SessionRecord) -> None:
    run = analyze_record(rec, load_profile())
    mine = {n: m for n, m in run.modules.items() if n in MINE}
    assert set(mine) == set(MINE)
    assert all(m.error is None for m in mine.values()), {n: m.error for n, m in mine.items()}
    out = contract(rec)
    assert out["sentiment"]["overall"] in ("positive", "neutral", "negative")
    assert isinstance(out["summary"], str) and out["summary"]
