"""Business alerts from the worker's per-call hook, over labelled dev calls and real analyzers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from callscope.alerts import evaluate
from callscope.analyze import analyze_to_contract
from callscope.contract.parse import validate_record
from callscope.profile.alerts import AlertsConfig
from callscope.profile.model import Profile
from callscope.queue.sqlite import SqliteQueue
from callscope.store import Store
from callscope.worker import Worker
from tests.conftest import DEV_SET as DEV


def record(n: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DEV / f"dev_{n}.json").read_text())["record"]
    return data


def run_worker(store: Store, profile: Profile, tmp_path: Path, *records: dict[str, Any]) -> None:
    queue = SqliteQueue(tmp_path / "q.sqlite3")
    queue.enqueue_many([(r["session_id"], orjson.dumps(r)) for r in records])
    with Worker(queue, store, profile) as worker:
        worker.run_once()
    queue.close()


def alerts(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    rows = store.fetch("SELECT id, rule, session_id, message, channel, payload FROM alerts_history")
    return {(r["rule"], r["session_id"]): r for r in rows}


def test_hot_lead_and_meeting_booked_carry_the_context(
    store: Store, profile: Profile, tmp_path: Path
) -> None:
    rec = record("003")
    run_worker(store, profile, tmp_path, rec)
    got = alerts(store)
    sid = rec["session_id"]
    hot = got[("hot_lead", sid)]
    assert hot["channel"] == "sales"
    p = hot["payload"]
    assert (p["name"], p["company"], p["score"]) == ("Priya Raghunathan", "StackRelay", 84)
    assert (
        p["key_signals"]["team size"] == "11" and "salesforce" in p["key_signals"]["integrations"]
    )
    # The profile's next-best-action rule for a booked meeting, with the meeting's time.
    assert p["recommended_action"].startswith("Prepare for the booked meeting")
    assert "2026-10-20 10:00" in p["recommended_action"]
    assert "salesforce_url" not in p  # no CRM id known for a first-time caller
    meeting = got[("meeting_booked", sid)]["payload"]
    assert meeting["email"] == "priya.r@stackrelay.io"
    assert meeting["meeting_time"] == "2026-10-20 10:00"
    assert meeting["calendar_link"].startswith("https://meet.example.com/")
    assert meeting["qualification"].lower().startswith("tier 1, score 84")


def test_competitor_mention_carries_the_callers_words_and_battlecard(
    store: Store, profile: Profile, tmp_path: Path
) -> None:
    rec = record("001")
    run_worker(store, profile, tmp_path, rec)
    p = alerts(store)[("competitor_mentioned", rec["session_id"])]["payload"]
    assert p["competitor"] == "docusign"
    assert "docu sign" in p["context"]  # the caller's own words, as transcribed
    # The insights module's battlecard (profile ``insights.battlecards``) wins over the
    # alerts section's fallback card.
    assert p["battlecard"] == profile.insights.battlecards["docusign"]


def test_failed_booking_fires_from_the_real_analyzers(
    store: Store, profile: Profile, tmp_path: Path
) -> None:
    """The booking tool errors in these calls; no hand-written key is fed to the rule."""
    failed, booked = record("021"), record("003")
    assert any(tc["is_error"] for tc in failed["tool_calls"] if tc["name"] == "book_sales_meeting")
    run_worker(store, profile, tmp_path, failed, booked)
    got = alerts(store)
    row = got[("meeting_booking_failed", failed["session_id"])]
    assert row["payload"]["email"] == "jonas.lindqvist@parcelwise.io"
    assert row["payload"]["qualification"].lower().startswith("tier 1, score 95")
    assert ("meeting_booking_failed", booked["session_id"]) not in got
    hot = got[("hot_lead", failed["session_id"])]["payload"]
    assert hot["recommended_action"] == "Rebook the failed meeting today"  # the profile's rule


def test_business_alerts_fire_once_per_session(
    store: Store, profile: Profile, tmp_path: Path
) -> None:
    rec = record("003")
    run_worker(store, profile, tmp_path, rec)
    again = dict(rec, close_reason="reprocessed")  # a new revision of the same session
    run_worker(store, profile, tmp_path, again)
    rows = store.fetch("SELECT id FROM alerts_history WHERE rule = 'hot_lead'")
    assert rows == [{"id": f"hot_lead:{rec['session_id']}"}]


def _with_alerts(profile: Profile, **changes: Any) -> Profile:
    data = profile.alerts.model_dump()
    for path, value in changes.items():
        target = data
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[key]
        target[leaf] = value
    return profile.model_copy(update={"alerts": AlertsConfig.model_validate(data)})


def test_salesforce_link_when_the_crm_id_is_known(profile: Profile) -> None:
    data = record("003")
    data["participant"]["metadata"]["salesforce_lead_id"] = "00Q5e000001AbCd"
    rec = validate_record(data, "test")
    p = _with_alerts(profile, salesforce_url="https://acme.my.salesforce.com/")
    hot = [
        a
        for a in evaluate(rec.session_id, analyze_to_contract(rec, p), p, record=rec)
        if a.rule == "hot_lead"
    ]
    assert hot[0].payload["salesforce_url"] == (
        "https://acme.my.salesforce.com/lightning/r/Lead/00Q5e000001AbCd/view"
    )


@pytest.mark.parametrize("rule", ["hot_lead", "meeting_booked", "competitor_mentioned"])
def test_business_rule_can_be_disabled_or_rerouted(profile: Profile, rule: str) -> None:
    rec = validate_record(record("003"), "test")
    analysis = analyze_to_contract(rec, profile)
    off = _with_alerts(profile, **{f"rules__{rule}__enabled": False})
    assert rule not in {a.rule for a in evaluate(rec.session_id, analysis, off, record=rec)}
    moved = _with_alerts(profile, **{f"rules__{rule}__channel": "sales_emea"})
    got = {a.rule: a.channel for a in evaluate(rec.session_id, analysis, moved, record=rec)}
    assert got[rule] == "sales_emea"
