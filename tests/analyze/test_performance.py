from __future__ import annotations

from typing import Any

import pytest

from callscope.analyze import build_view
from callscope.analyze.modules.performance import analyze_performance, percentiles
from callscope.analyze.registry import registry
from tests.analyze.callbuilder import contract, profile, record, view


def agent(e2e: float, ttft: float = 0.4, ttfb: float = 0.2, tps: float = 80) -> dict[str, Any]:
    return {
        "agent": "ok",
        "metrics": {
            "e2e_latency": e2e,
            "llm_node_ttft": ttft,
            "tts_node_ttfb": ttfb,
            "llm_node_tps": tps,
        },
    }


def run(turns: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    return analyze_performance(view(turns, **kw), profile(), {})


def test_percentiles_interpolate() -> None:
    assert percentiles([]) is None
    assert percentiles([1.0]) == {"avg": 1.0, "p50": 1.0, "p95": 1.0, "p99": 1.0}
    p = percentiles([float(v) for v in range(1, 101)])
    assert p == {"avg": 50.5, "p50": 50.5, "p95": 95.0, "p99": 99.0}


def test_per_turn_metrics_in_milliseconds_and_breaches() -> None:
    turns = [
        agent(0.9, tps=40),
        {"user": "hi", "metrics": {"end_of_turn_delay": 0.5, "transcription_delay": 0.1}},
        agent(2.1, ttft=1.2, ttfb=0.5, tps=30),
    ]
    r = run(turns)
    assert r["e2e_latency_ms"] == {"avg": 1500.0, "p50": 1500.0, "p95": 2040.0, "p99": 2088.0}
    assert r["eou_delay_ms"]["avg"] == 500.0 and r["transcription_delay_ms"]["avg"] == 100.0
    assert r["latency_source"] == "transcript"
    assert {b["metric"] for b in r["breaches"]} == {
        "e2e_latency_ms",
        "llm_ttft_ms",
        "tts_ttfb_ms",
        "llm_tokens_per_s",
    }


def test_legacy_metrics_events_second() -> None:
    events = [
        {
            "type": "eou_metrics",
            "timestamp": 1.0,
            "end_of_utterance_delay": 0.6,
            "transcription_delay": 0.2,
            "on_user_turn_completed_delay": 0.0,
            "speech_id": "s1",
        },
        {
            "type": "llm_metrics",
            "label": "x",
            "request_id": "r",
            "timestamp": 1.1,
            "duration": 1.0,
            "ttft": 0.5,
            "cancelled": False,
            "completion_tokens": 10,
            "prompt_tokens": 100,
            "prompt_cached_tokens": 0,
            "total_tokens": 110,
            "tokens_per_second": 40.0,
            "speech_id": "s1",
        },
        {"type": "llm_metrics", "ttft": -1, "tokens_per_second": 0.0, "speech_id": "s2"},
        {"type": "tts_metrics", "ttfb": 0.25, "speech_id": "s1"},
        {"type": "stt_metrics", "duration": 0.0, "streamed": True},
        {"type": "stt_metrics", "duration": 0.7, "streamed": False},
        {"type": "vad_metrics", "idle_time": 3},
        {"no_type": True, "ttft": "fast"},
    ]
    r = run([{"agent": "hi"}], metrics=events)
    assert r["latency_source"] == "metrics"
    assert r["e2e_latency_ms"]["avg"] == 1350.0  # 600 + 500 + 250 for speech s1
    assert r["llm_ttft_ms"]["avg"] == 500.0  # the -1 "no token" is left out
    assert r["stt_duration_ms"]["avg"] == 700.0  # streaming 0.0 is not a duration
    assert {b["metric"] for b in r["breaches"]} >= {"stt_duration_ms", "llm_tokens_per_s"}


def test_no_metrics_gives_null_latency() -> None:
    r = run([{"agent": "hi"}, {"user": "hello"}])
    assert r["e2e_latency_ms"] is None and r["latency_source"] == "none"
    assert r["breaches"] == []


def test_implausible_values_are_dropped() -> None:
    r = run([agent(-3.0), agent(99999.0), agent(1.0)])
    assert r["e2e_latency_ms"]["avg"] == 1000.0


def test_cost_from_model_usage() -> None:
    usage = {
        "model_usage": [
            {
                "type": "llm_usage",
                "provider": "openai",
                "model": "gpt-4.1-mini-2025-04-14",
                "input_tokens": 1_000_000,
                "input_cached_tokens": 500_000,
                "output_tokens": 100_000,
            },
            {"type": "stt_usage", "provider": "deepgram", "model": "nova-3", "audio_duration": 600},
            {
                "type": "tts_usage",
                "provider": "cartesia",
                "model": "sonic-2",
                "characters_count": 10_000,
            },
            {"type": "tts_usage", "provider": "acme", "model": "voice-1", "characters_count": 5},
            {"type": "interruption_usage", "provider": "livekit", "model": "x"},
        ]
    }
    r = run([{"agent": "hi"}], usage=usage, duration_seconds=120)
    b = r["cost_breakdown"]
    assert b["llm:openai/gpt-4.1-mini-2025-04-14"] == pytest.approx(0.2 + 0.05 + 0.16)
    assert b["stt:deepgram/nova-3"] == pytest.approx(10 * 0.0043)
    assert b["tts:cartesia/sonic-2"] == pytest.approx(0.38)
    assert b["livekit"] == pytest.approx(0.02)
    assert r["cost_usd"] == pytest.approx(sum(b.values()), abs=1e-5)
    assert r["unpriced_models"] == ["acme/voice-1"]
    assert set(r["cost_by_provider"]) == {"openai", "deepgram", "cartesia", "livekit"}


def test_cost_from_older_usage_summary_with_provider_from_metrics() -> None:
    usage = {
        "llm_prompt_tokens": 2_000_000,
        "llm_prompt_cached_tokens": 0,
        "llm_completion_tokens": 0,
        "stt_audio_duration": 60.0,
        "tts_characters_count": 0,
        "tts_audio_duration": 0.0,
    }
    events = [
        {
            "type": "llm_metrics",
            "ttft": 0.3,
            "metadata": {"model_provider": "openai", "model_name": "gpt-4o-mini"},
        }
    ]
    r = run([{"agent": "hi"}], usage=usage, metrics=events, duration_seconds=0)
    assert r["cost_breakdown"]["llm:openai/gpt-4o-mini"] == pytest.approx(0.30)
    assert "?/?" in r["unpriced_models"]  # stt/tts without a provider cannot be priced


def test_errors_and_error_rate() -> None:
    rec = record(
        [{"agent": "a"}, {"agent": "b"}],
        errors=[
            {"source": "STT", "message": "x"},
            {"source": "llm", "message": "y"},
            {"message": "z"},
        ],
    )
    r = analyze_performance(build_view(rec), profile(), {})
    assert r["errors"] == 3 and r["errors_by_source"] == {"stt": 1, "llm": 1, "unknown": 1}
    assert r["error_rate_pct"] == 150.0
    assert any(b["metric"] == "error_rate_pct" for b in r["breaches"])


def test_runs_without_analytics_consent() -> None:
    assert registry.get("performance").needs_text is False
    assert registry.get("tools").needs_text is False
    rec = record([agent(1.0)], consent={"recording": False, "analytics": False})
    out = contract(rec)
    assert out["performance"]["e2e_latency_ms"]["avg"] == 1000.0
    assert "sentiment" in out.get("skipped", {})
