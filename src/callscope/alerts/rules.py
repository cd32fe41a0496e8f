"""Per-call alert rules, evaluated by the worker on each analysed session.

Rules are pure functions of ``(session_id, analysis, profile, record)``: business alerts to
sales (hot lead, meeting booked, competitor mentioned, failed booking) with the context a
rep acts on, and per-call quality breaches to engineering and product. Each alert has a
deterministic id (``rule:session_id``) so reprocessing a session never fires it twice. The
windowed operational rules (agent down, error rate, backlog ...) live in
:mod:`callscope.alerts.windowed`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from callscope.alerts.context import (
    battlecard_for,
    competitor_mentions,
    crm_link,
    key_signals,
    qualification_summary,
    recommended_action,
    section,
    who,
)
from callscope.contract.record import SessionRecord
from callscope.profile.alerts import RuleConfig
from callscope.profile.model import Profile


@dataclass(frozen=True)
class Alert:
    rule: str
    severity: str  # info | warning | error | critical
    session_id: str
    message: str
    channel: str  # sales | engineering | product | oncall | ops (routes match on it)
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def alert_id(self) -> str:
        return f"{self.rule}:{self.session_id}"


Rule = Callable[[str, Mapping[str, Any], Profile, "SessionRecord | None"], "Alert | None"]


def _alert(
    cfg: RuleConfig, rule: str, sid: str, message: str, payload: dict[str, Any]
) -> Alert | None:
    if not cfg.enabled:
        return None
    clean = {k: v for k, v in payload.items() if v not in (None, "", [], {})}
    return Alert(rule, cfg.severity, sid, message, cfg.channel, clean)


def hot_lead(
    sid: str, analysis: Mapping[str, Any], profile: Profile, record: SessionRecord | None = None
) -> Alert | None:
    cfg = profile.alerts.rules.hot_lead
    score = section(analysis, "lead").get("score")
    above = cfg.score_above if cfg.score_above is not None else profile.scoring.hot_lead_above
    if not isinstance(score, int | float) or score <= above:
        return None
    name, email, company = who(analysis, record)
    booked = bool(section(analysis, "tools").get("meeting_booked"))
    signals = key_signals(analysis, profile)
    facts = ", ".join(f"{k} {v}" for k, v in signals.items())
    lead = " ".join(x for x in (name, f"({company})" if company else None) if x) or "Caller"
    return _alert(
        cfg,
        "hot_lead",
        sid,
        f"Hot lead {lead}, score {score:.0f}{', meeting booked' if booked else ''}"
        + (f": {facts}" if facts else ""),
        {
            "name": name,
            "email": email,
            "company": company,
            "score": score,
            "tier": section(analysis, "lead").get("tier"),
            "meeting_booked": booked,
            "key_signals": signals,
            "salesforce_url": crm_link(record, profile),
            "recommended_action": recommended_action(analysis, profile),
        },
    )


def meeting_booked(
    sid: str, analysis: Mapping[str, Any], profile: Profile, record: SessionRecord | None = None
) -> Alert | None:
    tools = section(analysis, "tools")
    if not tools.get("meeting_booked"):
        return None
    meeting = tools.get("meeting") if isinstance(tools.get("meeting"), Mapping) else {}
    assert isinstance(meeting, Mapping)
    name, email, company = who(analysis, record)
    when = " ".join(str(meeting[k]) for k in ("date", "time") if meeting.get(k)) or None
    return _alert(
        profile.alerts.rules.meeting_booked,
        "meeting_booked",
        sid,
        f"Meeting booked with {name or email or 'a caller'}"
        + (f" ({company})" if company else "")
        + (f" for {when}" if when else ""),
        {
            "name": name,
            "email": email,
            "company": company,
            "meeting_time": when,
            "calendar_link": meeting.get("link"),
            "qualification": qualification_summary(analysis, profile),
        },
    )


def competitor_mentioned(
    sid: str, analysis: Mapping[str, Any], profile: Profile, record: SessionRecord | None = None
) -> Alert | None:
    mentions = competitor_mentions(analysis, record)
    if not mentions:
        return None
    first = mentions[0]
    name, _, company = who(analysis, record)
    label = first["label"]
    return _alert(
        profile.alerts.rules.competitor_mentioned,
        "competitor_mentioned",
        sid,
        f"{name or 'Caller'}{f' ({company})' if company else ''} mentioned {label}: "
        f'"{first["context"]}"',
        {
            "competitor": label,
            "competitors": [m["label"] for m in mentions],
            "context": first["context"],
            "battlecard": battlecard_for(first["id"], analysis, profile),
            "company": company,
        },
    )


def latency_breach(
    sid: str, analysis: Mapping[str, Any], profile: Profile, record: SessionRecord | None = None
) -> Alert | None:
    e2e = section(analysis, "performance").get("e2e_latency_ms")
    if not isinstance(e2e, Mapping):
        return None
    p95 = e2e.get("p95")
    limit = profile.thresholds.e2e_latency_ms
    if not isinstance(p95, int | float) or p95 <= limit:
        return None
    cfg = profile.alerts.rules.latency_breach
    alert = _alert(
        cfg,
        "latency_breach",
        sid,
        f"End-to-end latency p95 {p95:.0f} ms over the {limit:.0f} ms threshold",
        {"p95_ms": p95, "threshold_ms": limit},
    )
    if alert is not None and p95 > 2 * limit:
        alert = Alert(alert.rule, "critical", sid, alert.message, alert.channel, alert.payload)
    return alert


def many_interruptions(
    sid: str, analysis: Mapping[str, Any], profile: Profile, record: SessionRecord | None = None
) -> Alert | None:
    n = section(analysis, "quality").get("interruptions")
    limit = profile.thresholds.interruptions_per_call
    if not isinstance(n, int) or n <= limit:
        return None
    return _alert(
        profile.alerts.rules.interruptions,
        "interruptions",
        sid,
        f"{n} interruptions in one call (threshold {limit})",
        {"interruptions": n},
    )


def unhappy_caller(
    sid: str, analysis: Mapping[str, Any], profile: Profile, record: SessionRecord | None = None
) -> Alert | None:
    if section(analysis, "sentiment").get("overall") != "negative":
        return None
    objections = list(section(analysis, "sales").get("objections") or [])
    return _alert(
        profile.alerts.rules.negative_sentiment,
        "negative_sentiment",
        sid,
        "Caller ended the call unhappy"
        + (f" (objections: {', '.join(objections)})" if objections else ""),
        {"objections": objections},
    )


def booking_failed(
    sid: str, analysis: Mapping[str, Any], profile: Profile, record: SessionRecord | None = None
) -> Alert | None:
    """The booking tool was called and no meeting came of it (``tools.booking_failed``)."""
    tools = section(analysis, "tools")
    meeting = section(analysis, "actions").get("meeting")
    status = meeting.get("status") if isinstance(meeting, Mapping) else None
    if tools.get("meeting_booked") or not (tools.get("booking_failed") or status == "failed"):
        return None
    name, email, company = who(analysis, record)
    return _alert(
        profile.alerts.rules.meeting_booking_failed,
        "meeting_booking_failed",
        sid,
        f"{name or email or 'The caller'} asked for a meeting and booking failed: "
        "follow up by hand",
        {
            "name": name,
            "email": email,
            "company": company,
            "attempts": tools.get("booking_attempts"),
            "qualification": qualification_summary(analysis, profile),
        },
    )


DEFAULT_RULES: tuple[Rule, ...] = (
    hot_lead,
    meeting_booked,
    competitor_mentioned,
    latency_breach,
    many_interruptions,
    unhappy_caller,
    booking_failed,
)


def evaluate(
    session_id: str,
    analysis: Mapping[str, Any],
    profile: Profile,
    rules: tuple[Rule, ...] = DEFAULT_RULES,
    *,
    record: SessionRecord | None = None,
) -> list[Alert]:
    """Every alert the rules raise for one analysed call (the worker's per-call hook)."""
    out = []
    for rule in rules:
        alert = rule(session_id, analysis, profile, record)
        if alert is not None:
            out.append(alert)
    return out
