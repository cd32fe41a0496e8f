"""Destination field maps as data: API name -> analysis path + formatter.

A map entry names where a value lives in the analysis output (dotted path, or a list of paths
tried in order, so a key another release adds later is read when present and an older one
otherwise) and how it becomes a destination value: a picklist label, a ``;``-joined
multi-select, minutes, JSON, joined quotes. ``render`` turns one call's analysis into the
payload; keys whose value is absent are left out, so a missing analyzer never blanks a field a
sales rep filled in. The defaults are the strategy's "Comprehensive Data Flow Architecture"
mapping for the default profile; ``sinks.destinations.<name>.field_map`` replaces entries.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from callscope.sinks.base import LeadEvent

Format = Literal[
    "value", "number", "text", "label", "labels", "join", "minutes", "json", "datetime", "date"
]
Labeler = Callable[[str, str], str]  # (profile field, value id) -> label


class FieldRule(BaseModel):
    """How one destination field is filled."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str | list[str]
    format: Format = "value"
    sep: str | None = None  # join / labels / text over a list
    template: str | None = None  # join: per item, e.g. "{quote}" for [{quote, turn}]
    label_field: str | None = None  # profile field for labels (default: the path's last key)
    length: int | None = Field(default=None, ge=1)  # truncate text (default: the org's length)

    @property
    def paths(self) -> list[str]:
        return [self.path] if isinstance(self.path, str) else list(self.path)


def _r(path: str | list[str], fmt: Format = "value", **kw: Any) -> FieldRule:
    return FieldRule(path=path, format=fmt, **kw)


# The strategy's Lead/Contact fields, under its API names, for the default profile.
DEFAULT_LEAD_MAP: dict[str, FieldRule] = {
    "Lead_Score__c": _r("lead.score", "number"),
    "Lead_Score_Breakdown__c": _r(["lead.sub_scores", "lead.breakdown"], "json"),
    "Qualification_Tier__c": _r("lead.tier", "label", label_field="tier"),
    "Last_Call_Date__c": _r("call.started_at", "datetime"),
    "Call_Duration__c": _r("call.duration_seconds", "minutes"),
    "Engagement_Score__c": _r("quality.engagement_score", "number"),
    "Team_Size__c": _r(["signals.team_size", "sales.team_size"], "number"),
    "Monthly_Document_Volume__c": _r(["signals.monthly_volume", "sales.monthly_volume"], "number"),
    "Integration_Needs__c": _r(["signals.integrations", "sales.integrations"], "labels"),
    "Industry_Vertical__c": _r(["signals.industry", "sales.industry"], "label"),
    "Decision_Timeline__c": _r(["signals.timeline", "sales.timeline"], "label"),
    "Budget_Authority__c": _r(["signals.budget_authority", "sales.budget_authority"], "label"),
    "Current_Tool__c": _r(["signals.current_tool", "sales.current_tool"], "label"),
    "Urgency_Level__c": _r("insights.urgency", "label", label_field="urgency"),
    "Pain_Points__c": _r(
        ["insights.pain_points", "sales.pain_points"], "join", template="{quote}", sep=", "
    ),
    "Use_Cases__c": _r(["insights.use_cases", "signals.use_case", "sales.use_case"], "labels"),
    "Feature_Requests__c": _r(
        "insights.feature_requests", "join", template="{feature} ({interest})", sep="\n"
    ),
    "Competitor_Mentioned__c": _r(["signals.competitors", "sales.competitors"], "label"),
    "Current_Solution__c": _r(["signals.current_tool", "sales.current_tool"], "label"),
    "Switching_Barriers__c": _r(
        "insights.switching_barriers", "join", template="{barrier}: {quote}", sep="\n"
    ),
    "Objections_Raised__c": _r(["signals.objections", "sales.objections"], "join", sep="; "),
    "Buying_Signals__c": _r("insights.buying_signals", "join", template="{quote}", sep="\n"),
    "Stakeholders_Mentioned__c": _r(
        ["insights.stakeholders", "sales.decision_makers"], "join", template="{role}", sep=", "
    ),
    "Key_Quotes__c": _r("insights.key_quotes", "join", template='"{quote}"', sep="\n"),
    "Call_Sentiment__c": _r("sentiment.overall", "label", label_field="sentiment"),
    "Next_Best_Action__c": _r(
        ["next_step.next_best_action", "executive_summary.next_action"], "text"
    ),
    "Follow_Up_Priority__c": _r("next_step.follow_up_priority", "label", label_field="priority"),
    "Recommended_Owner__c": _r("call.recommended_owner_id", "text"),
}

# The strategy's Voice_Call__c object (Session_Id__c is the external id, sent in the URL).
DEFAULT_VOICE_CALL_MAP: dict[str, FieldRule] = {
    "Transcript__c": _r("call.transcript", "text"),
    "Call_Summary__c": _r(["call.summary_text", "summary"], "text"),
    "Transcript_URL__c": _r("call.transcript_url", "text"),
    "Quality_Score__c": _r(["quality.agent_effectiveness", "quality.engagement_score"], "number"),
    "Related_To__c": _r("call.related_to", "text"),
}


