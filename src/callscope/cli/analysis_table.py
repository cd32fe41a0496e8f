"""The `callscope analyze --format table` view: one row per call, columns from the profile.

The signal columns are the profile's fields (its labels as headers, value ids shown as the
profile labels them), so a home-services profile shows service type and urgency where the
default shows team size and integrations. Free-text fields are left to the JSON output, and
a field no call filled is dropped so the table stays readable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from callscope.profile.model import Profile


def _number(value: float | int) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if value < 10 else f"{value:,.0f}"
    return f"{value:,}"


def _cell(profile: Profile, field: str, value: Any) -> str:
    if value is None or value == [] or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return _number(value)
    if isinstance(value, list):
        return ", ".join(profile.value_label(field, v) for v in value) or "-"
    return profile.value_label(field, value)


def _shown_fields(profile: Profile, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    filled = {
        name
        for r in rows
        for name, value in (r.get("signals") or {}).items()
        if value not in (None, [], "")
    }
    return [name for name, spec in profile.fields.items() if spec.kind != "text" and name in filled]


def _p95(row: Mapping[str, Any]) -> str:
    p95 = ((row.get("performance") or {}).get("e2e_latency_ms") or {}).get("p95")
    return _number(p95) if isinstance(p95, int | float) else "-"


def analysis_table(rows: Sequence[Mapping[str, Any]], profile: Profile) -> Table:
    fields = _shown_fields(profile, rows)
    table = Table(title="callscope analyze")
    table.add_column("session", overflow="fold")  # ids are what users grep for: never cut
    for header in ("tier", "score", *map(profile.field_label, fields)):
        table.add_column(header)
    for header in ("booked", "sentiment", "p95 ms"):
        table.add_column(header)
    for r in rows:
        lead, signals = r.get("lead") or {}, r.get("signals") or {}
        tier = lead.get("tier")
        table.add_row(
            str(r.get("session_id")),
            profile.scoring.tier_label(tier) if isinstance(tier, str) else "-",
            _cell(profile, "", lead.get("score")),
            *(_cell(profile, f, signals.get(f)) for f in fields),
            "yes" if (r.get("tools") or {}).get("meeting_booked") else "no",
            str((r.get("sentiment") or {}).get("overall") or "-"),
            _p95(r),
        )
    return table
