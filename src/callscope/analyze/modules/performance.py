"""Voice-pipeline performance and cost: latency percentiles, threshold breaches, errors, USD.

Latency comes from each transcript message's per-turn ``metrics`` (livekit-agents >= 1.8)
first, and from the legacy ``record.metrics`` list of ``MetricsCollectedEvent`` dumps second.
Cost comes from ``record.usage`` priced with the profile's list prices. Reads no transcript
text, so it runs for calls without analytics consent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView
from callscope.profile.model import LlmPrice, Profile

_SECONDS_FIELDS = {  # per-turn MetricsReport key -> output series (milliseconds)
    "e2e_latency": "e2e_latency_ms",
    "llm_node_ttft": "llm_ttft_ms",
    "tts_node_ttfb": "tts_ttfb_ms",
    "end_of_turn_delay": "eou_delay_ms",
    "transcription_delay": "transcription_delay_ms",
}
_MAX_PLAUSIBLE_S = 120.0  # a latency above two minutes is a broken clock, not a slow turn


def percentiles(values: Sequence[float]) -> dict[str, float] | None:
    """``{avg, p50, p95, p99}`` with linear interpolation, or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    last = len(ordered) - 1

    def q(p: float) -> float:
        k = last * p
        lo = int(k)
        hi = min(lo + 1, last)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)

    return {
        "avg": round(sum(ordered) / len(ordered), 1),
        "p50": round(q(0.5), 1),
        "p95": round(q(0.95), 1),
        "p99": round(q(0.99), 1),
    }


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    v = float(value)
    return v if v == v else None  # NaN is no value


def _ms(value: Any) -> float | None:
    v = _num(value)
    if v is None or v < 0 or v > _MAX_PLAUSIBLE_S:
        return None  # LiveKit writes -1 for "no first token"
    return v * 1000.0


def _legacy_series(events: Iterable[Mapping[str, Any]]) -> dict[str, list[float]]:
    series: dict[str, list[float]] = {}
    by_speech: dict[str, dict[str, float]] = {}

    def add(name: str, value: float | None, speech: Any = None, part: str = "") -> None:
        if value is None:
            return
        series.setdefault(name, []).append(value)
        if part and isinstance(speech, str) and speech:
            by_speech.setdefault(speech, {})[part] = value

    for ev in events:
        if not isinstance(ev, Mapping):
            continue
        kind = ev.get("type")
        speech = ev.get("speech_id")
        if kind in ("llm_metrics", "realtime_model_metrics"):
            add("llm_ttft_ms", _ms(ev.get("ttft")), speech, "llm")
            tps = _num(ev.get("tokens_per_second"))
            if tps is not None and tps > 0:
                series.setdefault("llm_tokens_per_s", []).append(tps)
        elif kind == "tts_metrics":
            add("tts_ttfb_ms", _ms(ev.get("ttfb")), speech, "tts")
        elif kind == "eou_metrics":
            add("eou_delay_ms", _ms(ev.get("end_of_utterance_delay")), speech, "eou")
            add("transcription_delay_ms", _ms(ev.get("transcription_delay")))
        elif kind == "stt_metrics":
            duration = _ms(ev.get("duration"))
            if duration:  # 0.0 means a streaming STT: no request duration to report
                add("stt_duration_ms", duration)
    # End-to-end turn latency = EOU delay + LLM TTFT + TTS TTFB of the same speech.
    for parts in by_speech.values():
        if {"eou", "llm", "tts"} <= parts.keys():
            series.setdefault("e2e_latency_ms", []).append(
                parts["eou"] + parts["llm"] + parts["tts"]
            )
    return series


def latency_series(view: CallView) -> tuple[dict[str, list[float]], str]:
    """Per-metric values in ms (tokens/s for throughput) and where they came from."""
    # The view already holds per-turn metrics as floats, so only range checks remain here
    # (NaN fails both comparisons); this loop runs for every turn of every call.
    found: dict[str, list[float]] = {name: [] for name in _SECONDS_FIELDS.values()}
    tps_values: list[float] = []
    fields = tuple(_SECONDS_FIELDS.items())
    for turn in view.turns:
        metrics = turn.metrics
        if not metrics:
            continue
        for key, name in fields:
            value = metrics.get(key)
            if value is not None and 0.0 <= value <= _MAX_PLAUSIBLE_S:
                found[name].append(value * 1000.0)
        tps = metrics.get("llm_node_tps")
        if tps is not None and tps > 0:
            tps_values.append(tps)
    found["llm_tokens_per_s"] = tps_values
    series = {name: values for name, values in found.items() if values}
    legacy = _legacy_series(view.record.metrics)
    parts = ["transcript"] if series else []
    added = [name for name in legacy if name not in series]
    for name in added:
        series[name] = legacy[name]  # per-turn figures win where both exist
    if added:
        parts.append("metrics")
    source = "+".join(parts) or "none"
    return series, source


