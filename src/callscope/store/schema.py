"""The warehouse schema: one definition, rendered for DuckDB, PostgreSQL, BigQuery and Snowflake.

Tables are declared once as portable column lists; ``ddl(dialect)`` renders them through sqlglot
so the DDL a BI team runs in BigQuery or Snowflake is the same schema the pipeline writes.
Logical types: ``text``, ``int``, ``bigint``, ``float``, ``bool``, ``ts`` (UTC instant) and
``json`` (JSONB in PostgreSQL, JSON in DuckDB/BigQuery, VARIANT in Snowflake).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

SCHEMA_VERSION = 2  # 2: the long-form signals table

_CANONICAL = {
    "text": "TEXT",
    "int": "INTEGER",
    "bigint": "BIGINT",
    "float": "DOUBLE PRECISION",
    "bool": "BOOLEAN",
    "ts": "TIMESTAMPTZ",
    "json": "JSON",
}
DIALECTS = ("duckdb", "postgres", "bigquery", "snowflake")


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    not_null: bool = False
    doc: str = ""


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def types(self) -> dict[str, str]:
        return {c.name: c.type for c in self.columns}


def _c(name: str, type_: str, doc: str = "", *, not_null: bool = False) -> Column:
    return Column(name, type_, not_null, doc)


SESSIONS = Table(
    "sessions",
    "Fact table: one row per call (latest revision).",
    (
        _c("session_id", "text", "LiveKit room name / job id; dedup key", not_null=True),
        _c("revision", "int", "record revision; a higher one replaces a lower", not_null=True),
        _c("agent_name", "text"),
        _c("agent_version", "text"),
        _c("started_at", "ts"),
        _c("ended_at", "ts"),
        _c("duration_seconds", "float"),
        _c("participant_identity", "text"),
        _c("user_email", "text"),
        _c("user_name", "text"),
        _c("company", "text", "participant metadata company"),
        _c("close_reason", "text"),
        _c("consent_recording", "bool"),
        _c("consent_analytics", "bool", "false: no transcript rows are stored"),
        _c("turn_count", "int"),
        _c("user_turns", "int"),
        _c("agent_turns", "int"),
        _c("interruptions", "int"),
        _c("error_count", "int"),
        _c("tool_call_count", "int"),
        _c("tool_error_count", "int"),
        _c("bandwidth_in_bytes", "float"),
        _c("bandwidth_out_bytes", "float"),
        _c("packet_loss_pct", "float"),
        _c("jitter_ms", "float"),
        _c("device_browser", "text"),
        _c("device_os", "text"),
        _c("device_location", "text"),
        _c("e2e_latency_avg_ms", "float"),
        _c("e2e_latency_p50_ms", "float"),
        _c("e2e_latency_p95_ms", "float"),
        _c("e2e_latency_p99_ms", "float"),
        _c("llm_input_tokens", "bigint"),
        _c("llm_output_tokens", "bigint"),
        _c("stt_audio_seconds", "float"),
        _c("tts_characters", "bigint"),
        _c("cost_usd", "float"),
        _c("meeting_booked", "bool"),
        _c("kb_searches", "int"),
        _c("kb_failed_searches", "int"),
        _c("lead_score", "int"),
        _c("lead_tier", "text", "tier_1 / tier_2 / unqualified"),
        _c("lead_confidence", "text"),
        _c("hot_lead", "bool"),
        _c("sentiment", "text", "positive / neutral / negative"),
        _c("engagement_score", "float", "0..10"),
        _c("natural_ending", "bool"),
        _c("clarification_requests", "int"),
        _c("summary", "text"),
        _c("raw_bytes", "bigint", "size of the original payload"),
        _c("processed_at", "ts"),
        _c("analyzer_versions", "json", "{module: version}"),
        _c("analysis", "json", "the full analysis output contract object"),
    ),
    ("session_id",),
    (
        ("started_at",),
        ("lead_tier",),
        ("agent_name", "agent_version"),
        ("user_email",),
        ("participant_identity",),
    ),
)

TRANSCRIPTS = Table(
    "transcripts",
    "One row per spoken turn; never written when consent.analytics is false.",
    (
        _c("session_id", "text", not_null=True),
        _c("turn_index", "int", "position among messages, 0-based", not_null=True),
        _c("item_id", "text"),
        _c("role", "text", "user / assistant"),
        _c("text", "text"),
        _c("created_at", "ts"),
        _c("interrupted", "bool"),
        _c("confidence", "float", "STT confidence of a user turn"),
        _c("started_speaking_at", "ts"),
        _c("stopped_speaking_at", "ts"),
        _c("e2e_latency_ms", "float"),
        _c("llm_ttft_ms", "float"),
        _c("tts_ttfb_ms", "float"),
        _c("transcription_delay_ms", "float"),
        _c("end_of_turn_delay_ms", "float"),
        _c("metrics", "json", "every per-turn metric as LiveKit gave it"),
    ),
    ("session_id", "turn_index"),
)

METRICS = Table(
    "metrics",
    "Time series: one row per per-turn metric and per legacy MetricsCollectedEvent field.",
    (
        _c("session_id", "text", not_null=True),
        _c("ts", "ts"),
        _c("metric", "text", "LiveKit's name: e2e_latency, llm_node_ttft, ttft, ..."),
        _c("value", "float", "in LiveKit's unit (see unit)"),
        _c("unit", "text", "s / tokens / tokens/s / chars / ''"),
        _c("component", "text", "e2e / llm / tts / stt / eou / vad / turn ..."),
        _c("turn_index", "int", "null for legacy metrics"),
        _c("source", "text", "turn (transcript item metrics) or event (record.metrics)"),
    ),
    (),
    (("session_id",), ("ts",), ("metric",)),
)

LEADS = Table(
    "leads",
    "Lead dimension: the sales signals and score of each call.",
    (
        _c("session_id", "text", not_null=True),
        _c("email", "text"),
        _c("name", "text"),
        _c("company", "text"),
        _c("team_size", "int"),
        _c("monthly_volume", "int"),
        _c("integrations", "json"),
        _c("current_tool", "text"),
        _c("competitors", "json"),
        _c("objections", "json"),
        _c("use_case", "text"),
        _c("industry", "text"),
        _c("budget_authority", "text"),
        _c("timeline", "text"),
        _c("score", "int"),
        _c("tier", "text"),
        _c("confidence", "text"),
        _c("hot_lead", "bool"),
        _c("meeting_booked", "bool"),
        _c("bant", "json"),
        _c("started_at", "ts"),
    ),
    ("session_id",),
    (("tier",), ("email",), ("started_at",)),
)

LEAD_SIGNALS = Table(
    "lead_signals",
    "List-valued signals one per row (integration / competitor / objection), for portable BI.",
    (
        _c("session_id", "text", not_null=True),
        _c("kind", "text", "integration / competitor / objection", not_null=True),
        _c("value", "text", not_null=True),
        _c("started_at", "ts"),
    ),
    ("session_id", "kind", "value"),
    (("kind", "value"),),
)

TOOL_CALLS = Table(
    "tool_calls",
    "One row per tool call; arguments/output/query are dropped without analytics consent.",
    (
        _c("session_id", "text", not_null=True),
        _c("call_index", "int", not_null=True),
        _c("name", "text"),
        _c("kind", "text", "kb_search / meeting / other"),
        _c("ok", "bool", "ran without error and did not report success=false"),
        _c("is_error", "bool"),
        _c("started_at", "ts"),
        _c("duration_ms", "float"),
        _c("query", "text", "knowledge-search query"),
        _c("category", "text"),
        _c("found", "bool", "knowledge search returned results"),
        _c("total_results", "int"),
        _c("success", "bool", "meeting booking outcome"),
        _c("meeting_link", "text"),
        _c("arguments", "json"),
        _c("output", "json"),
    ),
    ("session_id", "call_index"),
    (("kind",), ("started_at",)),
)

ANALYSIS_RESULTS = Table(
    "analysis_results",
    "Each analyzer's result, kept per analyzer version (A/B of analyzer releases).",
    (
        _c("session_id", "text", not_null=True),
        _c("module", "text", not_null=True),
        _c("analyzer_version", "text", not_null=True),
        _c("revision", "int"),
        _c("result", "json"),
        _c("error", "text"),
        _c("skipped", "text"),
        _c("created_at", "ts"),
    ),
    ("session_id", "module", "analyzer_version"),
    (("module", "analyzer_version"),),
)

ALERTS_HISTORY = Table(
    "alerts_history",
    "Audit log of every alert fired.",
    (
        _c("id", "text", "caller-chosen (dedup) or a random UUID", not_null=True),
        _c("fired_at", "ts", not_null=True),
        _c("rule", "text", not_null=True),
        _c("severity", "text"),
        _c("session_id", "text"),
        _c("message", "text"),
        _c("channel", "text"),
        _c("payload", "json"),
    ),
    ("id",),
    (("fired_at",), ("session_id",)),
)

SIGNALS = Table(
    "signals",
    "Long form: one row per profile field value of a call, so a new field needs no migration.",
    (
        _c("session_id", "text", not_null=True),
        _c("field", "text", "profile field id (team_size, integrations, ...)", not_null=True),
        _c("value", "text", "value id, number or yes/no as text, or a quote", not_null=True),
        _c("value_num", "float", "the number of a number field (yes/no: 1/0)"),
        _c("evidence", "text", "the caller's words the value was read from"),
        _c("turn", "int", "turn index of the evidence"),
        _c("profile", "text", "the profile that defined the field"),
        _c("started_at", "ts"),
    ),
    ("session_id", "field", "value"),
    (("field", "value"), ("started_at",)),
)

OUTCOMES = Table(
    "outcomes",
    "What happened after a call (CRM stage, won/lost, trial conversion): imported or pulled.",
    (
        _c("outcome_id", "text", "source + key of the outcome; re-imports replace", not_null=True),
        _c("session_id", "text", "the call it follows, when known"),
        _c("email", "text", "the lead's email, when the session is not known"),
        _c("stage", "text", "CRM stage or lead status reached"),
        _c("closed_won", "bool", "true won, false lost, null open"),
        _c("amount", "float", "deal amount in the CRM's currency"),
        _c("trial_converted", "bool"),
        _c("occurred_at", "ts", "when the outcome happened"),
        _c("source", "text", "import file name, salesforce, synthetic"),
        _c("imported_at", "ts"),
    ),
    ("outcome_id",),
    (("session_id",), ("email",), ("occurred_at",)),
)

ALERT_STATE = Table(
    "alert_state",
    "One row per windowed alert key: firing, suppressed (cooldown) or resolved.",
    (
        _c("dedup_key", "text", "rule:subject, e.g. agent_down:sales-agent", not_null=True),
        _c("rule", "text", not_null=True),
        _c("status", "text", "firing / suppressed / resolved", not_null=True),
        _c("incident", "int", "incidents of this key so far; names its alerts_history rows"),
        _c("since", "ts", "first evaluation true of the current episode"),
        _c("last_fired_at", "ts", "last notification (the cooldown counts from here)"),
        _c("last_seen_at", "ts", "last evaluation true"),
        _c("resolved_at", "ts"),
        _c("severity", "text"),
        _c("channel", "text"),
        _c("payload", "json", "the finding's facts when it last held"),
    ),
    ("dedup_key",),
)

TABLES: tuple[Table, ...] = (
    SESSIONS,
    TRANSCRIPTS,
    METRICS,
    LEADS,
    LEAD_SIGNALS,
    TOOL_CALLS,
    ANALYSIS_RESULTS,
    ALERTS_HISTORY,
    SIGNALS,
    OUTCOMES,
    ALERT_STATE,
)
TABLE_BY_NAME = {t.name: t for t in TABLES}
# Tables whose rows belong to one revision of a session: replaced wholesale on rewrite.
PER_SESSION_TABLES = (
    "transcripts",
    "metrics",
    "leads",
    "lead_signals",
    "tool_calls",
    "signals",
    "sessions",
)

# BI views. Written once in portable SQL (PostgreSQL and DuckDB both run them as is).
VIEWS: dict[str, str] = {
    "v_daily_sessions": """
