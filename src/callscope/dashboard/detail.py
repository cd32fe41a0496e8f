"""One call as the session page shows it: turns with latency, signals beside their quotes.

Viewers without the PII role get every free-text field (turns, quotes, summary, tool
arguments, caller identity) through the governance redactor before it reaches the page or
the JSON API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from callscope.governance.redact import redact_text, redact_value
from callscope.profile import Profile

SIGNAL_KEYS: tuple[tuple[str, str], ...] = (
    ("team_size", "Team size"),
    ("monthly_volume", "Monthly volume"),
    ("integrations", "Integrations"),
    ("current_tool", "Current tool"),
    ("competitors", "Competitors"),
    ("objections", "Objections"),
    ("use_case", "Use case"),
    ("industry", "Industry"),
    ("budget_authority", "Budget authority"),
    ("timeline", "Timeline"),
)
PERSONAL_FIELDS = ("user_email", "user_name", "participant_identity")


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        v = value if value.tzinfo else value.replace(tzinfo=UTC)
        return v.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return None if value is None else str(value)


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or value == ""


def _quotes(raw: Any) -> list[dict[str, Any]]:
    """Normalise the evidence the sales analyzer gives for one signal into quote dicts."""
    if raw is None:
        return []
    if isinstance(raw, str):
        return [{"quote": raw, "turn": None}]
    if isinstance(raw, Mapping):
        text = raw.get("quote") or raw.get("text") or raw.get("evidence")
        if isinstance(text, str):
            return [{"quote": text, "turn": raw.get("turn")}]
        out: list[dict[str, Any]] = []
        for value in raw.values():
            out.extend(_quotes(value))
        return out
    if isinstance(raw, list):
        out = []
        for item in raw:
            out.extend(_quotes(item))
        return out
    return []


def _evidence(
    sales: Mapping[str, Any], analysis: Mapping[str, Any] | None = None
) -> dict[str, list[dict[str, Any]]]:
    # The profile interface's per-field evidence first (docs/profiles.md), then the sales
    # analyzer's own evidence of the default profile.
    if analysis and isinstance(analysis.get("signal_evidence"), Mapping):
        return {str(k): _quotes(v) for k, v in analysis["signal_evidence"].items()}
    ev = sales.get("evidence") or sales.get("quotes") or {}
    by_key: dict[str, list[dict[str, Any]]] = {}
    if isinstance(ev, Mapping):
        for key, raw in ev.items():
            by_key.setdefault(str(key), []).extend(_quotes(raw))
    elif isinstance(ev, list):
        for item in ev:
            if not isinstance(item, Mapping):
                continue
            key = item.get("signal") or item.get("key") or item.get("field")
            if key:
                by_key.setdefault(str(key), []).extend(_quotes(item))
    return by_key


Clean = Callable[[Any], Any]
_EMPTY_CHART: dict[str, Any] = {"labels": [], "datasets": []}


def _results(found: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Each analyzer's stored result by module, and the versions table."""
    results: dict[str, Any] = {}
    versions: list[dict[str, Any]] = []
    for row in found.get("analysis_results") or []:
        module = str(row.get("module"))
        versions.append(
            {
                "module": module,
                "version": row.get("analyzer_version"),
                "error": row.get("error"),
                "skipped": row.get("skipped"),
            }
        )
        if isinstance(row.get("result"), Mapping):
            results[module] = row["result"]
    return results, sorted(versions, key=lambda v: v["module"])


def _signals(
    sales: Mapping[str, Any], analysis: Mapping[str, Any], lead_row: Mapping[str, Any], clean: Clean
) -> list[dict[str, Any]]:
    """The lead signals found, each with the quotes that are its evidence."""
    evidence = _evidence(sales, analysis)
    signals = []
    for key, label in SIGNAL_KEYS:
        value = sales.get(key) if sales else None
        if _empty(value):
            value = lead_row.get(key)
        if _empty(value):
            continue
        shown = ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
        quotes = [
            {"quote": clean(q["quote"]), "turn": q.get("turn")} for q in evidence.get(key, [])
        ]
        signals.append({"key": key, "label": label, "value": shown, "quotes": quotes})
    return signals


def _turns(
    transcript: list[Mapping[str, Any]], e2e_limit: float, clean: Clean
) -> list[dict[str, Any]]:
    """Transcript turns with their latencies; bars scaled to the slowest turn or the limit."""
    max_latency = max(
        (float(t["e2e_latency_ms"]) for t in transcript if t.get("e2e_latency_ms") is not None),
        default=0.0,
    )
    turns = []
    for t in transcript:
        lat = t.get("e2e_latency_ms")
        turns.append(
            {
                "index": t.get("turn_index"),
                "role": t.get("role") or "",
                "text": clean(t.get("text") or ""),
                "interrupted": bool(t.get("interrupted")),
                "at": _iso(t.get("created_at")),
                "e2e_latency_ms": lat,
                "llm_ttft_ms": t.get("llm_ttft_ms"),
                "tts_ttfb_ms": t.get("tts_ttfb_ms"),
                "eou_ms": t.get("end_of_turn_delay_ms"),
                "stt_ms": t.get("transcription_delay_ms"),
                "bar_pct": round(100.0 * float(lat) / max(max_latency, e2e_limit), 1)
                if lat is not None
                else None,
                "slow": lat is not None and float(lat) > e2e_limit,
            }
        )
    return turns


def _tools(found: Mapping[str, Any], pii: bool) -> list[dict[str, Any]]:
    return [
        {
            "name": c.get("name"),
            "kind": c.get("kind"),
            "ok": c.get("ok"),
            "is_error": c.get("is_error"),
            "at": _iso(c.get("started_at")),
            "duration_ms": c.get("duration_ms"),
            "arguments": c.get("arguments") if pii else redact_value(c.get("arguments")),
            "output": c.get("output") if pii else redact_value(c.get("output")),
        }
        for c in found.get("tool_calls") or []
    ]