def _price(table: Mapping[str, Any], provider: str, model: str) -> Any:
    provider, model = provider.lower(), model.lower()
    if "/" in model and not provider:
        provider, model = model.split("/", 1)
    if (hit := table.get(f"{provider}/{model}")) is not None:
        return hit
    # Dated or suffixed model names ("gpt-4.1-mini-2025-04-14") take their family's price.
    prefix = [
        k
        for k in table
        if k.startswith(f"{provider}/")
        and k != f"{provider}/*"
        and model.startswith(k.split("/", 1)[1])
    ]
    if prefix:
        return table[max(prefix, key=len)]
    return table.get(f"{provider}/*")


def _llm_cost(price: LlmPrice, entry: Mapping[str, Any]) -> float:
    inp = _num(entry.get("input_tokens")) or 0.0
    cached = min(inp, _num(entry.get("input_cached_tokens")) or 0.0)
    out = _num(entry.get("output_tokens")) or 0.0
    cached_rate = price.cached_input_per_million
    if cached_rate is None:
        cached_rate = price.input_per_million
    return (
        (inp - cached) * price.input_per_million
        + cached * cached_rate
        + out * price.output_per_million
    ) / 1e6


def _model_usage(
    usage: Mapping[str, Any], events: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    entries = usage.get("model_usage")
    if isinstance(entries, list):
        return [e for e in entries if isinstance(e, dict)]
    # The older UsageSummary has totals but no provider: take the provider from the
    # metrics events' metadata when they carry it.
    meta: dict[str, tuple[str, str]] = {}
    for ev in events:
        md = ev.get("metadata") if isinstance(ev, Mapping) else None
        if isinstance(md, Mapping) and isinstance(ev.get("type"), str):
            kind = str(ev["type"]).split("_")[0]
            meta.setdefault(
                kind, (str(md.get("model_provider") or ""), str(md.get("model_name") or ""))
            )
    out: list[dict[str, Any]] = []
    if any(k.startswith("llm_") for k in usage):
        p, m = meta.get("llm", ("", ""))
        out.append(
            {
                "type": "llm_usage",
                "provider": p,
                "model": m,
                "input_tokens": usage.get("llm_prompt_tokens", 0),
                "input_cached_tokens": usage.get("llm_prompt_cached_tokens", 0),
                "output_tokens": usage.get("llm_completion_tokens", 0),
            }
        )
    if "stt_audio_duration" in usage:
        p, m = meta.get("stt", ("", ""))
        out.append(
            {
                "type": "stt_usage",
                "provider": p,
                "model": m,
                "audio_duration": usage.get("stt_audio_duration", 0),
            }
        )
    if "tts_characters_count" in usage:
        p, m = meta.get("tts", ("", ""))
        out.append(
            {
                "type": "tts_usage",
                "provider": p,
                "model": m,
                "characters_count": usage.get("tts_characters_count", 0),
                "audio_duration": usage.get("tts_audio_duration", 0),
            }
        )
    return out


def cost(view: CallView, profile: Profile) -> dict[str, Any]:
    prices = profile.prices
    breakdown: dict[str, float] = {}
    unpriced: list[str] = []
    usage = view.record.usage if isinstance(view.record.usage, dict) else {}
    for entry in _model_usage(usage, view.record.metrics):
        kind = str(entry.get("type", ""))
        provider = str(entry.get("provider") or "")
        model = str(entry.get("model") or "")
        label = f"{provider or '?'}/{model or '?'}"
        amount: float | None = None
        if kind == "llm_usage":
            price = _price(prices.llm, provider, model)
            if isinstance(price, LlmPrice):
                amount = _llm_cost(price, entry)
        elif kind == "stt_usage":
            rate = _price(prices.stt_per_minute, provider, model)
            seconds = _num(entry.get("audio_duration")) or 0.0
            if rate is not None:
                amount = seconds / 60.0 * float(rate)
        elif kind == "tts_usage":
            rate = _price(prices.tts_per_million_chars, provider, model)
            chars = _num(entry.get("characters_count")) or 0.0
            if rate is not None:
                amount = chars / 1e6 * float(rate)
        else:
            continue
        if amount is None:
            unpriced.append(label)
            continue
        key = f"{kind.removesuffix('_usage')}:{label}"
        breakdown[key] = breakdown.get(key, 0.0) + amount
    if prices.livekit_per_minute and view.duration_s > 0:
        breakdown["livekit"] = view.duration_s / 60.0 * prices.livekit_per_minute
    total = sum(breakdown.values())
    by_provider: dict[str, float] = {}
    for key, amount in breakdown.items():
        provider = key.split(":", 1)[1].split("/", 1)[0] if ":" in key else key
        by_provider[provider] = by_provider.get(provider, 0.0) + amount
    return {
        "cost_usd": round(total, 6) if breakdown else None,
        "cost_breakdown": {k: round(v, 6) for k, v in breakdown.items()},
        "cost_by_provider": {k: round(v, 6) for k, v in by_provider.items()},
        "unpriced_models": unpriced,
    }


@registry.register("performance", "1.1.0", needs_text=False)
def analyze_performance(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    series, source = latency_series(view)
    stt_source = "stt_metrics" if series.get("stt_duration_ms") else None
    if not stt_source and series.get("transcription_delay_ms"):
        # Streaming STT reports no request duration; the time from end of speech to the final
        # transcript is the STT time the caller waits for.
        series["stt_duration_ms"] = series["transcription_delay_ms"]
        stt_source = "transcription_delay"
    stats = {name: percentiles(values) for name, values in series.items()}
    th = profile.thresholds
    breaches: list[dict[str, Any]] = []

    def check(metric: str, limit: float, above: bool = True) -> None:
        values = series.get(metric) or []
        s = stats.get(metric)
        if not values or s is None:
            return
        over = sum(1 for v in values if (v > limit if above else v < limit))
        figure = s["p95"] if above else s["p50"]
        if (figure > limit) if above else (figure < limit):
            breaches.append(
                {"metric": metric, "value": figure, "threshold": limit, "turns_over": over}
            )

    check("e2e_latency_ms", th.e2e_latency_ms)
    check("llm_ttft_ms", th.llm_ttft_ms)
    check("tts_ttfb_ms", th.tts_ttfb_ms)
    check("stt_duration_ms", th.stt_duration_ms)
    check("llm_tokens_per_s", th.llm_tokens_per_second_min, above=False)

    errors_by_source: dict[str, int] = {}
    for err in view.record.errors:
        src = (err.source or "unknown").lower()
        errors_by_source[src] = errors_by_source.get(src, 0) + 1
    tool_errors = sum(1 for t in view.tools if t.is_error)
    operations = sum(1 for t in view.turns if t.is_agent) + len(view.tools)
    error_count = len(view.record.errors) + tool_errors
    error_rate = 100.0 * error_count / operations if operations else (100.0 if error_count else 0.0)
    if error_rate > th.error_rate_pct:
        breaches.append(
            {
                "metric": "error_rate_pct",
                "value": round(error_rate, 2),
                "threshold": th.error_rate_pct,
                "turns_over": error_count,
            }
        )

    conn = view.record.connection
    audio, audio_source = audio_quality(view)
    if audio is not None and audio < th.audio_quality_min:
        breaches.append(
            {
                "metric": "audio_quality",
                "value": audio,
                "threshold": th.audio_quality_min,
                "turns_over": 0,
            }
        )
    usage = usage_totals(view)
    tps = stats.get("llm_tokens_per_s")
    return {
        "e2e_latency_ms": stats.get("e2e_latency_ms"),
        "llm_ttft_ms": stats.get("llm_ttft_ms"),
        "tts_ttfb_ms": stats.get("tts_ttfb_ms"),
        "eou_delay_ms": stats.get("eou_delay_ms"),
        "transcription_delay_ms": stats.get("transcription_delay_ms"),
        "stt_duration_ms": stats.get("stt_duration_ms"),
        "llm_tokens_per_s": stats.get("llm_tokens_per_s"),
        "latency_source": source,
        "breaches": breaches,
        "errors": error_count,
        "errors_by_source": errors_by_source,
        "tool_errors": tool_errors,
        "error_rate_pct": round(error_rate, 2),
        "packet_loss_pct": conn.packet_loss_pct,
        "jitter_ms": conn.jitter_ms,
        "duration_s": round(view.duration_s, 2),
        "stt_duration_source": stt_source,
        **usage,
        "tokens_per_s": tps["avg"] if tps else None,
        "audio_quality": audio,
        "audio_quality_source": audio_source,
        "score": performance_score(stats, error_rate, audio, profile),
        **cost(view, profile),
    }


def usage_totals(view: CallView) -> dict[str, Any]:
    """Token, TTS character and TTS audio totals from ``record.usage``."""
    usage = view.record.usage if isinstance(view.record.usage, dict) else {}
    tokens = chars = 0.0
    audio = 0.0
    seen_llm = seen_tts = False
    for entry in _model_usage(usage, view.record.metrics):
        kind = entry.get("type")
        if kind == "llm_usage":
            seen_llm = True
            tokens += (_num(entry.get("input_tokens")) or 0.0) + (
                _num(entry.get("output_tokens")) or 0.0
            )
        elif kind == "tts_usage":
            seen_tts = True
            chars += _num(entry.get("characters_count")) or 0.0
            audio += _num(entry.get("audio_duration")) or 0.0
    return {
        "total_tokens": int(tokens) if seen_llm else None,
        "tts_characters": int(chars) if seen_tts else None,
        "tts_audio_s": round(audio, 2) if seen_tts else None,
    }


def _extra(model: Any, *keys: str) -> float | None:
    extra = getattr(model, "model_extra", None) or {}
    for key in keys:
        value = _num(extra.get(key))
        if value is not None:
            return value
    return None


def audio_quality(view: CallView) -> tuple[float | None, str | None]:
    """MOS 1..5: the record's own figure, else estimated from packet loss and jitter.

    The estimate is the ITU-T G.107 E-model simplified for wideband voice with loss
    concealment: ``R = 93.2 - Id - Ie_eff``, ``Ie_eff = 95 x loss / (loss + 25)``,
    ``Id = 0.024 d + 0.11 (d - 177.3) [d > 177.3]`` with ``d = 20 + 2 x jitter`` ms, then
    ``MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)``.
    """
    conn = view.record.connection
    if conn is None:
        return None, None
    own = _extra(conn, "audio_quality", "mos", "audio_mos")
    if own is not None and 1.0 <= own <= 5.0:
        return round(own, 2), "record"
    loss, jitter = _num(conn.packet_loss_pct), _num(conn.jitter_ms)
    if loss is None and jitter is None:
        return None, None
    loss = max(0.0, loss or 0.0)
    d = 20.0 + 2.0 * max(0.0, jitter or 0.0)
    delay = 0.024 * d + (0.11 * (d - 177.3) if d > 177.3 else 0.0)
    r = max(0.0, min(100.0, 93.2 - delay - 95.0 * loss / (loss + 25.0)))
    mos = 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r)
    return round(max(1.0, min(4.5, mos)), 2), "estimated"


def _within(value: float | None, limit: float) -> float:
    """1 at or under the limit, falling linearly to 0 at twice the limit."""
    if value is None or limit <= 0:
        return 1.0
    return max(0.0, min(1.0, 2.0 - value / limit))


def performance_score(
    stats: Mapping[str, dict[str, float] | None],
    error_rate: float,
    audio: float | None,
    profile: Profile,
) -> int:
    """0..100 = 100 x (0.35 L + 0.15 T + 0.15 K + 0.20 E + 0.15 A) (docs/analyzers.md)."""
    th = profile.thresholds

    def p95(name: str) -> float | None:
        s = stats.get(name)
        return s["p95"] if s else None

    latency = _within(p95("e2e_latency_ms"), th.e2e_latency_ms)
    ttft = _within(p95("llm_ttft_ms"), th.llm_ttft_ms) + _within(p95("tts_ttfb_ms"), th.tts_ttfb_ms)
    tps = stats.get("llm_tokens_per_s")
    throughput = (
        min(1.0, tps["p50"] / th.llm_tokens_per_second_min)
        if tps and th.llm_tokens_per_second_min > 0
        else 1.0
    )
    errors = 1.0 - min(1.0, error_rate / (2.0 * th.error_rate_pct)) if th.error_rate_pct else 1.0
    sound = (
        1.0
        if audio is None or audio >= th.audio_quality_min
        else max(0.0, (audio - 1.0) / (th.audio_quality_min - 1.0))
    )
    total = 0.35 * latency + 0.15 * ttft / 2 + 0.15 * throughput + 0.20 * errors + 0.15 * sound
    return round(100.0 * total)
