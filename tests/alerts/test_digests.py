"""The hourly quality digest and weekly rollup sections the strategy asks for."""

from __future__ import annotations

from datetime import timedelta

from callscope.alerts.digest import build_hourly, build_weekly, to_text
from callscope.outcomes.records import Outcome
from callscope.outcomes.store import write_outcomes
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
    assert "Feature requests" in text


def test_hourly_feature_requests_from_the_real_insights(store: Store, profile: Profile) -> None:
    """The digest counts what the insights analyzer wrote (insights.feature_requests)."""
    _hour(store, profile)
    rows = store.fetch(
        "SELECT session_id, analysis FROM sessions WHERE started_at >= ?",
        [NOW - timedelta(hours=1)],
    )
    calls: dict[str, set[str]] = {}
    urgent: dict[str, set[str]] = {}
    for r in rows:
        for item in (r["analysis"].get("insights") or {}).get("feature_requests") or []:
            calls.setdefault(item["feature"], set()).add(r["session_id"])
            if item.get("interest") == "high":
                urgent.setdefault(item["feature"], set()).add(r["session_id"])
    assert calls, "the generated hour has callers asking for features"
    d = build_hourly(store.fetch, NOW)
    got = {f["feature"]: (f["mentions"], f["urgent"]) for f in d.metrics["feature_requests"]}
    want = {k: (len(v), len(urgent.get(k, ()))) for k, v in calls.items()}
    assert got == {k: want[k] for k in got}  # the digest lists the top ones, counted right
    first = d.metrics["feature_requests"][0]
    assert first["mentions"] == max(n for n, _ in want.values())  # most asked for first
    line = f"{first['feature'].replace('_', ' ')}: {first['mentions']} call(s)"
    assert f"{line}, {first['urgent']} urgent" in to_text(d)


def test_weekly_rollup_pipeline_roi_and_recommendations(store: Store, profile: Profile) -> None:
    week_end = NOW.replace(hour=0) - timedelta(days=NOW.weekday())
    store_calls(store, steady("a", week_end - timedelta(days=6), week_end, 4 * 3600), profile)
    d = build_weekly(store.fetch, week_end)
    assert "Measured outcomes: none recorded" in to_text(d)
    assert "Recommendations" in to_text(d)
    # Outcomes as `callscope outcomes import` writes them: one open, then the deal closed.
    sid = store.fetch("SELECT session_id FROM sessions ORDER BY session_id LIMIT 1")[0]
    deals = [
        Outcome(
            id=stage,
            session_id=sid["session_id"],
            email="x@example.com",
            stage=stage,
            closed_won=won,
            amount=12000,
            trial_converted=True,
            occurred_at=week_end,
        )
        for stage, won in (("opportunity", False), ("closed_won", True))
    ]
    assert write_outcomes(store, deals, "crm").written == 2
    d = build_weekly(store.fetch, week_end)
    assert d.metrics["outcomes"]["won_usd"] == 12000 and d.metrics["outcomes"]["deals"] == 1
    cost = d.metrics["cost_usd"]
    assert f"Measured ROI: {(12000 - cost) / cost:,.1f}x" in to_text(d)
