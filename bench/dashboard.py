"""Dashboard latency per view over 1,000,000 sessions, DuckDB and PostgreSQL side by side.

    .venv/bin/python bench/dashboard.py [--sessions 1000000] [--runs 20] [--pg-url URL]
                                        [--no-pg]

The warehouse is filled with synthetic rows written straight into the real tables with SQL
(DuckDB ``range()``, PostgreSQL ``generate_series``): running the analyzers over a million
full records would take far longer than the thing measured. Every row is a deterministic
function of its index, so both stores hold identical data and the bench checks that both
answer the overview with the same numbers. Per session: 4 transcript turns (2 agent turns
with e2e / LLM TTFT / TTS TTFB, 2 caller turns with end-of-utterance and STT delay), one
tokens/s metric per agent turn, a lead, 0–2 knowledge searches, a booking attempt for
scores ≥ 50, objection / competitor signals for a share of calls.

Each view is requested through the real router (FastAPI TestClient: routing, SQL, rendering)
with three filter sets (default 30 days; one agent version; one tier over 90 days), ``runs``
times each after one warm-up. Also timed: the full rollup build and an incremental refresh
after 100 new analysed sessions. Without --pg-url a throwaway PostgreSQL is started
(tests/fixtures/postgres_server.py). Prints a table; writes bench/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if pathlib.Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from callscope.analyze import analyze_to_contract  # noqa: E402
from callscope.config import Settings  # noqa: E402
from callscope.contract.parse import parse_record  # noqa: E402
from callscope.dashboard import create_dashboard_router  # noqa: E402
from callscope.generate import generate_records  # noqa: E402
from callscope.profile import load_profile  # noqa: E402
from callscope.store import ProcessedSession, Store, open_store  # noqa: E402
from callscope.store.rollups import refresh_rollups  # noqa: E402

BASE = datetime(2026, 8, 1, tzinfo=UTC)
DAYS = 90
LIMIT_MS = 300.0


def _series(dialect: str, n: int, col: str = "i", alias: str = "r") -> str:
    if dialect == "postgres":
        return f"(SELECT g AS {col} FROM generate_series(CAST(0 AS BIGINT), {n - 1}) AS g) {alias}"
    return f"(SELECT range AS {col} FROM range({n})) {alias}"


def _ts(dialect: str, seconds: str) -> str:
    base = BASE.strftime("%Y-%m-%d %H:%M:%S")
    if dialect == "postgres":
        return f"(TIMESTAMPTZ '{base}+00' + ({seconds}) * INTERVAL '1 second')"
    return f"(TIMESTAMPTZ '{base}+00' + to_seconds(CAST({seconds} AS BIGINT)))"


def _pick(expr: str, values: list[str]) -> str:
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"(CASE ({expr}) {whens} END)"


VERSIONS = ["2.0.3", "2.1.0", "2.2.0"]
BROWSERS = ["Chrome 131", "Safari 18.1", "Edge 131", "Firefox 133"]
OSES = ["macOS 15", "Windows 11", "iOS 18"]
REGIONS = ["US-NY", "US-CA", "GB", "DE", "AU-NSW", "IN-KA", "CA-ON", "US-TX", "BR-SP", "US-IL"]
SENTIMENTS = ["positive", "neutral", "neutral", "negative", "positive"]
OBJECTIONS = [
    "price",
    "security_compliance",
    "integration_gap",
    "switching_cost",
    "timing",
    "feature_gap",
    "needs_approval",
    "complexity",
    "contract_lock_in",
]
COMPETITORS = ["docusign", "adobe_sign", "proposify", "qwilr", "signnow", "conga"]
QUERIES = [
    "custom sso saml okta",
    "bulk import contacts csv",
    "conditional pricing by region",
    "notary witness signing",
    "quickbooks invoice sync",
    "spanish language templates",
    "bullhorn ats integration",
    "dynamics 365 field mapping",
    "template library",
    "hubspot deal sync",
    "salesforce quote line items",
    "payment collection with stripe",
    "offline signing in the field",
    "embed figma prototype",
    "hipaa baa agreement",
    "api rate limits",
    "zapier multi step",
    "approval workflow",
    "data residency eu",
    "signing order multiple signers",
]


def _tier_case(score: str) -> str:
    """The profile's tiers as SQL over a score column (ids and floors from the profile)."""
    scoring = load_profile().scoring
    whens = " ".join(
        f"WHEN {score} >= {t.min:g} THEN '{t.id}'"
        for t in sorted(scoring.tiers, key=lambda t: -t.min)
    )
    return f"(CASE {whens} ELSE '{scoring.below_tiers.id}' END)"


