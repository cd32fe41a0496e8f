"""Read-side SQL for every dashboard view: portable, through ``Store.fetch``, over the rollups.

Each function returns plain JSON-able data (the dashboard renders it; ``/api/...`` returns it
as is), so tests and other tools read exactly the numbers the pages show. Aggregates come
from the rollup tables of :mod:`callscope.store.rollups`; lists of calls (hot leads, the
session list, the live feed) read ``sessions`` through its indexes with a LIMIT.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

import orjson

from callscope.profile import Profile, load_profile
from callscope.store.base import Store
from callscope.store.rollups import (
    DAILY_COUNTERS,
    SEARCH_TEXT,
    UNKNOWN,
    dialect_of,
    percentile_from_hist,
)

# Latency components: key, unit, profile threshold attribute (the dashboard names them).
COMPONENTS: tuple[tuple[str, str, str | None], ...] = (
    ("e2e", "ms", "e2e_latency_ms"),
    ("eou", "ms", None),
    ("stt", "ms", "stt_duration_ms"),
    ("llm_ttft", "ms", "llm_ttft_ms"),
    ("llm_tps", "tok/s", "llm_tokens_per_second_min"),
    ("tts_ttfb", "ms", "tts_ttfb_ms"),
)
# Signal coverage: rollup counter -> the lead field it counts (labelled from the profile).
COVERAGE: tuple[tuple[str, str], ...] = (
    ("cov_team_size", "team_size"),
    ("cov_volume", "monthly_volume"),
    ("cov_use_case", "use_case"),
    ("cov_industry", "industry"),
    ("cov_current_tool", "current_tool"),
    ("cov_integrations", "integrations"),
    ("cov_authority", "budget_authority"),
    ("cov_timeline", "timeline"),
    ("cov_competitors", "competitors"),
    ("cov_objections", "objections"),
)
LIVE_COLUMNS = (
    "session_id, started_at, agent_name, agent_version, duration_seconds, "
    "lead_tier, lead_score, meeting_booked, sentiment, processed_at"
)


class ViewFilter(Protocol):
    @property
    def start(self) -> date: ...
    @property
    def end(self) -> date: ...
    @property
    def agent(self) -> str | None: ...
    @property
    def version(self) -> str | None: ...
    @property
    def tier(self) -> str | None: ...


@dataclass(frozen=True)
class Range:
    """A concrete filter (also used for the previous period and for "today")."""

    start: date
    end: date
    agent: str | None = None
    version: str | None = None
    tier: str | None = None

    @classmethod
    def of(cls, f: ViewFilter, start: date | None = None, end: date | None = None) -> Range:
        return cls(start or f.start, end or f.end, f.agent, f.version, f.tier)

    def previous(self) -> Range:
        days = (self.end - self.start).days + 1
        return Range(
            self.start - timedelta(days=days),
            self.start - timedelta(days=1),
            self.agent,
            self.version,
            self.tier,
        )


@dataclass(frozen=True)
class Tiers:
    """The profile's tier ids, best first, the below-tiers id last; all but it qualify.

    SQL gets them as bound parameters (:meth:`qualified_in`), never spelled in a query.
    """

    ids: tuple[str, ...]

    @classmethod
    def of(cls, profile: Profile) -> Tiers:
        return cls(tuple(profile.scoring.tier_ids()))

    @property
    def top(self) -> str:
        return self.ids[0]

    @property
    def below(self) -> str:
        return self.ids[-1]

    @property
    def qualified(self) -> tuple[str, ...]:
        return self.ids[:-1]

    def qualified_in(self, column: str = "tier") -> tuple[str, dict[str, str]]:
        """``column IN (...)`` over the qualified ids, with its bound parameters."""
        if not self.qualified:
            return "1 = 0", {}
        marks = ", ".join(f":qt{i}" for i in range(len(self.qualified)))
        return f"{column} IN ({marks})", {f"qt{i}": t for i, t in enumerate(self.qualified)}


@lru_cache(maxsize=1)
def default_tiers() -> Tiers:
    """The default profile's tiers (``CALLSCOPE_PROFILE``), for callers that pass none."""
    return Tiers.of(load_profile())


def _tiers(tiers: Tiers | None) -> Tiers:
    return tiers if tiers is not None else default_tiers()


# -- WHERE clauses ------------------------------------------------------------------------


def _rollup_where(f: ViewFilter, alias: str = "") -> tuple[str, dict[str, Any]]:
    p = f"{alias}." if alias else ""
    clauses = [f"{p}day >= :start", f"{p}day <= :end"]
    params: dict[str, Any] = {"start": f.start, "end": f.end}
    if f.agent:
        clauses.append(f"{p}agent_name = :agent")
        params["agent"] = f.agent
    if f.version:
        clauses.append(f"{p}agent_version = :version")
        params["version"] = f.version
    if f.tier:
        clauses.append(f"{p}tier = :tier")
        params["tier"] = f.tier
    return " AND ".join(clauses), params


def _bounds(f: ViewFilter) -> tuple[datetime, datetime]:
    lo = datetime(f.start.year, f.start.month, f.start.day, tzinfo=UTC)
    hi = datetime(f.end.year, f.end.month, f.end.day, tzinfo=UTC) + timedelta(days=1)
    return lo, hi