def lookup(ctx: Mapping[str, Any], path: str) -> Any:
    node: Any = ctx
    for key in path.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return None
        node = node[key]
    return node


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def first_present(ctx: Mapping[str, Any], paths: list[str]) -> Any:
    for path in paths:
        value = lookup(ctx, path)
        if not _empty(value):
            return value
    return None


def title_label(value: str) -> str:
    """The fallback label of an id: ``real_estate`` -> ``Real Estate``."""
    return " ".join(w[:1].upper() + w[1:] for w in str(value).replace("_", " ").split())


def _item_text(item: Any, template: str | None, label: Callable[[str], str]) -> str:
    if isinstance(item, Mapping):
        try:
            return (template or "{quote}").format_map(_Missing(item))
        except (ValueError, IndexError):
            return json.dumps(item, sort_keys=True, default=str)
    return label(str(item)) if isinstance(item, str) else str(item)


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def format_value(rule: FieldRule, value: Any, field: str, labeler: Labeler) -> Any:
    """One analysis value as the destination takes it (None: leave the field alone)."""

    def label(v: str) -> str:
        return labeler(field, v)

    fmt = rule.format
    if fmt == "number":
        return _number(value[0] if isinstance(value, list) and value else value)
    if fmt == "minutes":
        secs = _number(value)
        return None if secs is None else round(secs / 60.0, 1)
    if fmt == "json":
        return json.dumps(value, sort_keys=True, default=str)
    if fmt == "datetime":
        return value.isoformat() if isinstance(value, datetime) else str(value)
    if fmt == "date":
        return value.isoformat()[:10] if isinstance(value, date) else str(value)[:10]
    if fmt == "label":
        first = _as_list(value)[0]
        return label(str(first))
    if fmt == "labels":  # a Salesforce multi-select picklist is ';'-joined, no spaces
        return (rule.sep or ";").join(label(str(v)) for v in _as_list(value))
    if fmt == "join":
        parts = [_item_text(v, rule.template, label) for v in _as_list(value)]
        return (rule.sep or "; ").join(p for p in parts if p)
    if fmt == "text":
        if isinstance(value, list):
            return (rule.sep or "; ").join(str(v) for v in value)
        return str(value)
    return value


def truncate(value: Any, length: int | None) -> Any:
    if isinstance(value, str) and length is not None and len(value) > length:
        return value[: max(0, length - 1)] + "…"
    return value


def render(
    rules: Mapping[str, FieldRule],
    ctx: Mapping[str, Any],
    labeler: Labeler,
    lengths: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The payload of one record: every rule whose value is present, formatted and truncated."""
    out: dict[str, Any] = {}
    for api_name, rule in rules.items():
        value = first_present(ctx, rule.paths)
        if _empty(value):
            continue
        field = rule.label_field or rule.paths[0].rsplit(".", 1)[-1]
        formatted = format_value(rule, value, field, labeler)
        if _empty(formatted):
            continue
        limit = rule.length or (lengths or {}).get(api_name)
        out[api_name] = truncate(formatted, limit)
    return out


# The Salesforce field types each formatter can fill (describe()'s ``type``).
COMPATIBLE_TYPES: dict[str, frozenset[str]] = {
    "number": frozenset({"double", "int", "currency", "percent", "long"}),
    "minutes": frozenset({"double", "int", "currency", "percent", "long"}),
    "label": frozenset({"picklist", "string", "textarea", "combobox"}),
    "labels": frozenset({"multipicklist", "string", "textarea"}),
    "join": frozenset({"textarea", "string"}),
    "text": frozenset({"string", "textarea", "url", "reference", "picklist", "email", "id"}),
    "json": frozenset({"textarea", "string"}),
    "datetime": frozenset({"datetime"}),
    "date": frozenset({"date", "datetime"}),
    "value": frozenset(),  # anything
}


def merged(
    default: Mapping[str, FieldRule], override: Mapping[str, FieldRule | None]
) -> dict[str, FieldRule]:
    """The default map with the configured entries replacing (or, as ``null``, removing) keys."""
    out = dict(default)
    for name, rule in override.items():
        if rule is None:
            out.pop(name, None)
        else:
            out[name] = rule
    return out


def _section(analysis: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = analysis.get(key)
    return value if isinstance(value, Mapping) else {}


def call_context(event: LeadEvent, **extra: Any) -> dict[str, Any]:
    """What map paths read: the analysis output plus ``call.*``, the call's own facts."""
    analysis = event.analysis
    quality: Mapping[str, Any] = _section(analysis, "quality")
    insights: Mapping[str, Any] = _section(analysis, "insights")
    call: dict[str, Any] = {
        "session_id": event.session_id,
        "revision": event.revision,
        "started_at": event.started_at,
        "ended_at": event.ended_at,
        "duration_seconds": event.duration_seconds,
        "turn_count": event.turn_count,
        "tool_calls_count": event.tool_call_count,
        "email": event.email,
        "name": event.name,
        "company": event.company,
        "participant_identity": event.participant_identity,
        "transcript": event.transcript,
        "total_tokens": lookup(analysis, "performance.total_tokens") or event.total_tokens,
        "location": insights.get("location") or event.location,
        "quality_score": quality.get("agent_effectiveness", quality.get("engagement_score")),
        "summary": event.summary or analysis.get("summary"),
        **extra,
    }
    return {**analysis, "call": call}