def fill_sql(dialect: str, n: int) -> list[str]:
    """INSERT ... SELECT statements that write ``n`` sessions into the real tables."""
    r = _series(dialect, n)
    score = "((i * 7919) % 101)"
    start_s = f"((i % {DAYS}) * 86400 + ((i * 37) % 86400))"
    started = _ts(dialect, start_s)
    processed = _ts(dialect, f"{start_s} + 300")
    tier = _tier_case(score)
    meeting = f"({score} >= 50 AND i % 3 <> 0)"
    kb = "(i % 3)"
    kb_failed = f"(CASE WHEN i % 7 = 0 AND {kb} > 0 THEN 1 ELSE 0 END)"
    err = "(CASE WHEN i % 37 = 0 THEN 1 ELSE 0 END)"
    llm, stt, tts, lk = (
        "(0.002 + (i % 50) / 20000.0)",
        "(0.004 + (i % 30) / 30000.0)",
        "(0.03 + (i % 40) / 4000.0)",
        "(0.02 + (i % 20) / 2000.0)",
    )
    cost = f"({llm} + {stt} + {tts} + {lk})"
    if dialect == "postgres":
        analysis = (
            "jsonb_build_object('performance', jsonb_build_object('cost_by_provider', "
            f"jsonb_build_object('openai', {llm}, 'deepgram', {stt}, 'cartesia', {tts}, "
            f"'livekit', {lk}), 'errors_by_source', CASE WHEN {err} = 1 THEN "
            "jsonb_build_object('stt', 1) ELSE '{}'::jsonb END))"
        )
    else:
        analysis = (
            "json_object('performance', json_object('cost_by_provider', "
            f"json_object('openai', {llm}, 'deepgram', {stt}, 'cartesia', {tts}, "
            f"'livekit', {lk}), 'errors_by_source', CASE WHEN {err} = 1 THEN "
            "json_object('stt', 1) ELSE json_object() END))"
        )
    sessions = f"""
INSERT INTO sessions (session_id, revision, agent_name, agent_version, started_at, ended_at,
  duration_seconds, participant_identity, user_email, user_name, company, close_reason,
  consent_recording, consent_analytics, turn_count, user_turns, agent_turns, interruptions,
  error_count, tool_call_count, tool_error_count, packet_loss_pct, jitter_ms, device_browser,
  device_os, device_location, e2e_latency_avg_ms, e2e_latency_p50_ms, e2e_latency_p95_ms,
  e2e_latency_p99_ms, cost_usd, meeting_booked, kb_searches, kb_failed_searches, lead_score,
  lead_tier, lead_confidence, hot_lead, sentiment, engagement_score, natural_ending,
  clarification_requests, summary, processed_at, analysis)
SELECT 'bench-' || CAST(i AS TEXT), 1,
  CASE WHEN i % 5 = 0 THEN 'onboarding-agent' ELSE 'trial-success-agent' END,
  {_pick("i % 3", VERSIONS)}, {started}, {_ts(dialect, f"{start_s} + 120")},
  60 + (i % 300), 'web-' || CAST(i AS TEXT), 'caller' || CAST(i AS TEXT) || '@example.com',
  'Caller ' || CAST(i AS TEXT), 'Company ' || CAST(i % 5000 AS TEXT),
  'participant_disconnected', TRUE, TRUE, 4, i % 15, 2, i % 4, {err}, {kb},
  CASE WHEN i % 74 = 0 THEN 1 ELSE 0 END, ((i * 13) % 600) / 100.0, ((i * 17) % 600) / 10.0,
  {_pick("i % 4", BROWSERS)}, {_pick("i % 3", OSES)}, {_pick("i % 10", REGIONS)},
  900 + (i % 700), 850 + (i % 600), 1200 + (i % 900), 1400 + (i % 1000), {cost}, {meeting},
  {kb}, {kb_failed}, {score}, {tier}, 'medium', {score} > 80, {_pick("i % 5", SENTIMENTS)},
  (i % 100) / 10.0, i % 4 <> 0, i % 3, 'synthetic bench call', {processed}, {analysis}
FROM {r}"""
    leads = f"""
INSERT INTO leads (session_id, email, name, company, team_size, monthly_volume, current_tool,
  use_case, industry, budget_authority, timeline, score, tier, confidence, hot_lead,
  meeting_booked, started_at)
SELECT 'bench-' || CAST(i AS TEXT), NULL, NULL, NULL,
  CASE WHEN i % 4 = 0 THEN 1 + i % 40 END, CASE WHEN i % 5 = 0 THEN 10 * (i % 50) END,
  CASE WHEN i % 6 = 0 THEN 'manual' END, CASE WHEN i % 2 = 0 THEN 'proposals' END,
  CASE WHEN i % 3 = 0 THEN 'healthcare' END, CASE WHEN i % 7 = 0 THEN 'decision_maker' END,
  CASE WHEN i % 8 = 0 THEN 'this_month' END, {score}, {tier}, 'medium', {score} > 80,
  {meeting}, {started}
FROM {r}"""
    signals = f"""
INSERT INTO lead_signals (session_id, kind, value, started_at)
SELECT 'bench-' || CAST(i AS TEXT), 'objection', {_pick("(i / 6) % 9", OBJECTIONS)}, {started}
FROM {r} WHERE i % 6 = 0
UNION ALL
SELECT 'bench-' || CAST(i AS TEXT), 'competitor', {_pick("(i / 8) % 6", COMPETITORS)},
  {started} FROM {r} WHERE i % 8 = 0"""
    pairs = _series(dialect, 2, "j", "k")
    tools = f"""
INSERT INTO tool_calls (session_id, call_index, name, kind, ok, is_error, started_at,
  duration_ms, query, category, found, total_results, success)
SELECT 'bench-' || CAST(i AS TEXT), j, 'unleash_search_knowledge', 'kb_search',
  NOT (j = 0 AND {kb_failed} = 1), FALSE, {_ts(dialect, f"{start_s} + 30 + j")}, 300 + i % 400,
  {_pick("(i * 3 + j) % 20", QUERIES)}, 'general', NOT (j = 0 AND {kb_failed} = 1),
  CASE WHEN j = 0 AND {kb_failed} = 1 THEN 0 ELSE 3 END, NULL
FROM {r} CROSS JOIN {pairs} WHERE j < {kb}
UNION ALL
SELECT 'bench-' || CAST(i AS TEXT), 5, 'book_sales_meeting', 'meeting', {meeting}, FALSE,
  {_ts(dialect, f"{start_s} + 90")}, 700, NULL, NULL, NULL, NULL, {meeting}
FROM {r} WHERE {score} >= 50"""
    turns = _series(dialect, 4, "k", "t")
    transcripts = f"""
INSERT INTO transcripts (session_id, turn_index, role, text, created_at, interrupted,
  e2e_latency_ms, llm_ttft_ms, tts_ttfb_ms, transcription_delay_ms, end_of_turn_delay_ms)
SELECT 'bench-' || CAST(i AS TEXT), k, CASE WHEN k % 2 = 0 THEN 'assistant' ELSE 'user' END,
  'turn text', {_ts(dialect, f"{start_s} + 10 * k")}, FALSE,
  CASE WHEN k % 2 = 0 THEN 700 + ((i * 31 + k * 17) % 1300) END,
  CASE WHEN k % 2 = 0 THEN 250 + ((i * 29 + k) % 700) END,
  CASE WHEN k % 2 = 0 THEN 120 + ((i * 23 + k) % 300) END,
  CASE WHEN k % 2 = 1 THEN 80 + ((i * 19 + k) % 300) END,
  CASE WHEN k % 2 = 1 THEN 300 + ((i * 11 + k) % 700) END
FROM {r} CROSS JOIN {turns}"""
    metrics = f"""
INSERT INTO metrics (session_id, ts, metric, value, unit, component, turn_index, source)
SELECT 'bench-' || CAST(i AS TEXT), {_ts(dialect, f"{start_s} + 10 * k")}, 'llm_node_tps',
  40 + ((i * 7 + k) % 120), 'tokens/s', 'llm', k, 'turn'
FROM {r} CROSS JOIN {turns} WHERE k % 2 = 0"""
    return [sessions, leads, signals, tools, transcripts, metrics]