def _session_where(
    f: ViewFilter, alias: str = "s", tiers: Tiers | None = None
) -> tuple[str, dict[str, Any]]:
    p = f"{alias}." if alias else ""
    lo, hi = _bounds(f)
    clauses = [f"{p}started_at >= :lo", f"{p}started_at < :hi"]
    params: dict[str, Any] = {"lo": lo, "hi": hi}
    for key, col in (("agent", "agent_name"), ("version", "agent_version")):
        value = getattr(f, key)
        if value == UNKNOWN:
            clauses.append(f"{p}{col} IS NULL")
        elif value:
            clauses.append(f"{p}{col} = :{key}")
            params[key] = value
    if f.tier:
        clauses.append(f"COALESCE({p}lead_tier, :below) = :tier")
        params.update({"tier": f.tier, "below": _tiers(tiers).below})
    return " AND ".join(clauses), params


# -- small helpers ------------------------------------------------------------------------


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _pct(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 2) if whole else 0.0


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        v = value if value.tzinfo else value.replace(tzinfo=UTC)
        return v.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def days_of(f: ViewFilter) -> list[date]:
    n = (f.end - f.start).days + 1
    return [f.start + timedelta(days=i) for i in range(n)]


def _round(v: float | None, digits: int = 1) -> float | None:
    return None if v is None else round(v, digits)


