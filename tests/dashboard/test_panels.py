"""The strategy's added panels against the warehouse itself; live calls from signed LiveKit
webhooks; the last hour; drill-down; measured outcomes; rollups of an older layout."""

from __future__ import annotations

import base64
import hashlib
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from google.protobuf.json_format import MessageToJson
from livekit.api import AccessToken, WebhookEvent
from livekit.protocol import models
from tests.dashboard.conftest import ANCHOR, Demo, fill, processed

from callscope.analyze import analyze_to_contract
from callscope.config import Settings
from callscope.contract.parse import parse_record
from callscope.dashboard import profile_fields as pf
from callscope.dashboard.filters import FilterError, parse_filters
from callscope.generate import generate_record, generate_records
from callscope.ingest.app import create_app
from callscope.outcomes.records import Outcome
from callscope.outcomes.store import write_outcomes
from callscope.profile import Profile, load_profile
from callscope.queue.sqlite import SqliteQueue
from callscope.store import ProcessedSession, Store, live, open_store, panels
from callscope.store import queries as q
from callscope.store.rollups import refresh_rollups


def rng(demo: Demo) -> q.Range:
    return q.Range(demo.start, demo.end)


def one(store: Store, sql: str) -> float:
    return float(next(iter(store.fetch(sql)[0].values())) or 0)


def test_quality_and_business_kpis_equal_the_sessions_table(demo_store: Store, demo: Demo) -> None:
    refresh_rollups(demo_store)
    got = panels.quality(demo_store, rng(demo))
    n = len(demo.sessions)
    assert one(demo_store, "SELECT COUNT(*) FROM sessions") == n
    dur = one(demo_store, "SELECT AVG(duration_seconds) FROM sessions") / 60
    assert got["avg_duration_min"] == pytest.approx(dur, abs=0.01)
    turns = one(demo_store, "SELECT AVG(COALESCE(turn_count, 0)) FROM sessions")
    assert got["avg_turns"] == pytest.approx(turns, abs=0.05)
    natural = sum(bool(a["quality"]["natural_ending"]) for a in demo.analyses())
    assert got["natural_ending_pct"] == pytest.approx(100 * natural / n, abs=0.01)
    qualified = sum(a["lead"]["tier"] in ("tier_1", "tier_2") for a in demo.analyses())
    assert got["conversion_pct"] == pytest.approx(100 * qualified / n, abs=0.01)
    assert got["top_tier_calls"] == sum(a["lead"]["tier"] == "tier_1" for a in demo.analyses())
    eng = [a["quality"]["engagement_score"] for a in demo.analyses()]
    assert got["avg_engagement"] == pytest.approx(sum(eng) / len(eng), abs=0.01)
    interrupted = one(demo_store, "SELECT SUM(interruptions) FROM sessions")
    agent_turns = one(demo_store, "SELECT SUM(agent_turns) FROM sessions")
    assert got["interruption_rate_pct"] == pytest.approx(100 * interrupted / agent_turns, abs=0.01)
    sentiment = Counter(a["sentiment"]["overall"] for a in demo.analyses())
    assert got["sentiment"] == {k: sentiment.get(k, 0) for k in ("positive", "neutral", "negative")}
    assert got["sentiment_chart"]["type"] == "pie"
    # The quality analyzer's 0..10 satisfaction proxy, averaged over the calls that carry one.
    # (calls without analytics consent carry none).
    proxies = [
        a["quality"]["satisfaction_proxy"]
        for a in demo.analyses()
        if "satisfaction_proxy" in a["quality"]
    ]
    assert 0 < len(proxies) < n
    assert got["satisfaction"] == pytest.approx(sum(proxies) / len(proxies), abs=0.01)
    trend = panels.trends(got["per_day"], rng(demo))
    assert sum(trend["calls_trend"]["datasets"][0]["data"]) == n
    assert trend["calls_trend"]["datasets"][1]["label"] == "7-day average"
    assert max(trend["qualification_trend"]["datasets"][0]["data"]) <= 100


