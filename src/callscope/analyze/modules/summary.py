"""Executive summary: one to three factual sentences with the call's key numbers.

Reads the other analyzers' results defensively and requires none of them, so a summary is
written even when an upstream module failed or was skipped. The registry runs analyzers in
registration order after their requirements; importing the sales-side modules first (when
they exist) makes sure their results are in ``upstream`` by the time this one runs.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Mapping
from typing import Any

from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

for _name in ("sales", "lead", "objections"):
    # Registers them ahead of this module; absent modules are simply not summarised.
    with contextlib.suppress(ImportError):
        importlib.import_module(f"callscope.analyze.modules.{_name}")


def _section(upstream: Mapping[str, Result], name: str) -> Mapping[str, Any]:
    value = upstream.get(name)
    return value if isinstance(value, Mapping) else {}


def _label(value: Any) -> str:
    return str(value).replace("_", " ")


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _profile_sentence(view: CallView, sales: Mapping[str, Any]) -> str | None:
    company = view.record.participant.metadata.get("company")
    who = str(company) if isinstance(company, str) and company.strip() else "The caller"
    facts: list[str] = []
    industry = sales.get("industry")
    if isinstance(industry, str) and industry != "other":
        facts.append(f"{_label(industry)}")
    use_case = sales.get("use_case")
    team = _num(sales.get("team_size"))
    volume = _num(sales.get("monthly_volume"))
    parts: list[str] = []
    if isinstance(use_case, str):
        parts.append(f"wants it for {_label(use_case)}")
    if team is not None:
        parts.append(f"{int(team)} user{'s' if team != 1 else ''}")
    if volume is not None:
        parts.append(f"about {int(volume)} documents a month")
    tool = sales.get("current_tool")
    if isinstance(tool, str):
        parts.append(f"currently on {_label(tool)}")
    integrations = [i for i in sales.get("integrations") or [] if isinstance(i, str)]
    if integrations:
        parts.append("needs " + ", ".join(_label(i) for i in integrations[:3]))
    if not parts:
        return None
    head = f"{who} ({facts[0]})" if facts else who
    return f"{head} " + "; ".join(parts) + "."


@registry.register("summary", "1.0.0")
def analyze_summary(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    sales, lead = _section(upstream, "sales"), _section(upstream, "lead")
    tools, quality = _section(upstream, "tools"), _section(upstream, "quality")
    sentiment, perf = _section(upstream, "sentiment"), _section(upstream, "performance")
    actions = _section(upstream, "actions")
    sentences: list[str] = []

    first = _profile_sentence(view, sales)
    if first:
        sentences.append(first)

    outcome: list[str] = []
    if lead.get("tier"):
        score = _num(lead.get("score"))
        outcome.append(
            f"Lead {_label(lead['tier'])}" + (f" (score {int(score)})" if score is not None else "")
        )
    meeting = actions.get("meeting") if isinstance(actions.get("meeting"), Mapping) else None
    if tools.get("meeting_booked"):
        when = ""
        detail = tools.get("meeting")
        if isinstance(detail, Mapping) and detail.get("date"):
            when = f" for {detail['date']}" + (f" {detail['time']}" if detail.get("time") else "")
        outcome.append(f"meeting booked{when}")
    elif tools.get("booking_failed") or (meeting and meeting.get("status") == "failed"):
        outcome.append("meeting booking failed")
    elif tools:
        outcome.append("no meeting booked")
    follow = actions.get("follow_up_count")
    if isinstance(follow, int) and follow:
        outcome.append(f"{follow} follow-up{'s' if follow != 1 else ''} promised")
    if outcome:
        text = ", ".join(outcome)
        sentences.append(text[0].upper() + text[1:] + ".")

    call: list[str] = []
    duration = view.duration_s
    call.append(f"{round(duration)} s call" if duration else "Call")
    if quality:
        call.append("ended naturally" if quality.get("natural_ending") else "ended abruptly")
    if sentiment.get("overall"):
        call.append(f"caller sentiment {sentiment['overall']}")
    kb = tools.get("kb_searches")
    if isinstance(kb, int) and kb:
        call.append(f"{tools.get('kb_failed_searches', 0)} of {kb} knowledge searches failed")
    e2e = perf.get("e2e_latency_ms")
    if isinstance(e2e, Mapping) and _num(e2e.get("p95")) is not None:
        slow = float(e2e["p95"]) > profile.thresholds.e2e_latency_ms
        call.append(f"p95 latency {int(e2e['p95'])} ms" + (" (over threshold)" if slow else ""))
    sentences.append(", ".join(call) + ".")
    return {"text": " ".join(sentences[:3]), "sentences": len(sentences[:3])}
