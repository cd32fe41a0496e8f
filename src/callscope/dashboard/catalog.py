"""The strategy's 35 dashboard panels (plus the audience views' own), and where each lives.

One entry per panel: the view it is on, its ``data-testid`` (``panel-<id>`` or ``kpi-<id>``),
its title, its kind, and the key of the view's data that holds its numbers — which is also
what ``/api/<view>/<id>`` returns and, for tables, what ``/export/<view>/<id>.csv`` writes.
The browser test walks this list; docs/dashboard.md documents it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["kpi", "chart", "table", "cloud"]


@dataclass(frozen=True)
class Panel:
    id: str
    view: str
    title: str
    kind: Kind
    key: str
    strategy: str = ""  # the strategy line it answers ("" for an audience-view extra)


PANELS: tuple[Panel, ...] = (
    # Performance monitoring
    Panel("active-calls", "overview", "Current calls active", "kpi", "active_calls", "perf"),
    Panel("latency-last-hour", "engineering", "Avg latency, last hour", "kpi", "last_hour", "perf"),
    Panel("latency-e2e", "engineering", "End-to-end latency", "chart", "components", "perf"),
    Panel("error-rate", "engineering", "Error rate", "kpi", "error_rate_pct", "perf"),
    Panel("token-rate", "engineering", "Token usage rate", "kpi", "last_hour", "perf"),
    Panel("cost-burn", "engineering", "Cost burn rate", "kpi", "last_hour", "perf"),
    Panel("packet-loss", "engineering", "Packet loss", "chart", "packet_loss_chart", "perf"),
    # Business metrics
    Panel("calls-today", "overview", "Calls today", "kpi", "calls_today", "business"),
    Panel("top-tier", "overview", "Qualified leads", "kpi", "top_tier_calls", "business"),
    Panel("meetings", "overview", "Meetings booked", "kpi", "meetings_booked", "business"),
    Panel("engagement", "overview", "Avg engagement score", "kpi", "avg_engagement", "business"),
    Panel("conversion", "overview", "Conversion rate", "kpi", "conversion_pct", "business"),
    Panel("pipeline", "executive", "Revenue pipeline influenced", "kpi", "pipeline", "business"),
    # Call quality
    Panel("avg-duration", "overview", "Avg call duration", "kpi", "avg_duration_min", "quality"),
    Panel("avg-turns", "overview", "Avg turn count", "kpi", "avg_turns", "quality"),
    Panel(
        "interruption-rate",
        "overview",
        "Interruption rate",
        "kpi",
        "interruption_rate_pct",
        "quality",
    ),
    Panel("sentiment", "overview", "Sentiment distribution", "chart", "sentiment_chart", "quality"),
    Panel(
        "natural-ending", "overview", "Natural ending rate", "kpi", "natural_ending_pct", "quality"
    ),
    Panel(
        "satisfaction",
        "overview",
        "User satisfaction proxy",
        "kpi",
        "satisfaction_proxy",
        "quality",
    ),
    # Knowledge base effectiveness
    Panel("success-rate", "knowledge-base", "Search success rate", "kpi", "success_rate_pct", "kb"),
    Panel("top-queries", "knowledge-base", "Top searched queries", "table", "top_queries", "kb"),
    Panel("gaps", "knowledge-base", "Content gaps", "kpi", "gaps", "kb"),
    Panel("avg-results", "knowledge-base", "Avg results per query", "kpi", "avg_results", "kb"),
    Panel("tool-usage", "knowledge-base", "Tool usage breakdown", "chart", "tool_chart", "kb"),
    # Sales intelligence
    Panel(
        "score-histogram", "revops", "Lead score distribution", "chart", "score_histogram", "sales"
    ),
    Panel("industries", "revops", "Top industries", "chart", "industries_chart", "sales"),
    Panel("team-size", "revops", "Team size distribution", "chart", "team_size_chart", "sales"),
    Panel(
        "integrations",
        "revops",
        "Integration needs breakdown",
        "chart",
        "integrations_chart",
        "sales",
    ),
    Panel(
        "competitor-cloud", "revops", "Competitor mentions", "cloud", "competitor_cloud", "sales"
    ),
    Panel("objections-table", "revops", "Common objections", "table", "objection_rows", "sales"),
    # Trending insights
    Panel("calls-trend", "overview", "Calls trend", "chart", "calls_trend", "trend"),
    Panel(
        "qualification-trend",
        "revops",
        "Qualification rate trend",
        "chart",
        "qualification_trend",
        "trend",
    ),
    Panel("meeting-trend", "revops", "Meeting booking trend", "chart", "meeting_trend", "trend"),
    Panel(
        "anomalies", "engineering", "Performance degradation alerts", "table", "anomalies", "trend"
    ),
    Panel("hot-leads-today", "overview", "Hot leads today", "table", "hot_today", "trend"),
    # The audience views' own (strategy "Dashboard Requirements")
    Panel(
        "tokens-per-minute", "engineering", "Token usage per day", "chart", "tokens_per_min_chart"
    ),
    Panel("cost-per-hour", "engineering", "Cost burn per day", "chart", "cost_per_hour_chart"),
    Panel("region-latency", "engineering", "Latency by region", "chart", "region_latency_chart"),
    Panel("funnel", "revops", "Lead funnel", "chart", "funnel_chart"),
    Panel("hot-leads", "revops", "Hot leads", "table", "hot_list"),
    Panel("versions", "revops", "Agent version comparison", "table", "versions"),
    Panel("revops-pipeline", "revops", "Pipeline influenced", "kpi", "pipeline"),
    Panel("roi", "executive", "ROI", "kpi", "roi"),
    Panel("trial-conversion", "executive", "Trial conversion", "kpi", "trial_conversion"),
    Panel("cpa", "executive", "Cost per acquisition", "kpi", "cost_per_acquisition"),
    Panel("utilization", "executive", "Agent utilization", "kpi", "utilization"),
    Panel("wow", "executive", "Weekly trend", "table", "weeks"),
    Panel("failed-queries", "knowledge-base", "Failed queries", "table", "failed_queries"),
    Panel("alerts", "overview", "Recent alerts", "table", "alerts"),
)
STRATEGY_PANELS = tuple(p for p in PANELS if p.strategy)
BY_VIEW: dict[str, dict[str, Panel]] = {}
for _p in PANELS:
    BY_VIEW.setdefault(_p.view, {})[_p.id] = _p
TABLES = tuple(p for p in PANELS if p.kind in ("table", "cloud"))
