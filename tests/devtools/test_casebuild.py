"""Spec -> labeled case for any profile: scores from the profile's points, tool labels by role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callscope.contract.parse import validate_record
from callscope.devtools.casebuild import SpecError, build_case, profile_data, rule_score

HS = Path(__file__).parents[1] / "analyze" / "home_services"
DATA = profile_data("home_services")


def test_rule_score_reads_points_bands_and_tiers_from_the_profile() -> None:
    e = {
        "signals.urgency": "emergency",
        "signals.property_type": "commercial",
        "signals.equipment_age_years": 16,
        "signals.maintenance_plan_interest": True,
        "signals.customer_status": "existing",
    }
    assert rule_score(e, DATA) == (100, "tier_1")  # 30+25+25+15+10 = 105 of 105
    assert rule_score(
        {"signals.urgency": "this_week", "signals.equipment_age_years": 12}, DATA
    ) == (24, "unqualified")
    assert rule_score(
        {
            "signals.urgency": "within_24h",
            "signals.property_type": "house",
            "signals.equipment_age_years": 9,
        },
        DATA,
    ) == (24, "unqualified")
    assert rule_score(
        {"signals.urgency": "emergency", "signals.maintenance_plan_interest": False}, DATA
    ) == (29, "unqualified")


def test_built_dev_set_matches_its_specs() -> None:
    for spec_path in sorted((HS / "specs").glob("*.json")):
        spec = json.loads(spec_path.read_text())
        built = json.loads((HS / "dev" / spec_path.name).read_text())
        assert build_case(spec, DATA) == built, spec_path.name
        validate_record(built["record"], spec_path.name)
    assert len(list((HS / "dev").glob("*.json"))) >= 30


def test_failed_booking_is_not_booked_and_retry_is() -> None:
    spec = json.loads((HS / "specs" / "hs_009.json").read_text())
    assert build_case(spec, DATA)["expected"]["tools.meeting_booked"] is True  # fail, then retry
    spec = json.loads((HS / "specs" / "hs_020.json").read_text())
    assert build_case(spec, DATA)["expected"]["tools.meeting_booked"] is False  # backend error


def test_labels_outside_the_profile_are_refused() -> None:
    spec = json.loads((HS / "specs" / "hs_001.json").read_text())
    spec["expected"]["signals.urgency"] = "yesterday"
    with pytest.raises(SpecError, match=r"hs_001: signals\.urgency"):
        build_case(spec, DATA)
    del spec["expected"]["signals.urgency"]
    with pytest.raises(SpecError, match=r"lacks signals\.urgency"):
        build_case(spec, DATA)
