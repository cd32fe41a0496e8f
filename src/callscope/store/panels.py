"""Read-side SQL for the strategy's remaining dashboard panels, over the same rollups.

Call quality (duration, turns, interruptions, natural endings, satisfaction, sentiment),
lead distributions (score histogram, industries, team size, integrations, competitors,
objections), 7/30-day trends, every knowledge search query, tool usage, resource use,
geographic latency, measured outcomes, and the drill-down filters that turn any aggregate
back into the calls behind it.

Values come back as the warehouse's ids (an industry id, a tier id, a team size of 12): the
dashboard names and bands them from the active profile. Chart specs carry ``field`` so the
dashboard knows which profile field names their labels, and ``drill`` (the session-list
parameter a click on a bar or slice sets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from callscope.store.base import Store
from callscope.store.queries import (
    Range,
    Tiers,
    ViewFilter,
    _bounds,
    _int,
    _iso,
    _num,
    _pct,
    _rollup_where,
    _tiers,
    days_of,
    labels,
    series,
)

SCORE_BIN = 10
# Drill-down parameters of the session list that name a lead column or a signal kind.
LEAD_COLUMNS = ("industry", "use_case", "current_tool", "timeline", "budget_authority")
SIGNAL_KINDS = ("integration", "competitor", "objection")


@dataclass(frozen=True)
class Band:
    label: str
    lo: float | None
    hi: float | None

    def holds(self, value: float) -> bool:
        return (self.lo is None or value >= self.lo) and (self.hi is None or value <= self.hi)


def _daily_sums(store: Store, f: ViewFilter, cols: Sequence[str], tiers: Tiers) -> dict[date, Any]:
    where, params = _rollup_where(f)
    q_in, q_params = tiers.qualified_in()
    sums = ", ".join(f"SUM({c}) AS {c}" for c in cols)
    rows = store.fetch(
        f"SELECT day, {sums}, SUM(CASE WHEN {q_in} THEN calls ELSE 0 END) AS qualified,"
        f" SUM(CASE WHEN tier = :top THEN calls ELSE 0 END) AS top_tier "
        f"FROM dash_daily WHERE {where} GROUP BY day ORDER BY day",
        {**params, **q_params, "top": tiers.top},
    )
    out: dict[date, dict[str, float]] = {}
    for r in rows:
        d = r.pop("day")
        out[d if isinstance(d, date) else date.fromisoformat(str(d)[:10])] = {
            k: _num(v) for k, v in r.items()
        }
    return out


_QUALITY_COLS = (
    "calls",
    "duration_sum",
    "turns_sum",
    "agent_turns_sum",
    "interruptions",
    "natural_endings",
    "engagement_sum",
    "engagement_calls",
    "sat_sum",
    "sat_calls",
    "satisfied",
    "positive",
    "neutral",
    "negative",
    "meetings",
    "tokens_sum",
    "cost_sum",
    "hot",
)


def _sum(per_day: dict[date, dict[str, float]], key: str) -> float:
    return sum(v.get(key, 0.0) for v in per_day.values())


def _moving(values: list[float], window: int = 7) -> list[float | None]:
    out: list[float | None] = []
    for i in range(len(values)):
        if i + 1 < window:
            out.append(None)
            continue
        out.append(round(sum(values[i + 1 - window : i + 1]) / window, 2))
    return out


def quality(store: Store, f: ViewFilter, tiers: Tiers | None = None) -> dict[str, Any]:
    """Call quality and the business KPIs that come from the same daily sums."""
    rng = Range.of(f)
    per_day = _daily_sums(store, rng, _QUALITY_COLS, _tiers(tiers))
    t = {k: _sum(per_day, k) for k in (*_QUALITY_COLS, "qualified", "top_tier")}
    calls = t["calls"]
    sentiment = {k: int(t[k]) for k in ("positive", "neutral", "negative")}
    return {
        "avg_duration_min": round(t["duration_sum"] / calls / 60.0, 2) if calls else None,
        "avg_turns": round(t["turns_sum"] / calls, 1) if calls else None,
        "interruption_rate_pct": _pct(t["interruptions"], t["agent_turns_sum"]),
        "natural_ending_pct": _pct(t["natural_endings"], calls),
        "avg_engagement": round(t["engagement_sum"] / t["engagement_calls"], 2)
        if t["engagement_calls"]
        else None,
        # The analyzer's 0..10 proxy where it gives one; else the share of calls that ended
        # naturally without a negative sentiment (labelled as such on the page).
        "satisfaction": round(t["sat_sum"] / t["sat_calls"], 2) if t["sat_calls"] else None,
        "satisfied_pct": _pct(t["satisfied"], calls),
        "satisfaction_proxy": {
            "value": round(t["sat_sum"] / t["sat_calls"], 2),
            "unit": "0-10",
            "source": "quality analyzer",
        }
        if t["sat_calls"]
        else {
            "value": _pct(t["satisfied"], calls),
            "unit": "%",
            "source": "calls ending naturally without negative sentiment",
        },
        "conversion_pct": _pct(t["qualified"], calls),
        "top_tier_calls": int(t["top_tier"]),
        "sentiment": sentiment,
        "sentiment_chart": series(
            list(sentiment),
            [
                {
                    "label": "calls",
                    "data": list(sentiment.values()),
                    "colors": ["#1f9d6b", "#9aa3b5", "#d2483f"],
                }
            ],
            type="pie",
            drill="sentiment",
        )
        if calls
        else series([], []),
        "tokens": int(t["tokens_sum"]),
        "cost": round(t["cost_sum"], 4),
        "per_day": per_day,
    }


def trends(
    per_day: dict[date, dict[str, float]], f: ViewFilter, *, window: int = 7
) -> dict[str, Any]:
    """Calls, qualification rate and meetings per day with a 7-day average (7/30 days)."""
    days = days_of(f)
    labels_ = [d.isoformat() for d in days]
    if not any(v.get("calls") for v in per_day.values()):
        empty = series([], [])
        return {"calls_trend": empty, "qualification_trend": empty, "meeting_trend": empty}

    def col(key: str) -> list[float]:
        return [per_day.get(d, {}).get(key, 0.0) for d in days]

    calls, qualified, meetings = col("calls"), col("qualified"), col("meetings")
    rate = [round(100.0 * q / c, 2) if c else 0.0 for q, c in zip(qualified, calls, strict=True)]

    def line(name: str, data: list[float], unit: str = "", **extra: Any) -> dict[str, Any]:
        avg = {"label": f"{window}-day average", "data": _moving(data, window), "dashed": True}
        return series(
            labels_, [{"label": name, "data": data}, avg], type="line", unit=unit, **extra
        )

    return {
        "calls_trend": line("calls", [int(v) for v in calls], drill="day"),
        "qualification_trend": line("% qualified", rate, "%", max=100),
        "meeting_trend": line("meetings booked", [int(v) for v in meetings], drill="day"),
    }


def _label_counts(rows: list[dict[str, Any]], kind: str) -> list[tuple[str, int]]:
    items = [(str(r["label"]), int(r["n"])) for r in rows if r["kind"] == kind]
    items.sort(key=lambda x: (-x[1], x[0]))
    return items


def _hbar(items: list[tuple[str, int]], drill: str, field: str | None = None) -> dict[str, Any]:
    if not items:
        return series([], [])
    return series(
        [k for k, _ in items],
        [{"label": "calls", "data": [n for _, n in items]}],
        type="bar",
        horizontal=True,
        drill=drill,
        **({"field": field} if field else {}),
    )


def score_histogram(rows: list[dict[str, Any]], max_score: int = 100) -> dict[str, Any]:
    bins = list(range(0, max_score + 1, SCORE_BIN))
    counts = [0] * len(bins)
    for label, n in _label_counts(rows, "lead_score"):
        try:
            score = int(float(label))
        except ValueError:
            continue
        counts[min(len(bins) - 1, max(0, score) // SCORE_BIN)] += n
    if not any(counts):
        return series([], [])
    names = [f"{b}–{min(b + SCORE_BIN - 1, max_score)}" for b in bins]
    if names and bins[-1] == max_score:
        names[-1] = str(max_score)
    return series(
        names, [{"label": "calls", "data": counts}], type="bar", drill="score", histogram=True
    )


def banded(rows: list[dict[str, Any]], kind: str, bands: Sequence[Band]) -> list[tuple[str, int]]:
    """Raw numeric labels (team sizes) summed into the profile's bands, in band order."""
    out = {b.label: 0 for b in bands}
    other = 0
    for label, n in _label_counts(rows, kind):
        try:
            value = float(label)
        except ValueError:
            continue
        band = next((b for b in bands if b.holds(value)), None)
        if band is None:
            other += n
        else:
            out[band.label] += n
    items = list(out.items())
    if other:
        items.append(("other", other))
    return items if any(n for _, n in items) else []


