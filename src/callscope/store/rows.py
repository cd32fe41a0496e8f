"""From a processed session to warehouse rows, each a mapping of column name to value.

Backend-neutral: both stores bulk-load what this produces (DuckDB through Arrow, PostgreSQL
through COPY), taking the columns by name, so a row never depends on the column order.
JSON columns travel as text so DuckDB (JSON) and PostgreSQL (JSONB) parse the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson

from callscope.contract.record import SessionRecord
from callscope.contract.turns import TurnLike, spoken_turns
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


Row = dict[str, Any]


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


def _latency(analysis: Mapping[str, Any], turns: Sequence[TurnLike]) -> dict[str, float | None]:
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
    """The rows of one batch, per table; each row maps column names to values."""

    tables: dict[str, list[Row]] = field(default_factory=lambda: {t.name: [] for t in TABLES})
    session_ids: list[str] = field(default_factory=list)

    def analysis_keys(self) -> list[tuple[str, str, str]]:
        return [
            (r["session_id"], r["module"], r["analyzer_version"])
            for r in self.tables["analysis_results"]
        ]

    @classmethod
    def merge(cls, parts: Iterable[Rows]) -> Rows:
        """The rows of several batches (or single calls) as one batch."""
        out = cls()
        for part in parts:
            out.session_ids.extend(part.session_ids)
            for name, table_rows in part.tables.items():
                out.tables.setdefault(name, []).extend(table_rows)
        return out

    def drop(self, session_ids: set[str]) -> None:
        """Forget the rows of these sessions (older revisions than the stored ones)."""
        for name, table_rows in self.tables.items():
            self.tables[name] = [r for r in table_rows if r["session_id"] not in session_ids]
        self.session_ids = [i for i in self.session_ids if i not in session_ids]


def build_rows(batch: Iterable[ProcessedSession], tool_kinds: Mapping[str, str]) -> Rows:
    rows = Rows()
    for p in batch:
        _add(rows, p, tool_kinds)
    return rows


@dataclass(frozen=True)
class _Call:
    """What several tables of one call share, computed once."""

    p: ProcessedSession
    turns: Sequence[TurnLike]
    consent: bool
    company: str | None
    score: int | None
    hot: bool | None
    meeting: bool | None

    @property
    def record(self) -> SessionRecord:
        return self.p.record

    @property
    def sid(self) -> str:
        return self.p.record.session_id


def _call(p: ProcessedSession) -> _Call:
    rec, a = p.record, p.analysis
    turns = p.view.turns if p.view is not None and p.view.record is rec else spoken_turns(rec)
    lead, sales = _section(a, "lead"), _section(a, "sales")
    meta = rec.participant.metadata if isinstance(rec.participant.metadata, dict) else {}
    score = _int(lead.get("score"))
    hot = _bool(lead.get("hot_lead"))
    if hot is None and score is not None:
        hot = score > 80  # vocabulary.md: a hot lead scores above 80
    return _Call(
        p=p,
        turns=turns,
        consent=rec.consent.analytics,
        company=_str(meta.get("company")) or _str(sales.get("company")),
        score=score,
        hot=hot,
        meeting=_bool(_section(a, "tools").get("meeting_booked")),
    )


def _add(rows: Rows, p: ProcessedSession, tool_kinds: Mapping[str, str]) -> None:
    from callscope.store.signals import signal_rows

    call = _call(p)
    rows.session_ids.append(call.sid)
    rows.tables["sessions"].append(_session_row(call))
    if call.consent:
        rows.tables["transcripts"].extend(_transcript_rows(call))
    rows.tables["metrics"].extend(_metric_rows(call))
    rows.tables["leads"].append(_lead_row(call))
    rows.tables["lead_signals"].extend(_lead_signal_rows(call))
    rows.tables["tool_calls"].extend(_tool_rows(call, tool_kinds))
    rows.tables["analysis_results"].extend(_analysis_rows(call))
    rows.tables["signals"].extend(signal_rows(p, call.consent))


def _session_row(c: _Call) -> Row:
    rec, a, turns = c.record, c.p.analysis, c.turns
    lead, quality = _section(a, "lead"), _section(a, "quality")
    tools, sentiment = _section(a, "tools"), _section(a, "sentiment")
    conn, device = rec.connection, rec.connection.device
    lat = _latency(a, turns)
    tin, tout, audio, chars = _usage(rec.usage)
    interruptions = _int(quality.get("interruptions"))
    if interruptions is None:
        interruptions = sum(1 for t in turns if t.interrupted)
    return {
        "session_id": c.sid,
        "revision": c.p.revision,
        "agent_name": _str(rec.agent.name),
        "agent_version": _str(rec.agent.version),
        "started_at": rec.started_at,
        "ended_at": rec.ended_at,
        "duration_seconds": rec.duration,
        "participant_identity": _str(rec.participant.identity),
        "user_email": _str(rec.participant.email),
        "user_name": _str(rec.participant.name),
        "company": c.company,
        "close_reason": _str(rec.close_reason),
        "consent_recording": rec.consent.recording,
        "consent_analytics": c.consent,
        "turn_count": len(turns),
        "user_turns": sum(1 for t in turns if t.role == "user"),
        "agent_turns": sum(1 for t in turns if t.role == "assistant"),
        "interruptions": interruptions,
        "error_count": len(rec.errors),
        "tool_call_count": len(rec.tool_calls),
        "tool_error_count": sum(1 for t in rec.tool_calls if t.is_error),
        "bandwidth_in_bytes": _float(conn.bandwidth_in_bytes),
        "bandwidth_out_bytes": _float(conn.bandwidth_out_bytes),
        "packet_loss_pct": _float(conn.packet_loss_pct),
        "jitter_ms": _float(conn.jitter_ms),
        "device_browser": _str(device.browser) if device else None,
        "device_os": _str(device.os) if device else None,
        "device_location": _str(device.location) if device else None,
        "e2e_latency_avg_ms": lat["avg"],
        "e2e_latency_p50_ms": lat["p50"],
        "e2e_latency_p95_ms": lat["p95"],
        "e2e_latency_p99_ms": lat["p99"],
        "llm_input_tokens": tin,
        "llm_output_tokens": tout,
        "stt_audio_seconds": audio,
        "tts_characters": chars,
        "cost_usd": _cost(a),
        "meeting_booked": c.meeting,
        "kb_searches": _int(tools.get("kb_searches")),
        "kb_failed_searches": _int(tools.get("kb_failed_searches")),
        "lead_score": c.score,
        "lead_tier": _str(lead.get("tier")),
        "lead_confidence": _str(lead.get("confidence")),
        "hot_lead": c.hot,
        "sentiment": _str(sentiment.get("overall")),
        "engagement_score": _float(quality.get("engagement_score")),
        "natural_ending": _bool(quality.get("natural_ending")),
        "clarification_requests": _int(quality.get("clarification_requests")),
        "summary": _str(a.get("summary")) if c.consent else None,
        "raw_bytes": len(c.p.raw),
        "processed_at": c.p.processed_at,
        "analyzer_versions": dumps(_section(a, "analyzer_versions")),
        "analysis": dumps(a),
    }


def _transcript_rows(c: _Call) -> Iterator[Row]:
    items = c.record.transcript.items
    for t in c.turns:
        m = t.metrics
        yield {
            "session_id": c.sid,
            "turn_index": t.index,
            "item_id": _str(items[t.item_index].id),
            "role": t.role,
            "text": _text(t.text),
            "created_at": _epoch(t.created_at),
            "interrupted": t.interrupted,
            "confidence": t.confidence,
            "started_speaking_at": _epoch(m.get("started_speaking_at")),
            "stopped_speaking_at": _epoch(m.get("stopped_speaking_at")),
            "e2e_latency_ms": _ms(m.get("e2e_latency")),
            "llm_ttft_ms": _ms(m.get("llm_node_ttft")),
            "tts_ttfb_ms": _ms(m.get("tts_node_ttfb")),
            "transcription_delay_ms": _ms(m.get("transcription_delay")),
            "end_of_turn_delay_ms": _ms(m.get("end_of_turn_delay")),
            "metrics": dumps(m) if m else None,
        }


def _metric_rows(c: _Call) -> Iterator[Row]:
    sid = c.sid
    # Latency figures carry no words: they are kept whatever the consent.
    for t in c.turns:
        m = t.metrics
        ts = _epoch(m.get("started_speaking_at")) or _epoch(t.created_at)
        for metric, value in m.items():
            if metric not in _TIMESTAMP_METRICS:
                yield _metric(sid, ts, metric, value, component_of(metric), t.index, "turn")
    for event in c.record.metrics:
        if not isinstance(event, dict):
            continue
        component = str(event.get("type", "event")).removesuffix("_metrics")
        ts = _epoch(event.get("timestamp")) or c.record.started_at
        for metric, value in event.items():
            num = _float(value)
            if num is not None and metric not in _TIMESTAMP_METRICS:
                yield _metric(sid, ts, metric, num, component, None, "event")


def _metric(
    sid: str,
    ts: datetime | None,
    metric: str,
    value: float,
    component: str,
    turn: int | None,
    source: str,
) -> Row:
    return {
        "session_id": sid,
        "ts": ts,
        "metric": metric,
        "value": value,
        "unit": unit_of(metric),
        "component": component,
        "turn_index": turn,
        "source": source,
    }


def _lead_row(c: _Call) -> Row:
    a = c.p.analysis
    sales, lead = _section(a, "sales"), _section(a, "lead")
    return {
        "session_id": c.sid,
        "email": _str(c.record.participant.email),
        "name": _str(c.record.participant.name),
        "company": c.company,
        "team_size": _int(sales.get("team_size")),
        "monthly_volume": _int(sales.get("monthly_volume")),
        "integrations": dumps(_list(sales.get("integrations"))),
        "current_tool": _str(sales.get("current_tool")),
        "competitors": dumps(_list(sales.get("competitors"))),
        "objections": dumps(_list(sales.get("objections"))),
        "use_case": _str(sales.get("use_case")),
        "industry": _str(sales.get("industry")),
        "budget_authority": _str(sales.get("budget_authority")),
        "timeline": _str(sales.get("timeline")),
        "score": c.score,
        "tier": _str(lead.get("tier")),
        "confidence": _str(lead.get("confidence")),
        "hot_lead": c.hot,
        "meeting_booked": c.meeting,
        "bant": dumps(sales.get("bant")),
        "started_at": c.record.started_at,
    }


_LIST_SIGNALS = (
    ("integration", "integrations"),
    ("competitor", "competitors"),
    ("objection", "objections"),
)


def _lead_signal_rows(c: _Call) -> Iterator[Row]:
    sales = _section(c.p.analysis, "sales")
    for kind, key in _LIST_SIGNALS:
        for value in dict.fromkeys(_list(sales.get(key))):
            yield {
                "session_id": c.sid,
                "kind": kind,
                "value": value,
                "started_at": c.record.started_at,
            }


def _tool_rows(c: _Call, tool_kinds: Mapping[str, str]) -> Iterator[Row]:
    consent = c.consent
    for i, tc in enumerate(c.record.tool_calls):
        out = _output(tc.output)
        outd = out if isinstance(out, dict) else {}
        args = tc.arguments
        success = _bool(outd.get("success"))
        yield {
            "session_id": c.sid,
            "call_index": i,
            "name": _str(tc.name),
            "kind": tool_kind(tc.name, args, out, tool_kinds),
            "ok": (not tc.is_error) and success is not False,
            "is_error": tc.is_error,
            "started_at": tc.started_at,
            "duration_ms": _float(tc.duration_ms),
            "query": _str(args.get("query")) if consent else None,
            "category": _str(args.get("category")),
            "found": _bool(outd.get("found")),
            "total_results": _int(outd.get("total_results")),
            "success": success,
            "meeting_link": _str(outd.get("meeting_link")) if consent else None,
            "arguments": dumps(args) if consent else None,
            "output": dumps(out) if consent else None,
        }


def _analysis_rows(c: _Call) -> Iterator[Row]:
    a, p = c.p.analysis, c.p
    versions = _section(a, "analyzer_versions")
    errors, skipped = _section(a, "errors"), _section(a, "skipped")
    modules = dict.fromkeys([*versions, *(k for k in a if k not in META_KEYS), *errors, *skipped])
    if "summary" in a and "summary" not in modules:
        modules["summary"] = None
    for module in modules:
        if module == "summary":
            result: Any = {"text": a.get("summary")} if c.consent else None
        else:
            result = a.get(module)
        yield {
            "session_id": c.sid,
            "module": module,
            "analyzer_version": str(versions.get(module, "unversioned")),
            "revision": p.revision,
            "result": dumps(result),
            "error": _str(errors.get(module)),
            "skipped": _str(skipped.get(module)),
            "created_at": p.processed_at,
        }


def _list(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [_text(str(v)) or "" for v in value if v is not None and not isinstance(v, dict | list)]