def _json(value: Any) -> Any:
    if isinstance(value, str | bytes) and value[:1] in ("{", "[", b"{", b"["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def week_of(d: date) -> str:
    iso = d.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def series(
    labels: Sequence[str], datasets: Iterable[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """A chart spec the page's Chart.js code renders (and tests read)."""
    return {"labels": list(labels), "datasets": list(datasets), **extra}


# -- shared reads -------------------------------------------------------------------------


def latest_day(store: Store) -> date | None:
    rows = store.fetch("SELECT MAX(day) AS d FROM dash_daily")
    return _day(rows[0]["d"]) if rows and rows[0]["d"] is not None else None


def options(store: Store, tiers: Tiers | None = None) -> dict[str, list[str]]:
    agents = store.fetch("SELECT DISTINCT agent_name AS v FROM dash_daily ORDER BY 1")
    versions = store.fetch("SELECT DISTINCT agent_version AS v FROM dash_daily ORDER BY 1")
    return {
        "agents": [str(r["v"]) for r in agents],
        "versions": [str(r["v"]) for r in versions],
        "tiers": list(_tiers(tiers).ids),
    }


_SUMS = ", ".join(f"SUM({c}) AS {c}" for c in DAILY_COUNTERS)


def totals(store: Store, f: ViewFilter, tiers: Tiers | None = None) -> dict[str, float]:
    where, params = _rollup_where(f)
    row = store.fetch(f"SELECT {_SUMS} FROM dash_daily WHERE {where}", params)[0]
    q_in, q_params = _tiers(tiers).qualified_in()
    qualified = store.fetch(
        f"SELECT SUM(calls) AS n FROM dash_daily WHERE {where} AND {q_in}", {**params, **q_params}
    )[0]["n"]
    out = {k: _num(v) for k, v in row.items()}
    out["qualified"] = _num(qualified)
    return out


def daily(
    store: Store, f: ViewFilter, columns: Sequence[str], tiers: Tiers | None = None
) -> dict[date, dict[str, float]]:
    where, params = _rollup_where(f)
    cols = ", ".join(f"SUM({c}) AS {c}" for c in columns)
    q_in, q_params = _tiers(tiers).qualified_in()
    rows = store.fetch(
        f"SELECT day, {cols}, SUM(CASE WHEN {q_in} THEN calls ELSE 0 END)"
        f" AS qualified FROM dash_daily WHERE {where} GROUP BY day ORDER BY day",
        {**params, **q_params},
    )
    return {_day(r["day"]): {k: _num(v) for k, v in r.items() if k != "day"} for r in rows}


def latency_hist(
    store: Store, f: ViewFilter, components: Sequence[str], by: str = "day"
) -> dict[tuple[str, Any], list[tuple[int, int]]]:
    """Merged histograms keyed by (component, <by>), buckets ascending."""
    where, params = _rollup_where(f)
    marks = ", ".join(f":c{i}" for i in range(len(components)))
    params.update({f"c{i}": c for i, c in enumerate(components)})
    group = f"{by}, " if by else ""
    rows = store.fetch(
        f"SELECT component, {group}bucket, SUM(n) AS n FROM dash_latency "
        f"WHERE {where} AND component IN ({marks}) "
        f"GROUP BY component, {group}bucket ORDER BY component, {group}bucket",
        params,
    )
    out: dict[tuple[str, Any], list[tuple[int, int]]] = defaultdict(list)
    for r in rows:
        key = r[by] if by else None
        if by == "day":
            key = _day(key)
        out[(str(r["component"]), key)].append((int(r["bucket"]), int(r["n"])))
    return out


def _merge(hists: Iterable[list[tuple[int, int]]]) -> list[tuple[int, int]]:
    acc: dict[int, int] = defaultdict(int)
    for h in hists:
        for b, n in h:
            acc[b] += n
    return sorted(acc.items())


def _pcts(hist: list[tuple[int, int]]) -> dict[str, float | None]:
    return {f"p{int(q * 100)}": _round(percentile_from_hist(hist, q)) for q in (0.5, 0.95, 0.99)}


def labels(
    store: Store, f: ViewFilter, kinds: Sequence[str], by_day: bool = False
) -> list[dict[str, Any]]:
    where, params = _rollup_where(f)
    marks = ", ".join(f":k{i}" for i in range(len(kinds)))
    params.update({f"k{i}": k for i, k in enumerate(kinds)})
    day = "day, " if by_day else ""
    rows = store.fetch(
        f"SELECT {day}kind, label, SUM(n) AS n, SUM(total) AS total FROM dash_labels "
        f"WHERE {where} AND kind IN ({marks}) GROUP BY {day}kind, label ORDER BY n DESC, label",
        params,
    )
    return [
        {
            **r,
            "n": _int(r["n"]),
            "total": _num(r["total"]),
            **({"day": _day(r["day"])} if by_day else {}),
        }
        for r in rows
    ]


def _dist(
    rows: list[dict[str, Any]], kind: str, limit: int = 12, order: Sequence[str] | None = None
) -> list[tuple[str, int]]:
    items = [(str(r["label"]), int(r["n"])) for r in rows if r["kind"] == kind]
    if order is not None:
        rank = {k: i for i, k in enumerate(order)}
        items.sort(key=lambda x: (rank.get(x[0], len(rank)), x[0]))
    if len(items) > limit:
        rest = sum(n for _, n in items[limit - 1 :])
        items = [*items[: limit - 1], ("other", rest)]
    return items


def _bar(items: list[tuple[str, int]], label: str, **extra: Any) -> dict[str, Any]:
    return series(
        [k for k, _ in items],
        [{"label": label, "data": [n for _, n in items]}],
        type="bar",
        **extra,
    )


def hot_leads(
    store: Store,
    f: ViewFilter,
    limit: int = 10,
    hot_only: bool = False,
    tiers: Tiers | None = None,
) -> list[dict[str, Any]]:
    below = _tiers(tiers).below
    where, params = _session_where(f, tiers=tiers)
    extra = " AND s.hot_lead" if hot_only else ""
    rows = store.fetch(
        "SELECT s.session_id, s.started_at, s.user_name, s.company, s.lead_score, s.lead_tier, "
        "s.meeting_booked, s.agent_name, s.agent_version "
        f"FROM sessions s WHERE {where}{extra} AND s.lead_score IS NOT NULL "
        "ORDER BY s.lead_score DESC, s.started_at DESC LIMIT :limit",
        {**params, "limit": limit},
    )
    return [
        {
            "session_id": r["session_id"],
            "started_at": _iso(r["started_at"]),
            "caller": " · ".join(str(x) for x in (r["user_name"], r["company"]) if x),
            "lead_score": _int(r["lead_score"]),
            "tier": r["lead_tier"] or below,
            "meeting_booked": bool(r["meeting_booked"]),
            "agent": f"{r['agent_name'] or ''} {r['agent_version'] or ''}".strip(),
        }
        for r in rows
    ]


def _lead_signals(store: Store, ids: Sequence[str]) -> dict[str, list[str]]:
    if not ids:
        return {}
    marks = ", ".join(f":i{n}" for n in range(len(ids)))
    params = {f"i{n}": v for n, v in enumerate(ids)}
    out: dict[str, list[str]] = defaultdict(list)
    for r in store.fetch(
        "SELECT session_id, team_size, monthly_volume, current_tool, use_case, industry, "
        f"budget_authority, timeline FROM leads WHERE session_id IN ({marks})",
        params,
    ):
        sid = str(r["session_id"])
        if r["team_size"] is not None:
            out[sid].append(f"team {r['team_size']}")
        if r["monthly_volume"] is not None:
            out[sid].append(f"{r['monthly_volume']} docs/mo")
        for col in ("timeline", "budget_authority", "use_case", "industry", "current_tool"):
            if r[col]:
                out[sid].append(str(r[col]))
    for r in store.fetch(
        f"SELECT session_id, kind, value FROM lead_signals WHERE session_id IN ({marks}) "
        "ORDER BY kind, value",
        params,
    ):
        out[str(r["session_id"])].append(str(r["value"]))
    # current_tool and a competitor can name the same product: show each signal once.
    return {k: list(dict.fromkeys(v)) for k, v in out.items()}


# -- views --------------------------------------------------------------------------------


def overview(
    store: Store,
    f: ViewFilter,
    *,
    today: date,
    thresholds: dict[str, float],
    hot_lead_above: int,
    now: datetime | None = None,
    tiers: Tiers | None = None,
) -> dict[str, Any]:
    rng = Range.of(f)
    t = totals(store, rng, tiers)
    prev = totals(store, rng.previous(), tiers)
    today_calls = totals(store, Range.of(f, today, today), tiers)["calls"]
    per_day = daily(store, rng, ("calls", "meetings", "hot"), tiers)
    days = days_of(rng)
    hist = latency_hist(store, rng, ("e2e",))
    overall = _merge(hist.values())
    per_day_p = {d: _pcts(hist.get(("e2e", d), [])) for d in days}
    now = now or datetime.now(UTC)
    firing = store.fetch(
        "SELECT COUNT(*) AS n FROM alerts_history WHERE fired_at >= ?", (now - timedelta(hours=24),)
    )[0]["n"]
    lo, hi = _bounds(rng)
    alerts = store.fetch(
        "SELECT fired_at, rule, severity, session_id, message FROM alerts_history "
        "WHERE fired_at >= ? AND fired_at < ? ORDER BY fired_at DESC LIMIT 8",
        (lo, hi),
    )
    labels_ = [d.isoformat() for d in days]
    return {
        "today": today.isoformat(),
        "calls_today": int(today_calls),
        "calls": int(t["calls"]),
        "error_rate_pct": _pct(t["error_calls"], t["calls"]),
        "latency_p50": _round(percentile_from_hist(overall, 0.5)),
        "latency_p95": _round(percentile_from_hist(overall, 0.95)),
        "hot_leads": int(t["hot"]),
        "hot_lead_above": hot_lead_above,
        "meetings_booked": int(t["meetings"]),
        "alerts_firing": _int(firing),
        "thresholds": thresholds,
        "prev": {"calls": int(prev["calls"]), "meetings_booked": int(prev["meetings"])},
        "daily_chart": series(
            labels_,
            [
                {"label": "Calls", "data": [int(per_day.get(d, {}).get("calls", 0)) for d in days]},
                {
                    "label": "Meetings booked",
                    "data": [int(per_day.get(d, {}).get("meetings", 0)) for d in days],
                },
                {
                    "label": "Hot leads",
                    "data": [int(per_day.get(d, {}).get("hot", 0)) for d in days],
                },
            ],
            type="line",
        )
        if t["calls"]
        else series([], []),
        "latency_chart": series(
            labels_,
            [
                {"label": "p50", "data": [per_day_p[d]["p50"] for d in days]},
                {"label": "p95", "data": [per_day_p[d]["p95"] for d in days]},
            ],
            type="line",
            unit="ms",
            thresholds=[{"label": "threshold", "value": thresholds.get("e2e_latency_ms")}],
        )
        if overall
        else series([], []),
        "hot_list": hot_leads(store, rng, limit=8, hot_only=False, tiers=tiers),
        "alerts": [
            {
                "fired_at": _iso(a["fired_at"]),
                "name": a["rule"],
                "severity": a["severity"] or "info",
                "session_id": a["session_id"],
                "message": a["message"],
            }
            for a in alerts
        ],
    }


def _robust_anomalies(
    metric: str,
    values: dict[date, float],
    unit: str,
    threshold: float | None = None,
    higher_is_bad: bool = True,
) -> list[dict[str, Any]]:
    points = [v for v in values.values() if v is not None and not math.isnan(v)]
    if len(points) < 5:
        median = statistics.median(points) if points else 0.0
        mad = 0.0
    else:
        median = statistics.median(points)
        mad = statistics.median(abs(v - median) for v in points) * 1.4826
    out = []
    for d, v in sorted(values.items()):
        if v is None:
            continue
        reason = None
        if threshold is not None and ((v > threshold) if higher_is_bad else (v < threshold)):
            reason = (
                f"over threshold {threshold:g} {unit}"
                if higher_is_bad
                else f"under threshold {threshold:g} {unit}"
            )
        elif mad > 0 and abs(v - median) > 3 * mad:
            reason = f"{(v - median) / mad:+.1f} robust deviations"
        if reason:
            out.append(
                {
                    "day": d.isoformat(),
                    "metric": metric,
                    "value": round(v, 2),
                    "baseline": round(median, 2),
                    "reason": reason,
                }
            )
    return out


def _component(
    key: str,
    unit: str,
    threshold: float | None,
    hist: dict[tuple[str, Any], list[tuple[int, int]]],
    days: list[date],
) -> dict[str, Any]:
    """One latency component: p50/p95/p99 over the range, per day, against its threshold."""
    overall = _merge(h for (c, _), h in hist.items() if c == key)
    pcts = _pcts(overall)
    day_pcts = {d: _pcts(hist.get((key, d), [])) for d in days}
    if key == "llm_tps":  # a throughput: too low is the breach
        breached = bool(threshold and pcts["p50"] is not None and pcts["p50"] < threshold)
    else:
        breached = bool(threshold and pcts["p95"] is not None and pcts["p95"] > threshold)
    chart = series(
        [d.isoformat() for d in days],
        [{"label": q, "data": [day_pcts[d][q] for d in days]} for q in ("p50", "p95", "p99")],
        type="line",
        unit=unit,
        thresholds=[{"label": "threshold", "value": threshold}] if threshold else [],
    )
    return {
        "key": key,
        "unit": unit,
        "threshold": threshold,
        **pcts,
        "samples": sum(n for _, n in overall),
        "breached": breached,
        "chart": chart if overall else series([], []),
    }


def _anomalies(
    hist: dict[tuple[str, Any], list[tuple[int, int]]],
    per_day: dict[date, dict[str, float]],
    days: list[date],
    thresholds: dict[str, float],
) -> list[dict[str, Any]]:
    """Days whose e2e p95, error rate or call count broke a threshold or the robust band."""
    e2e_day = {d: _pcts(hist.get(("e2e", d), []))["p95"] for d in days}
    err_rate_day = {d: _pct(v["error_calls"], v["calls"]) for d, v in per_day.items() if v["calls"]}
    calls_day = {d: v["calls"] for d, v in per_day.items()}
    found = (
        _robust_anomalies(
            "E2E latency p95",
            {d: v for d, v in e2e_day.items() if v},
            "ms",
            thresholds.get("e2e_latency_ms"),
        )
        + _robust_anomalies("Error rate %", err_rate_day, "%", thresholds.get("error_rate_pct"))
        + _robust_anomalies("Calls", calls_day, "calls")
    )
    found.sort(key=lambda a: (a["day"], a["metric"]), reverse=True)
    return found[:15]


def _errors(store: Store, rng: Range, days: list[date]) -> dict[str, Any]:
    """Errors per source per day (stacked bars) and their totals."""
    err_days = labels(store, rng, ("error_source",), by_day=True)
    sources = sorted({str(r["label"]) for r in err_days})
    by = {(r["day"], str(r["label"])): r["total"] for r in err_days}
    return {
        "errors_by_source": {s: sum(by.get((d, s), 0.0) for d in days) for s in sources},
        "errors_chart": series(
            [d.isoformat() for d in days],
            [{"label": s, "data": [by.get((d, s), 0) for d in days]} for s in sources],
            type="bar",
            stacked=True,
        )
        if sources
        else series([], []),
    }


def _costs(lab: list[dict[str, Any]], calls: float) -> dict[str, Any]:
    """Cost per call by provider (table and bar chart)."""
    providers = [(str(r["label"]), r["total"]) for r in lab if r["kind"] == "cost_provider"]
    providers.sort(key=lambda x: -x[1])
    per_call = [(p, v / calls if calls else 0.0) for p, v in providers]
    return {
        "cost_by_provider": {p: round(v, 6) for p, v in per_call},
        "cost_chart": series(
            [p for p, _ in per_call],
            [{"label": "USD per call", "data": [round(v, 5) for _, v in per_call]}],
            type="bar",
            unit="USD",
        )
        if providers
        else series([], []),
    }


def _network(lab: list[dict[str, Any]], calls: float) -> dict[str, Any]:
    """Packet loss and jitter bands, devices and regions: charts and their tables."""
    empty = series([], [])
    return {
        "packet_loss_chart": _bar(
            _dist(lab, "packet_loss", order=_band_order(lab, "packet_loss")), "calls"
        )
        if calls
        else empty,
        "jitter_chart": _bar(_dist(lab, "jitter", order=_band_order(lab, "jitter")), "calls")
        if calls
        else empty,
        "device_chart": _doughnut(_dist(lab, "browser", limit=8)),
        "region_chart": _bar(
            _dist(lab, "region", limit=12), "calls", horizontal=True, drill="region"
        )
        if calls
        else empty,
        "distributions": {
            k: dict(_dist(lab, k, limit=50)) for k in ("packet_loss", "jitter", "browser", "region")
        },
    }


_ENGINEERING_LABELS = (
    "error_source",
    "tool_error",
    "cost_provider",
    "packet_loss",
    "jitter",
    "browser",
    "region",
)


def engineering(
    store: Store, f: ViewFilter, *, thresholds: dict[str, float], tiers: Tiers | None = None
) -> dict[str, Any]:
    rng = Range.of(f)
    days = days_of(rng)
    hist = latency_hist(store, rng, [c[0] for c in COMPONENTS])
    components = [
        _component(key, unit, thresholds.get(attr) if attr else None, hist, days)
        for key, unit, attr in COMPONENTS
    ]
    t = totals(store, rng, tiers)
    per_day = daily(store, rng, ("calls", "error_calls"), tiers)
    lab = labels(store, rng, _ENGINEERING_LABELS)
    calls = t["calls"]
    return {
        "components": components,
        "calls": int(calls),
        "error_calls": int(t["error_calls"]),
        "error_rate_pct": _pct(t["error_calls"], calls),
        "cost_per_call": round(t["cost_sum"] / t["cost_calls"], 6) if t["cost_calls"] else 0.0,
        "thresholds": thresholds,
        **_errors(store, rng, days),
        "tool_errors": {str(r["label"]): r["n"] for r in lab if r["kind"] == "tool_error"},
        **_costs(lab, calls),
        **_network(lab, calls),
        "anomalies": _anomalies(hist, per_day, days, thresholds),
    }


def _band_order(rows: list[dict[str, Any]], kind: str) -> list[str]:
    def key(label: str) -> float:
        digits = "".join(ch if ch.isdigit() or ch == "." else " " for ch in label).split()
        if label.startswith("<"):
            return -1.0
        if label == "unknown":
            return 1e9
        return float(digits[0]) if digits else 1e8

    return sorted({str(r["label"]) for r in rows if r["kind"] == kind}, key=key)


def _doughnut(items: list[tuple[str, int]]) -> dict[str, Any]:
    if not items:
        return series([], [])
    return series(
        [k for k, _ in items], [{"label": "calls", "data": [n for _, n in items]}], type="doughnut"
    )


def _weekly_trend(
    rows: list[dict[str, Any]], kind: str, top: int = 5
) -> tuple[list[str], dict[str, Any]]:
    weeks: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals_: dict[str, int] = defaultdict(int)
    for r in rows:
        if r["kind"] != kind:
            continue
        weeks[week_of(r["day"])][str(r["label"])] += int(r["n"])
        totals_[str(r["label"])] += int(r["n"])
    leaders = [k for k, _ in sorted(totals_.items(), key=lambda x: (-x[1], x[0]))[:top]]
    order = sorted(weeks)
    if not order:
        return leaders, series([], [])
    return leaders, series(
        order,
        [{"label": k, "data": [weeks[w].get(k, 0) for w in order]} for k in leaders],
        type="line",
    )


def _tier_counts(store: Store, rng: Range, tier_ids: Sequence[str]) -> dict[str, Any]:
    """Calls per tier of the profile, best first, and its doughnut."""
    where, params = _rollup_where(rng)
    rows = store.fetch(
        f"SELECT tier, SUM(calls) AS n FROM dash_daily WHERE {where} GROUP BY tier", params
    )
    by_tier = {str(r["tier"]): _int(r["n"]) for r in rows}
    counts = {k: by_tier.get(k, 0) for k in tier_ids}
    chart = series(
        list(tier_ids),
        [
            {
                "label": "calls",
                "data": list(counts.values()),
                "colors": _tier_colors(len(tier_ids)),
            }
        ],
        type="doughnut",
        field="@tiers",
        drill="tier",
    )
    return {"tiers": counts, "tier_chart": chart if any(by_tier.values()) else series([], [])}


def _signal_charts(store: Store, rng: Range) -> dict[str, Any]:
    """Objections and competitors: totals, bars and weekly trends of the leading ones."""
    kinds = ("objection", "competitor")
    lab = labels(store, rng, kinds)
    lab_days = labels(store, rng, kinds, by_day=True)
    out: dict[str, Any] = {}
    for kind, field in (("objection", "objections"), ("competitor", "competitors")):
        out[field] = {str(r["label"]): r["n"] for r in lab if r["kind"] == kind}
        out[f"{field}_chart"] = (
            _bar(_dist(lab, kind), "calls", horizontal=True, field=field, drill=kind)
            if out[field]
            else series([], [])
        )
        out[f"{kind}_trend_chart"] = _weekly_trend(lab_days, kind)[1]
    return out


def _meetings_chart(per_day: dict[date, dict[str, float]], days: list[date]) -> dict[str, Any]:
    def col(key: str) -> list[int]:
        return [int(per_day.get(d, {}).get(key, 0)) for d in days]

    return series(
        [d.isoformat() for d in days],
        [
            {"label": "booked", "data": col("meetings")},
            {"label": "failed", "data": col("meeting_failed"), "color": "#d2483f"},
        ],
        type="bar",
        stacked=True,
    )


def _hot_with_signals(store: Store, rng: Range, tiers: Tiers | None) -> list[dict[str, Any]]:
    hot = hot_leads(store, rng, limit=15, tiers=tiers)
    signals = _lead_signals(store, [h["session_id"] for h in hot])
    for h in hot:
        h["signals"] = signals.get(h["session_id"], [])
    return hot


def revops(
    store: Store, f: ViewFilter, *, hot_lead_above: int, tiers: Tiers | None = None
) -> dict[str, Any]:
    rng = Range.of(f)
    t = totals(store, rng, tiers)
    per_day = daily(store, rng, ("meetings", "meeting_failed"), tiers)
    calls = t["calls"]
    funnel = [
        ("Calls", calls),
        ("Engaged (3+ caller turns)", t["engaged"]),
        ("Qualified (every tier above the lowest)", t["qualified"]),
        (f"Hot (> {hot_lead_above})", t["hot"]),
        ("Meeting booked", t["meetings"]),
    ]
    coverage = [(field, _pct(t[col], calls)) for col, field in COVERAGE]
    empty = series([], [])
    return {
        "calls": int(calls),
        "qualified": int(t["qualified"]),
        "hot_leads": int(t["hot"]),
        "hot_lead_above": hot_lead_above,
        "meetings_booked": int(t["meetings"]),
        "meetings_failed": int(t["meeting_failed"]),
        "avg_score": round(t["score_sum"] / calls, 2) if calls else 0.0,
        "funnel": {k: int(v) for k, v in funnel},
        **_tier_counts(store, rng, _tiers(tiers).ids),
        **_signal_charts(store, rng),
        "coverage_pct": dict(coverage),
        "hot_list": _hot_with_signals(store, rng, tiers),
        "versions": _versions(store, rng, _tiers(tiers)),
        "funnel_chart": _bar([(k, int(v)) for k, v in funnel], "calls", horizontal=True)
        if calls
        else empty,
        "coverage_chart": series(
            [k for k, _ in coverage],
            [{"label": "% of calls", "data": [v for _, v in coverage]}],
            type="bar",
            horizontal=True,
            unit="%",
            field="@fields",
        )
        if calls
        else empty,
        "meetings_chart": _meetings_chart(per_day, days_of(rng)) if calls else empty,
    }


def _tier_colors(n: int) -> list[str]:
    """Best tier green, the below-tiers grey, the tiers between amber."""
    return ["#1f9d6b"] + ["#d99a1e"] * max(0, n - 2) + (["#9aa3b5"] if n > 1 else [])


def _versions(store: Store, f: Range, tiers: Tiers) -> list[dict[str, Any]]:
    where, params = _rollup_where(f)
    q_in, q_params = tiers.qualified_in()
    rows = store.fetch(
        "SELECT agent_name, agent_version, SUM(calls) AS calls, SUM(meetings) AS meetings, "
        f"SUM(CASE WHEN {q_in} THEN calls ELSE 0 END) AS qualified, "
        "SUM(score_sum) AS score_sum, SUM(error_calls) AS error_calls, "
        "SUM(cost_sum) AS cost_sum, SUM(cost_calls) AS cost_calls "
        f"FROM dash_daily WHERE {where} GROUP BY agent_name, agent_version "
        "ORDER BY agent_name, agent_version",
        {**params, **q_params},
    )
    lat = store.fetch(
        "SELECT agent_name, agent_version, bucket, SUM(n) AS n FROM dash_latency "
        f"WHERE {where} AND component = 'e2e' "
        "GROUP BY agent_name, agent_version, bucket ORDER BY bucket",
        params,
    )
    hists: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for r in lat:
        hists[(str(r["agent_name"]), str(r["agent_version"]))].append(
            (int(r["bucket"]), int(r["n"]))
        )
    out = []
    for r in rows:
        calls = _num(r["calls"])
        key = (str(r["agent_name"]), str(r["agent_version"]))
        out.append(
            {
                "agent_name": key[0],
                "agent_version": key[1],
                "calls": int(calls),
                "qualified": _int(r["qualified"]),
                "meetings": _int(r["meetings"]),
                "meeting_rate_pct": _pct(_num(r["meetings"]), calls),
                "avg_score": round(_num(r["score_sum"]) / calls, 2) if calls else 0.0,
                "e2e_p95": _round(percentile_from_hist(hists.get(key, []), 0.95)),
                "error_rate_pct": _pct(_num(r["error_calls"]), calls),
                "cost_per_call": round(_num(r["cost_sum"]) / _num(r["cost_calls"]), 6)
                if _num(r["cost_calls"])
                else 0.0,
            }
        )
    return out


def executive(
    store: Store, f: ViewFilter, *, meeting_value: float, tiers: Tiers | None = None
) -> dict[str, Any]:
    rng = Range.of(f)
    t = totals(store, rng, tiers)
    prev = totals(store, rng.previous(), tiers)
    per_day = daily(store, rng, ("calls", "meetings", "cost_sum"), tiers)
    weeks: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for d, v in sorted(per_day.items()):
        acc = weeks[week_of(d)]
        for k in ("calls", "meetings", "cost_sum", "qualified"):
            acc[k] += v[k]
    week_rows: list[dict[str, Any]] = []
    last_calls: float | None = None
    for w in sorted(weeks):
        v = weeks[w]
        week_rows.append(
            {
                "week": w,
                "calls": int(v["calls"]),
                "qualified": int(v["qualified"]),
                "meetings": int(v["meetings"]),
                "cost": round(v["cost_sum"], 2),
                "conversion_pct": _pct(v["meetings"], v["qualified"]),
                "cost_per_meeting": round(v["cost_sum"] / v["meetings"], 2)
                if v["meetings"]
                else None,
                "calls_change_pct": _round((v["calls"] - last_calls) / last_calls * 100)
                if last_calls
                else None,
            }
        )
        last_calls = v["calls"]
    cost = t["cost_sum"]
    pipeline_value = t["meetings"] * meeting_value
    order = [str(r["week"]) for r in week_rows]
    return {
        "calls": int(t["calls"]),
        "qualified": int(t["qualified"]),
        "meetings_booked": int(t["meetings"]),
        "conversion_pct": _pct(t["meetings"], t["qualified"]),
        "cost": round(cost, 2),
        "cost_per_call": round(cost / t["cost_calls"], 4) if t["cost_calls"] else 0.0,
        "cost_per_meeting": round(cost / t["meetings"], 2) if t["meetings"] else None,
        "meeting_value": meeting_value,
        "pipeline_value": round(pipeline_value, 2),
        "roi": round(pipeline_value / cost, 1) if cost and meeting_value else None,
        "prev": {
            "calls": int(prev["calls"]),
            "qualified": int(prev["qualified"]),
            "meetings_booked": int(prev["meetings"]),
        },
        "weeks": list(reversed(week_rows)),
        "weekly_chart": series(
            order,
            [
                {"label": "Calls", "data": [r["calls"] for r in week_rows]},
                {"label": "Qualified leads", "data": [r["qualified"] for r in week_rows]},
                {"label": "Meetings", "data": [r["meetings"] for r in week_rows]},
            ],
            type="bar",
        )
        if week_rows
        else series([], []),
        "weekly_cost_chart": series(
            order,
            [
                {"label": "Cost (USD)", "data": [r["cost"] for r in week_rows]},
            ],
            type="line",
            unit="USD",
        )
        if week_rows
        else series([], []),
    }


GapFn = Callable[[list[tuple[str, str]]], list[dict[str, Any]]]


def knowledge_base(
    store: Store, f: ViewFilter, *, cluster: GapFn | None = None, tiers: Tiers | None = None
) -> dict[str, Any]:
    rng = Range.of(f)
    t = totals(store, rng, tiers)
    days = days_of(rng)
    per_day = daily(store, rng, ("kb_searches", "kb_failed"), tiers)
    where, params = _rollup_where(rng)
    failed = store.fetch(
        "SELECT query, SUM(n) AS n, SUM(sessions) AS sessions, MAX(last_at) AS last_at, "
        "MAX(example_session) AS sid "
        f"FROM dash_kb_failed WHERE {where} GROUP BY query ORDER BY SUM(n) DESC, query "
        "LIMIT 500",
        params,
    )
    searches = t["kb_searches"]
    gaps: list[dict[str, Any]] = []
    if cluster and failed:
        # The clusterer sees each query as often as it failed (capped) so frequent questions
        # weigh more; counts and calls per gap are then summed from the rollup itself.
        pairs: list[tuple[str, str]] = []
        for r in failed:
            pairs.extend([(str(r["sid"]), str(r["query"]))] * min(_int(r["n"]), 50))
        by_query = {str(r["query"]): r for r in failed}
        for g in cluster(pairs):
            rows = [by_query[x] for x in g.pop("members") if x in by_query]
            g["count"] = sum(_int(r["n"]) for r in rows) or g["count"]
            g["sessions"] = sum(_int(r["sessions"]) for r in rows) or g["sessions"]
            gaps.append(g)
        gaps.sort(key=lambda g: (-int(g["count"]), str(g["label"])))
    return {
        "searches": int(searches),
        "failed": int(t["kb_failed"]),
        "calls_with_search": int(t["calls_with_search"]),
        "success_rate_pct": _pct(searches - t["kb_failed"], searches),
        "failed_queries": [
            {
                "query": r["query"],
                "n": _int(r["n"]),
                "calls": _int(r["sessions"]),
                "last_at": _iso(r["last_at"]),
                "session_id": r["sid"],
            }
            for r in failed[:25]
        ],
        "gaps": gaps,
        "trend_chart": series(
            [d.isoformat() for d in days],
            [
                {
                    "label": "found",
                    "data": [
                        int(
                            per_day.get(d, {}).get("kb_searches", 0)
                            - per_day.get(d, {}).get("kb_failed", 0)
                        )
                        for d in days
                    ],
                    "color": "#1f9d6b",
                },
                {
                    "label": "failed",
                    "data": [int(per_day.get(d, {}).get("kb_failed", 0)) for d in days],
                    "color": "#d2483f",
                },
            ],
            type="bar",
            stacked=True,
        )
        if searches
        else series([], []),
    }


def sessions_list(
    store: Store,
    f: ViewFilter,
    *,
    q: str | None = None,
    before: datetime | None = None,
    limit: int = 50,
    extra: tuple[str, dict[str, Any]] | None = None,
    tiers: Tiers | None = None,
) -> list[dict[str, Any]]:
    """Calls of the range, newest first; ``extra``: a drill-down clause over ``sessions s``."""
    where, params = _session_where(f, tiers=tiers)
    if extra and extra[0]:
        where += f" AND {extra[0]}"
        params.update(extra[1])
    if q:
        if dialect_of(store) == "postgres":
            # One expression, the one the trigram index covers.
            where += f" AND {SEARCH_TEXT} LIKE :q ESCAPE '\\'"
        else:
            # DuckDB scans; separate LIKEs short-circuit and skip building the whole text.
            where += (
                " AND ("
                + " OR ".join(
                    f"LOWER(s.{c}) LIKE :q ESCAPE '\\'"
                    for c in ("session_id", "user_email", "user_name", "company")
                )
                + ")"
            )
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["q"] = f"%{escaped}%"
    if before is not None:
        where += " AND s.started_at < :before"
        params["before"] = before
    rows = store.fetch(
        "SELECT s.session_id, s.started_at, s.agent_name, s.agent_version, s.duration_seconds,"
        " s.lead_tier, s.lead_score, s.meeting_booked, s.sentiment, s.error_count, s.company "
        f"FROM sessions s WHERE {where} ORDER BY s.started_at DESC LIMIT :limit",
        {**params, "limit": limit},
    )
    below = _tiers(tiers).below
    return [live_row(r, below) for r in rows]


def live_row(r: dict[str, Any], below: str) -> dict[str, Any]:
    """One call of a list; ``below``: the tier id of a call without one (not yet scored)."""
    return {
        "session_id": r["session_id"],
        "started_at": _iso(r.get("started_at")),
        "agent_name": r.get("agent_name") or "",
        "agent_version": r.get("agent_version") or "",
        "duration_seconds": _round(r.get("duration_seconds")),
        "tier": r.get("lead_tier") or below,
        "lead_score": r.get("lead_score"),
        "meeting_booked": bool(r.get("meeting_booked")),
        "sentiment": r.get("sentiment") or "",
        "errors": r.get("error_count"),
        "company": r.get("company"),
        "processed_at": _iso(r.get("processed_at")),
    }


def new_sessions(
    store: Store, since: datetime, limit: int = 100, tiers: Tiers | None = None
) -> list[dict[str, Any]]:
    """Sessions processed after ``since`` (the live feed), oldest first."""
    below = _tiers(tiers).below
    rows = store.fetch(
        f"SELECT {LIVE_COLUMNS} FROM sessions WHERE processed_at > ? ORDER BY processed_at LIMIT ?",
        (since, limit),
    )
    return [{**live_row(r, below), "_processed_at": r["processed_at"]} for r in rows]


def newest_processed(store: Store) -> datetime | None:
    rows = store.fetch("SELECT MAX(processed_at) AS m FROM sessions")
    value = rows[0]["m"] if rows else None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def session_detail(store: Store, session_id: str) -> dict[str, Any] | None:
    """One call: the session row, its turns, tool calls, lead and every analyzer result."""
    found = store.get_session(session_id)
    if found is None:
        return None
    found = dict(found)
    for key in ("analysis", "analyzer_versions"):
        found[key] = _json(found.get(key))
    for row in found.get("analysis_results") or []:
        row["result"] = _json(row.get("result"))
    for row in found.get("tool_calls") or []:
        row["arguments"] = _json(row.get("arguments"))
        row["output"] = _json(row.get("output"))
    lead = found.get("lead")
    if isinstance(lead, dict):
        for key in ("integrations", "competitors", "objections", "bant"):
            lead[key] = _json(lead.get(key))
    return found