def test_lead_distributions_use_the_profile_bands(demo_store: Store, demo: Demo) -> None:
    refresh_rollups(demo_store)
    profile = load_profile()
    got = panels.leads(demo_store, rng(demo), team_bands=pf.bands(profile, "team_size"))
    scored = [a["lead"]["score"] for a in demo.analyses() if a["lead"]["score"] is not None]
    hist = got["score_histogram"]
    assert sum(hist["datasets"][0]["data"]) == len(scored)
    assert hist["labels"][0] == "0–9" and hist["drill"] == "score"
    sizes = [s for s in demo.analyses() if s["sales"].get("team_size") is not None]
    assert list(got["team_size"]) == ["1-2", "3-4", "5-10", "11+"]
    assert sum(got["team_size"].values()) == len(sizes)
    industries = Counter(a["sales"]["industry"] for a in demo.analyses() if a["sales"]["industry"])
    chart = got["industries_chart"]
    assert dict(zip(chart["labels"], chart["datasets"][0]["data"], strict=True)) == dict(
        industries.most_common(12)
    ) or sum(chart["datasets"][0]["data"]) <= sum(industries.values())
    integ = Counter(i for a in demo.analyses() for i in a["sales"]["integrations"] or [])
    top = got["integrations_chart"]
    assert top["labels"][0] in {k for k, v in integ.items() if v == max(integ.values())}
    # Chart labels are named from the profile, ids kept for the drill-down.
    named = pf.relabel(chart, profile)
    assert named["ids"] == chart["labels"] and "_" not in "".join(named["labels"])
    objections = Counter(o for a in demo.analyses() for o in set(a["sales"]["objections"] or []))
    assert {r["objection"]: r["calls"] for r in got["objection_rows"]} == dict(objections)
    assert sum(w["n"] for w in got["competitor_cloud"]) > 0


def test_every_search_query_and_tool_usage(demo_store: Store, demo: Demo) -> None:
    refresh_rollups(demo_store)
    got = panels.knowledge(demo_store, rng(demo))
    rows = demo_store.fetch(
        "SELECT LOWER(TRIM(query)) AS q, COUNT(*) AS n FROM tool_calls WHERE kind = 'kb_search' "
        "AND query IS NOT NULL AND TRIM(query) <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
    )
    assert got["top_queries"][0]["query"] == rows[0]["q"]
    assert got["top_queries"][0]["searches"] == rows[0]["n"]
    avg = one(
        demo_store,
        "SELECT AVG(total_results) FROM tool_calls WHERE kind = 'kb_search' "
        "AND query IS NOT NULL AND TRIM(query) <> '' AND total_results IS NOT NULL",
    )
    assert got["avg_results"] == pytest.approx(avg, abs=0.01)
    tools = {
        str(r["name"]): int(r["n"])
        for r in demo_store.fetch("SELECT name, COUNT(*) AS n FROM tool_calls GROUP BY name")
    }
    assert got["tool_usage"] == tools
    assert got["tool_chart"]["type"] == "pie"


def _ws(tmp_path: Path, demo: Demo, name: str = "w") -> Store:
    store = open_store(f"duckdb:///{tmp_path / name}.duckdb")
    fill(store, demo)
    return store


def test_live_calls_from_room_events(tmp_path: Path, demo: Demo) -> None:
    store = open_store(f"duckdb:///{tmp_path / 'live.duckdb'}")
    now = datetime.now(UTC)
    assert live.active_calls(store, now)["source"] == "none"
    assert live.record_room_event(store, "room_started", "room-a", "RM_a", now)
    assert live.record_room_event(store, "participant_joined", "room-b", "RM_b", now)
    assert live.record_room_event(store, "participant_joined", "room-a", "RM_a", now)
    assert not live.record_room_event(store, "track_published", "room-c", "RM_c", now)
    got = live.active_calls(store, now)
    assert got["count"] == 2 and got["source"] == "livekit_webhooks"
    live.record_room_event(store, "room_finished", "room-a", "RM_a", now)
    assert live.active_calls(store, now)["count"] == 1
    # The call's record got processed before any ending webhook: no longer active.
    raw = generate_record(5, seed=3, start=ANCHOR, days=1)
    raw["session_id"] = "room-b"
    store.write([processed(raw)])
    assert live.active_calls(store, now)["count"] == 0
    # A start whose end never came stops counting after MAX_CALL_AGE.
    live.record_room_event(store, "room_started", "room-z", "", now)
    assert live.active_calls(store, now + live.MAX_CALL_AGE + timedelta(minutes=1))["count"] == 0
    store.close()


