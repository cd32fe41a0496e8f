"""The analysis output contract (shared/contract/README.md section 2).

``contract_output`` turns an :class:`AnalysisRun` into the nested object ``callscope analyze``
prints: every contract key is always present, with ``null`` / empty values when the module that
owns it failed or was skipped (the failure is listed under ``errors``).
"""

from __future__ import annotations

from typing import Any

from callscope.analyze.registry import AnalysisRun
from callscope.profile.model import Profile

# Contract keys and the value a key takes when its module produced nothing.
CONTRACT_DEFAULTS: dict[str, dict[str, Any]] = {
    "sales": {
        "team_size": None,
        "monthly_volume": None,
        "integrations": [],
        "current_tool": None,
        "competitors": [],
        "objections": [],
        "use_case": None,
        "industry": None,
        "budget_authority": None,
        "timeline": None,
        "bant": {"budget": 0.0, "authority": 0.0, "need": 0.0, "timeline": 0.0},
    },
    "lead": {"score": 0, "tier": "unqualified", "confidence": "low"},
    "quality": {
        "engagement_score": 0.0,
        "natural_ending": False,
        "clarification_requests": 0,
        "interruptions": 0,
    },
    "sentiment": {"overall": "neutral"},
    "tools": {"meeting_booked": False, "kb_searches": 0, "kb_failed_searches": 0},
    "performance": {"e2e_latency_ms": None},
}
# Modules that extend another module's section instead of adding their own key.
EXTENDS: dict[str, str] = {"lead_insights": "lead", "quality_insights": "quality"}
CONTRACT_KEYS: list[str] = (
    ["session_id", "signals", "signal_evidence"]
    + [f"{section}.{key}" for section, keys in CONTRACT_DEFAULTS.items() for key in keys]
    + ["summary", "analyzer_versions"]
)


_EMPTY_BY_KIND: dict[str, Any] = {"many_of": [], "text": []}


def _signals(sales: dict[str, Any], profile: Profile | None) -> dict[str, Any]:
    """``signals.<field>`` for every profile field (null / empty when never stated)."""
    found = sales.get("signals")
    values = dict(found) if isinstance(found, dict) else {}
    if profile is not None:
        for fname, spec in profile.fields.items():
            values.setdefault(fname, _EMPTY_BY_KIND.get(spec.kind))
    return values


def contract_output(run: AnalysisRun, profile: Profile | None = None) -> dict[str, Any]:
    results = run.results()
    out: dict[str, Any] = {"session_id": run.session_id}
    sales = results.get("sales") or {}
    out["signals"] = _signals(sales, profile)
    evidence = sales.get("signal_evidence")
    out["signal_evidence"] = dict(evidence) if isinstance(evidence, dict) else {}
    for section, defaults in CONTRACT_DEFAULTS.items():
        produced = results.get(section) or {}
        if section == "sales":
            # The default profile's historical keys; any other profile has its own fields.
            produced = {
                k: v for k, v in produced.items() if k not in ("signals", "signal_evidence")
            }
            if out["signals"] and not set(out["signals"]) & set(defaults):
                defaults = {"bant": defaults["bant"]}
        merged = {k: produced.get(k, v) for k, v in defaults.items()}
        # Module-specific detail (quotes, components, breakdowns) travels along.
        merged.update({k: v for k, v in produced.items() if k not in merged})
        out[section] = merged
    for name, result in results.items():
        if name in EXTENDS:
            out.setdefault(EXTENDS[name], {}).update(result)
        elif name not in out and name != "summary":
            out[name] = result
    summary = results.get("summary") or {}
    out["summary"] = str(summary.get("text", "")) if isinstance(summary, dict) else str(summary)
    # Provenance of modules answered by an LLM backend (model, cost, fallback reason).
    llm = {n: r["llm"] for n, r in results.items() if isinstance(r, dict) and "llm" in r}
    if llm:
        out["llm"] = llm
    out["analyzer_versions"] = run.versions()
    errors = run.errors()
    skipped = {n: m.skipped for n, m in run.modules.items() if m.skipped}
    if errors:
        out["errors"] = errors
    if skipped:
        out["skipped"] = skipped
    return out
