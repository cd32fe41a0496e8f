"""Call-level judgements over quality, sentiment and tools, merged into ``quality.*``.

- ``satisfaction_proxy`` 0..10 = 10 x (0.40 S + 0.20 E + 0.15 R + 0.15 C + 0.10 (1 - F)):
  S caller sentiment score mapped to 0..1 (``(clamp(2 x score, -1, 1) + 1) / 2``), E natural
  ending, R question resolution rate (1 without questions), C 1 - clarifications / 3 (floor 0),
  F frustration markers / 2 (cap 1).
- ``agent_effectiveness`` 0..10 = 10 x (0.30 R + 0.20 L + 0.20 T + 0.15 (1 - I) + 0.15 G):
  L active-listening turns / 3 (cap 1), T tool success (knowledge searches that found
  something, a booking that did not fail; 1 without tools), I interruption rate / 20 % (cap 1),
  G the call reached its goal (meeting booked or a natural close).
- ``recommendation``: one line on the weakest engagement component when engagement < 6 or
  satisfaction < 5, else null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

VERSION = "1.0.0"
_COMPONENT_MAX = {
    "participation": 3.0,
    "balance": 2.5,
    "curiosity": 1.5,
    "length": 1.5,
    "closing": 1.5,
}
_ADVICE = {
    "participation": "Ask open questions: the caller said little.",
    "balance": "Talk less and listen more: the agent held the floor.",
    "curiosity": "Invite the caller's questions before moving on.",
    "length": "The call was cut short: confirm the caller has time, or offer a callback.",
    "closing": "Close the call explicitly: summarise and agree a next step.",
}


def _clamp(v: float, lo: float = 0.0, hi: float = 1.0) -> float:
    return max(lo, min(hi, v))


def _num(v: Any, default: float = 0.0) -> float:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else default


def satisfaction(quality: Mapping[str, Any], sentiment: Mapping[str, Any]) -> float:
    s = (_clamp(2.0 * _num(sentiment.get("score")), -1.0, 1.0) + 1.0) / 2.0
    e = 1.0 if quality.get("natural_ending") else 0.0
    r = _num(quality.get("question_resolution_rate"), 1.0)
    c = 1.0 - _clamp(_num(quality.get("clarification_requests")) / 3.0)
    f = _clamp(len(sentiment.get("frustration_markers") or []) / 2.0)
    return round(10.0 * (0.40 * s + 0.20 * e + 0.15 * r + 0.15 * c + 0.10 * (1.0 - f)), 1)


def _tool_success(tools: Mapping[str, Any]) -> float:
    parts = []
    if _num(tools.get("kb_searches")) > 0:
        parts.append(_num(tools.get("kb_success_rate"), 1.0))
    if _num(tools.get("booking_attempts")) > 0:
        parts.append(0.0 if tools.get("booking_failed") else 1.0)
    return sum(parts) / len(parts) if parts else 1.0


def effectiveness(quality: Mapping[str, Any], tools: Mapping[str, Any]) -> float:
    r = _num(quality.get("question_resolution_rate"), 1.0)
    listen = _clamp(_num(quality.get("active_listening_turns")) / 3.0)
    t = _tool_success(tools)
    i = _clamp(_num(quality.get("interruption_rate_pct")) / 20.0)
    g = 1.0 if tools.get("meeting_booked") or quality.get("natural_ending") else 0.0
    return round(10.0 * (0.30 * r + 0.20 * listen + 0.20 * t + 0.15 * (1.0 - i) + 0.15 * g), 1)


def recommendation(quality: Mapping[str, Any], satisfaction_proxy: float) -> str | None:
    if _num(quality.get("engagement_score")) >= 6.0 and satisfaction_proxy >= 5.0:
        return None
    parts = quality.get("engagement_components") or {}
    shares = {k: _num(parts.get(k)) / top for k, top in _COMPONENT_MAX.items()}
    weakest = min(shares, key=lambda k: shares[k])
    return _ADVICE[weakest]


@registry.register("quality_insights", VERSION, requires=("quality", "sentiment", "tools"))
def analyze_quality_insights(
    view: CallView, profile: Profile, upstream: Mapping[str, Result]
) -> Result:
    quality, sentiment = upstream["quality"], upstream["sentiment"]
    proxy = satisfaction(quality, sentiment)
    return {
        "satisfaction_proxy": proxy,
        "agent_effectiveness": effectiveness(quality, upstream["tools"]),
        "recommendation": recommendation(quality, proxy),
    }