SELECT CAST(started_at AS DATE) AS day, agent_name,
       COUNT(*) AS sessions,
       AVG(duration_seconds) AS avg_duration_seconds,
       SUM(CASE WHEN meeting_booked THEN 1 ELSE 0 END) AS meetings_booked,
       SUM(CASE WHEN lead_tier = 'tier_1' THEN 1 ELSE 0 END) AS tier_1,
       SUM(CASE WHEN lead_tier = 'tier_2' THEN 1 ELSE 0 END) AS tier_2,
       SUM(CASE WHEN hot_lead THEN 1 ELSE 0 END) AS hot_leads,
       AVG(engagement_score) AS avg_engagement,
       AVG(e2e_latency_avg_ms) AS avg_e2e_latency_ms,
       SUM(interruptions) AS interruptions,
       SUM(error_count) AS errors,
       SUM(cost_usd) AS cost_usd
FROM sessions
GROUP BY CAST(started_at AS DATE), agent_name""",
    # Predicted tier against what happened, per week of the call. An outcome joins its call by
    # session id, else by email (every call of that lead before the outcome). Positive outcome:
    # closed won or trial converted; a lead is predicted qualified when its tier is not
    # 'unqualified'. Accuracy = agreeing calls / calls with an outcome.
    "v_qualification_accuracy": """
