"""The executive summary as structured text (``executive_summary``).

``{situation, key_numbers, risk_factors, takeaways, next_action}``, assembled from the other
modules' results (read defensively: a missing module only removes its lines). ``summary``
stays the contract's one-to-three-sentence string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

VERSION = "1.0.0"
_MAX_LINES = 5


def _sec(upstream: Mapping[str, Result], name: str) -> Mapping[str, Any]:
    found = upstream.get(name)
    return found if isinstance(found, Mapping) else {}


def _label(value: Any) -> str:
    return str(value).replace("_", " ")


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def situation(view: CallView, upstream: Mapping[str, Result]) -> str:
    summary = _sec(upstream, "summary")
    first = str(summary.get("text") or "").split(". ")[0].rstrip(".")
    sentiment = _sec(upstream, "sentiment")
    quality = _sec(upstream, "quality")
    tone = sentiment.get("tone") or sentiment.get("overall")
    tail = []
    if tone:
        tail.append(f"the caller ended {_label(tone)}")
    if quality:
        tail.append(
            "the call closed naturally"
            if quality.get("natural_ending")
            else "the call ended abruptly"
        )
    text = first or f"{round(view.duration_s)} s call"
    return text + (" — " + ", ".join(tail) if tail else "") + "."


def key_numbers(view: CallView, upstream: Mapping[str, Result]) -> list[str]:
    sales, lead = _sec(upstream, "sales"), _sec(upstream, "lead")
    perf, lead_x = _sec(upstream, "performance"), _sec(upstream, "lead_insights")
    out: list[str] = []
    if lead.get("tier"):
        out.append(f"Lead score {lead.get('score')} ({_label(lead['tier'])})")
    for key, unit in (("team_size", "users"), ("monthly_volume", "documents a month")):
        if _num(sales.get(key)) is not None:
            out.append(f"{int(sales[key])} {unit}")
    done = _num(lead_x.get("discovery_completion"))
    if done is not None:
        out.append(f"Discovery {round(100 * done)} % complete")
    out.append(f"{round(view.duration_s)} s call")
    cost = _num(perf.get("cost_usd"))
    if cost is not None:
        out.append(f"Cost ${cost:.3f}")
    e2e = perf.get("e2e_latency_ms")
    if isinstance(e2e, Mapping) and _num(e2e.get("p95")) is not None:
        out.append(f"p95 latency {int(e2e['p95'])} ms")
    return out


def risk_factors(upstream: Mapping[str, Result]) -> list[str]:
    sales, tools = _sec(upstream, "sales"), _sec(upstream, "tools")
    sentiment, quality = _sec(upstream, "sentiment"), _sec(upstream, "quality")
    perf = _sec(upstream, "performance")
    out: list[str] = []
    objections = [o for o in sales.get("objections") or [] if isinstance(o, str)]
    if objections:
        out.append("Objections: " + ", ".join(_label(o) for o in objections))
    competitors = [c for c in sales.get("competitors") or [] if isinstance(c, str)]
    if competitors:
        out.append("Competitors in play: " + ", ".join(_label(c) for c in competitors))
    if sentiment.get("overall") == "negative":
        out.append("Caller sentiment negative")
    if tools.get("booking_failed"):
        out.append("Meeting booking failed")
    unanswered = _num(quality.get("unanswered_questions"))
    if unanswered:
        out.append(f"{int(unanswered)} caller question(s) left unanswered")
    for breach in perf.get("breaches") or []:
        if isinstance(breach, Mapping):
            out.append(f"{_label(breach.get('metric'))} over threshold ({breach.get('value')})")
    return out[:_MAX_LINES]


def takeaways(upstream: Mapping[str, Result]) -> list[str]:
    insights, tools = _sec(upstream, "insights"), _sec(upstream, "tools")
    out: list[str] = []
    kinds = sorted({str(s.get("kind")) for s in insights.get("buying_signals") or []})
    if kinds:
        out.append("Buying signals: " + ", ".join(_label(k) for k in kinds))
    wanted = [f for f in insights.get("feature_requests") or [] if f.get("interest") == "high"]
    if wanted:
        out.append("Must-have features: " + ", ".join(_label(f["feature"]) for f in wanted))
    people = insights.get("stakeholders") or []
    if people:
        named = [
            f"{p['name']} ({_label(p['role'])})" if p.get("name") else _label(p["role"])
            for p in people
        ]
        out.append("Stakeholders: " + ", ".join(named))
    if insights.get("urgency") == "high":
        out.append("Urgent: the caller wants to move now")
    if tools.get("meeting_booked"):
        out.append("Meeting booked")
    return out[:_MAX_LINES]


def next_action(upstream: Mapping[str, Result]) -> str | None:
    step = _sec(upstream, "next_step")
    action = step.get("next_best_action")
    if not action:
        return None
    extra = [str(step[k]) for k in ("recommended_owner", "follow_up_date") if step.get(k)]
    return f"{action}" + (f" ({', '.join(extra)})" if extra else "")


@registry.register(
    "executive_summary", VERSION, requires=("next_step", "performance", "lead_insights", "summary")
)
def analyze_executive(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    return {
        "situation": situation(view, upstream),
        "key_numbers": key_numbers(view, upstream),
        "risk_factors": risk_factors(upstream),
        "takeaways": takeaways(upstream),
        "next_action": next_action(upstream),
    }
