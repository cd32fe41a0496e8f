"""Lead scoring follows the profile's rule model exactly."""

from __future__ import annotations

from typing import Any

import pytest

from callscope.analyze.modules.lead import score_signals
from callscope.profile import load_profile


@pytest.mark.parametrize(
    ("sales", "score", "tier"),
    [
        (
            {
                "team_size": 26,
                "monthly_volume": 315,
                "integrations": ["hubspot"],
                "budget_authority": "decision_maker",
            },
            79,
            "tier_1",
        ),
        (
            {
                "team_size": 3,
                "monthly_volume": 52,
                "integrations": ["google_drive"],
                "timeline": "this_month",
                "budget_authority": "decision_maker",
            },
            42,
            "tier_2",
        ),
        (
            {"team_size": 1, "monthly_volume": 3, "budget_authority": "decision_maker"},
            16,
            "unqualified",
        ),
        (
            {
                "team_size": 25,
                "monthly_volume": 300,
                "integrations": ["api", "salesforce"],
                "timeline": "this_week",
                "budget_authority": "decision_maker",
            },
            100,
            "tier_1",
        ),
        ({}, 0, "unqualified"),
    ],
)
def test_rule_model(sales: dict[str, Any], score: int, tier: str) -> None:
    got = score_signals(sales, load_profile())
    assert (got["score"], got["tier"]) == (score, tier)
    assert got["hot_lead"] is (score > 80)
    assert sum(got["breakdown"].values()) == got["points"]


def test_bad_values_score_zero_not_crash() -> None:
    got = score_signals(
        {"team_size": "twelve", "monthly_volume": True, "integrations": [3], "timeline": "someday"},
        load_profile(),
    )
    assert got["score"] == 0