SELECT CAST(DATE_TRUNC('week', j.started_at) AS DATE) AS week,
       COUNT(*) AS calls_with_outcome,
       SUM(CASE WHEN j.predicted = j.actual THEN 1 ELSE 0 END) AS agreeing,
       AVG(CASE WHEN j.predicted = j.actual THEN 1.0 ELSE 0.0 END) AS accuracy,
       SUM(CASE WHEN j.predicted AND j.actual THEN 1 ELSE 0 END) AS true_positives,
       SUM(CASE WHEN j.predicted AND NOT j.actual THEN 1 ELSE 0 END) AS false_positives,
       SUM(CASE WHEN NOT j.predicted AND j.actual THEN 1 ELSE 0 END) AS false_negatives,
       SUM(CASE WHEN j.lead_tier = 'tier_1' AND j.actual THEN 1 ELSE 0 END) AS tier_1_won,
       SUM(CASE WHEN j.lead_tier = 'tier_1' THEN 1 ELSE 0 END) AS tier_1_calls
FROM (
  SELECT s.session_id, s.started_at, s.lead_tier,
         COALESCE(s.lead_tier, 'unqualified') <> 'unqualified' AS predicted,
         BOOL_OR(COALESCE(o.closed_won, FALSE) OR COALESCE(o.trial_converted, FALSE)) AS actual
  FROM sessions AS s
  JOIN outcomes AS o
    ON o.session_id = s.session_id
    OR (o.session_id IS NULL AND o.email IS NOT NULL AND o.email = s.user_email
        AND (o.occurred_at IS NULL OR o.occurred_at >= s.started_at))
  GROUP BY s.session_id, s.started_at, s.lead_tier
) AS j
GROUP BY CAST(DATE_TRUNC('week', j.started_at) AS DATE)""",
    "v_leads": """
