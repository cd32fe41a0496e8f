"""Alert rules fire on the calls that need a human, with stable ids, and stay quiet otherwise."""

from __future__ import annotations

import json
from typing import Any

from callscope.alerts import evaluate
from callscope.analyze import analyze_to_contract
from callscope.analyze.output import CONTRACT_DEFAULTS
from callscope.contract.parse import validate_record
from callscope.profile import load_profile
from tests.conftest import DEV_SET

PROFILE = load_profile()


def analysis(**sections: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {k: dict(v) for k, v in CONTRACT_DEFAULTS.items()}
    for name, values in sections.items():
        out.setdefault(name, {}).update(values)
    return out


def rules(a: dict[str, Any]) -> set[str]:
    return {alert.rule for alert in evaluate("s1", a, PROFILE)}


def test_quiet_call_raises_nothing() -> None:
    assert (
        rules(
            analysis(
                performance={"e2e_latency_ms": {"avg": 900, "p50": 850, "p95": 1200, "p99": 1400}}
            )
        )
        == set()
    )


def test_hot_lead_above_80_only() -> None:
    assert "hot_lead" in rules(analysis(lead={"score": 81, "tier": "tier_1"}))
    assert "hot_lead" not in rules(analysis(lead={"score": 80, "tier": "tier_1"}))


def test_latency_breach_uses_profile_threshold_and_escalates() -> None:
    warn = evaluate("s1", analysis(performance={"e2e_latency_ms": {"p95": 1600}}), PROFILE)
    crit = evaluate("s1", analysis(performance={"e2e_latency_ms": {"p95": 3100}}), PROFILE)
    assert [a.severity for a in warn if a.rule == "latency_breach"] == ["warning"]
    assert [a.severity for a in crit if a.rule == "latency_breach"] == ["critical"]


def test_interruptions_and_negative_sentiment() -> None:
    got = rules(
        analysis(
            quality={"interruptions": 4},
            sentiment={"overall": "negative"},
            sales={"objections": ["price"]},
        )
    )
    assert got == {"interruptions", "negative_sentiment"}
    assert rules(analysis(quality={"interruptions": 3})) == set()


def test_failed_booking_only_when_nothing_booked() -> None:
    """Real analyzers on a call whose booking tool errors, then on the same call retried OK."""
    data = json.loads((DEV_SET / "dev_021.json").read_text())["record"]
    rec = validate_record(data, "test")
    assert "meeting_booking_failed" in {
        a.rule for a in evaluate(rec.session_id, analyze_to_contract(rec, PROFILE), PROFILE)
    }
    booking = next(tc for tc in data["tool_calls"] if tc["name"] == "book_sales_meeting")
    data["tool_calls"].append(
        dict(
            booking, is_error=False, output={"success": True, "meeting_link": "https://m.example/x"}
        )
    )
    retried = validate_record(data, "test")
    got = evaluate(retried.session_id, analyze_to_contract(retried, PROFILE), PROFILE)
    assert "meeting_booking_failed" not in {a.rule for a in got}


def test_alert_ids_are_stable_for_idempotent_reprocessing() -> None:
    a = analysis(lead={"score": 95})
    assert [x.alert_id for x in evaluate("s9", a, PROFILE)] == ["hot_lead:s9"]
    assert evaluate("s9", a, PROFILE) == evaluate("s9", a, PROFILE)
