"""From a processed session to warehouse rows (plain tuples in the schema's column order).

Backend-neutral: both stores bulk-load what this produces. JSON columns travel as text so
DuckDB (JSON) and PostgreSQL (JSONB) parse the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from callscope.analyze.view import Turn, build_view
from callscope.profile.model import Profile
from callscope.store.base import ProcessedSession
from callscope.store.schema import TABLES

META_KEYS = frozenset({"session_id", "summary", "analyzer_versions", "errors", "skipped"})
KB_KIND = "kb_search"
MEETING_KIND = "meeting"
# Per-turn metric names -> (typed transcript column, component).
_TURN_COLUMNS = {
    "e2e_latency": "e2e_latency_ms",
    "llm_node_ttft": "llm_ttft_ms",
    "tts_node_ttfb": "tts_ttfb_ms",
    "transcription_delay": "transcription_delay_ms",
    "end_of_turn_delay": "end_of_turn_delay_ms",
}
_TIMESTAMP_METRICS = frozenset({"started_speaking_at", "stopped_speaking_at", "timestamp"})
_SECOND_HINTS = ("latency", "ttft", "ttfb", "delay", "duration", "_time", "elapsed")


_INT32 = 2**31 - 1
_INT64 = 2**63 - 1


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strip_nul(v) for v in value]
    return value


def dumps(value: Any) -> str | None:
    if value is None:
        return None
    text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    if "\\u0000" in text:
        # PostgreSQL refuses NUL in text and JSONB; one stray byte must not fail a batch.
        text = orjson.dumps(_strip_nul(value), option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    return text


def _text(value: str | None) -> str | None:
    return value.replace("\x00", "") if value and "\x00" in value else value


def _epoch(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000.0


def _int(value: Any, limit: int = _INT32) -> int | None:
    """An integer that fits the column, or NULL: a wild value never fails the batch."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and math.isfinite(value):
        value = round(value)
    if isinstance(value, int) and -limit <= value <= limit:
        return value
    return None


def _big(value: Any) -> int | None:
    return _int(value, _INT64)


