"""What a business alert tells a rep, read from the analysis, the record and the profile.

The accessors here are the one place alerts read analysis keys and profile fields, so the
profile rewrite (``signals.*``, ``profile.label``) and the insights keys (``next_step.*``,
``insights.*``) are adopted in one edit: each reads the new key first and falls back to the
historical ``sales.*`` keys and profile sections.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callscope.contract.record import SessionRecord
from callscope.profile.model import Profile

# The signals a rep wants first, in this order, when the profile defines them.
KEY_FIELDS = (
    "team_size",
    "monthly_volume",
    "integrations",
    "use_case",
    "current_tool",
    "timeline",
    "budget_authority",
    "industry",
)


def section(analysis: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = analysis.get(name)
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def who(
    analysis: Mapping[str, Any], record: SessionRecord | None
) -> tuple[str | None, str | None, str | None]:
    """(name, email, company) of the caller: participant first, then what the call revealed."""
    name = email = company = None
    if record is not None:
        p = record.participant
        name, email = _text(p.name), _text(p.email)
        company = _text(p.metadata.get("company"))
    sales = section(analysis, "sales")
    return (
        name or _text(sales.get("name")),
        email or _text(sales.get("email")),
        company or _text(sales.get("company")),
    )


def signal(analysis: Mapping[str, Any], name: str) -> Any:
    signals = section(analysis, "signals")
    if name in signals:
        return signals[name]
    return section(analysis, "sales").get(name)


def label(profile: Profile, field: str, value: Any) -> str:
    """The display label of a value id (the new profile API when present, else the id)."""
    fn = getattr(profile, "label", None)
    if callable(fn):
        got = fn(field, value)
        if isinstance(got, str) and got:
            return got
    return str(value).replace("_", " ")


def _shown(profile: Profile, field: str, value: Any) -> str | None:
    if value in (None, "", [], False):
        return None
    if isinstance(value, list):
        return ", ".join(label(profile, field, v) for v in value)
    if isinstance(value, bool | int | float):
        return str(value)
    return label(profile, field, value)


def key_signals(analysis: Mapping[str, Any], profile: Profile) -> dict[str, str]:
    """``{readable field: value}`` for the qualification signals the call revealed."""
    out: dict[str, str] = {}
    for name in KEY_FIELDS:
        shown = _shown(profile, name, signal(analysis, name))
        if shown:
            out[name.replace("_", " ")] = shown
    urgency = section(analysis, "insights").get("urgency")
    if isinstance(urgency, str) and urgency:
        out["urgency"] = urgency
    return out


def qualification_summary(analysis: Mapping[str, Any], profile: Profile) -> str:
    lead = section(analysis, "lead")
    tier, score = lead.get("tier"), lead.get("score")
    head = []
    if tier:
        tier_label = getattr(profile.scoring, "tier_label", None)
        shown = tier_label(tier) if callable(tier_label) else str(tier).replace("_", " ")
        head.append(str(shown))
    if isinstance(score, int | float):
        head.append(f"score {score:.0f}")
    facts = "; ".join(f"{k}: {v}" for k, v in key_signals(analysis, profile).items())
    parts = [", ".join(head), facts]
    return ". ".join(p for p in parts if p) or "not qualified yet"


def _battlecards(analysis: Mapping[str, Any]) -> dict[str, str]:
    cards = section(analysis, "next_step").get("battlecards")
    out: dict[str, str] = {}
    for card in cards if isinstance(cards, list) else []:
        if isinstance(card, Mapping) and card.get("competitor") and card.get("battlecard"):
            out[str(card["competitor"])] = str(card["battlecard"])
    return out


def battlecard_for(competitor: str, analysis: Mapping[str, Any], profile: Profile) -> str | None:
    return _battlecards(analysis).get(competitor) or profile.alerts.battlecards.get(competitor)


def competitor_mentions(
    analysis: Mapping[str, Any], record: SessionRecord | None
) -> list[dict[str, str]]:
    """Each competitor the caller named, with the caller's words around the mention."""
    seen: dict[str, dict[str, str]] = {}
    items = section(analysis, "objections").get("competitors")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, Mapping) and item.get("id") and item["id"] not in seen:
            cid = str(item["id"])
            context = _turn_text(record, item.get("turn")) or _text(item.get("quote")) or ""
            seen[cid] = {"id": cid, "label": cid.replace("_", " "), "context": context[:400]}
    for cid in signal(analysis, "competitors") or []:
        if isinstance(cid, str) and cid not in seen:
            seen[cid] = {"id": cid, "label": cid.replace("_", " "), "context": ""}
    return list(seen.values())


def _turn_text(record: SessionRecord | None, turn: Any) -> str | None:
    """The caller's whole turn (the quote is one sentence of it), when the record has it."""
    if record is None or not isinstance(turn, int):
        return None
    messages = [i for i in record.transcript.items if i.type == "message"]
    if not 0 <= turn < len(messages):
        return None
    item = messages[turn]
    if getattr(item, "role", None) != "user":
        return None
    content = getattr(item, "content", None)
    if isinstance(content, list):
        return _text(" ".join(c for c in content if isinstance(c, str)))
    return _text(content)


def _meeting_when(tools: Mapping[str, Any]) -> str | None:
    meeting = tools.get("meeting")
    if not tools.get("meeting_booked") or not isinstance(meeting, Mapping):
        return None
    return " ".join(str(meeting[k]) for k in ("date", "time") if meeting.get(k)) or None


def recommended_action(analysis: Mapping[str, Any], profile: Profile) -> str:
    """The profile's next best action for the call; a booked meeting's time is added to it,
    since a rep reading the alert needs to know when to be ready."""
    tools = section(analysis, "tools")
    when = _meeting_when(tools)
    nba = _text(section(analysis, "next_step").get("next_best_action"))
    if nba:
        return f"{nba} (meeting {when})" if when and when not in nba else nba
    competitors = signal(analysis, "competitors") or []
    if tools.get("meeting_booked"):
        action = f"Prepare for the meeting{' on ' + when if when else ''}: read the call summary"
    elif tools.get("booking_failed"):
        action = "Booking failed: call back today and book the meeting by hand"
    else:
        action = "Call back within the hour and book a meeting"
    if competitors:
        named = ", ".join(label(profile, "competitors", c) for c in competitors)
        action += f"; they use or compare {named}"
    return action


def crm_link(record: SessionRecord | None, profile: Profile) -> str | None:
    """A link to the caller's CRM lead when the record carries its id (a returning caller)."""
    base = profile.alerts.salesforce_url
    if record is None or not base:
        return None
    meta = record.participant.metadata
    for key in profile.alerts.rules.hot_lead.crm_id_keys:
        lead_id = _text(meta.get(key))
        if lead_id:
            return f"{base.rstrip('/')}/lightning/r/Lead/{lead_id}/view"
    return None
