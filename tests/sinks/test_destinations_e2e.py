"""Done-when for the strategy's destinations: ingest -> worker -> ``sinks run --once`` on the dev
set, as an operator runs them (real processes, official clients), against stand-ins that speak
Salesforce REST and Amplitude HTTP V2; then ``forget`` reaching both destinations."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from callscope.sinks.field_map import DEFAULT_LEAD_MAP, DEFAULT_VOICE_CALL_MAP, first_present
from callscope.store import open_store
from tests.sinks import servers
from tests.sinks.conftest import AMPLITUDE_KEY

DEV = Path("/work/shared/evals/dev")


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "callscope", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=300,
    )


@dataclass
class World:
    base: list[str]
    env: dict[str, str]
    sf: servers.SalesforceState
    sf_svc: servers.HttpService
    amp: servers.AmplitudeState
    amp_svc: servers.HttpService
    data_dir: Path

    def analyses(self) -> dict[str, dict[str, Any]]:
        store = open_store(f"duckdb:///{self.data_dir / 'warehouse.duckdb'}", read_only=True)
        try:
            rows = store.fetch("SELECT session_id, user_email, analysis FROM sessions")
        finally:
            store.close()
        out = {}
        for r in rows:
            a = r["analysis"]
            out[r["session_id"]] = {
                "email": r["user_email"],
                **(json.loads(a) if isinstance(a, str) else a),
            }
        return out


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, server_tls: ssl.SSLContext, ca_file: str
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("e2e")
    sf = servers.SalesforceState()
    sf_svc = servers.salesforce_service(server_tls, sf)
    amp = servers.AmplitudeState(AMPLITUDE_KEY)
    amp_svc = servers.amplitude_service(AMPLITUDE_KEY, amp)
    cfg = tmp / "callscope.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "sinks": {
                    "destinations": {
                        "salesforce": {
                            "type": "salesforce",
                            "token_url": f"{sf_svc.base_url}/services/oauth2/token",
                            "ca_bundle": ca_file,
                            "transcript_url": "https://callscope.example.com/sessions/{session_id}",
                        },
                        "amplitude": {
                            "type": "amplitude",
                            "server_url": f"{amp_svc.base_url}/2/httpapi",
                            "deletion_url": f"{amp_svc.base_url}/api/2/deletions/users",
                        },
                    },
                    "routes": [{"events": "lead", "to": ["salesforce", "amplitude"]}],
                    "retry": {"attempts": 3, "initial_s": 0.05, "max_s": 0.2},
                }
            }
        )
    )
    data = tmp / "data"
    env = {
        "CALLSCOPE_SALESFORCE_CLIENT_ID": sf.client_id,
        "CALLSCOPE_SALESFORCE_CLIENT_SECRET": sf.client_secret,
        "CALLSCOPE_SALESFORCE_REFRESH_TOKEN": sf.refresh_token,
        "CALLSCOPE_AMPLITUDE_API_KEY": AMPLITUDE_KEY,
        "CALLSCOPE_AMPLITUDE_SECRET_KEY": amp.secret_key,
    }
    base = ["--config", str(cfg), "--data-dir", str(data)]
    ingest = run(*base, "ingest", *map(str, sorted(DEV.glob("dev_*.json"))), env=env)
    assert ingest.returncode == 0, ingest.stderr
    worker = run(*base, "worker", "--once", env=env)
    assert worker.returncode == 0, worker.stderr
    try:
        yield World(base, env, sf, sf_svc, amp, amp_svc, data)
    finally:
        sf_svc.stop()
        amp_svc.stop()


@pytest.fixture(scope="module")
def first_pass(world: World) -> subprocess.CompletedProcess[str]:
    # The org's token expires before the pass: the sink logs in again by itself.
    world.sf.token = "expired-before-the-pass"
    # One 503 and one 429 on the way: the dispatcher's retries absorb them.
    world.sf_svc.fail(503, b'[{"errorCode":"SERVER_UNAVAILABLE","message":"down"}]')
    world.amp_svc.fail(429, b'{"code": 429, "error": "Too many requests for some devices"}')
    result = run(*world.base, "sinks", "run", "--once", env=world.env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_every_call_reaches_amplitude_with_all_its_events(
    world: World, first_pass: subprocess.CompletedProcess[str]
) -> None:
    analyses = world.analyses()
    sessions = world.amp.by_type("voice_trial_session_completed")
    assert sorted(e["event_properties"]["session_id"] for e in sessions) == sorted(analyses)
    searches = sum(a["tools"]["kb_searches"] for a in analyses.values())
    assert len(world.amp.by_type("knowledge_base_searched")) == searches > 0
    booked = sum(bool(a["tools"]["meeting_booked"]) for a in analyses.values())
    assert len(world.amp.by_type("sales_meeting_booked")) == booked > 0
    assert len(world.amp.by_type("conversation_quality_measured")) == len(analyses)
    assert len(world.amp.by_type("latency_measured")) == len(analyses)
    features = sum(
        len(a.get("insights", {}).get("feature_requests", [])) for a in analyses.values()
    )
    assert len(world.amp.by_type("feature_discussed")) == features
    assert len(world.amp.by_type("$identify")) == len(analyses)
    for e in sessions:
        a = analyses[e["event_properties"]["session_id"]]
        assert e["user_id"] == (a["email"] or e["user_id"])
        assert e["event_properties"]["qualification_tier"] == a["lead"]["tier"]


def test_qualified_calls_reach_salesforce_field_for_field(
    world: World, first_pass: subprocess.CompletedProcess[str]
) -> None:
    analyses = world.analyses()
    qualified = {
        sid: a
        for sid, a in analyses.items()
        if a["lead"]["tier"] in ("tier_1", "tier_2") and a["email"]
    }
    assert qualified
    calls = {r["Session_Id__c"]: r for r in world.sf.records("Voice_Call__c")}
    assert sorted(calls) == sorted(qualified)
    people = {r["Id"]: r for r in world.sf.records("Lead")}
    tasks = {t["Callscope_Session_Id__c"]: t for t in world.sf.records("Task")}
    assert sorted(tasks) == sorted(qualified)
    seen_fields: set[str] = set()
    for sid, a in qualified.items():
        call = calls[sid]
        person = people[call["Related_To__c"]]
        assert person["Email"] == a["email"]
        ctx = {**a, "call": {"started_at": 1, "duration_seconds": 1}}
        for name, rule in DEFAULT_LEAD_MAP.items():
            if name != "Recommended_Owner__c" and first_present(ctx, rule.paths) is not None:
                assert name in person, (sid, name)
        seen_fields |= set(person) & set(DEFAULT_LEAD_MAP)
        assert set(DEFAULT_VOICE_CALL_MAP) <= set(call)
        assert call["Transcript_URL__c"] == f"https://callscope.example.com/sessions/{sid}"
        assert tasks[sid]["Subject"] == "Follow up on voice trial call"
        assert tasks[sid]["WhoId"] == person["Id"]
    # The fields this build's analyzers fill, on the wire for the dev set.
    assert {
        "Lead_Score__c",
        "Lead_Score_Breakdown__c",
        "Qualification_Tier__c",
        "Last_Call_Date__c",
        "Call_Duration__c",
        "Engagement_Score__c",
        "Team_Size__c",
        "Monthly_Document_Volume__c",
        "Integration_Needs__c",
        "Industry_Vertical__c",
        "Budget_Authority__c",
        "Current_Tool__c",
        "Pain_Points__c",
        "Use_Cases__c",
        "Competitor_Mentioned__c",
        "Current_Solution__c",
        "Objections_Raised__c",
        "Stakeholders_Mentioned__c",
        "Call_Sentiment__c",
    } <= seen_fields
    assert world.sf.logins[0] == "refresh_token"


def test_a_second_pass_sends_nothing_and_duplicates_nothing(
    world: World, first_pass: subprocess.CompletedProcess[str]
) -> None:
    before_sf = {k: len(v) for k, v in world.sf.objects.items()}
    before_amp = len(world.amp.events)
    again = run(*world.base, "sinks", "run", "--once", env=world.env)
    assert again.returncode == 0 and "delivered 0," in again.stdout, again.stdout
    assert {k: len(v) for k, v in world.sf.objects.items()} == before_sf
    assert len(world.amp.events) == before_amp


def test_describe_lists_missing_and_wrong_type_fields(
    world: World, first_pass: subprocess.CompletedProcess[str]
) -> None:
    ok = run(*world.base, "sinks", "describe", "salesforce", "--json", env=world.env)
    assert ok.returncode == 0, ok.stderr
    assert {r["status"] for r in json.loads(ok.stdout)} == {"ok"}
    saved = dict(world.sf.schema["Lead"])
    del world.sf.schema["Lead"]["Urgency_Level__c"]
    world.sf.schema["Lead"]["Team_Size__c"] = ("string", 10)
    try:
        bad = run(*world.base, "sinks", "describe", "salesforce", "--json", env=world.env)
    finally:
        world.sf.schema["Lead"] = saved
    assert bad.returncode == 1
    rows = {(r["object"], r["field"]): r["status"] for r in json.loads(bad.stdout)}
    assert rows[("Lead", "Urgency_Level__c")] == "missing"
    assert rows[("Lead", "Team_Size__c")] == "wrong_type"


def test_forget_reaches_both_destinations_and_leaves_no_identifiers(
    world: World, first_pass: subprocess.CompletedProcess[str]
) -> None:
    analyses = world.analyses()
    sid, a = next(
        (s, x) for s, x in sorted(analyses.items()) if x["email"] and x["lead"]["tier"] == "tier_1"
    )
    email = a["email"]
    gone = run(*world.base, "forget", "--email", email, env=world.env)
    assert gone.returncode == 0, gone.stderr
    drained = run(*world.base, "sinks", "run", "--once", env=world.env)
    assert drained.returncode == 0, drained.stdout + drained.stderr
    assert "erasures: done 2" in drained.stdout
    (deletion,) = world.amp.deletions
    assert email in deletion["user_ids"]
    assert not [e for e in world.amp.events if e["user_id"] == email]
    assert sid not in {r["Session_Id__c"] for r in world.sf.records("Voice_Call__c")}
    assert sid not in {t["Callscope_Session_Id__c"] for t in world.sf.records("Task")}
    for person in world.sf.records("Lead"):
        if person["Email"] == email:
            assert all(person.get(k) is None for k in DEFAULT_LEAD_MAP)
    store = open_store(f"duckdb:///{world.data_dir / 'warehouse.duckdb'}", read_only=True)
    try:
        rows = store.fetch("SELECT status, identifiers, subject FROM sink_erasures")
    finally:
        store.close()
    assert [r["status"] for r in rows] == ["done", "done"]
    assert all(r["identifiers"] is None and email not in r["subject"] for r in rows)
