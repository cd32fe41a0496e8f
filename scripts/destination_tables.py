"""Print the default Salesforce and Amplitude field maps as the Markdown of docs/destinations.md.

The tables in the docs are this script's output (tests/sinks/test_docs_field_map.py checks
they still match the code): `python scripts/destination_tables.py` after changing a default.
"""

from __future__ import annotations

from callscope.sinks.config import AMPLITUDE_EVENTS, AMPLITUDE_USER_PROPERTIES
from callscope.sinks.field_map import DEFAULT_LEAD_MAP, DEFAULT_VOICE_CALL_MAP, FieldRule

START, END = "<!-- field-map:start -->", "<!-- field-map:end -->"


def _rule(rule: FieldRule) -> tuple[str, str]:
    paths = " else ".join(f"`{p}`" for p in rule.paths)
    fmt = rule.format
    extra = [f"{k} `{v!r}`" for k, v in (("template", rule.template), ("sep", rule.sep)) if v]
    if rule.label_field:
        extra.append(f"labels of `{rule.label_field}`")
    if rule.length:
        extra.append(f"max {rule.length} chars")
    return paths, fmt + (" (" + ", ".join(extra) + ")" if extra else "")


def _salesforce(title: str, rules: dict[str, FieldRule]) -> list[str]:
    lines = [f"**{title}**", "", "| API name | from (first present) | format |", "|---|---|---|"]
    for name, rule in rules.items():
        paths, fmt = _rule(rule)
        lines.append(f"| `{name}` | {paths} | {fmt} |")
    return [*lines, ""]


def _amplitude() -> list[str]:
    lines = ["**Amplitude events**", "", "| key | event | property: path |", "|---|---|---|"]
    for key, (name, props) in AMPLITUDE_EVENTS.items():
        cells = ", ".join(f"`{p}`: `{path}`" for p, path in props.items())
        lines.append(f"| `{key}` | `{name}` | {cells} |")
    users = ", ".join(f"`{p}`: `{path}`" for p, path in AMPLITUDE_USER_PROPERTIES.items())
    return [*lines, "", f"**Amplitude user properties** (identify): {users}", ""]


def tables() -> str:
    lines = [
        START,
        *_salesforce("Salesforce Lead / Contact (`field_map`)", DEFAULT_LEAD_MAP),
        *_salesforce("Salesforce `Voice_Call__c` (`voice_call_map`)", DEFAULT_VOICE_CALL_MAP),
        *_amplitude(),
        END,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(tables())