def leads(store: Store, f: ViewFilter, *, team_bands: Sequence[Band] = ()) -> dict[str, Any]:
    """Lead score histogram and the distributions of the lead signals."""
    rows = labels(
        store,
        Range.of(f),
        ("lead_score", "industry", "team_size", "integration", "competitor", "objection"),
    )
    team = banded(rows, "team_size", team_bands)
    objections = _label_counts(rows, "objection")
    competitors = _label_counts(rows, "competitor")
    return {
        "score_histogram": score_histogram(rows),
        "industries_chart": _hbar(_label_counts(rows, "industry")[:12], "industry", "industry"),
        "team_size": dict(team),
        "team_size_chart": series(
            [k for k, _ in team], [{"label": "calls", "data": [n for _, n in team]}], type="bar"
        )
        if team
        else series([], []),
        "integrations_chart": _hbar(
            _label_counts(rows, "integration")[:12], "integration", "integrations"
        ),
        "competitor_cloud": [{"label": k, "n": n} for k, n in competitors[:40]],
        "objection_rows": [{"objection": k, "calls": n} for k, n in objections],
    }


def knowledge(store: Store, f: ViewFilter) -> dict[str, Any]:
    """Every search query (not only failed ones), results per query and tool usage."""
    rng = Range.of(f)
    where, params = _rollup_where(rng)
    rows = store.fetch(
        "SELECT query, SUM(n) AS n, SUM(failed) AS failed, SUM(results_sum) AS results_sum, "
        "SUM(results_n) AS results_n, SUM(sessions) AS sessions, MAX(last_at) AS last_at, "
        f"MAX(example_session) AS sid FROM dash_kb_queries WHERE {where} "
        "GROUP BY query ORDER BY SUM(n) DESC, query LIMIT 25",
        params,
    )
    tot = store.fetch(
        f"SELECT SUM(results_sum) AS rs, SUM(results_n) AS rn FROM dash_kb_queries WHERE {where}",
        params,
    )[0]
    tools = _label_counts(labels(store, rng, ("tool",)), "tool")
    return {
        "avg_results": round(_num(tot["rs"]) / _num(tot["rn"]), 2) if _num(tot["rn"]) else None,
        "top_queries": [
            {
                "query": r["query"],
                "searches": _int(r["n"]),
                "failed": _int(r["failed"]),
                "avg_results": round(_num(r["results_sum"]) / _num(r["results_n"]), 1)
                if _num(r["results_n"])
                else None,
                "calls": _int(r["sessions"]),
                "last_at": _iso(r["last_at"]),
                "session_id": r["sid"],
            }
            for r in rows
        ],
        "tool_usage": dict(tools),
        "tool_chart": series(
            [k for k, _ in tools[:10]],
            [{"label": "calls", "data": [n for _, n in tools[:10]]}],
            type="pie",
            drill="tool",
        )
        if tools
        else series([], []),
    }


