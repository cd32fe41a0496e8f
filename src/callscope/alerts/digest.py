"""Scheduled digests (the strategy's quality, executive and weekly alerts).

* hourly (Slack #product): knowledge-base content gaps and low-engagement sessions;
* daily (email, executives): calls, qualified leads, meetings, performance averages, top
  opportunities, key insights;
* weekly rollup: the same figures week over week.

Building is pure: :func:`build_hourly` / :func:`build_daily` / :func:`build_weekly` take a
``fetch(sql, params)`` function (``store.fetch``) and a time window, and return a
:class:`Digest`; renderers turn it into text, Slack blocks or email HTML.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

Fetch = Callable[[str, Sequence[Any]], list[dict[str, Any]]]

LOW_ENGAGEMENT_BELOW = 5.0  # the strategy's "session IDs with score <5"


@dataclass(frozen=True)
class Section:
    heading: str
    lines: list[str]


@dataclass(frozen=True)
class Digest:
    kind: str  # hourly | daily | weekly
    title: str
    start: datetime
    end: datetime
    metrics: dict[str, Any]
    sections: list[Section] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"digest:{self.kind}:{self.start.isoformat()}"

    @property
    def empty(self) -> bool:
        return not self.metrics.get("calls")


def _f(value: Any) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return "n/a"
    return f"{float(value):,.{digits}f}"


_TOTALS = """
SELECT COUNT(*) AS calls,
       SUM(CASE WHEN lead_tier IN ('tier_1', 'tier_2') THEN 1 ELSE 0 END) AS qualified,
       SUM(CASE WHEN lead_tier = 'tier_1' THEN 1 ELSE 0 END) AS tier_1,
       SUM(CASE WHEN hot_lead THEN 1 ELSE 0 END) AS hot_leads,
       SUM(CASE WHEN meeting_booked THEN 1 ELSE 0 END) AS meetings,
       AVG(duration_seconds) AS avg_duration_s,
       AVG(e2e_latency_avg_ms) AS avg_latency_ms,
       AVG(e2e_latency_p95_ms) AS avg_p95_latency_ms,
       AVG(engagement_score) AS avg_engagement,
       SUM(error_count) AS errors,
       SUM(interruptions) AS interruptions,
       SUM(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END) AS negative_calls,
       SUM(cost_usd) AS cost_usd,
       SUM(kb_searches) AS kb_searches,
       SUM(kb_failed_searches) AS kb_failed_searches
