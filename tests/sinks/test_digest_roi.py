"""Digests and the ROI report over a real warehouse, checked against the rows themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callscope.alerts.digest import (
    build,
    build_daily,
    build_hourly,
    build_weekly,
    change,
    period_end,
    to_html,
    to_slack_blocks,
    to_text,
)
from callscope.alerts.roi import Assumptions, RoiError, assumptions, compute
from callscope.sinks.digests import send_digest
from callscope.store import Store
from tests.sinks.conftest import ANCHOR
from tests.sinks.servers import slack_service


def sessions(store: Store, start: datetime, end: datetime) -> list[dict[str, Any]]:
    return [r for r in store.fetch("SELECT * FROM sessions") if start <= r["started_at"] < end]


def test_period_ends() -> None:
    at = datetime(2026, 3, 4, 15, 42, tzinfo=UTC)  # a Wednesday
    assert period_end("hourly", at) == datetime(2026, 3, 4, 15, tzinfo=UTC)
    assert period_end("daily", at) == datetime(2026, 3, 4, tzinfo=UTC)
    assert period_end("weekly", at) == datetime(2026, 3, 2, tzinfo=UTC)
    with pytest.raises(ValueError, match="unknown digest 'monthly'"):
        build("monthly", lambda sql, p: [], at)


def test_daily_digest_matches_the_rows(store: Store) -> None:
    end = period_end("daily", ANCHOR)
    start = end - timedelta(days=1)
    rows = sessions(store, start, end)
    assert rows, "the generated warehouse has calls on the reported day"
    d = build_daily(store.fetch, end)
    m = d.metrics
    assert m["calls"] == len(rows)
    assert m["qualified"] == sum(r["lead_tier"] in ("tier_1", "tier_2") for r in rows)
    assert m["meetings"] == sum(bool(r["meeting_booked"]) for r in rows)
    assert m["cost_usd"] == pytest.approx(sum(r["cost_usd"] or 0 for r in rows))
    lat = [r["e2e_latency_avg_ms"] for r in rows if r["e2e_latency_avg_ms"] is not None]
    assert m["avg_latency_ms"] == pytest.approx(sum(lat) / len(lat))
    text = to_text(d)
    assert f"Calls: {len(rows)}" in text and "Top opportunities" in text
    top = max(
        (r for r in rows if r["lead_tier"] in ("tier_1", "tier_2")),
        key=lambda r: r["lead_score"],
        default=None,
    )
    if top is not None:
        assert top["session_id"] in text or str(top["lead_score"]) in text


def test_weekly_rollup_compares_with_previous_week(store: Store) -> None:
    end = period_end("weekly", ANCHOR)
    d = build_weekly(store.fetch, end)
    this = sessions(store, end - timedelta(days=7), end)
    prev = sessions(store, end - timedelta(days=14), end - timedelta(days=7))
    assert d.metrics["calls"] == len(this) and d.metrics["previous"]["calls"] == len(prev)
    assert d.metrics["trends"]["calls"] == pytest.approx(change(len(this), len(prev)))
    assert "Week over week" in to_text(d) and "last week" in to_text(d)


def test_hourly_digest_lists_gaps_and_low_engagement(store: Store) -> None:
    # The hour holding the most failed knowledge searches.
    rows = store.fetch(
        "SELECT started_at FROM tool_calls WHERE kind = 'kb_search' AND found = FALSE "
        "ORDER BY started_at"
    )
    assert rows
    end = period_end("hourly", rows[0]["started_at"] + timedelta(hours=1))
    d = build_hourly(store.fetch, end)
    assert d.metrics["content_gaps"] >= 1
    low = [
        r
        for r in sessions(store, end - timedelta(hours=1), end)
        if (r["engagement_score"] or 10) < 5
    ]
    assert d.metrics["low_engagement_sessions"] == len(low)
    for r in low:
        assert r["session_id"] in to_text(d)


def test_empty_period_says_so(store: Store) -> None:
    d = build_daily(store.fetch, datetime(2020, 1, 2, tzinfo=UTC))
    assert d.empty and d.metrics["avg_latency_ms"] is None
    assert "No calls in this period." in to_text(d) and "Average latency: n/a" in to_text(d)


def test_digest_renderings_and_slack_delivery(store: Store) -> None:
    d = build("weekly", store.fetch, ANCHOR)
    blocks = to_slack_blocks(d)
    assert blocks[0]["type"] == "header" and len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)
    assert "<h3>Week over week</h3>" in to_html(d)
    from callscope.sinks.slack import SlackSink

    svc = slack_service()
    try:
        send_digest(SlackSink("s", f"{svc.base_url}/services/T/B/X"), d)
        (req,) = svc.accepted
        assert req.json()["blocks"] == blocks and req.json()["text"] == d.title
    finally:
        svc.stop()


# -- ROI -------------------------------------------------------------------------------------


def test_roi_arithmetic_against_the_rows(store: Store) -> None:
    assume = Assumptions(
        avg_deal_size_usd=12000,
        meeting_to_close_rate=0.2,
        sdr_hourly_cost_usd=45,
        manual_call_minutes=15,
    )
    r = compute(store.fetch, assume)
    rows = store.fetch("SELECT lead_tier, meeting_booked, cost_usd FROM sessions")
    cost = sum(x["cost_usd"] or 0 for x in rows)
    meetings = sum(bool(x["meeting_booked"]) for x in rows)
    qualified = sum(x["lead_tier"] in ("tier_1", "tier_2") for x in rows)
    assert (r.calls, r.meetings_booked, r.qualified_leads) == (len(rows), meetings, qualified)
    assert r.total_cost_usd == pytest.approx(cost)
    assert r.cost_per_call_usd == pytest.approx(cost / len(rows))
    assert r.cost_per_meeting_usd == pytest.approx(cost / meetings)
    assert r.cost_per_qualified_lead_usd == pytest.approx(cost / qualified)
    assert r.pipeline_value_usd == pytest.approx(meetings * 12000)
    assert r.sdr_hours_saved == pytest.approx(len(rows) * 15 / 60)
    value = meetings * 12000 * 0.2 + len(rows) * 15 / 60 * 45
    assert r.roi_multiple == pytest.approx(value / cost)


def test_roi_window_and_unknowns(store: Store) -> None:
    since = ANCHOR - timedelta(days=3)
    r = compute(store.fetch, Assumptions(), since=since)
    assert r.calls == len(sessions(store, since, datetime.max.replace(tzinfo=UTC)))
    assert r.pipeline_value_usd is None and r.roi_multiple is None and r.sdr_hours_saved is None
    assert r.cost_per_call_usd is not None
    assert dict(r.rows())["ROI multiple"] == "unknown"


def test_roi_assumptions_from_profile_extra_and_flags() -> None:
    a = assumptions(
        {"roi": {"avg_deal_size_usd": 9000, "meeting_to_close_rate": 0.3}},
        meeting_to_close_rate=0.25,
    )
    assert a.avg_deal_size_usd == 9000 and a.meeting_to_close_rate == 0.25
    with pytest.raises(RoiError, match="meeting_to_close_rate") as info:
        assumptions({}, meeting_to_close_rate=1.5)
    assert "\n" not in str(info.value)
    with pytest.raises(RoiError, match="unknown_knob"):
        assumptions({"roi": {"unknown_knob": 1}})