SELECT l.session_id, l.started_at, l.email, l.name, l.company, l.score, l.tier, l.confidence,
       l.hot_lead, l.meeting_booked, l.team_size, l.monthly_volume, l.industry, l.use_case,
       l.current_tool, l.timeline, l.budget_authority, s.agent_name, s.agent_version,
       s.sentiment, s.engagement_score, s.summary
FROM leads l JOIN sessions s ON s.session_id = l.session_id""",
    "v_latency_daily": """
SELECT CAST(m.ts AS DATE) AS day, s.agent_name, m.component, m.metric,
       COUNT(*) AS samples,
       AVG(m.value) * 1000 AS avg_ms,
       PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY m.value) * 1000 AS p50_ms,
       PERCENTILE_CONT(0.95) WITHIN GROUP (ORDER BY m.value) * 1000 AS p95_ms,
       PERCENTILE_CONT(0.99) WITHIN GROUP (ORDER BY m.value) * 1000 AS p99_ms
FROM metrics m JOIN sessions s ON s.session_id = m.session_id
WHERE m.unit = 's'
GROUP BY CAST(m.ts AS DATE), s.agent_name, m.component, m.metric""",
    "v_objections": """
SELECT value AS objection, COUNT(DISTINCT session_id) AS sessions,
       MIN(started_at) AS first_seen, MAX(started_at) AS last_seen
FROM lead_signals WHERE kind = 'objection'
GROUP BY value""",
    "v_competitors": """
SELECT value AS competitor, COUNT(DISTINCT session_id) AS sessions,
       MAX(started_at) AS last_seen
FROM lead_signals WHERE kind = 'competitor'
GROUP BY value""",
    "v_kb_gaps": """
SELECT LOWER(TRIM(query)) AS query, category,
       COUNT(*) AS failed_searches, COUNT(DISTINCT session_id) AS sessions,
       MAX(started_at) AS last_seen