def _float(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    return None


def _bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    return _text(str(value))


def _section(analysis: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = analysis.get(name)
    return value if isinstance(value, dict) else {}


@lru_cache(maxsize=4096)
def unit_of(metric: str) -> str:
    name = metric.lower()
    if name.endswith("tps") or "per_second" in name:
        return "tokens/s"
    if "tokens" in name:
        return "tokens"
    if "characters" in name or name.endswith("chars"):
        return "chars"
    if any(h in name for h in _SECOND_HINTS):
        return "s"
    return ""


@lru_cache(maxsize=4096)
def component_of(metric: str) -> str:
    if metric.startswith("llm"):
        return "llm"
    if metric.startswith("tts"):
        return "tts"
    if metric.startswith(("transcription", "stt")):
        return "stt"
    if metric.startswith("end_of_turn"):
        return "eou"
    if metric.startswith("e2e"):
        return "e2e"
    return "turn"


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    # Linear interpolation, the same definition as PERCENTILE_CONT in the BI views.
    if len(sorted_values) == 1:
        return sorted_values[0]
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def _latency(analysis: Mapping[str, Any], turns: Sequence[Turn]) -> dict[str, float | None]:
    given = _section(analysis, "performance").get("e2e_latency_ms")
    if isinstance(given, dict):
        return {k: _float(given.get(k)) for k in ("avg", "p50", "p95", "p99")}
    # The performance module failed or was skipped: the turns still carry the figures.
    values = sorted(t.metrics["e2e_latency"] * 1000.0 for t in turns if "e2e_latency" in t.metrics)
    if not values:
        return {"avg": None, "p50": None, "p95": None, "p99": None}
    return {
        "avg": sum(values) / len(values),
        "p50": _percentile(values, 0.5),
        "p95": _percentile(values, 0.95),
        "p99": _percentile(values, 0.99),
    }


def _usage(usage: Mapping[str, Any]) -> tuple[int | None, int | None, float | None, int | None]:
    """(llm input tokens, llm output tokens, stt audio seconds, tts characters)."""
    entries = usage.get("model_usage")
    if isinstance(entries, list):
        tin = tout = chars = 0
        audio = 0.0
        for e in entries:
            if not isinstance(e, dict):
                continue
            kind = str(e.get("type", ""))
            if kind.startswith("llm"):
                tin += _big(e.get("input_tokens")) or 0
                tout += _big(e.get("output_tokens")) or 0
            elif kind.startswith("stt"):
                audio += _float(e.get("audio_duration")) or 0.0
            elif kind.startswith("tts"):
                chars += _big(e.get("characters_count")) or 0
        return tin, tout, audio, chars
    # livekit-agents < 1.8 UsageSummary.
    return (
        _big(usage.get("llm_prompt_tokens")),
        _big(usage.get("llm_completion_tokens")),
        _float(usage.get("stt_audio_duration")),
        _big(usage.get("tts_characters_count")),
    )


def _cost(analysis: Mapping[str, Any]) -> float | None:
    perf = _section(analysis, "performance")
    for candidate in (
        perf.get("cost_usd"),
        (perf.get("cost") or {}).get("total_usd") if isinstance(perf.get("cost"), dict) else None,
        _section(analysis, "cost").get("total_usd"),
        _section(analysis, "cost").get("cost_usd"),
    ):
        value = _float(candidate)
        if value is not None:
            return value
    return None


def _output(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


def tool_kinds_of(profile: Profile) -> dict[str, str]:
    """Tool name -> kind for a profile: what every process that opens the store passes."""
    return tool_kinds_for(profile.tools.knowledge_search, profile.tools.meeting_booking)


def tool_kinds_for(knowledge_search: str | None, meeting_booking: str | None) -> dict[str, str]:
    """Tool name -> kind from a profile's ``tools`` section (names win over the heuristics)."""
    out: dict[str, str] = {}
    if knowledge_search:
        out[knowledge_search] = KB_KIND
    if meeting_booking:
        out[meeting_booking] = MEETING_KIND
    return out


def tool_kind(
    name: str, arguments: Mapping[str, Any], output: Any, kinds: Mapping[str, str]
) -> str:
    if name in kinds:
        return kinds[name]
    if isinstance(output, dict) and ("found" in output or "total_results" in output):
        return KB_KIND
    if "query" in arguments and "search" in name:
        return KB_KIND
    if (isinstance(output, dict) and "meeting_link" in output) or "meeting" in name:
        return MEETING_KIND
    return "other"


@dataclass
class Rows:
    tables: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {t.name: [] for t in TABLES}
    )
    session_ids: list[str] = field(default_factory=list)

    def analysis_keys(self) -> list[tuple[str, str, str]]:
        return [(r[0], r[1], r[2]) for r in self.tables["analysis_results"]]


def build_rows(batch: Iterable[ProcessedSession], tool_kinds: Mapping[str, str]) -> Rows:
    rows = Rows()
    for p in batch:
        _add(rows, p, tool_kinds)
    return rows


def _add(rows: Rows, p: ProcessedSession, tool_kinds: Mapping[str, str]) -> None:
    rec = p.record
    a = p.analysis
    sid = rec.session_id
    consent = rec.consent.analytics
    view = p.view if p.view is not None and p.view.record is rec else build_view(rec)
    turns = view.turns
    sales, lead = _section(a, "sales"), _section(a, "lead")
    quality, tools = _section(a, "quality"), _section(a, "tools")
    sentiment = _section(a, "sentiment")
    meta = rec.participant.metadata if isinstance(rec.participant.metadata, dict) else {}
    company = _str(meta.get("company")) or _str(sales.get("company"))
    conn = rec.connection
    device = conn.device
    lat = _latency(a, turns)
    tin, tout, audio, chars = _usage(rec.usage)
    score = _int(lead.get("score"))
    hot = _bool(lead.get("hot_lead"))
    if hot is None and score is not None:
        hot = score > 80  # vocabulary.md: a hot lead scores above 80
    interruptions = _int(quality.get("interruptions"))
    if interruptions is None:
        interruptions = sum(1 for t in turns if t.interrupted)
    meeting = _bool(tools.get("meeting_booked"))
    versions: dict[str, Any] = _section(a, "analyzer_versions")
    email, name = _str(rec.participant.email), _str(rec.participant.name)
    rows.session_ids.append(sid)
    rows.tables["sessions"].append(
        (
            sid,
            p.revision,
            _str(rec.agent.name),
            _str(rec.agent.version),
            rec.started_at,
            rec.ended_at,
            rec.duration,
            _str(rec.participant.identity),
            email,
            name,
            company,
            _str(rec.close_reason),
            rec.consent.recording,
            consent,
            len(turns),
            sum(1 for t in turns if t.is_user),
            sum(1 for t in turns if t.is_agent),
            interruptions,
            len(rec.errors),
            len(rec.tool_calls),
            sum(1 for t in rec.tool_calls if t.is_error),
            _float(conn.bandwidth_in_bytes),
            _float(conn.bandwidth_out_bytes),
            _float(conn.packet_loss_pct),
            _float(conn.jitter_ms),
            _str(device.browser) if device else None,
            _str(device.os) if device else None,
            _str(device.location) if device else None,
            lat["avg"],
            lat["p50"],
            lat["p95"],
            lat["p99"],
            tin,
            tout,
            audio,
            chars,
            _cost(a),
            meeting,
            _int(tools.get("kb_searches")),
            _int(tools.get("kb_failed_searches")),
            score,
            _str(lead.get("tier")),
            _str(lead.get("confidence")),
            hot,
            _str(sentiment.get("overall")),
            _float(quality.get("engagement_score")),
            _bool(quality.get("natural_ending")),
            _int(quality.get("clarification_requests")),
            _str(a.get("summary")) if consent else None,
            len(p.raw),
            p.processed_at,
            dumps(versions),
            dumps(a),
        )
    )
    items = rec.transcript.items
    metric_rows = rows.tables["metrics"]
    for t in turns:
        m = t.metrics
        started = _epoch(m.get("started_speaking_at"))
        if consent:
            rows.tables["transcripts"].append(
                (
                    sid,
                    t.index,
                    _str(items[t.item_index].id),
                    t.role,
                    _text(t.text),
                    _epoch(t.created_at),
                    t.interrupted,
                    t.confidence,
                    started,
                    _epoch(m.get("stopped_speaking_at")),
                    _ms(m.get("e2e_latency")),
                    _ms(m.get("llm_node_ttft")),
                    _ms(m.get("tts_node_ttfb")),
                    _ms(m.get("transcription_delay")),
                    _ms(m.get("end_of_turn_delay")),
                    dumps(m) if m else None,
                )
            )
        # Latency figures carry no words: they are kept whatever the consent.
        ts = started or _epoch(t.created_at)
        index = t.index
        metric_rows.extend(
            (sid, ts, metric, value, unit_of(metric), component_of(metric), index, "turn")
            for metric, value in m.items()
            if metric not in _TIMESTAMP_METRICS
        )
    for event in rec.metrics:
        if not isinstance(event, dict):
            continue
        component = str(event.get("type", "event")).removesuffix("_metrics")
        ts = _epoch(event.get("timestamp")) or rec.started_at
        for metric, value in event.items():
            num = _float(value)
            if num is None or metric in _TIMESTAMP_METRICS:
                continue
            rows.tables["metrics"].append(
                (sid, ts, metric, num, unit_of(metric), component, None, "event")
            )
    integrations = _list(sales.get("integrations"))
    competitors = _list(sales.get("competitors"))
    objections = _list(sales.get("objections"))
    rows.tables["leads"].append(
        (
            sid,
            email,
            name,
            company,
            _int(sales.get("team_size")),
            _int(sales.get("monthly_volume")),
            dumps(integrations),
            _str(sales.get("current_tool")),
            dumps(competitors),
            dumps(objections),
            _str(sales.get("use_case")),
            _str(sales.get("industry")),
            _str(sales.get("budget_authority")),
            _str(sales.get("timeline")),
            score,
            _str(lead.get("tier")),
            _str(lead.get("confidence")),
            hot,
            meeting,
            dumps(sales.get("bant")),
            rec.started_at,
        )
    )
    for kind, values in (
        ("integration", integrations),
        ("competitor", competitors),
        ("objection", objections),
    ):
        for signal in dict.fromkeys(values):
            rows.tables["lead_signals"].append((sid, kind, signal, rec.started_at))
    for i, tc in enumerate(rec.tool_calls):
        out = _output(tc.output)
        outd = out if isinstance(out, dict) else {}
        args = tc.arguments
        kind = tool_kind(tc.name, args, out, tool_kinds)
        success = _bool(outd.get("success"))
        query = _str(args.get("query")) if consent else None
        rows.tables["tool_calls"].append(
            (
                sid,
                i,
                _str(tc.name),
                kind,
                (not tc.is_error) and success is not False,
                tc.is_error,
                tc.started_at,
                _float(tc.duration_ms),
                query,
                _str(args.get("category")),
                _bool(outd.get("found")),
                _int(outd.get("total_results")),
                success,
                _str(outd.get("meeting_link")) if consent else None,
                dumps(args) if consent else None,
                dumps(out) if consent else None,
            )
        )
    errors: dict[str, Any] = _section(a, "errors")
    skipped: dict[str, Any] = _section(a, "skipped")
    modules = dict.fromkeys([*versions, *(k for k in a if k not in META_KEYS), *errors, *skipped])
    if "summary" in a and "summary" not in modules:
        modules["summary"] = None
    for module in modules:
        if module == "summary":
            result: Any = {"text": a.get("summary")} if consent else None
        else:
            result = a.get(module)
        rows.tables["analysis_results"].append(
            (
                sid,
                module,
                str(versions.get(module, "unversioned")),
                p.revision,
                dumps(result),
                _str(errors.get(module)),
                _str(skipped.get(module)),
                p.processed_at,
            )
        )


def _list(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [_text(str(v)) or "" for v in value if v is not None and not isinstance(v, dict | list)]
