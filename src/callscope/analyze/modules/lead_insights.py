"""Lead detail beside the rule score, merged into ``lead.*`` (see ``analyze/output.py``).

- ``sub_scores`` {company_fit, engagement, intent, urgency, authority}, 0..100 each: the
  strategy's lead-scoring inputs as shares of their possible rule points, plus engagement and
  intent read from the call (formulas in docs/analyzers.md);
- ``signal_confidence`` {field: 0..1}, ``time_to_qualification_s``, ``discovery_completion``;
- ``score_model`` / ``tier_model`` when a learned scorer is configured (the rule score stays).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from callscope.analyze.modules import vocab
from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView
from callscope.outcomes.model import LeadModel, load_lead_model
from callscope.profile.model import Profile

VERSION = "1.0.0"
MODEL_ENV = "CALLSCOPE_LEAD_MODEL"
_URGENCY_LEVEL = {"high": 100.0, "medium": 60.0, "low": 0.0}


def _max_points(profile: Profile, field: str) -> int:
    scoring: Any = profile.scoring
    points = getattr(scoring, "points", None)
    if isinstance(points, Mapping):  # new profile shape
        spec = points.get(field)
        if isinstance(spec, Mapping):
            return max((int(v) for v in spec.values()), default=0)
        return int(spec) if isinstance(spec, int | float) else 0
    spec = getattr(scoring, field, None)
    if isinstance(spec, Mapping):
        return max((int(v) for v in spec.values()), default=0)
    if isinstance(spec, list):
        return max((int(b.points) for b in spec), default=0)
    return 0


def _share(profile: Profile, breakdown: Mapping[str, Any], fields: list[str]) -> float:
    possible = sum(_max_points(profile, f) for f in fields)
    got = sum(float(breakdown.get(f) or 0) for f in fields)
    return round(100.0 * got / possible, 1) if possible else 0.0


def sub_scores(profile: Profile, upstream: Mapping[str, Result]) -> dict[str, float]:
    lead = upstream.get("lead") or {}
    breakdown = lead.get("breakdown") or {}
    groups = profile.insights.lead_inputs
    quality = upstream.get("quality") or {}
    insights = upstream.get("insights") or {}
    tools = upstream.get("tools") or {}
    sentiment = upstream.get("sentiment") or {}
    kinds = {s.get("kind") for s in insights.get("buying_signals") or []}
    intent = (
        20.0 * min(len(kinds), 3)
        + 30.0 * bool(tools.get("meeting_booked"))
        + 5.0 * min(len(sentiment.get("intent_markers") or []), 2)
    )
    urgency = max(
        _share(profile, breakdown, groups.get("urgency", [])),
        _URGENCY_LEVEL.get(str(insights.get("urgency")), 0.0),
    )
    return {
        "company_fit": _share(profile, breakdown, groups.get("company_fit", [])),
        "engagement": round(10.0 * float(quality.get("engagement_score") or 0.0), 1),
        "intent": round(min(100.0, intent), 1),
        "urgency": round(urgency, 1),
        "authority": _share(profile, breakdown, groups.get("authority", [])),
    }


def _turn_confidence(view: CallView) -> dict[int, float]:
    return {t.index: t.confidence for t in view.turns if t.confidence is not None}


def signal_confidence(
    view: CallView, profile: Profile, upstream: Mapping[str, Result]
) -> dict[str, float]:
    """0 unknown; else 0.6, +0.25 with a quote, +0.15 with two, times the quotes' ASR confidence."""
    asr = _turn_confidence(view)
    out: dict[str, float] = {}
    for field in discovery_fields(profile):
        if not vocab.known(vocab.signal(upstream, field)):
            out[field] = 0.0
            continue
        quotes = vocab.evidence(upstream, field)
        base = 0.6 + 0.25 * bool(quotes) + 0.15 * (len(quotes) >= 2)
        heard = [asr[q["turn"]] for q in quotes if q.get("turn") in asr]
        factor = sum(heard) / len(heard) if heard else 1.0
        out[field] = round(max(0.0, min(1.0, base * factor)), 3)
    return out


def discovery_fields(profile: Profile) -> list[str]:
    return list(profile.insights.discovery_fields) or vocab.scored_fields(profile)


def time_to_qualification(
    view: CallView, profile: Profile, upstream: Mapping[str, Result]
) -> float | None:
    """Seconds from the call's start to the turn where the last known scored field appeared."""
    by_index = {t.index: t for t in view.turns}
    last: float | None = None
    start = view.started_at.timestamp()
    for field in vocab.scored_fields(profile):
        if not vocab.known(vocab.signal(upstream, field)):
            continue
        turns = [q["turn"] for q in vocab.evidence(upstream, field) if q.get("turn") in by_index]
        if not turns:
            continue
        t = by_index[min(turns)]
        at = t.stopped_speaking_at or t.created_at
        if at is None:
            continue
        last = max(last or 0.0, at - start)
    return round(max(0.0, last), 1) if last is not None else None


def _model() -> LeadModel | None:
    path = os.environ.get(MODEL_ENV, "").strip()
    return load_lead_model(path) if path else None


def _model_salt() -> str:
    """The learned model's version is part of this analyzer's (a new model re-runs it)."""
    try:
        model = _model()
    except ValueError as exc:  # the analyzer itself reports it, as its error
        return f"unloadable: {exc}"
    return model.version if model is not None else ""


@registry.register(
    "lead_insights",
    VERSION,
    requires=("sales", "lead", "quality", "insights", "tools", "sentiment"),
    salt=_model_salt,
)
def analyze_lead_insights(
    view: CallView, profile: Profile, upstream: Mapping[str, Result]
) -> Result:
    fields = discovery_fields(profile)
    known = sum(vocab.known(vocab.signal(upstream, f)) for f in fields)
    out: Result = {
        "sub_scores": sub_scores(profile, upstream),
        "signal_confidence": signal_confidence(view, profile, upstream),
        "time_to_qualification_s": time_to_qualification(view, profile, upstream),
        "discovery_completion": round(known / len(fields), 3) if fields else 0.0,
    }
    model = _model()
    if model is not None:
        merged = {**upstream, "lead": {**(upstream.get("lead") or {}), **out}}
        out.update(model.apply(merged))
    return out