def load(store: Store, dialect: str, n: int) -> dict[str, float]:
    timings: dict[str, float] = {}
    names = ["sessions", "leads", "lead_signals", "tool_calls", "transcripts", "metrics"]
    for name, sql in zip(names, fill_sql(dialect, n), strict=True):
        t = time.perf_counter()
        store.execute(sql)
        timings[name] = time.perf_counter() - t
        print(f"  {dialect}: {name} loaded in {timings[name]:.1f} s", flush=True)
    if dialect == "postgres":
        store.execute("ANALYZE")
    return timings


def analysed(n: int) -> list[ProcessedSession]:
    profile = load_profile()
    out = []
    for raw in generate_records(n, seed=11, start=BASE + timedelta(days=DAYS - 1), days=1):
        data = json.dumps(raw).encode()
        rec = parse_record(data)
        out.append(
            ProcessedSession(
                record=rec,
                raw=data,
                analysis=analyze_to_contract(rec, profile),
                processed_at=datetime.now(UTC),
            )
        )
    return out


def views() -> list[str]:
    end = (BASE + timedelta(days=DAYS - 1)).date()
    start90 = BASE.date()
    top = load_profile().scoring.tier_ids()[0]
    paths = [
        "/",
        "/engineering",
        "/revops",
        "/executive?meeting_value=500",
        "/knowledge-base",
        "/sessions",
        "/api/overview",
    ]
    filters = ["", f"version=2.1.0&end={end}", f"tier={top}&start={start90}&end={end}"]
    out = []
    for p in paths:
        for f in filters:
            out.append(p + (("&" if "?" in p else "?") + f if f else ""))
    out += ["/sessions?q=caller4242", "/sessions/bench-4242", "/sessions/bench-777"]
    # The panels' own JSON and CSV, a drill-down list, and the real-time numbers (issue 17).
    out += [
        f"/api/revops/score-histogram?end={end}",
        f"/api/knowledge-base/top-queries?end={end}",
        f"/export/revops/hot-leads.csv?end={end}",
        f"/sessions?industry=healthcare&end={end}",
        f"/sessions?objection=price&end={end}",
        "/api/realtime",
    ]
    return out


