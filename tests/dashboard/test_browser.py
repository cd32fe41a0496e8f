"""The dashboard in a real Chromium: log in, every view shows the demo data's numbers, a
filter narrows them, a hot lead drills down to its transcript, and a newly processed call
appears live. Screenshots of each view go to ``test-artifacts/``."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from tests.dashboard.conftest import (
    ANCHOR,
    PII_PASSWORD,
    Demo,
    Server,
    dashboard_settings,
    fill,
    free_port,
    processed,
)

from callscope.dashboard import create_dashboard_router
from callscope.dashboard.catalog import PANELS
from callscope.generate import generate_record
from callscope.outcomes.store import all_calls, write_outcomes
from callscope.outcomes.synthetic import synthesize
from callscope.store import Store, live, open_store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, demo: Demo) -> Iterator[Server]:
    # Its own warehouse: the live test adds a call, which must not disturb other tests.
    path = tmp_path_factory.mktemp("browser") / "warehouse.duckdb"
    store: Store = open_store(f"duckdb:///{path}")
    fill(store, demo)
    settings = dashboard_settings(tmp_path_factory.mktemp("browserdata"))
    app = FastAPI()
    app.include_router(
        create_dashboard_router(settings, store, refresh_interval=0.2, poll_interval=0.3)
    )
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=1,
            lifespan="off",
        )
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        assert time.monotonic() < deadline and thread.is_alive(), "server did not start"
        time.sleep(0.05)
    yield Server(url=f"http://127.0.0.1:{port}", settings=settings, store=store)
    srv.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.fixture(scope="module")
def page(live_server: Server) -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 900})
        context.set_default_timeout(10_000)
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        yield pg
        context.close()
        browser.close()
        assert not errors, f"JavaScript errors on the dashboard: {errors}"


def kpi(page: Any, name: str) -> str:
    return str(page.locator(f'[data-testid="kpi-{name}"] .kpi-value').inner_text()).strip()


def chart_sum(page: Any, panel: str, dataset: int = 0) -> float:
    return float(
        page.evaluate(
            """([panel, i]) => {
            const c = Chart.getChart(document.querySelector(`[data-testid=panel-${panel}] canvas`));
            return c.data.datasets[i].data.reduce((a, b) => a + (b || 0), 0);
        }""",
            [panel, dataset],
        )
    )


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_dashboard_in_a_real_browser(page: Any, live_server: Server, demo: Demo) -> None:
    base = live_server.url
    rng = f"start={demo.start.isoformat()}&end={demo.end.isoformat()}"
    analyses = demo.analyses()
    n = len(demo.sessions)
    meetings = sum(a["tools"]["meeting_booked"] for a in analyses)

    # Login: a deep link goes to the form and back.
    page.goto(f"{base}/?{rng}")
    assert "/login" in page.url
    page.fill("#secret", PII_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/?{rng}")

    # Overview.
    assert kpi(page, "calls") == f"{n:,}"
    assert kpi(page, "meetings") == f"{meetings:,}"
    assert kpi(page, "alerts") == "0" or kpi(page, "alerts").isdigit()
    assert chart_sum(page, "calls-per-day") == n
    shot(page, "overview")

    # Engineering: component latencies against profile thresholds, errors, cost.
    page.goto(f"{base}/engineering?{rng}")
    errors = sum(1 for p in demo.sessions if p.record.errors)
    assert kpi(page, "error-rate") == f"{100 * errors / n:.1f}%"
    for key in ("e2e", "eou", "stt", "llm_ttft", "llm_tps", "tts_ttfb"):
        assert kpi(page, f"lat-{key}") != "–", key
    e2e = page.evaluate(
        "() => Chart.getChart(document.querySelector("
        "'[data-testid=panel-latency-e2e] canvas')).data.datasets.map(d => d.label)"
    )
    assert e2e == ["p50", "p95", "p99", "threshold"]
    assert chart_sum(page, "regions") == n
    shot(page, "engineering")

    # RevOps: tiers and the hot leads table.
    page.goto(f"{base}/revops?{rng}")
    tiers = Counter(a["lead"]["tier"] for a in analyses)
    assert kpi(page, "qualified") == f"{tiers['tier_1'] + tiers['tier_2']:,}"
    assert chart_sum(page, "tiers") == n
    shot(page, "revops")

    # Executive with a value per meeting: ROI appears.
    page.goto(f"{base}/executive?{rng}&meeting_value=500")
    assert kpi(page, "meetings") == f"{meetings:,}"
    cost = sum(a["performance"].get("cost_usd") or 0 for a in analyses)
    assert kpi(page, "cost") == f"${cost:,.2f}"
    assert kpi(page, "roi").endswith("×")
    shot(page, "executive")

    # Knowledge base.
    page.goto(f"{base}/knowledge-base?{rng}")
    searches = sum(a["tools"]["kb_searches"] for a in analyses)
    assert kpi(page, "searches") == f"{searches:,}"
    failed = sum(a["tools"]["kb_failed_searches"] for a in analyses)
    if failed:
        assert page.locator("[data-testid=panel-gaps] .signal").count() >= 1
    shot(page, "knowledge-base")

    # A filter from the form: one agent version.
    page.goto(f"{base}/?{rng}")
    versions = Counter(p.record.agent.version for p in demo.sessions if p.record.agent)
    version, count = versions.most_common(1)[0]
    page.select_option("select[name=version]", str(version))
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**version={version}**")
    assert kpi(page, "calls") == f"{count:,}"

    # Drill: the top lead on RevOps opens its call with the transcript.
    page.goto(f"{base}/revops?{rng}")
    first = page.locator("[data-testid=panel-hot-leads] tr[data-session] a").first
    session_id = first.inner_text().strip()
    first.click()
    page.wait_for_url(f"**/sessions/{session_id}")
    call = demo.by_id(session_id)
    turns = [i for i in call.record.transcript.items if getattr(i, "type", "") == "message"]
    said = " ".join(str(c) for c in turns[0].content) if turns else ""
    transcript = page.locator("[data-testid=panel-transcript]").inner_text()
    assert said[:30] in transcript
    assert page.locator("[data-testid=panel-versions] tr").count() > 1
    shot(page, "session")

    # Live: a newly processed call shows up in the open sessions list without a reload.
    page.goto(f"{base}/sessions")
    page.wait_for_function("() => document.getElementById('live-dot').classList.contains('on')")
    shot(page, "sessions")
    raw = generate_record(999, seed=99, start=ANCHOR, days=1)
    raw["session_id"] = "live-call-0001"
    fresh = processed(raw, when=datetime.now(UTC))
    live_server.store.write([replace(fresh)])
    page.wait_for_selector('#sessions-body tr[data-session="live-call-0001"]', timeout=8_000)
    assert (
        page.locator("[data-testid=live-feed] li").first.inner_text().startswith("live-call-0001")
    )


def _ended_at(raw: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(raw["ended_at"]).replace("Z", "+00:00"))


def _just_ended(store: Store, n: int = 6) -> list[str]:
    """Calls that ended in the last hour and were just processed: the last-hour panels.

    The generator places a call at a random hour of its window; its timing depends only on
    (seed, index), and every timestamp moves with the window's end, so a second run with
    the window shifted by the difference ends the call exactly where we want it.
    """
    now = datetime.now(UTC)
    ids = []
    for i in range(n):
        first = generate_record(2000 + i, seed=23, start=now, days=1)
        target = now - timedelta(minutes=5 + 8 * i)
        raw = generate_record(2000 + i, seed=23, start=now + (target - _ended_at(first)), days=1)
        assert abs((_ended_at(raw) - target).total_seconds()) < 1
        raw["session_id"] = f"today-{i:03d}"
        ids.append(raw["session_id"])
        store.write([processed(raw, when=now)])
    return ids


def test_every_panel_renders_with_data(page: Any, live_server: Server, demo: Demo) -> None:
    store = live_server.store
    _just_ended(store)
    # As `make demo` does: CRM outcomes drawn from the stored calls, imported (measured
    # pipeline, ROI and trial conversion instead of assumptions).
    assert write_outcomes(store, synthesize(all_calls(store)), "synthetic").written > 0
    for room in ("room-live-1", "room-live-2"):
        live.record_room_event(store, "room_started", room, "RM_" + room)
    base = live_server.url
    page.goto(f"{base}/login")
    if "/login" in page.url:
        page.fill("#secret", PII_PASSWORD)
        page.click("button[type=submit]")
    views = {"overview": "/", **{v: f"/{v}" for v in ("engineering", "revops", "executive")}}
    views["knowledge-base"] = "/knowledge-base"
    for view, path in views.items():
        page.goto(f"{base}{path}?meeting_value=500")
        assert page.locator("#as-of").inner_text().strip(), "every view says as of when"
        for p in (p for p in PANELS if p.view == view):
            box = page.locator(f'[data-testid="{"kpi" if p.kind == "kpi" else "panel"}-{p.id}"]')
            assert box.count() >= 1, f"{view}: no panel {p.id}"
            text = box.first.inner_text().lower()
            assert p.title.lower() in text, f"{view}/{p.id}: title {p.title!r} not in {text!r}"
            if p.kind == "chart":
                points = page.evaluate(
                    """(id) => { const el = document.querySelector(
                        `[data-testid=panel-${id}] canvas`);
                      if (!el) return 0; const c = Chart.getChart(el);
                      return c.data.datasets.reduce((a, d) => a + d.data.filter(
                        v => v !== null && v !== 0).length, 0); }""",
                    p.id,
                )
                assert points > 0, f"{view}/{p.id}: chart has no data points"
            elif p.kind == "cloud":
                assert box.locator(".cloud-word").count() > 0
            elif p.kind == "table":
                assert box.locator("tr").count() > 1, f"{view}/{p.id}: empty table"
            else:
                assert box.locator(".kpi-value").inner_text().strip() not in ("", "–"), p.id
        page.screenshot(path=str(DOCS_IMG / f"dashboard-{view}.png"), full_page=True)

    # Real time: a call starting now moves "current calls active" without a reload.
    page.goto(f"{base}/")
    active = page.locator('[data-testid="kpi-active-calls"] .kpi-value')
    before = int(active.inner_text())
    live.record_room_event(store, "room_started", "room-live-3", "RM_3")
    page.wait_for_function(
        "(n) => parseInt(document.querySelector('[data-live=active_calls]').textContent) > n",
        arg=before,
        timeout=10_000,
    )
    # Drill-down: a bar of the score histogram opens the calls behind it.
    page.goto(f"{base}/revops")
    page.locator("[data-testid=panel-competitor-cloud] .cloud-word").first.click()
    page.wait_for_url("**/sessions?**competitor=**")
    assert page.locator("[data-testid=drill]").count() == 1
    assert page.locator("#sessions-body tr").count() >= 1
    # From a call to its transcript with the evidence of each signal highlighted.
    page.locator("#sessions-body tr a").first.click()
    page.wait_for_url("**/sessions/*")
    assert page.locator("[data-testid=panel-transcript] mark[data-signal]").count() >= 1
    page.screenshot(path=str(DOCS_IMG / "dashboard-session.png"), full_page=True)
    page.goto(f"{base}/sessions")
    page.screenshot(path=str(DOCS_IMG / "dashboard-sessions.png"), full_page=True)
