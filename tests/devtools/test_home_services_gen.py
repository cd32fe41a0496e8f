"""The home_services generator: valid SessionRecords, deterministic, labels consistent."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from callscope.contract.parse import validate_record
from callscope.devtools.home_services_gen import generate_record
from callscope.generate import generate_record as generate_any


def test_records_valid_deterministic_and_varied() -> None:
    at = datetime(2026, 12, 1, tzinfo=UTC)
    recs = [generate_record(i, seed=3, start=at, with_labels=True) for i in range(150)]
    assert generate_record(5, seed=3, start=at, with_labels=True) == recs[5]
    labels = [r.pop("_expected") for r in recs]
    for r in recs:
        validate_record(r, r["session_id"])
    assert {e["signals.service_type"] for e in labels} >= {"plumbing", "drain", "electrical"}
    assert {e["lead.tier"] for e in labels} == {"tier_1", "tier_2", "unqualified"}
    booked = [e["tools.meeting_booked"] for e in labels]
    assert True in booked and False in booked


def test_failed_then_retried_booking_counts_once_as_booked() -> None:
    for i in range(300):
        r = generate_record(i, seed=1, with_labels=True)
        visits = [c for c in r["tool_calls"] if c["name"] == "schedule_service_visit"]
        if len(visits) == 2:
            assert visits[0]["output"]["success"] is False
            assert r["_expected"]["tools.meeting_booked"] is True
            return
    raise AssertionError("no retried booking in 300 calls")


def test_generate_dispatches_on_the_profile_name() -> None:
    rec = generate_any(0, seed=2, profile=SimpleNamespace(name="home_services"))  # type: ignore[arg-type]
    assert rec["session_id"].startswith("room-hs-")
    assert rec["tool_calls"] == [] or rec["tool_calls"][0]["name"] in (
        "schedule_service_visit",
        "search_service_kb",
    )