FROM tool_calls
WHERE kind = 'kb_search' AND query IS NOT NULL
  AND (is_error OR found = FALSE OR total_results = 0)
GROUP BY LOWER(TRIM(query)), category""",
    "v_signal_values": """
SELECT g.profile, g.field, g.value,
       COUNT(DISTINCT g.session_id) AS sessions,
       AVG(g.value_num) AS avg_value_num,
       SUM(CASE WHEN s.meeting_booked THEN 1 ELSE 0 END) AS meetings_booked,
       AVG(s.lead_score) AS avg_lead_score,
       MIN(g.started_at) AS first_seen, MAX(g.started_at) AS last_seen
FROM signals g JOIN sessions s ON s.session_id = g.session_id
GROUP BY g.profile, g.field, g.value""",
    # The dashboard's panels (docs/dashboard.md), for Metabase / Grafana / any SQL client.
    "v_call_quality_daily": """
SELECT CAST(started_at AS DATE) AS day, agent_name, agent_version,
       COUNT(*) AS calls,
       AVG(duration_seconds) / 60.0 AS avg_duration_min,
       AVG(COALESCE(turn_count, 0)) AS avg_turns,
       100.0 * SUM(COALESCE(interruptions, 0)) / NULLIF(SUM(COALESCE(agent_turns, 0)), 0)
           AS interruption_rate_pct,
       100.0 * SUM(CASE WHEN natural_ending THEN 1 ELSE 0 END) / COUNT(*) AS natural_ending_pct,
       AVG(engagement_score) AS avg_engagement,
       SUM(CASE WHEN sentiment = 'positive' THEN 1 ELSE 0 END) AS positive,
       SUM(CASE WHEN sentiment = 'neutral' THEN 1 ELSE 0 END) AS neutral,
       SUM(CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END) AS negative,
       SUM(CASE WHEN lead_tier = 'tier_1' THEN 1 ELSE 0 END) AS tier_1,
       100.0 * SUM(CASE WHEN lead_tier IN ('tier_1', 'tier_2') THEN 1 ELSE 0 END) / COUNT(*)
           AS qualification_rate_pct,
       SUM(CASE WHEN meeting_booked THEN 1 ELSE 0 END) AS meetings_booked
FROM sessions
GROUP BY CAST(started_at AS DATE), agent_name, agent_version""",
    "v_hourly_ops": """
SELECT DATE_TRUNC('hour', ended_at) AS hour, agent_name,
       COUNT(*) AS calls,
       AVG(e2e_latency_avg_ms) AS avg_e2e_latency_ms,
       SUM(COALESCE(llm_input_tokens, 0) + COALESCE(llm_output_tokens, 0)) / 60.0
           AS tokens_per_minute,
       SUM(cost_usd) AS cost_usd_per_hour,
       100.0 * SUM(CASE WHEN COALESCE(error_count, 0) > 0 THEN 1 ELSE 0 END) / COUNT(*)
           AS error_rate_pct
FROM sessions WHERE ended_at IS NOT NULL
GROUP BY DATE_TRUNC('hour', ended_at), agent_name""",
    "v_kb_queries": """
SELECT LOWER(TRIM(query)) AS query, COUNT(*) AS searches,
       SUM(CASE WHEN is_error OR found = FALSE OR total_results = 0 THEN 1 ELSE 0 END) AS failed,
       AVG(total_results) AS avg_results, COUNT(DISTINCT session_id) AS sessions,
       MAX(started_at) AS last_seen
FROM tool_calls
WHERE kind = 'kb_search' AND query IS NOT NULL
GROUP BY LOWER(TRIM(query))""",
    "v_tool_usage": """
SELECT CAST(started_at AS DATE) AS day, name AS tool, kind, COUNT(*) AS calls,
       SUM(CASE WHEN is_error OR NOT COALESCE(ok, TRUE) THEN 1 ELSE 0 END) AS failed
FROM tool_calls
GROUP BY CAST(started_at AS DATE), name, kind""",
    "v_lead_score_histogram": """
SELECT CAST(FLOOR(lead_score / 10.0) * 10 AS INTEGER) AS score_from, COUNT(*) AS calls,
       SUM(CASE WHEN meeting_booked THEN 1 ELSE 0 END) AS meetings_booked
FROM sessions WHERE lead_score IS NOT NULL
GROUP BY CAST(FLOOR(lead_score / 10.0) * 10 AS INTEGER)""",
    "v_lead_fields": """