def resources(store: Store, f: ViewFilter, per_day: dict[date, dict[str, float]]) -> dict[str, Any]:
    """Token and cost rates per day, call-hours (utilisation) and latency by region."""
    rng = Range.of(f)
    days = days_of(rng)
    labels_ = [d.isoformat() for d in days]
    lab = labels(store, rng, ("region_e2e",))
    regions = sorted(
        ((str(r["label"]), r["total"] / r["n"]) for r in lab if r["n"]),
        key=lambda x: -x[1],
    )[:12]
    hours = len(days) * 24.0
    call_hours = _sum(per_day, "duration_sum") / 3600.0
    has = any(v.get("calls") for v in per_day.values())
    return {
        "tokens_per_min_chart": series(
            labels_,
            [
                {
                    "label": "tokens / minute",
                    "data": [
                        round(per_day.get(d, {}).get("tokens_sum", 0) / 1440, 1) for d in days
                    ],
                }
            ],
            type="line",
            unit="tok/min",
        )
        if has
        else series([], []),
        "cost_per_hour_chart": series(
            labels_,
            [
                {
                    "label": "USD / hour",
                    "data": [round(per_day.get(d, {}).get("cost_sum", 0) / 24, 4) for d in days],
                }
            ],
            type="line",
            unit="USD/h",
        )
        if has
        else series([], []),
        "region_latency_chart": series(
            [k for k, _ in regions],
            [{"label": "avg e2e ms", "data": [round(v, 1) for _, v in regions]}],
            type="bar",
            horizontal=True,
            unit="ms",
            drill="region",
        )
        if regions
        else series([], []),
        "call_hours": round(call_hours, 2),
        # Average calls in progress over the range: call-hours per hour of the range.
        "utilization": round(call_hours / hours, 3) if hours else 0.0,
    }


