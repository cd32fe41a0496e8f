"""Each windowed rule's edges, over calls the real analyzers and warehouse rows describe."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from callscope.alerts.engine import AlertEngine
from callscope.profile.alerts import AlertsConfig
from callscope.profile.model import Profile
from callscope.store import Store
from tests.alerts.conftest import NOW, call, steady, store_calls


def tuned(profile: Profile, **rules: dict[str, Any]) -> Profile:
    data = profile.alerts.model_dump()
    for name, values in rules.items():
        data["rules"][name].update(values)
    return profile.model_copy(update={"alerts": AlertsConfig.model_validate(data)})


def fired(store: Store, profile: Profile, at: Any = NOW) -> set[str]:
    result = AlertEngine(store, profile).check(at)
    assert result.errors == {}
    return set(result.fired)


def burst(n: int, minutes: float = 4.5, **shape: Any) -> list[dict[str, Any]]:
    step = minutes * 60 / n
    return [call(i, NOW - timedelta(seconds=step * (i + 1)), **shape) for i in range(n)]


def test_error_rate_is_strictly_above_the_threshold(store: Store, profile: Profile) -> None:
    calls = burst(10)
    calls[0] = call(0, NOW - timedelta(seconds=20), error=True)
    store_calls(store, calls, profile)  # 1 of 10 = 10 %: not above 10 %
    assert not {k for k in fired(store, profile) if k.startswith("error_rate_critical")}
    store_calls(store, [call(1, NOW - timedelta(seconds=40), error=True)], profile)
    got = fired(store, profile, NOW + timedelta(seconds=1))
    assert "error_rate_critical:trial-agent" in got  # 2 of 10 = 20 %


def test_error_rate_needs_min_calls(store: Store, profile: Profile) -> None:
    store_calls(store, burst(4, error=True), profile)
    assert not any(k.startswith("error_rate") for k in fired(store, profile))


def test_latency_critical_and_sustained_thresholds(store: Store, profile: Profile) -> None:
    store_calls(store, burst(6, latency_ms=1990), profile)
    got = fired(store, profile)
    # 1,990 ms: over the profile's 1,500 ms (sustained), under 2,000 ms (critical).
    assert "latency_sustained:trial-agent" in got
    assert "latency_critical:trial-agent" not in got


def test_latency_threshold_comes_from_the_profile(store: Store, profile: Profile) -> None:
    store_calls(store, burst(6, latency_ms=1600), profile)
    strict = profile.model_copy(
        update={"thresholds": profile.thresholds.model_copy(update={"e2e_latency_ms": 1700})}
    )
    assert "latency_sustained:trial-agent" not in fired(store, strict)
    assert "latency_sustained:trial-agent" in fired(store, profile, NOW + timedelta(seconds=1))


def test_disabled_rule_never_fires_and_channel_reroutes(store: Store, profile: Profile) -> None:
    store_calls(store, burst(6, latency_ms=2500), profile)
    p = tuned(profile, latency_critical={"enabled": False}, latency_sustained={"channel": "sre"})
    got = fired(store, p)
    assert "latency_critical:trial-agent" not in got
    row = store.fetch("SELECT channel FROM alerts_history WHERE rule = 'latency_sustained'")
    assert row == [{"channel": "sre"}]


def test_token_spike_against_the_agents_own_baseline(store: Store, profile: Profile) -> None:
    history = steady("trial-agent", NOW - timedelta(days=3), NOW - timedelta(hours=1), 3600)
    other = steady(
        "big-agent", NOW - timedelta(days=3), NOW - timedelta(hours=1), 3600, tokens_x=3.0
    )
    store_calls(store, history + other, profile)
    # big-agent always runs at 3x: its normal, no spike. trial-agent at 1.5x: under 2x.
    store_calls(store, burst(4, tokens_x=1.5) + burst(4, agent="big-agent", tokens_x=3.0), profile)
    assert not any(k.startswith("token_spike") for k in fired(store, profile))
    store_calls(
        store,
        [call(90 + i, NOW - timedelta(seconds=5 + i), tokens_x=6.0) for i in range(4)],
        profile,
    )
    got = fired(store, profile, NOW + timedelta(seconds=10))
    assert "token_spike:trial-agent" in got and "token_spike:big-agent" not in got


def test_token_spike_needs_a_baseline(store: Store, profile: Profile) -> None:
    store_calls(store, burst(6, tokens_x=8.0), profile)
    assert not any(k.startswith("token_spike") for k in fired(store, profile))


def test_cost_burn_only_with_a_budget(store: Store, profile: Profile) -> None:
    store_calls(store, burst(20, minutes=50, tokens_x=4.0), profile)
    no_budget = tuned(profile, cost_burn={"budget_usd_per_hour": None})
    assert "cost_burn:all" not in fired(store, no_budget)
    spent = store.fetch("SELECT SUM(cost_usd) AS c FROM sessions")[0]["c"]
    assert "cost_burn:all" not in fired(
        store,
        tuned(profile, cost_burn={"budget_usd_per_hour": spent * 1.01}),
        NOW + timedelta(seconds=1),
    )
    assert "cost_burn:all" in fired(
        store,
        tuned(profile, cost_burn={"budget_usd_per_hour": spent * 0.99}),
        NOW + timedelta(seconds=2),
    )


def test_connection_degraded_on_the_p90(store: Store, profile: Profile) -> None:
    # 8 good calls and 2 lossy ones: the p90 sits between them, above 3 %.
    calls = burst(8, minutes=10) + burst(2, minutes=3, packet_loss=9.0)
    for i, c in enumerate(calls):
        c["session_id"] += f"-{i}"
    store_calls(store, calls, profile)
    assert "connection_degraded:trial-agent" in fired(store, profile)


def test_connection_healthy_p90_is_quiet(store: Store, profile: Profile) -> None:
    calls = burst(9, minutes=10) + burst(1, minutes=3, packet_loss=9.0, jitter=90)
    for i, c in enumerate(calls):
        c["session_id"] += f"-{i}"
    store_calls(store, calls, profile)  # one bad call of ten is under the p90
    assert not any(k.startswith("connection") for k in fired(store, profile))


def _kb_failures(store: Store) -> int:
    rows = store.fetch(
        "SELECT COUNT(*) AS n FROM tool_calls WHERE name = 'unleash_search_knowledge' AND is_error"
    )
    return int(rows[0]["n"])


def test_api_failures_for_a_failing_tool(store: Store, profile: Profile) -> None:
    i = 0
    while _kb_failures(store) < 2:  # calls whose knowledge searches all fail, 10 min ago
        store_calls(store, [call(i, NOW - timedelta(minutes=10), tool_error=True)], profile)
        i += 1
    p = tuned(profile, api_failures={"min_failures": _kb_failures(store) + 1})
    assert not any(k.startswith("api_failures") for k in fired(store, p))
    while _kb_failures(store) < p.alerts.rules.api_failures.min_failures:
        store_calls(store, [call(i, NOW - timedelta(minutes=9), tool_error=True)], profile)
        i += 1
    got = fired(store, p, NOW + timedelta(seconds=1))
    assert "api_failures:tool:unleash_search_knowledge" in got