FROM sessions WHERE started_at >= ? AND started_at < ?"""


def totals(fetch: Fetch, start: datetime, end: datetime) -> dict[str, Any]:
    row = fetch(_TOTALS, [start, end])[0]
    out = {k: (v if v is not None else 0) for k, v in row.items()}
    for key in ("avg_duration_s", "avg_latency_ms", "avg_p95_latency_ms", "avg_engagement"):
        out[key] = row[key]  # an average of nothing is unknown, not zero
    calls = int(out["calls"])
    out["qualification_rate"] = out["qualified"] / calls if calls else None
    out["meeting_rate"] = out["meetings"] / calls if calls else None
    return out


def content_gaps(
    fetch: Fetch, start: datetime, end: datetime, limit: int = 10
) -> list[dict[str, Any]]:
    return fetch(
        """SELECT LOWER(TRIM(query)) AS query, COUNT(*) AS failed,
                  COUNT(DISTINCT session_id) AS sessions, MAX(category) AS topic
           FROM tool_calls
           WHERE kind = 'kb_search' AND query IS NOT NULL AND started_at >= ? AND started_at < ?
             AND (is_error OR found = FALSE OR total_results = 0)
           GROUP BY LOWER(TRIM(query)) ORDER BY failed DESC, query LIMIT ?""",
        [start, end, limit],
    )


def low_engagement(
    fetch: Fetch, start: datetime, end: datetime, limit: int = 20
) -> list[dict[str, Any]]:
    return fetch(
        """SELECT session_id, engagement_score, sentiment, duration_seconds, close_reason,
                  natural_ending, clarification_requests, interruptions, agent_name
           FROM sessions
           WHERE started_at >= ? AND started_at < ? AND engagement_score < ?
           ORDER BY engagement_score, session_id LIMIT ?""",
        [start, end, LOW_ENGAGEMENT_BELOW, limit],
    )


def top_opportunities(
    fetch: Fetch, start: datetime, end: datetime, limit: int = 5
) -> list[dict[str, Any]]:
    return fetch(
        """SELECT l.session_id, s.user_name, l.company, l.score, l.tier, l.meeting_booked,
                  l.team_size, l.timeline
           FROM leads l JOIN sessions s ON s.session_id = l.session_id
           WHERE s.started_at >= ? AND s.started_at < ? AND l.tier IN ('tier_1', 'tier_2')
           ORDER BY l.score DESC, l.session_id LIMIT ?""",
        [start, end, limit],
    )


def top_signals(
    fetch: Fetch, start: datetime, end: datetime, kind: str, limit: int = 3
) -> list[dict[str, Any]]:
    return fetch(
        """SELECT value, COUNT(DISTINCT session_id) AS sessions FROM lead_signals
           WHERE kind = ? AND started_at >= ? AND started_at < ?
           GROUP BY value ORDER BY sessions DESC, value LIMIT ?""",
        [kind, start, end, limit],
    )


def _opportunity_line(r: dict[str, Any]) -> str:
    who = r.get("company") or r.get("user_name") or r["session_id"]
    facts = [f"score {r['score']}", str(r["tier"]).replace("_", " ")]
    if r.get("team_size"):
        facts.append(f"team {r['team_size']}")
    if r.get("timeline"):
        facts.append(f"timeline {r['timeline']}")
    if r.get("meeting_booked"):
        facts.append("meeting booked")
    return f"{who} ({', '.join(facts)}) [{r['session_id']}]"


def _gap_lines(gaps: list[dict[str, Any]]) -> list[str]:
    return [
        f'"{g["query"]}"'
        + (f" [{g['topic']}]" if g.get("topic") else "")
        + f": {g['failed']} failed in {g['sessions']} call(s)"
        for g in gaps
    ]


def build_hourly(fetch: Fetch, end: datetime) -> Digest:
    start = end - timedelta(hours=1)
    t = totals(fetch, start, end)
    gaps = content_gaps(fetch, start, end)
    low = low_engagement(fetch, start, end)
    confused = confusion_points(fetch, start, end)
    features = feature_requests(fetch, start, end)
    sections = [
        Section("Content gaps (failed knowledge searches)", _gap_lines(gaps) or ["none"]),
        Section(
            "User confusion points (clarification requests, repeated questions)",
            [
                f"{r['session_id']}: {r['clarification_requests']} clarification request(s)"
                + (f", {r['repeated']} repeated question(s)" if r.get("repeated") else "")
                for r in confused
            ]
            or ["none"],
        ),
        Section(
            f"Low-engagement sessions (score < {LOW_ENGAGEMENT_BELOW:g})",
            [
                f"{r['session_id']}: engagement {_num(r['engagement_score'], 1)}, "
                f"{r['sentiment'] or 'unknown'} sentiment, {_num(r['duration_seconds'])} s, "
                f"closed {r['close_reason'] or 'unknown'}"
                for r in low
            ]
            + [f"Pattern: {p}" for p in low_patterns(fetch, low, t)]
            or ["none"],
        ),
        Section("Feature requests", _feature_lines(features) or ["none recorded"]),
    ]
    metrics = {
        **t,
        "content_gaps": len(gaps),
        "low_engagement_sessions": len(low),
        "confused_sessions": len(confused),
        "feature_requests": features,
    }
    return Digest(
        "hourly",
        f"Hourly quality digest, {start:%Y-%m-%d %H:%M}-{end:%H:%M} UTC",
        start,
        end,
        metrics,
        sections,
    )


def _analyses(fetch: Fetch, start: datetime, end: datetime) -> list[tuple[str, dict[str, Any]]]:
    rows = fetch(
        "SELECT session_id, analysis FROM sessions WHERE started_at >= ? AND started_at < ? "
        "AND analysis IS NOT NULL ORDER BY session_id",
        [start, end],
    )
    out = []
    for r in rows:
        a = r["analysis"]
        if isinstance(a, str | bytes):
            a = orjson.loads(a)
        if isinstance(a, dict):
            out.append((str(r["session_id"]), a))
    return out


def _part(analysis: dict[str, Any], name: str) -> dict[str, Any]:
    value = analysis.get(name)
    return value if isinstance(value, dict) else {}


def confusion_points(fetch: Fetch, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Calls where the caller asked to repeat or explain, or asked the same thing twice."""
    out: list[dict[str, Any]] = []
    for sid, a in _analyses(fetch, start, end):
        quality = _part(a, "quality")
        asks = int(quality.get("clarification_requests") or 0)
        repeated = quality.get("repeated_questions")
        n_repeated = len(repeated) if isinstance(repeated, list) else int(repeated or 0)
        if asks or n_repeated:
            out.append({"session_id": sid, "clarification_requests": asks, "repeated": n_repeated})
    out.sort(key=lambda r: (-(r["clarification_requests"] + r["repeated"]), r["session_id"]))
    return out[:10]


