"""The hourly quality digest and weekly rollup sections the strategy asks for."""

from __future__ import annotations

from datetime import timedelta

import orjson

from callscope.alerts.digest import build_hourly, build_weekly, to_text
from callscope.profile.model import Profile
from callscope.store import Store
from tests.alerts.conftest import NOW, call, steady, store_calls


def _hour(store: Store, profile: Profile) -> None:
    calls = steady("trial-agent", NOW - timedelta(minutes=58), NOW - timedelta(minutes=5), 40)
    calls += [call(900 + i, NOW - timedelta(minutes=50 - i), tool_error=True) for i in range(3)]
    store_calls(store, calls, profile)


def test_hourly_digest_confusion_gaps_and_patterns(store: Store, profile: Profile) -> None:
    _hour(store, profile)
    d = build_hourly(store.fetch, NOW)
    text = to_text(d)
    confused = store.fetch(
        "SELECT session_id FROM sessions WHERE clarification_requests > 0 AND started_at >= ?",
        [NOW - timedelta(hours=1)],
    )
    assert d.metrics["confused_sessions"] == min(10, len(confused))
    for r in confused[:10]:
        assert r["session_id"] in text
    topics = store.fetch(
        "SELECT DISTINCT category FROM tool_calls WHERE kind = 'kb_search' AND category IS NOT NULL"
        " AND (is_error OR found = FALSE)"
    )
    if d.metrics["content_gaps"]:
        assert any(f"[{t['category']}]" in text for t in topics)
    low = store.fetch(
        "SELECT COUNT(*) AS n FROM sessions WHERE engagement_score < 5 AND started_at >= ?",
        [NOW - timedelta(hours=1)],
    )[0]["n"]
    assert d.metrics["low_engagement_sessions"] == low
    assert "Feature requests" in text and "none recorded" in text  # no insights analyzer yet


def test_hourly_feature_requests_from_the_insights_keys(store: Store, profile: Profile) -> None:
    """The insights module's agreed key (interfaces: insights.feature_requests) is counted."""
    _hour(store, profile)
    rows = store.fetch("SELECT session_id, analysis FROM sessions ORDER BY session_id LIMIT 3")
    for i, r in enumerate(rows):
        a = r["analysis"]
        a["insights"] = {
            "feature_requests": [
                {
                    "feature": "bulk_send",
                    "interest": "high" if i else "low",
                    "quote": "can we send a hundred at once",
                    "turn": 3,
                }
            ]
        }
        store.execute(
            "UPDATE sessions SET analysis = ? WHERE session_id = ?",
            [orjson.dumps(a).decode(), r["session_id"]],
        )
    d = build_hourly(store.fetch, NOW)
    assert d.metrics["feature_requests"][0] == {
        "feature": "bulk_send",
        "mentions": 3,
        "urgent": 2,
        "quote": "can we send a hundred at once",
    }
    assert "bulk send: 3 call(s), 2 urgent" in to_text(d)


def test_weekly_rollup_pipeline_roi_and_recommendations(store: Store, profile: Profile) -> None:
    week_end = NOW.replace(hour=0) - timedelta(days=NOW.weekday())
    store_calls(store, steady("a", week_end - timedelta(days=6), week_end, 4 * 3600), profile)
    d = build_weekly(store.fetch, week_end)
    assert "Measured outcomes: none recorded" in to_text(d)
    assert "Recommendations" in to_text(d)
    # The outcomes table of the insights branch (interfaces.md), with one closed deal.
    store.execute(
        "CREATE TABLE IF NOT EXISTS outcomes (session_id TEXT, email TEXT, stage TEXT, "
        "closed_won BOOLEAN, amount DOUBLE, trial_converted BOOLEAN, occurred_at TIMESTAMPTZ, "
        "source TEXT)"
    )
    sid = store.fetch("SELECT session_id FROM sessions ORDER BY session_id LIMIT 1")[0]
    for stage, won in (("opportunity", False), ("closed_won", True)):
        store.execute(
            "INSERT INTO outcomes VALUES (?, 'x@example.com', ?, ?, 12000, TRUE, ?, 'crm')",
            [sid["session_id"], stage, won, week_end],
        )
    d = build_weekly(store.fetch, week_end)
    assert d.metrics["outcomes"]["won_usd"] == 12000 and d.metrics["outcomes"]["deals"] == 1
    cost = d.metrics["cost_usd"]
    assert f"Measured ROI: {(12000 - cost) / cost:,.1f}x" in to_text(d)