def test_signed_webhooks_through_ingest_count_as_active(tmp_path: Path) -> None:
    key, secret = "APIdash", "a-livekit-secret-of-reasonable-length-987654"
    store = open_store(f"duckdb:///{tmp_path / 'ingest.duckdb'}")
    cfg = Settings(
        data_dir=tmp_path, ingest_token="t" * 24, livekit_api_key=key, livekit_api_secret=secret
    )

    def post(c: TestClient, kind: str, room: str, sign: bool = True) -> int:
        event = WebhookEvent(
            event=kind,
            id=f"EV_{room}_{kind}",
            created_at=int(time.time()),
            room=models.Room(name=room, sid=f"RM_{room}"),
        )
        data = MessageToJson(event).encode()
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        token = AccessToken(key, secret if sign else "x" * 40).with_sha256(digest)
        headers = {"Content-Type": "application/webhook+json", "Authorization": token.to_jwt()}
        return c.post("/v1/livekit/webhook", content=data, headers=headers).status_code

    with TestClient(create_app(cfg, queue=SqliteQueue(tmp_path / "q.sqlite3"), store=store)) as c:
        assert post(c, "room_started", "call-1") == 200
        assert post(c, "room_started", "call-2") == 200
        assert post(c, "room_started", "forged", sign=False) == 401
        assert live.active_calls(store)["count"] == 2
        assert post(c, "room_finished", "call-1") == 200
        assert [r["room"] for r in live.active_calls(store)["rooms"]] == ["call-2"]
    store.close()


def test_last_hour_reads_only_recent_calls(tmp_path: Path, demo: Demo) -> None:
    store = _ws(tmp_path, demo)
    assert live.last_hour(store)["calls"] == 0  # the demo's calls are weeks old
    raws = [generate_record(900 + i, seed=5, start=datetime.now(UTC), days=1) for i in range(6)]
    ends = [datetime.fromisoformat(r["ended_at"].replace("Z", "+00:00")) for r in raws]
    at = ends[0] + timedelta(minutes=1)
    fresh = []
    for i, raw in enumerate(raws):
        raw["session_id"] = f"recent-{i}"
        fresh.append(processed(raw, when=at))
    store.write(fresh)
    inside = [p for p, e in zip(fresh, ends, strict=True) if at - live.LAST_HOUR <= e <= at]
    got = live.last_hour(store, at)
    assert got["calls"] == len(inside) >= 1
    cost = sum(float(p.analysis["performance"].get("cost_usd") or 0) for p in inside)
    assert got["cost_per_hour"] == pytest.approx(cost, abs=1e-3)
    assert got["avg_latency_ms"] is not None and got["tokens_per_minute"] >= 0
    assert got["as_of"].endswith("Z")
    store.close()


def test_drill_down_lists_the_calls_behind_an_aggregate(demo_store: Store, demo: Demo) -> None:
    refresh_rollups(demo_store)
    f = rng(demo)
    industries = Counter(a["sales"]["industry"] for a in demo.analyses() if a["sales"]["industry"])
    industry, n = industries.most_common(1)[0]
    rows = q.sessions_list(
        demo_store, f, extra=panels.drill_where({"industry": industry}), limit=500
    )
    expected = {a["session_id"] for a in demo.analyses() if a["sales"]["industry"] == industry}
    assert {r["session_id"] for r in rows} == expected and len(rows) == n
    obj = Counter(o for a in demo.analyses() for o in set(a["sales"]["objections"] or []))
    name, count = obj.most_common(1)[0]
    rows = q.sessions_list(demo_store, f, extra=panels.drill_where({"objection": name}), limit=500)
    assert len(rows) == count
    rows = q.sessions_list(demo_store, f, extra=panels.drill_where({"score": "60–69"}), limit=500)
    assert rows and all(60 <= int(r["lead_score"]) <= 69 for r in rows)
    with pytest.raises(panels.DrillError, match="not a score band"):
        panels.drill_where({"score": "high"})
    # Values are bound, never spliced: a quote in a value is just a value.
    assert q.sessions_list(demo_store, f, extra=panels.drill_where({"industry": "x' OR 1=1"})) == []


def test_measured_outcomes_replace_assumptions(tmp_path: Path, demo: Demo) -> None:
    store = _ws(tmp_path, demo, "outcomes")
    f = rng(demo)
    assert panels.outcomes(store, f) is None  # no outcomes table: the page labels assumptions
    ids = [p.session_id for p in demo.sessions[:4]]
    rows = [
        Outcome(
            session_id=sid,
            stage="closed",
            closed_won=i < 2,
            amount=1000.0 * (i + 1),
            trial_converted=i % 2 == 0,
        )
        for i, sid in enumerate(ids)
    ]
    assert write_outcomes(store, rows, "crm").written == 4
    got = panels.outcomes(store, f)
    assert got == {
        "sessions": 4,
        "closed_won": 2,
        "won_amount": 3000.0,
        "pipeline": 10000.0,
        "trial_conversion_pct": 50.0,
    }
    store.close()