def _session(found: Mapping[str, Any], pii: bool, clean: Clean) -> dict[str, Any]:
    """The session row itself, personal fields redacted for the viewer role."""
    session = {
        k: (_iso(v) if isinstance(v, datetime) else v)
        for k, v in found.items()
        if k not in ("transcript", "tool_calls", "lead", "analysis_results", "analysis")
    }
    if not pii:
        for key in PERSONAL_FIELDS:
            if session.get(key):
                session[key] = "[REDACTED]"
        session["summary"] = clean(session.get("summary") or "")
    return session


def _sentiment_chart(sentiment: Any) -> dict[str, Any]:
    progression = sentiment.get("progression") if isinstance(sentiment, Mapping) else None
    prog = [p for p in progression or [] if isinstance(p, Mapping)]
    if not prog:
        return _EMPTY_CHART
    return {
        "labels": [f"turn {p.get('turn')}" for p in prog],
        "datasets": [{"label": "sentiment", "data": [p.get("score") for p in prog]}],
        "type": "line",
        "min": -1,
        "max": 1,
    }


def _latency_chart(turns: list[dict[str, Any]], e2e_limit: float) -> dict[str, Any]:
    """Per agent turn: LLM TTFT + TTS TTFB stacked next to the measured end-to-end."""
    timed = [t for t in turns if t["e2e_latency_ms"] is not None]
    if not timed:
        return _EMPTY_CHART
    parts = [
        {"label": name, "data": [t[key] for t in timed], "stack": "turn"}
        for key, name in (("llm_ttft_ms", "LLM TTFT"), ("tts_ttfb_ms", "TTS TTFB"))
    ]
    e2e = {"label": "E2E", "data": [t["e2e_latency_ms"] for t in timed], "stack": "e2e"}
    return {
        "labels": [f"#{t['index']}" for t in timed],
        "datasets": [*parts, e2e],
        "type": "bar",
        "unit": "ms",
        "stacked": True,
        "thresholds": [{"label": "E2E threshold", "value": e2e_limit}],
    }


def build(
    found: Mapping[str, Any], profile: Profile, *, pii: bool, thresholds: Mapping[str, float]
) -> dict[str, Any]:
    clean: Clean = (lambda v: v) if pii else (lambda v: redact_text(v) if isinstance(v, str) else v)
    results, versions = _results(found)
    analysis = found.get("analysis") if isinstance(found.get("analysis"), Mapping) else {}
    sales = results.get("sales") or (analysis or {}).get("sales") or {}
    lead_row = found.get("lead") or {}
    signals = _signals(sales, analysis or {}, lead_row, clean)
    e2e_limit = float(thresholds.get("e2e_latency_ms", 1500.0))
    turns = _turns(found.get("transcript") or [], e2e_limit, clean)
    _highlight(turns, signals)
    sentiment = results.get("sentiment") or (analysis or {}).get("sentiment") or {}
    bant = lead_row.get("bant") if isinstance(lead_row.get("bant"), Mapping) else {}
    return {
        "session": _session(found, pii, clean),
        "redacted": not pii,
        "signals": signals,
        "turns": turns,
        "tool_calls": _tools(found, pii),
        "scores": {
            "lead_score": found.get("lead_score"),
            "tier": found.get("lead_tier"),
            "confidence": found.get("lead_confidence"),
            "hot_lead": found.get("hot_lead"),
            "engagement_score": found.get("engagement_score"),
            "sentiment": found.get("sentiment"),
            "bant": bant,
        },
        "sentiment_chart": _sentiment_chart(sentiment),
        "latency_chart": _latency_chart(turns, e2e_limit),
        "analyzer_versions": versions,
        "profile": profile.name,
    }


def _highlight(turns: list[dict[str, Any]], signals: list[dict[str, Any]]) -> None:
    """Split each turn's text into segments, marking the words each signal came from.

    A quote is looked for in the turn it names (else in every caller turn); a quote that
    the transcript does not contain verbatim marks its whole turn instead.
    """
    by_index = {t["index"]: t for t in turns}
    marks: dict[int, list[tuple[int, int, str]]] = {}
    whole: dict[int, list[str]] = {}
    for sig in signals:
        for q in sig["quotes"]:
            quote = str(q.get("quote") or "").strip()
            if not quote:
                continue
            named = by_index.get(q.get("turn"))
            candidates = [named] if named else [t for t in turns if t["role"] == "user"]
            for pos, turn in enumerate(candidates):
                at = turn["text"].lower().find(quote.lower())
                if at >= 0:
                    marks.setdefault(turn["index"], []).append((at, at + len(quote), sig["label"]))
                    break
                if named is not None and pos == 0:
                    whole.setdefault(turn["index"], []).append(sig["label"])
    for t in turns:
        t["segments"] = _segments(t["text"], sorted(marks.get(t["index"], [])))
        t["evidence_for"] = sorted(
            {*whole.get(t["index"], []), *(m[2] for m in marks.get(t["index"], []))}
        )


def _segments(text: str, spans: list[tuple[int, int, str]]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    pos = 0
    for lo, hi, label in spans:
        if lo < pos:  # overlapping quotes: the first one wins
            continue
        if lo > pos:
            out.append({"text": text[pos:lo], "mark": None})
        out.append({"text": text[lo:hi], "mark": label})
        pos = hi
    if pos < len(text) or not out:
        out.append({"text": text[pos:], "mark": None})
    return out