SELECT 'industry' AS field, industry AS value, COUNT(*) AS calls FROM leads
WHERE industry IS NOT NULL GROUP BY industry
UNION ALL
SELECT 'use_case', use_case, COUNT(*) FROM leads WHERE use_case IS NOT NULL GROUP BY use_case
UNION ALL
SELECT 'team_size', CAST(team_size AS TEXT), COUNT(*) FROM leads
WHERE team_size IS NOT NULL GROUP BY team_size
UNION ALL
SELECT kind, value, COUNT(DISTINCT session_id) FROM lead_signals GROUP BY kind, value""",
}


# BigQuery has no ordered-set PERCENTILE_CONT aggregate: its native quantiles instead.
_BIGQUERY_VIEWS: dict[str, str] = {
    "v_latency_daily": """
SELECT DATE(m.ts) AS day, s.agent_name, m.component, m.metric,
       COUNT(*) AS samples,
       AVG(m.value) * 1000 AS avg_ms,
       APPROX_QUANTILES(m.value, 100)[OFFSET(50)] * 1000 AS p50_ms,
       APPROX_QUANTILES(m.value, 100)[OFFSET(95)] * 1000 AS p95_ms,
       APPROX_QUANTILES(m.value, 100)[OFFSET(99)] * 1000 AS p99_ms
FROM metrics AS m JOIN sessions AS s ON s.session_id = m.session_id
WHERE m.unit = 's'
GROUP BY day, s.agent_name, m.component, m.metric""",
}


def _canonical_table(table: Table) -> str:
    cols = [
        f"{c.name} {_CANONICAL[c.type]}{' NOT NULL' if c.not_null else ''}" for c in table.columns
    ]
    if table.primary_key:
        cols.append(f"PRIMARY KEY ({', '.join(table.primary_key)})")
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n  " + ",\n  ".join(cols) + "\n)"


def _render(sql: str, dialect: str) -> str:
    tree = sqlglot.parse_one(sql, read="postgres")
    if dialect == "postgres":
        # JSONB: indexable, and what every PostgreSQL BI tool expects for documents.
        for dt in list(tree.find_all(exp.DataType)):
            if dt.this == exp.DataType.Type.JSON:
                dt.replace(exp.DataType.build("JSONB"))
    if dialect == "bigquery":
        # BigQuery only knows unenforced keys; the pipeline guarantees uniqueness itself.
        for pk in list(tree.find_all(exp.PrimaryKey)):
            pk.pop()
    return tree.sql(dialect=dialect, pretty=True)


def index_name(table: Table, cols: tuple[str, ...]) -> str:
    return f"ix_{table.name}_{'_'.join(cols)}"


def table_ddl(dialect: str) -> list[str]:
    """CREATE TABLE statements (with primary keys where the engine has them)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r} (one of {', '.join(DIALECTS)})")
    return [_render(_canonical_table(t), dialect) for t in TABLES]


def index_ddl(dialect: str) -> list[str]:
    """CREATE INDEX statements (PostgreSQL only).

    BigQuery and Snowflake have no secondary indexes. DuckDB has them, but keeping its ART
    indexes current made batch rewrites ~3x slower (bench/store.py) while its zone maps already
    prune scans on started_at; primary keys are kept there.
    """
    if dialect != "postgres":
        return []
    return [
        f"CREATE INDEX IF NOT EXISTS {index_name(t, cols)} ON {t.name} ({', '.join(cols)})"
        for t in TABLES
        for cols in t.indexes
    ]


def view_ddl(dialect: str) -> list[str]:
    out = []
    for name, body in VIEWS.items():
        if dialect == "bigquery" and name in _BIGQUERY_VIEWS:
            native = f"CREATE OR REPLACE VIEW {name} AS {_BIGQUERY_VIEWS[name].strip()}"
            out.append(sqlglot.parse_one(native, read="bigquery").sql("bigquery", pretty=True))
            continue
        sql = f"CREATE OR REPLACE VIEW {name} AS {body.strip()}"
        out.append(sql if dialect in ("duckdb", "postgres") else _render(sql, dialect))
    return out


def ddl(dialect: str) -> list[str]:
    """Every statement that creates the warehouse in ``dialect``."""
    return table_ddl(dialect) + index_ddl(dialect) + view_ddl(dialect)