def measure(client: TestClient, path: str, runs: int) -> list[float]:
    r = client.get(path)
    if r.status_code != 200:
        raise SystemExit(f"{path}: HTTP {r.status_code}: {r.text[:200]}")
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        client.get(path)
        out.append((time.perf_counter() - t) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def duckdb_memory_limit() -> str:
    """A quarter of the machine's memory (at least 1 GB), or CALLSCOPE_DUCKDB_MEMORY_LIMIT.

    The store's own default (256 MB) is sized for the worker; a bulk load of 1 M sessions
    and the dashboard's rollup build run out of memory under it.
    """
    env = os.environ.get("CALLSCOPE_DUCKDB_MEMORY_LIMIT")
    if env:
        return env
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(1024, total // 4 // 2**20)}MB"


@contextmanager
def duck_store(n: int) -> Iterator[Store]:
    with tempfile.TemporaryDirectory() as tmp:
        limit = duckdb_memory_limit()
        print(f"duckdb: memory_limit {limit}", flush=True)
        store = open_store(f"duckdb:///{tmp}/bench.duckdb", duckdb_memory_limit=limit)
        try:
            yield store
        finally:
            store.close()


def bench_store(store: Store, dialect: str, n: int, runs: int) -> dict[str, Any]:
    print(f"{dialect}: writing {n:,} sessions", flush=True)
    load_s = load(store, dialect, n)
    t = time.perf_counter()
    refresh_rollups(store, full=True)
    build_s = time.perf_counter() - t
    print(f"  {dialect}: rollups built in {build_s:.1f} s", flush=True)
    app = FastAPI()
    settings = Settings(dashboard_auth=False, data_dir=pathlib.Path(tempfile.mkdtemp()))
    app.include_router(create_dashboard_router(settings, store))
    client = TestClient(app)
    per_view: dict[str, dict[str, float]] = {}
    for path in views():
        ms = measure(client, path, runs)
        per_view[path] = {"p50": statistics.median(ms), "p95": p95(ms), "max": max(ms)}
        print(
            f"  {dialect}: {path:<60} p50 {per_view[path]['p50']:7.1f}  "
            f"p95 {per_view[path]['p95']:7.1f} ms",
            flush=True,
        )
    fresh = analysed(100)
    store.write(fresh)
    t = time.perf_counter()
    inc = refresh_rollups(store)
    inc_s = time.perf_counter() - t
    overview = client.get("/api/overview?start=2026-08-01&end=2026-10-29").json()
    return {
        "load_s": load_s,
        "rollup_build_s": build_s,
        "incremental_refresh_s": inc_s,
        "incremental_days": inc.days,
        "views": per_view,
        "overview_check": {
            k: overview[k] for k in ("calls", "meetings_booked", "hot_leads", "error_rate_pct")
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--pg-url")
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    results: dict[str, Any] = {}
    with duck_store(args.sessions) as duck:
        results["duckdb"] = bench_store(duck, "duckdb", args.sessions, args.runs)
    if not args.no_pg:
        ctx: AbstractContextManager[str]
        if args.pg_url:
            ctx = nullcontext(args.pg_url)
        else:
            from tests.fixtures.postgres_server import postgres_server

            ctx = postgres_server()
        with ctx as url:
            pg = open_store(url)
            try:
                results["postgres"] = bench_store(pg, "postgres", args.sessions, args.runs)
            finally:
                pg.close()
    sides = [k for k in ("duckdb", "postgres") if k in results]
    print()
    head = f"{'view':<62}" + "".join(f"{s + ' p50':>14}{s + ' p95':>14}" for s in sides)
    if len(sides) == 2:
        head += f"{'duck/pg p95':>13}"
    print(head)
    worst = {s: 0.0 for s in sides}
    ratios = []
    for path in views():
        line = f"{path:<62}"
        for s in sides:
            v = results[s]["views"][path]
            worst[s] = max(worst[s], v["p95"])
            line += f"{v['p50']:>14.1f}{v['p95']:>14.1f}"
        if len(sides) == 2:
            ratio = (
                results["duckdb"]["views"][path]["p95"] / results["postgres"]["views"][path]["p95"]
            )
            ratios.append(ratio)
            line += f"{ratio:>13.2f}"
        print(line)
    for s in sides:
        r = results[s]
        print(
            f"{s}: worst view p95 {worst[s]:.1f} ms (limit {LIMIT_MS:.0f}); rollup build "
            f"{r['rollup_build_s']:.1f} s; incremental refresh after 100 new calls "
            f"{r['incremental_refresh_s'] * 1000:.0f} ms; overview {r['overview_check']}"
        )
    summary: dict[str, Any] = {
        "sessions": args.sessions,
        "runs": args.runs,
        "limit_ms": LIMIT_MS,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "worst_p95_ms": worst,
        "all_under_limit": all(w < LIMIT_MS for w in worst.values()),
        **results,
    }
    if ratios:
        summary["duckdb_over_postgres_p95_geomean"] = statistics.geometric_mean(ratios)
        print(
            f"DuckDB/PostgreSQL p95 ratio (geometric mean over views): "
            f"{summary['duckdb_over_postgres_p95_geomean']:.2f}"
        )
        same = results["duckdb"]["overview_check"] == results["postgres"]["overview_check"]
        summary["stores_agree"] = same
        print(f"both stores give the same overview numbers: {same}")
    out = ROOT / "bench" / "results" / "dashboard.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, default=str) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
