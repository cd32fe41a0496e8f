"""agent_down: silence after recent traffic pages; an agent's learned quiet hours do not."""

from __future__ import annotations

from datetime import timedelta

from callscope.alerts.engine import AlertEngine
from callscope.profile.model import Profile
from callscope.store import Store
from tests.alerts.conftest import NOW, steady, store_calls


def down(store: Store, profile: Profile, minutes_after: float) -> list[str]:
    result = AlertEngine(store, profile).check(NOW + timedelta(minutes=minutes_after))
    return [k for k in result.fired if k.startswith("agent_down")]


def test_ten_minutes_of_silence_after_traffic(store: Store, profile: Profile) -> None:
    store_calls(store, steady("a", NOW - timedelta(minutes=60), NOW, 120), profile)
    last = store.fetch("SELECT MAX(started_at) AS t FROM sessions")[0]["t"]
    gap = (NOW - last).total_seconds() / 60
    assert down(store, profile, 9.5 - gap) == []
    assert down(store, profile, 10.5 - gap) == ["agent_down:a"]


def test_no_recent_traffic_no_page(store: Store, profile: Profile) -> None:
    # Two calls in the hour before is under min_recent_sessions (3).
    store_calls(
        store, steady("a", NOW - timedelta(minutes=40), NOW - timedelta(minutes=20), 600), profile
    )
    assert down(store, profile, 0) == []


def test_quiet_hours_are_learned_from_the_agents_history(store: Store, profile: Profile) -> None:
    # Five working days of calls 08:00-18:00 only, then today up to 18:00.
    calls = []
    for day in range(5, -1, -1):
        open_at = NOW.replace(hour=8) - timedelta(days=day)
        calls += steady("a", open_at, open_at + timedelta(hours=10), 600, first=day * 1000)
    store_calls(store, calls, profile)
    closing = NOW.replace(hour=18)
    evening = AlertEngine(store, profile).check(closing + timedelta(minutes=20))
    assert not [k for k in evening.fired if k.startswith("agent_down")]  # 18:00 is quiet


def test_silence_in_a_busy_hour_pages_despite_history(store: Store, profile: Profile) -> None:
    calls = []
    for day in range(5, -1, -1):
        open_at = NOW.replace(hour=8) - timedelta(days=day)
        end = open_at + timedelta(hours=10) if day else NOW.replace(hour=11)
        calls += steady("a", open_at, end, 600, first=day * 1000)
    store_calls(store, calls, profile)
    result = AlertEngine(store, profile).check(NOW.replace(hour=11, minute=15))
    assert "agent_down:a" in result.fired


def test_down_agent_stays_down_past_the_lookback(store: Store, profile: Profile) -> None:
    store_calls(store, steady("a", NOW - timedelta(minutes=60), NOW, 120), profile)
    engine = AlertEngine(store, profile)
    assert "agent_down:a" in engine.check(NOW + timedelta(minutes=12)).fired
    hours_later = engine.check(NOW + timedelta(hours=3))
    assert hours_later.resolved == [] and "agent_down:a" in hours_later.held
    store_calls(
        store,
        steady("a", NOW + timedelta(hours=3), NOW + timedelta(hours=3, minutes=1), 60, first=500),
        profile,
    )
    back = engine.check(NOW + timedelta(hours=3, minutes=2))
    assert back.resolved == ["agent_down:a"]