def _has_table(store: Store, name: str) -> bool:
    rows = store.fetch(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = ?", (name,)
    )
    return bool(rows and _int(rows[0]["n"]))


def outcomes(store: Store, f: ViewFilter) -> dict[str, Any] | None:
    """Measured CRM outcomes of the range's calls (issue 19's ``outcomes`` table), if any."""
    if not _has_table(store, "outcomes"):
        return None
    lo, hi = _bounds(f)
    row = store.fetch(
        "SELECT COUNT(DISTINCT o.session_id) AS sessions, "
        "SUM(CASE WHEN o.closed_won THEN 1 ELSE 0 END) AS won, "
        "SUM(CASE WHEN o.closed_won THEN COALESCE(o.amount, 0) ELSE 0 END) AS won_amount, "
        "SUM(COALESCE(o.amount, 0)) AS pipeline, "
        "SUM(CASE WHEN o.trial_converted THEN 1 ELSE 0 END) AS trials_converted, "
        "SUM(CASE WHEN o.trial_converted IS NOT NULL THEN 1 ELSE 0 END) AS trials "
        "FROM outcomes o JOIN sessions s ON s.session_id = o.session_id "
        "WHERE s.started_at >= ? AND s.started_at < ?",
        (lo, hi),
    )[0]
    if not _int(row["sessions"]):
        return None
    return {
        "sessions": _int(row["sessions"]),
        "closed_won": _int(row["won"]),
        "won_amount": round(_num(row["won_amount"]), 2),
        "pipeline": round(_num(row["pipeline"]), 2),
        "trial_conversion_pct": _pct(_num(row["trials_converted"]), _num(row["trials"]))
        if _num(row["trials"])
        else None,
    }


# -- drill-down -------------------------------------------------------------------------


def drill_where(params: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Extra WHERE clauses (over ``sessions s``) for the session list's drill parameters.

    Only known names are read and every value is bound, so a URL cannot inject SQL.
    """
    clauses: list[str] = []
    bind: dict[str, Any] = {}
    for kind in SIGNAL_KINDS:
        if params.get(kind):
            clauses.append(
                "EXISTS (SELECT 1 FROM lead_signals ls WHERE ls.session_id = s.session_id "
                f"AND ls.kind = '{kind}' AND ls.value = :d_{kind})"
            )
            bind[f"d_{kind}"] = params[kind]
    for col in LEAD_COLUMNS:
        if params.get(col):
            clauses.append(
                "EXISTS (SELECT 1 FROM leads l WHERE l.session_id = s.session_id "
                f"AND l.{col} = :d_{col})"
            )
            bind[f"d_{col}"] = params[col]
    simple = {"sentiment": "s.sentiment", "region": "s.device_location"}
    for name, col in simple.items():
        if params.get(name):
            clauses.append(f"{col} = :d_{name}")
            bind[f"d_{name}"] = params[name]
    if params.get("score"):
        lo = _score_floor(params["score"])
        clauses.append("s.lead_score >= :d_slo AND s.lead_score < :d_shi")
        bind.update({"d_slo": lo, "d_shi": lo + SCORE_BIN if lo < 100 else 101})
    if params.get("tool"):
        clauses.append(
            "EXISTS (SELECT 1 FROM tool_calls tc WHERE tc.session_id = s.session_id "
            "AND tc.name = :d_tool)"
        )
        bind["d_tool"] = params["tool"]
    if params.get("kb_query"):
        clauses.append(
            "EXISTS (SELECT 1 FROM tool_calls tc WHERE tc.session_id = s.session_id "
            "AND tc.kind = 'kb_search' AND LOWER(TRIM(tc.query)) = :d_kbq)"
        )
        bind["d_kbq"] = params["kb_query"].strip().lower()
    if params.get("meeting") in ("1", "true", "yes"):
        clauses.append("s.meeting_booked")
    return " AND ".join(clauses), bind


class DrillError(ValueError):
    """A drill-down value that cannot be used; ``str()`` is one line."""


def _score_floor(raw: str) -> int:
    head = raw.replace("–", "-").split("-")[0].strip()
    try:
        value = int(head)
    except ValueError:
        raise DrillError(f"score: {raw!r} is not a score band (e.g. 60–69)") from None
    if not 0 <= value <= 100:
        raise DrillError("score: must be between 0 and 100")
    return value - value % SCORE_BIN
