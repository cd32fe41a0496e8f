from __future__ import annotations

import re
from typing import Any

from callscope.analyze.modules.summary import analyze_summary
from callscope.analyze.registry import Analyzer, Registry, registry
from tests.analyze.callbuilder import profile, record, view

SALES = {
    "team_size": 26,
    "monthly_volume": 315,
    "integrations": ["hubspot"],
    "current_tool": "docusign",
    "use_case": "contracts",
    "industry": "real_estate",
}
UPSTREAM: dict[str, Any] = {
    "sales": SALES,
    "lead": {"score": 58, "tier": "tier_2"},
    "tools": {
        "meeting_booked": True,
        "meeting": {"date": "2026-09-17", "time": "14:30"},
        "kb_searches": 2,
        "kb_failed_searches": 1,
    },
    "quality": {"natural_ending": True},
    "sentiment": {"overall": "positive"},
    "performance": {"e2e_latency_ms": {"avg": 1200.0, "p50": 1100.0, "p95": 1800.0, "p99": 1900.0}},
    "actions": {"follow_up_count": 2},
}


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.)\s+(?=[A-Z0-9])", text) if s]


def test_summary_carries_the_key_numbers() -> None:
    v = view([{"agent": "hi"}], participant={"metadata": {"company": "Hill Country Homes"}})
    text = analyze_summary(v, profile(), UPSTREAM)["text"]
    for fact in [
        "Hill Country Homes",
        "real estate",
        "26 users",
        "315 documents",
        "docusign",
        "hubspot",
        "tier 2",
        "score 58",
        "meeting booked for 2026-09-17",
        "1 of 2 knowledge searches failed",
        "p95 latency 1800 ms (over threshold)",
        "positive",
        "2 follow-ups",
    ]:
        assert fact in text, fact
    assert 1 <= len(sentences(text)) <= 3


def test_summary_without_any_upstream_still_says_something_true() -> None:
    text = analyze_summary(view([], duration_seconds=42), profile(), {})["text"]
    assert text == "42 s call."


def test_failed_booking_is_stated() -> None:
    up = {"tools": {"meeting_booked": False, "booking_failed": True, "kb_searches": 0}}
    text = analyze_summary(view([]), profile(), up)["text"]
    assert "Meeting booking failed" in text


def test_registry_still_writes_a_summary_when_a_module_raises() -> None:
    reg = Registry()
    for a in registry.ordered():
        if a.name == "sentiment":

            def boom(*_: Any) -> dict[str, Any]:
                raise RuntimeError("boom")

            reg.add(Analyzer("sentiment", "0", boom))
        else:
            reg.add(a)
    from callscope.analyze import analyze_record

    run = analyze_record(record([{"agent": "hi"}, {"user": "bye"}]), profile(), reg)
    assert "sentiment" in run.errors()
    assert run.modules["summary"].ok and run.results()["summary"]["text"]


def test_summary_runs_after_everything_it_reads() -> None:
    names = registry.names()
    for upstream in ("tools", "quality", "sentiment", "performance", "actions", "sales", "lead"):
        if upstream in names:
            assert names.index(upstream) < names.index("summary")
