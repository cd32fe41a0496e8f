"""The agent's ROI report (strategy section "Business Impact & ROI").

Costs are measured: ``sessions.cost_usd`` is priced per call by the analyzers from the
profile's list prices. Value needs business assumptions that only the operator knows, so
they come from the profile's ``extra.roi`` section or CLI flags and are printed with the
report; any value line whose assumption is missing is reported as unknown, never guessed.

    extra:
      roi:
        avg_deal_size_usd: 12000        # average first-year contract value
        meeting_to_close_rate: 0.2      # share of booked meetings that become deals
        sdr_hourly_cost_usd: 45         # loaded cost of an SDR hour
        manual_call_minutes: 15         # SDR minutes one qualification call replaces
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Fetch = Callable[[str, Sequence[Any]], list[dict[str, Any]]]


class RoiError(Exception):
    """Unusable ROI assumptions; ``str()`` is one line."""


class Assumptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    avg_deal_size_usd: float | None = Field(default=None, ge=0)
    meeting_to_close_rate: float | None = Field(default=None, ge=0, le=1)
    sdr_hourly_cost_usd: float | None = Field(default=None, ge=0)
    manual_call_minutes: float | None = Field(default=None, ge=0)


def assumptions(profile_extra: Mapping[str, Any], **overrides: float | None) -> Assumptions:
    """The profile's ``extra.roi`` section, with CLI flags (non-None) on top."""
    base = profile_extra.get("roi") or {}
    if not isinstance(base, Mapping):
        raise RoiError("profile extra.roi must be a mapping")
    merged = {**base, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return Assumptions.model_validate(merged)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise RoiError(f"roi assumption {where}: {err['msg']}") from None


@dataclass(frozen=True)
class RoiReport:
    since: datetime | None
    until: datetime | None
    calls: int
    qualified_leads: int
    meetings_booked: int
    total_cost_usd: float
    cost_per_call_usd: float | None
    cost_per_qualified_lead_usd: float | None
    cost_per_meeting_usd: float | None
    pipeline_value_usd: float | None  # meetings x average deal size
    expected_revenue_usd: float | None  # pipeline x meeting-to-close rate
    sdr_hours_saved: float | None
    sdr_cost_saved_usd: float | None
    total_value_usd: float | None  # expected revenue + SDR cost saved
    roi_multiple: float | None  # total value / total cost
    assumptions: dict[str, float | None]

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key in ("since", "until"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        return out

    def rows(self) -> list[tuple[str, str]]:
        """(label, formatted value) for a table."""

        def money(v: float | None) -> str:
            return "unknown" if v is None else f"${v:,.2f}"

        def num(v: float | None, unit: str = "") -> str:
            return "unknown" if v is None else f"{v:,.1f}{unit}"

        return [
            ("Calls", f"{self.calls:,}"),
            ("Qualified leads (tier 1 + 2)", f"{self.qualified_leads:,}"),
            ("Meetings booked", f"{self.meetings_booked:,}"),
            ("Total cost", money(self.total_cost_usd)),
            ("Cost per call", money(self.cost_per_call_usd)),
            ("Cost per qualified lead", money(self.cost_per_qualified_lead_usd)),
            ("Cost per meeting", money(self.cost_per_meeting_usd)),
            ("Estimated pipeline value", money(self.pipeline_value_usd)),
            ("Expected revenue", money(self.expected_revenue_usd)),
            ("SDR hours saved", num(self.sdr_hours_saved, " h")),
            ("SDR cost saved", money(self.sdr_cost_saved_usd)),
            ("Total value", money(self.total_value_usd)),
            ("ROI multiple", num(self.roi_multiple, "x")),
        ]


def _div(a: float | None, b: float) -> float | None:
    return a / b if a is not None and b else None


def _mul(*values: float | None) -> float | None:
    out = 1.0
    for v in values:
        if v is None:
            return None
        out *= v
    return out


def compute(
    fetch: Fetch,
    assume: Assumptions,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> RoiReport:
    where, params = [], []
    if since is not None:
        where.append("started_at >= ?")
        params.append(since)
    if until is not None:
        where.append("started_at < ?")
        params.append(until)
    row = fetch(
        "SELECT COUNT(*) AS calls,"
        " SUM(CASE WHEN lead_tier IN ('tier_1', 'tier_2') THEN 1 ELSE 0 END) AS qualified,"
        " SUM(CASE WHEN meeting_booked THEN 1 ELSE 0 END) AS meetings,"
        " SUM(cost_usd) AS cost FROM sessions" + (" WHERE " + " AND ".join(where) if where else ""),
        params,
    )[0]
    calls, qualified = int(row["calls"] or 0), int(row["qualified"] or 0)
    meetings, cost = int(row["meetings"] or 0), float(row["cost"] or 0.0)
    pipeline = _mul(meetings, assume.avg_deal_size_usd)
    revenue = _mul(pipeline, assume.meeting_to_close_rate)
    hours = _mul(calls, assume.manual_call_minutes, 1 / 60)
    saved = _mul(hours, assume.sdr_hourly_cost_usd)
    value = None if revenue is None and saved is None else (revenue or 0.0) + (saved or 0.0)
    return RoiReport(
        since=since,
        until=until,
        calls=calls,
        qualified_leads=qualified,
        meetings_booked=meetings,
        total_cost_usd=round(cost, 6),
        cost_per_call_usd=_div(cost, calls),
        cost_per_qualified_lead_usd=_div(cost, qualified),
        cost_per_meeting_usd=_div(cost, meetings),
        pipeline_value_usd=pipeline,
        expected_revenue_usd=revenue,
        sdr_hours_saved=hours,
        sdr_cost_saved_usd=saved,
        total_value_usd=value,
        roi_multiple=_div(value, cost),
        assumptions=assume.model_dump(),
    )
