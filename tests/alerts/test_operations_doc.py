"""docs/operations.md lists every alert rule with the channel and severity the code defaults to."""

from __future__ import annotations

import re
from pathlib import Path

from callscope.profile.alerts import Rules
from callscope.profile.model import load_profile

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _table() -> dict[str, str]:
    """``{rule: "channel / severity" cell}`` from the rule table's rows."""
    rows: dict[str, str] = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            for name in re.findall(r"`([a-z_]+)`", cells[0]):
                rows[name] = cells[2]
    return rows


def test_every_rule_is_documented_and_no_other() -> None:
    assert set(_table()) == set(Rules.model_fields)


def test_documented_channel_and_severity_match_the_defaults() -> None:
    rules = load_profile().alerts.rules
    for name, cell in _table().items():
        rule = getattr(rules, name)
        assert rule.channel in cell, (name, rule.channel, cell)
        severity = getattr(rule, "severity", None)
        if severity and name not in {"latency_breach", "interruptions", "negative_sentiment"}:
            assert severity in cell, (name, severity, cell)
