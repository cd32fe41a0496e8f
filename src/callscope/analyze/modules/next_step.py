"""What to do after the call (``next_step.*``), from the profile's rule tables.

``next_best_action`` and ``follow_up_priority`` come from the first ``insights.next_best_actions``
rule whose ``when`` holds against the analysis so far (rule syntax in profile/insights.py);
``recommended_owner`` from the first ``insights.routing`` rule; ``battlecards`` list the
profile's battlecard for each competitor the caller named; ``follow_up_date`` is the rule's
``follow_up_days`` after the call, else the earliest dated follow-up the agent promised, else
the booked meeting's date.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from callscope.analyze.modules import vocab
from callscope.analyze.registry import Result, registry
from callscope.analyze.view import CallView
from callscope.profile.model import Profile

VERSION = "1.0.0"


def _priority_fallback(upstream: Mapping[str, Result]) -> str:
    lead = upstream.get("lead") or {}
    if lead.get("hot_lead"):
        return "high"
    return "medium" if lead.get("tier") not in (None, "", "unqualified") else "low"


def _battlecards(profile: Profile, upstream: Mapping[str, Result]) -> list[dict[str, Any]]:
    cards = profile.insights.battlecards
    names = vocab.synonyms(profile, "competitors")
    competitors = vocab.signal(upstream, "competitors") or []
    current = vocab.signal(upstream, "current_tool")
    ordered = list(competitors) + ([current] if isinstance(current, str) else [])
    out: list[dict[str, Any]] = []
    for cid in dict.fromkeys(ordered):
        if cid in cards:
            label = _label(profile, "competitors", cid, names)
            out.append({"competitor": cid, "label": label, "battlecard": cards[cid]})
    return out


def _label(profile: Profile, field: str, vid: str, names: Mapping[str, list[str]]) -> str:
    label = getattr(profile, "label", None)
    if callable(label):
        try:
            return str(label(field, vid))
        except (KeyError, ValueError, AttributeError):
            pass
    spoken = names.get(vid) or []
    return spoken[0].title() if spoken else vid.replace("_", " ").title()


def _follow_up_date(view: CallView, upstream: Mapping[str, Result], days: int | None) -> str | None:
    if days is not None:
        return (view.started_at.date() + timedelta(days=days)).isoformat()
    actions = upstream.get("actions") or {}
    dated = sorted(
        str(f["due_date"])
        for f in actions.get("follow_ups") or []
        if isinstance(f, Mapping) and f.get("due_date")
    )
    if dated:
        return dated[0]
    meeting = (upstream.get("tools") or {}).get("meeting") or {}
    when = meeting.get("date") if isinstance(meeting, Mapping) else None
    try:
        return date.fromisoformat(str(when)).isoformat() if when else None
    except ValueError:
        return None


@registry.register(
    "next_step", VERSION, requires=("lead", "tools", "insights", "sentiment", "actions")
)
def analyze_next_step(view: CallView, profile: Profile, upstream: Mapping[str, Result]) -> Result:
    cfg = profile.insights
    rule = next((r for r in cfg.next_best_actions if vocab.rule_holds(r.when, upstream)), None)
    owner = next((r.owner for r in cfg.routing if vocab.rule_holds(r.when, upstream)), None)
    return {
        "next_best_action": rule.action if rule else cfg.default_action,
        "follow_up_priority": (rule.priority if rule and rule.priority else None)
        or _priority_fallback(upstream),
        "recommended_owner": owner or cfg.default_owner,
        "battlecards": _battlecards(profile, upstream),
        "follow_up_date": _follow_up_date(view, upstream, rule.follow_up_days if rule else None),
        "rule": cfg.next_best_actions.index(rule) if rule else None,
    }
