"""Business impact (`callscope outcomes report`): measured from outcomes, else assumed and said so.

Calls go through the real analyzers and warehouse rows; outcomes through ``write_outcomes``,
as ``callscope outcomes import`` writes them.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from callscope.outcomes.impact import business_impact
from callscope.outcomes.records import Outcome
from callscope.outcomes.store import write_outcomes
from callscope.profile.model import Profile
from callscope.store import Store
from tests.alerts.conftest import NOW, steady, store_calls


def _calls(store: Store, profile: Profile) -> list[dict[str, object]]:
    store_calls(store, steady("trial-agent", NOW - timedelta(hours=6), NOW, 1800), profile)
    return store.fetch(
        "SELECT session_id, user_email, started_at, cost_usd, lead_tier FROM sessions "
        "ORDER BY session_id"
    )


def test_without_outcomes_the_value_is_an_assumption_and_says_so(
    store: Store, profile: Profile
) -> None:
    rows = _calls(store, profile)
    impact = business_impact(store, profile)
    a = profile.insights.impact
    qualified = sum(1 for r in rows if r["lead_tier"] in profile.scoring.qualified_ids())
    assert not impact.measured and impact.calls == len(rows)
    assert impact.value_usd == pytest.approx(
        qualified * a.baseline_trial_conversion * a.average_deal_usd
    )
    assert any("baseline_trial_conversion" in s for s in impact.assumptions)
    cost = sum(float(r["cost_usd"] or 0) for r in rows)
    assert impact.cost_usd == pytest.approx(cost, abs=0.01)
    billed = impact.cost_usd  # rounded to cents, as reported
    assert impact.roi_pct == pytest.approx((impact.value_usd - billed) / billed * 100, abs=0.1)


def test_outcomes_make_the_figures_measured(store: Store, profile: Profile) -> None:
    rows = _calls(store, profile)
    won, open_, stranger = rows[0], rows[1], "nobody@elsewhere.example"
    later = NOW + timedelta(days=10)
    outcomes = [
        Outcome(
            id="w",
            session_id=str(won["session_id"]),
            email=str(won["user_email"]),
            stage="closed_won",
            closed_won=True,
            amount=12000,
            trial_converted=True,
            occurred_at=later,
        ),
        Outcome(
            id="o",
            session_id=str(open_["session_id"]),
            email=str(open_["user_email"]),
            stage="opportunity",
            closed_won=None,
            amount=5000,
            trial_converted=False,
            occurred_at=later,
        ),
        # A deal of someone who never called the agent is not the agent's.
        Outcome(
            id="x",
            session_id=None,
            email=stranger,
            stage="closed_won",
            closed_won=True,
            amount=99000,
            trial_converted=True,
            occurred_at=later,
        ),
    ]
    assert write_outcomes(store, outcomes, "crm").written == 3
    impact = business_impact(store, profile)
    assert impact.measured and not impact.assumptions
    assert impact.assisted_revenue == 12000 and impact.pipeline_influenced == 5000
    assert impact.trial_to_paid == pytest.approx(0.5)
    assert impact.value_usd == 12000
    first_call = won["started_at"]
    assert impact.time_to_value_days == pytest.approx(
        round((later - first_call).total_seconds() / 86400, 1)  # type: ignore[operator]
    )
