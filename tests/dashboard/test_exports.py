"""Every table's CSV and every panel's JSON, through the real server with auth on: the same
filters as the page, 401 without a user, personal data redacted for the viewer role."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC

import httpx
import pytest
from tests.dashboard.conftest import API_TOKEN, PASSWORD, PII_PASSWORD, Demo, Server
from tests.dashboard.test_access import login

from callscope.dashboard.catalog import PANELS, STRATEGY_PANELS, TABLES
from callscope.dashboard.views import to_csv


def rows(r: httpx.Response) -> list[dict[str, str]]:
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.text)))


def test_the_catalog_holds_the_strategy_s_35_panels() -> None:
    assert len(STRATEGY_PANELS) == 35
    assert len({(p.view, p.id) for p in PANELS}) == len(PANELS)


def test_every_table_exports_csv_with_auth(server: Server, demo: Demo) -> None:
    qs = f"start={demo.start}&end={demo.end}"
    with httpx.Client(base_url=server.url, timeout=30) as anon:
        for p in TABLES:
            assert anon.get(f"/export/{p.view}/{p.id}.csv?{qs}").status_code == 401
        assert anon.get(f"/export/sessions.csv?{qs}").status_code == 401
    c = login(server, PII_PASSWORD)
    for p in TABLES:
        r = c.get(f"/export/{p.view}/{p.id}.csv?{qs}")
        assert r.status_code == 200, (p.id, r.text)
        assert f"{p.view}-{p.id}.csv" in r.headers["content-disposition"]
    hot = rows(c.get(f"/export/revops/hot-leads.csv?{qs}"))
    page = c.get(f"/api/revops/hot-leads?{qs}").json()["data"]
    assert [h["session_id"] for h in hot] == [h["session_id"] for h in page]
    assert c.get(f"/export/revops/funnel.csv?{qs}").status_code == 404  # a chart, not a table
    c.close()


def test_csv_follows_the_filters(server: Server, demo: Demo) -> None:
    c = login(server, PII_PASSWORD)
    qs = f"start={demo.start}&end={demo.end}&tier=tier_1"
    hot = rows(c.get(f"/export/revops/hot-leads.csv?{qs}"))
    assert hot and {h["tier"] for h in hot} == {"tier_1"}
    calls = rows(c.get(f"/export/sessions.csv?{qs}"))
    tier1 = sum(a["lead"]["tier"] == "tier_1" for a in demo.analyses())
    assert len(calls) == min(tier1, 10_000) and {r["tier"] for r in calls} == {"tier_1"}
    # Drill parameters narrow the export exactly like the list.
    obj = Counter(o for a in demo.analyses() for o in set(a["sales"]["objections"] or []))
    name, n = obj.most_common(1)[0]
    got = rows(c.get(f"/export/sessions.csv?start={demo.start}&end={demo.end}&objection={name}"))
    assert len(got) == n
    c.close()


def test_viewer_csv_is_redacted(server: Server, demo: Demo) -> None:
    qs = f"start={demo.start}&end={demo.end}"
    pii = login(server, PII_PASSWORD)
    full = rows(pii.get(f"/export/revops/hot-leads.csv?{qs}"))
    pii.close()
    names = [h["caller"] for h in full if h["caller"]]
    assert names, "the demo's hot leads carry caller names"
    viewer = login(server, PASSWORD)
    red = rows(viewer.get(f"/export/revops/hot-leads.csv?{qs}"))
    text = "\n".join(h["caller"] for h in red)
    for name in names:
        assert name not in text
    assert set(text.split("\n")) == {"[REDACTED]"}
    sessions = viewer.get(f"/export/sessions.csv?{qs}").text
    companies = {str(r["company"]) for r in server.store.fetch("SELECT company FROM sessions")}
    assert not any(c != "None" and f",{c}," in sessions for c in companies)
    assert ",[REDACTED]," in sessions
    api = viewer.get(f"/api/revops/hot-leads?{qs}").json()["data"]
    assert all(h["caller"] not in names for h in api if h["caller"])
    viewer.close()


def test_every_panel_has_a_json_api(server: Server, demo: Demo) -> None:
    h = {"authorization": f"Bearer {API_TOKEN}"}
    qs = f"start={demo.start}&end={demo.end}&meeting_value=400"
    with httpx.Client(base_url=server.url, headers=h, timeout=30) as c:
        listed = c.get("/api/panels").json()
        assert {(p["view"], p["id"]) for p in listed} == {(p.view, p.id) for p in PANELS}
        for p in PANELS:
            r = c.get(f"/api/{p.view}/{p.id}?{qs}")
            assert r.status_code == 200, (p.id, r.text)
            body = r.json()
            assert body["panel"] == p.id and body["filters"]["start"] == demo.start.isoformat()
            if p.id not in ("active-calls", "trial-conversion"):
                assert body["data"] not in (None, [], {}), p.id
        assert c.get(f"/api/overview/nope?{qs}").status_code == 404
        assert c.get("/api/overview/calls-trend?start=bad").status_code == 400
        rt = c.get("/api/realtime").json()
        assert {"as_of", "active_calls", "last_hour_avg_latency_ms"} <= set(rt)
    assert httpx.get(f"{server.url}/api/overview/calls-trend").status_code == 401


@pytest.mark.parametrize("cell", ["=HYPERLINK(1)", "+1+2", "@SUM(A1)", "-2+3"])
def test_csv_cells_cannot_run_as_formulas(cell: str) -> None:
    body = to_csv([{"query": cell, "n": -3}], "x").body.decode()
    assert f"'{cell}" in body and ",-3" in body


def test_today_panels_show_the_range_s_last_day(server: Server, demo: Demo) -> None:
    # The demo's calls are in the past: "today" is the range's last day, for both panels.
    h = {"authorization": f"Bearer {API_TOKEN}"}
    qs = f"start={demo.start}&end={demo.end}"
    with httpx.Client(base_url=server.url, headers=h, timeout=30) as c:
        body = c.get(f"/api/overview?{qs}").json()
    last = [p for p in demo.sessions if p.record.started_at.astimezone(UTC).date() == demo.end]
    assert body["today"] == demo.end.isoformat() and body["today_is_now"] is False
    assert body["calls_today"] == len(last) > 0
    scores = sorted((p.analysis["lead"]["score"] for p in last), reverse=True)[:10]
    assert [r["lead_score"] for r in body["hot_today"]] == scores
    assert {r["started_at"][:10] for r in body["hot_today"]} == {demo.end.isoformat()}


def test_a_viewer_exports_every_table_with_identities_redacted(server: Server, demo: Demo) -> None:
    qs = f"start={demo.start}&end={demo.end}"
    pii = login(server, PII_PASSWORD)
    viewer = login(server, PASSWORD)
    bi = httpx.Client(
        base_url=server.url, headers={"authorization": "Bearer tok-bi-000"}, timeout=30
    )
    try:
        for p in TABLES:
            full = rows(pii.get(f"/export/{p.view}/{p.id}.csv?{qs}"))
            for client in (viewer, bi):
                got = rows(client.get(f"/export/{p.view}/{p.id}.csv?{qs}"))
                assert len(got) == len(full), p.id  # the same rows, only redacted
                for mine, theirs in zip(got, full, strict=True):
                    for col in ("caller", "company", "user_name", "user_email"):
                        if theirs.get(col):
                            assert mine[col] == "[REDACTED]", (p.id, col)
                    assert mine.get("session_id") == theirs.get("session_id")
    finally:
        for c in (pii, viewer, bi):
            c.close()