_INTEREST = {"high": 3, "medium": 2, "low": 1}


def feature_requests(fetch: Fetch, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Features callers asked for (``insights.feature_requests``): how often, how urgently."""
    seen: dict[str, dict[str, Any]] = {}
    for sid, a in _analyses(fetch, start, end):
        items = _part(a, "insights").get("feature_requests")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or not item.get("feature"):
                continue
            entry = seen.setdefault(
                str(item["feature"]),
                {"feature": str(item["feature"]), "sessions": set(), "high": 0, "quote": None},
            )
            entry["sessions"].add(sid)
            if item.get("interest") == "high":
                entry["high"] += 1
            entry["quote"] = entry["quote"] or item.get("quote")
    ranked = sorted(seen.values(), key=lambda e: (-len(e["sessions"]), -e["high"], e["feature"]))
    return [
        {
            "feature": e["feature"],
            "mentions": len(e["sessions"]),
            "urgent": e["high"],
            "quote": e["quote"],
        }
        for e in ranked
    ]


def _feature_lines(features: list[dict[str, Any]]) -> list[str]:
    return [
        f"{f['feature'].replace('_', ' ')}: {f['mentions']} call(s), {f['urgent']} urgent"
        + (f' ("{f["quote"]}")' if f.get("quote") else "")
        for f in features
    ]


def low_patterns(fetch: Fetch, low: list[dict[str, Any]], t: dict[str, Any]) -> list[str]:
    """What the low-engagement calls share, against the period's calls as a whole."""
    if len(low) < 2:
        return []
    n = len(low)
    out = []
    negative = sum(1 for r in low if r["sentiment"] == "negative")
    if negative * 2 >= n:
        out.append(f"{negative} of {n} ended with negative sentiment")
    cut = sum(1 for r in low if r.get("natural_ending") is False)
    if cut * 2 >= n:
        out.append(f"{cut} of {n} ended without a closing exchange")
    durations = [float(r["duration_seconds"]) for r in low if r["duration_seconds"] is not None]
    overall = t.get("avg_duration_s")
    if durations and overall:
        mean = sum(durations) / len(durations)
        if mean < 0.6 * float(overall):
            out.append(f"short calls: {mean:.0f} s on average against {float(overall):.0f} s")
    agents: dict[str, int] = {}
    for r in low:
        agents[str(r.get("agent_name"))] = agents.get(str(r.get("agent_name")), 0) + 1
    agent, count = max(agents.items(), key=lambda kv: kv[1])
    if len(agents) > 1 and count * 2 > n:
        out.append(f"{count} of {n} on agent {agent}")
    ids = [r["session_id"] for r in low]
    marks = ", ".join("?" * len(ids))
    shared = fetch(
        f"SELECT kind, value, COUNT(DISTINCT session_id) AS sessions FROM lead_signals "
        f"WHERE session_id IN ({marks}) AND kind IN ('objection', 'competitor') "
        "GROUP BY kind, value ORDER BY sessions DESC, value LIMIT 3",
        ids,
    )
    out += [
        f"{r['kind']} {r['value']} in {r['sessions']} of {n}" for r in shared if r["sessions"] > 1
    ]
    return out


def _summary_lines(t: dict[str, Any]) -> list[str]:
    rate = t["qualification_rate"]
    return [
        f"Calls: {t['calls']}",
        f"Qualified leads: {t['qualified']} (tier 1: {t['tier_1']}, hot: {t['hot_leads']})"
        + (f", {rate:.0%} of calls" if rate is not None else ""),
        f"Meetings booked: {t['meetings']}",
        f"Cost: ${_f(t['cost_usd']):,.2f}",
    ]


def _performance_lines(t: dict[str, Any]) -> list[str]:
    return [
        f"Average latency: {_num(t['avg_latency_ms'])} ms"
        f" (p95 per call, averaged: {_num(t['avg_p95_latency_ms'])} ms)",
        f"Average duration: {_num(t['avg_duration_s'])} s",
        f"Average engagement: {_num(t['avg_engagement'], 1)} / 10",
        f"Errors: {t['errors']}, interruptions: {t['interruptions']}, "
        f"negative calls: {t['negative_calls']}",
    ]


def _insights(fetch: Fetch, start: datetime, end: datetime, t: dict[str, Any]) -> list[str]:
    lines = []
    for kind, label in (
        ("objection", "Top objections"),
        ("competitor", "Competitors mentioned"),
        ("integration", "Integrations asked for"),
    ):
        got = top_signals(fetch, start, end, kind)
        if got:
            lines.append(f"{label}: " + ", ".join(f"{r['value']} ({r['sessions']})" for r in got))
    if t["kb_searches"]:
        lines.append(f"Knowledge searches failing: {t['kb_failed_searches']} of {t['kb_searches']}")
    return lines or ["none"]


def build_daily(fetch: Fetch, day_end: datetime) -> Digest:
    start = day_end - timedelta(days=1)
    t = totals(fetch, start, day_end)
    sections = [
        Section("Summary", _summary_lines(t)),
        Section("Performance", _performance_lines(t)),
        Section(
            "Top opportunities",
            [_opportunity_line(r) for r in top_opportunities(fetch, start, day_end)] or ["none"],
        ),
        Section("Key insights", _insights(fetch, start, day_end, t)),
    ]
    return Digest(
        "daily", f"Daily voice agent summary, {start:%Y-%m-%d}", start, day_end, t, sections
    )


_TRENDS = (
    ("calls", "Calls", 0),
    ("qualified", "Qualified leads", 0),
    ("meetings", "Meetings booked", 0),
    ("qualification_rate", "Qualification rate", None),
    ("avg_latency_ms", "Average latency (ms)", 0),
    ("avg_engagement", "Average engagement", 1),
    ("cost_usd", "Cost ($)", 2),
)


def change(now: Any, before: Any) -> float | None:
    """Relative change; None when there is no base to compare with."""
    if now is None or before is None or not before:
        return None
    return (float(now) - float(before)) / float(before)


def build_weekly(fetch: Fetch, week_end: datetime) -> Digest:
    start = week_end - timedelta(days=7)
    t = totals(fetch, start, week_end)
    prev = totals(fetch, start - timedelta(days=7), start)
    trend_lines = []
    trends: dict[str, float | None] = {}
    for key, label, digits in _TRENDS:
        now, before = t[key], prev[key]
        delta = change(now, before)
        trends[key] = delta
        if digits is None:
            shown = (
                f"{now:.0%} (last week {before:.0%})"
                if now is not None and before is not None
                else "n/a"
            )
        else:
            shown = f"{_num(now, digits)} (last week {_num(before, digits)})"
        arrow = "" if delta is None else f", {delta:+.0%}"
        trend_lines.append(f"{label}: {shown}{arrow}")
    gaps = content_gaps(fetch, start, week_end, 5)
    measured = outcomes(fetch, start, week_end)
    sections = [
        Section("Week over week", trend_lines),
        Section(
            "Top opportunities",
            [_opportunity_line(r) for r in top_opportunities(fetch, start, week_end)] or ["none"],
        ),
        Section("Content gaps", _gap_lines(gaps) or ["none"]),
        Section("Pipeline impact and ROI", _pipeline_lines(t, measured)),
        Section("Key insights", _insights(fetch, start, week_end, t)),
        Section("Recommendations", recommendations(t, trends, gaps)),
    ]
    metrics = {**t, "previous": prev, "trends": trends, "outcomes": measured}
    return Digest(
        "weekly",
        f"Weekly rollup, {start:%Y-%m-%d} to {week_end - timedelta(days=1):%Y-%m-%d}",
        start,
        week_end,
        metrics,
        sections,
    )


def outcomes(fetch: Fetch, start: datetime, end: datetime) -> dict[str, Any] | None:
    """Measured results (CRM closed-won, trial conversions) of the period's calls, if recorded."""
    exists = fetch(
        "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'outcomes'", []
    )
    if not exists or not exists[0]["n"]:
        return None
    row = fetch(
        """SELECT COUNT(*) AS sessions, SUM(o.won) AS won_usd, SUM(o.won_n) AS deals,
                  SUM(o.converted) AS trials_converted
           FROM (SELECT session_id,
                        MAX(CASE WHEN closed_won THEN amount ELSE 0 END) AS won,
                        MAX(CASE WHEN closed_won THEN 1 ELSE 0 END) AS won_n,
                        MAX(CASE WHEN trial_converted THEN 1 ELSE 0 END) AS converted
                 FROM outcomes GROUP BY session_id) o
           JOIN sessions s ON s.session_id = o.session_id
           WHERE s.started_at >= ? AND s.started_at < ?""",
        [start, end],
    )[0]
    if not row["sessions"]:  # the table exists in every warehouse; empty means none recorded
        return None
    return {k: (v if v is not None else 0) for k, v in row.items()}


def _pipeline_lines(t: dict[str, Any], measured: dict[str, Any] | None) -> list[str]:
    lines = [
        f"Qualified leads: {t['qualified']} (tier 1: {t['tier_1']}, hot: {t['hot_leads']}), "
        f"meetings booked: {t['meetings']}",
        f"Agent cost: ${_f(t['cost_usd']):,.2f}",
    ]
    if not measured or not measured["sessions"]:
        lines.append("Measured outcomes: none recorded for these calls yet (outcomes table)")
        return lines
    won, cost = _f(measured["won_usd"]), _f(t["cost_usd"])
    lines.append(
        f"Closed-won: ${won:,.0f} from {measured['deals']} deal(s); "
        f"trials converted: {measured['trials_converted']}"
    )
    if cost:
        lines.append(f"Measured ROI: {(won - cost) / cost:,.1f}x the agent's cost")
    return lines


def recommendations(
    t: dict[str, Any], trends: dict[str, float | None], gaps: list[dict[str, Any]]
) -> list[str]:
    """Actions the week's figures point at; each names the figure behind it."""
    out = []
    lat = trends.get("avg_latency_ms")
    if lat is not None and lat > 0.1:
        out.append(f"Latency rose {lat:+.0%} week over week: check the LLM and TTS providers")
    qual = trends.get("qualification_rate")
    if qual is not None and qual < -0.1:
        out.append(f"Qualification rate fell {qual:+.0%}: review the discovery questions")
    if gaps:
        out.append(
            f'Write knowledge-base content for "{gaps[0]["query"]}" ({gaps[0]["failed"]}'
            " failed searches)"
        )
    if t["calls"] and t["errors"]:
        out.append(f"{t['errors']} agent errors this week: see `callscope alerts status`")
    eng = trends.get("avg_engagement")
    if eng is not None and eng < -0.1:
        out.append(f"Engagement fell {eng:+.0%}: read the hourly digests' low-engagement calls")
    return out or ["No figure moved enough to act on."]


def period_end(kind: str, at: datetime | None = None) -> datetime:
    """The end of the last complete period before ``at``: the hour, the UTC day, the ISO week."""
    at = (at or datetime.now(UTC)).astimezone(UTC)
    if kind == "hourly":
        return at.replace(minute=0, second=0, microsecond=0)
    day = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if kind == "daily":
        return day
    if kind == "weekly":
        return day - timedelta(days=day.weekday())  # Monday 00:00
    raise ValueError(f"unknown digest {kind!r} (hourly, daily or weekly)")


BUILDERS: dict[str, Callable[[Fetch, datetime], Digest]] = {
    "hourly": build_hourly,
    "daily": build_daily,
    "weekly": build_weekly,
}


def build(kind: str, fetch: Fetch, at: datetime | None = None) -> Digest:
    if kind not in BUILDERS:
        raise ValueError(f"unknown digest {kind!r} (hourly, daily or weekly)")
    return BUILDERS[kind](fetch, period_end(kind, at))


# -- rendering -----------------------------------------------------------------------------


def to_text(d: Digest) -> str:
    parts = [d.title, "=" * len(d.title)]
    if d.empty:
        parts.append("No calls in this period.")
    for s in d.sections:
        parts += ["", s.heading, *(f"- {line}" for line in s.lines)]
    return "\n".join(parts) + "\n"


def to_slack_blocks(d: Digest) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": d.title[:150]}}
    ]
    if d.empty:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": "No calls in this period."}}
        )
    for s in d.sections:
        body = "\n".join(f"• {line}" for line in s.lines)
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{s.heading}*\n{body}"[:3000]}}
        )
    return blocks[:50]  # Slack's limit per message


def to_html(d: Digest) -> str:
    body = [f"<h2>{html.escape(d.title)}</h2>"]
    if d.empty:
        body.append("<p>No calls in this period.</p>")
    for s in d.sections:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in s.lines)
        body.append(f"<h3>{html.escape(s.heading)}</h3><ul>{items}</ul>")
    return "<html><body>" + "".join(body) + "</body></html>"
