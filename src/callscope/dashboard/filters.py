"""The filters every view shares: date range, agent name, agent version, lead tier."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

MAX_RANGE_DAYS = 3660
DEFAULT_RANGE_DAYS = 30


class FilterError(ValueError):
    """A filter value that cannot be used; ``str()`` is a one-line message."""


@dataclass(frozen=True)
class Filters:
    start: date
    end: date  # inclusive
    agent: str | None = None
    version: str | None = None
    tier: str | None = None

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def day_shown(self, today: date) -> date:
        """The day the "today" panels show: today when the range holds it, else the range's
        last day (a range in the past — the demo data, last month — has no "today"; showing
        its last day keeps those panels consistent with every other panel of the range)."""
        return max(self.start, min(self.end, today))

    def previous(self) -> Filters:
        """The same-length range just before this one (for period-over-period deltas)."""
        return replace(
            self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1)
        )

    def query_string(self, **override: str | None) -> str:
        values: dict[str, str | None] = {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "agent": self.agent,
            "version": self.version,
            "tier": self.tier,
        }
        values.update(override)
        return urlencode({k: v for k, v in values.items() if v})

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "agent": self.agent,
            "version": self.version,
            "tier": self.tier,
        }


def _parse_date(name: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FilterError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def _clean(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if len(value) > 200:
        raise FilterError(f"{name}: longer than 200 characters")
    return value


def parse_filters(params: dict[str, str], default_end: date, tier_ids: Sequence[str]) -> Filters:
    """Filters from query parameters; missing dates mean the 30 days ending ``default_end``.

    ``tier_ids``: the active profile's tiers, the only values ``tier`` may take.
    """
    end = _parse_date("end", params["end"]) if params.get("end") else default_end
    if params.get("start"):
        start = _parse_date("start", params["start"])
    else:
        start = end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
    if start > end:
        raise FilterError(f"start {start} is after end {end}")
    if (end - start).days > MAX_RANGE_DAYS:
        raise FilterError(f"date range longer than {MAX_RANGE_DAYS} days")
    tier = _clean(params.get("tier"), "tier")
    if tier is not None and tier not in tier_ids:
        raise FilterError(f"tier: {tier!r} is not one of {', '.join(tier_ids)}")
    return Filters(
        start=start,
        end=end,
        agent=_clean(params.get("agent"), "agent"),
        version=_clean(params.get("version"), "version"),
        tier=tier,
    )