def test_rollups_of_an_older_layout_are_rebuilt(tmp_path: Path, demo: Demo) -> None:
    store = _ws(tmp_path, demo, "old")
    refresh_rollups(store)
    # What a warehouse built before this layout looks like: no schema mark, fewer columns.
    store.execute("DELETE FROM dash_state WHERE key = 'schema'")
    store.execute("ALTER TABLE dash_daily DROP COLUMN turns_sum")
    from callscope.store import rollups

    rollups._ensured.discard(id(store))
    assert refresh_rollups(store).full
    assert panels.quality(store, rng(demo))["avg_turns"] is not None
    store.close()


def _renamed_tiers(tmp_path: Path) -> tuple[Profile, list[ProcessedSession]]:
    """A profile whose tiers are hot / warm / cold, and 60 calls analyzed with it."""
    text = (Path(pf.__file__).parents[1] / "profile" / "pandadoc_trial.yaml").read_text()
    for old, new in (("tier_1", "hot"), ("tier_2", "warm"), ("unqualified", "cold")):
        text = text.replace(old, new)
    (tmp_path / "renamed.yaml").write_text(text)
    profile = load_profile(tmp_path / "renamed.yaml")
    calls = []
    for raw in generate_records(60, seed=11, start=ANCHOR, days=7):
        record = parse_record(orjson.dumps(raw))
        calls.append(
            ProcessedSession(
                record=record,
                raw=orjson.dumps(raw),
                analysis=analyze_to_contract(record, profile),
                processed_at=ANCHOR,
            )
        )
    return profile, calls


def test_tiers_come_from_the_profile(tmp_path: Path) -> None:
    # Every tier number, label and filter follows the profile's ids.
    profile, calls = _renamed_tiers(tmp_path)
    tiers = pf.tiers(profile)
    assert tiers.ids == ("hot", "warm", "cold") and tiers.qualified == ("hot", "warm")
    store = open_store(f"duckdb:///{tmp_path / 'renamed.duckdb'}")
    store.write(calls)
    refresh_rollups(store)
    got = Counter(p.analysis["lead"]["tier"] for p in calls)
    assert got["hot"] + got["warm"] > 0 and got["cold"] > 0
    f = q.Range(ANCHOR.date() - timedelta(days=8), ANCHOR.date())
    assert q.totals(store, f, tiers)["qualified"] == got["hot"] + got["warm"]
    quality = panels.quality(store, f, tiers)
    assert quality["top_tier_calls"] == got["hot"]
    assert quality["conversion_pct"] == pytest.approx(100 * (got["hot"] + got["warm"]) / 60, 0.01)
    rev = q.revops(store, f, hot_lead_above=80, tiers=tiers)
    assert rev["tiers"] == {t: got.get(t, 0) for t in ("hot", "warm", "cold")}
    assert rev["qualified"] == got["hot"] + got["warm"]
    assert pf.relabel(rev["tier_chart"], profile)["labels"] == ["Tier 1", "Tier 2", "Unqualified"]
    assert {r["tier"] for r in q.sessions_list(store, f, limit=100, tiers=tiers)} == set(got)
    assert q.options(store, tiers)["tiers"] == ["hot", "warm", "cold"]
    assert parse_filters({"tier": "warm"}, ANCHOR.date(), tiers.ids).tier == "warm"
    with pytest.raises(FilterError, match="hot, warm, cold"):
        parse_filters({"tier": "tier_1"}, ANCHOR.date(), tiers.ids)
    store.close()


@pytest.mark.xfail(
    strict=True,
    reason="analyze/output.py defaults a call without a lead result to the literal tier "
    "'unqualified', not the profile's below-tiers id (issue 12, analyzer side)",
)
def test_every_analyzed_call_carries_one_of_the_profile_s_tiers(tmp_path: Path) -> None:
    profile, calls = _renamed_tiers(tmp_path)
    assert {p.analysis["lead"]["tier"] for p in calls} <= set(profile.scoring.tier_ids())
