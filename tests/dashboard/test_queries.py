"""The numbers behind every view, checked against the analysis output computed in Python,
on DuckDB and PostgreSQL; incremental rollup refresh; filters and bad filter input."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.dashboard.conftest import Demo, fill, processed

from callscope.store import Store, open_store, panels
from callscope.store import queries as q
from callscope.store.rollups import (
    BUCKET_BASE,
    get_watermark,
    percentile_from_hist,
    refresh_rollups,
)

THRESHOLDS = {
    "e2e_latency_ms": 1500.0,
    "error_rate_pct": 5.0,
    "llm_ttft_ms": 700.0,
    "tts_ttfb_ms": 300.0,
    "stt_duration_ms": 500.0,
    "llm_tokens_per_second_min": 50.0,
}


def rng(demo: Demo, **kw: Any) -> q.Range:
    return q.Range(demo.start, demo.end, kw.get("agent"), kw.get("version"), kw.get("tier"))


def hot(a: dict[str, Any]) -> bool:
    lead = a["lead"]
    return bool(lead["hot_lead"]) if isinstance(lead.get("hot_lead"), bool) else lead["score"] > 80


def exact_percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    rank = max(1, math.ceil(p * len(ordered)))
    return ordered[rank - 1]


def check_numbers(store: Store, demo: Demo) -> None:
    refresh_rollups(store)
    analyses = demo.analyses()
    ov = q.overview(
        store,
        rng(demo),
        today=demo.end,
        thresholds=THRESHOLDS,
        hot_lead_above=80,
        now=datetime(2026, 11, 21, 1, tzinfo=UTC),
    )
    assert ov["calls"] == len(demo.sessions)
    assert ov["meetings_booked"] == sum(a["tools"]["meeting_booked"] for a in analyses)
    assert ov["hot_leads"] == sum(hot(a) for a in analyses)
    errors = sum(1 for p in demo.sessions if p.record.errors)
    assert ov["error_rate_pct"] == pytest.approx(100 * errors / len(demo.sessions), abs=0.01)
    assert ov["alerts_firing"] == 1
    turns = store.fetch(
        "SELECT e2e_latency_ms AS v FROM transcripts WHERE e2e_latency_ms IS NOT NULL"
    )
    values = [float(r["v"]) for r in turns]
    assert values, "the demo calls carry per-turn latency"
    for key, p in (("latency_p50", 0.5), ("latency_p95", 0.95)):
        exact = exact_percentile(values, p)
        # Histogram buckets are 5 % wide: the estimate lands within one bucket of the truth.
        assert abs(ov[key] - exact) / exact < (BUCKET_BASE - 1) + 1e-9, (key, ov[key], exact)

    rev = q.revops(store, rng(demo), hot_lead_above=80)
    tiers = Counter(a["lead"]["tier"] for a in analyses)
    assert rev["tiers"] == {t: tiers.get(t, 0) for t in q.default_tiers().ids}
    assert rev["qualified"] == tiers["tier_1"] + tiers["tier_2"]
    objections = Counter(o for a in analyses for o in set(a["sales"]["objections"]))
    assert rev["objections"] == dict(objections)
    competitors = Counter(c for a in analyses for c in set(a["sales"]["competitors"]))
    assert rev["competitors"] == dict(competitors)
    top = max(analyses, key=lambda a: a["lead"]["score"])
    assert rev["hot_list"][0]["lead_score"] == top["lead"]["score"]

    eng = q.engineering(store, rng(demo), thresholds=THRESHOLDS)
    cost_by_provider: Counter[str] = Counter()
    for a in analyses:
        for k, v in (a["performance"].get("cost_by_provider") or {}).items():
            cost_by_provider[k] += v
    for provider, total in cost_by_provider.items():
        assert eng["cost_by_provider"][provider] == pytest.approx(
            total / len(analyses), rel=1e-3, abs=1e-6
        )
    sources: Counter[str] = Counter()
    for a in analyses:
        for k, v in (a["performance"].get("errors_by_source") or {}).items():
            sources[k] += v
    assert eng["errors_by_source"] == pytest.approx(dict(sources))
    browsers = Counter(p.record.connection.device.browser or "unknown" for p in demo.sessions)
    assert sum(eng["distributions"]["browser"].values()) == len(demo.sessions)
    assert (
        eng["distributions"]["browser"].get(browsers.most_common(1)[0][0])
        == browsers.most_common(1)[0][1]
    )

    kb = q.knowledge_base(store, rng(demo))
    searches = sum(a["tools"]["kb_searches"] for a in analyses)
    failed = sum(a["tools"]["kb_failed_searches"] for a in analyses)
    assert kb["searches"] == searches and kb["failed"] == failed
    if searches:
        assert kb["success_rate_pct"] == pytest.approx(
            100 * (searches - failed) / searches, abs=0.01
        )

    ex = q.executive(store, rng(demo), meeting_value=500.0)
    cost = sum(p.analysis["performance"].get("cost_usd") or 0 for p in demo.sessions)
    assert ex["cost"] == pytest.approx(cost, abs=0.01)
    meetings = ov["meetings_booked"]
    assert ex["roi"] == pytest.approx(round(meetings * 500.0 / cost, 1), abs=0.1)
    assert sum(w["calls"] for w in ex["weeks"]) == len(demo.sessions)

    # Filters: one agent version, and one tier.
    versions = Counter(p.record.agent.version for p in demo.sessions if p.record.agent)
    version, n = versions.most_common(1)[0]
    assert (
        q.overview(
            store,
            rng(demo, version=version),
            today=demo.end,
            thresholds=THRESHOLDS,
            hot_lead_above=80,
        )["calls"]
        == n
    )
    assert (
        q.revops(store, rng(demo, tier="unqualified"), hot_lead_above=80)["calls"]
        == tiers["unqualified"]
    )
    # Search: case-insensitive substring over id / email / name / company, wildcards literal.
    target = demo.sessions[0]
    hits = q.sessions_list(store, rng(demo), q=target.session_id.upper())
    assert [r["session_id"] for r in hits] == [target.session_id]
    assert q.sessions_list(store, rng(demo), q="%") == []
    if target.record.participant.email:
        found = q.sessions_list(store, rng(demo), q=str(target.record.participant.email))
        assert target.session_id in [r["session_id"] for r in found]
    listed = q.sessions_list(store, rng(demo, version=version), limit=500)
    assert len(listed) == n and all(r["agent_version"] == version for r in listed)


def test_numbers_duckdb(demo_store: Store, demo: Demo) -> None:
    check_numbers(demo_store, demo)


@pytest.mark.services
@pytest.mark.slow
def test_numbers_postgres_match_duckdb(postgres_url: str, demo: Demo, demo_store: Store) -> None:
    pg = open_store(postgres_url)
    try:
        pg.execute("DELETE FROM sessions")
        for table in (
            "transcripts",
            "metrics",
            "leads",
            "lead_signals",
            "tool_calls",
            "analysis_results",
            "alerts_history",
        ):
            pg.execute(f"DELETE FROM {table}")
        pg.execute("DROP TABLE IF EXISTS dash_state")
        fill(pg, demo)
        check_numbers(pg, demo)
        # The one-day incremental path (per-session index lookups on PostgreSQL).
        raw = demo.sessions[0].record.model_dump(mode="json", by_alias=True)
        raw["session_id"] = "pg-incremental-1"
        pg.write([processed(raw, when=datetime.now(UTC))])
        before = q.totals(pg, rng(demo))["calls"]
        assert not refresh_rollups(pg).full
        assert q.totals(pg, rng(demo))["calls"] == before + 1
        pg.delete_session("pg-incremental-1")
        refresh_rollups(pg, full=True)
        f = rng(demo)
        for fn in (
            lambda s: q.revops(s, f, hot_lead_above=80),
            lambda s: q.engineering(s, f, thresholds=THRESHOLDS),
            lambda s: q.knowledge_base(s, f),
            lambda s: q.executive(s, f, meeting_value=100.0),
            lambda s: panels.quality(s, f),
            lambda s: panels.leads(s, f, team_bands=[panels.Band("1-10", 1, 10)]),
            lambda s: panels.knowledge(s, f),
            lambda s: panels.resources(s, f, panels.quality(s, f)["per_day"]),
        ):
            assert _norm(fn(pg)) == _norm(fn(demo_store))
    finally:
        pg.close()


def _norm(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_norm(v) for v in value]
    return value


def test_incremental_refresh(tmp_path: Path, demo: Demo) -> None:
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    try:
        first = demo.sessions[:20]
        store.write(first)
        r = refresh_rollups(store)
        assert r.full and get_watermark(store) is not None
        f = q.Range(date(2020, 1, 1), date(2030, 1, 1))
        assert q.totals(store, f)["calls"] == 20
        assert refresh_rollups(store).days == 0  # nothing new: no work

        later = demo.sessions[20]
        newer = processed(
            later.record.model_dump(mode="json", by_alias=True), when=datetime.now(UTC)
        )
        store.write([newer])
        r = refresh_rollups(store)
        assert not r.full and r.days >= 1
        assert q.totals(store, f)["calls"] == 21

        # A re-processed session replaces itself: counted once.
        again = processed(
            later.record.model_dump(mode="json", by_alias=True),
            when=datetime.now(UTC) + timedelta(seconds=5),
        )
        store.write([again])
        refresh_rollups(store)
        assert q.totals(store, f)["calls"] == 21
        # A deletion is picked up by a full rebuild.
        store.delete_session(later.session_id)
        refresh_rollups(store, full=True)
        assert q.totals(store, f)["calls"] == 20
    finally:
        store.close()


def test_percentile_from_histogram() -> None:
    assert percentile_from_hist([], 0.5) is None
    hist = [(10, 1), (20, 8), (30, 1)]
    assert percentile_from_hist(hist, 0.5) == pytest.approx(BUCKET_BASE**20.5)
    assert percentile_from_hist(hist, 0.99) == pytest.approx(BUCKET_BASE**30.5)
    assert percentile_from_hist(hist, 0.05) == pytest.approx(BUCKET_BASE**10.5)


def test_empty_warehouse_renders_zeros(tmp_path: Path) -> None:
    store = open_store(f"duckdb:///{tmp_path / 'empty.duckdb'}")
    try:
        refresh_rollups(store)
        f = q.Range(date(2026, 1, 1), date(2026, 1, 31))
        ov = q.overview(store, f, today=date(2026, 1, 31), thresholds=THRESHOLDS, hot_lead_above=80)
        assert ov["calls"] == 0 and ov["latency_p95"] is None and ov["hot_list"] == []
        assert q.engineering(store, f, thresholds=THRESHOLDS)["calls"] == 0
        assert q.knowledge_base(store, f)["searches"] == 0
        assert q.executive(store, f, meeting_value=10)["roi"] is None
        assert q.latest_day(store) is None
    finally:
        store.close()
