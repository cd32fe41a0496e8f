"""Analyzers: pure functions from a SessionRecord (and the profile) to results."""

from __future__ import annotations

from typing import Any

from callscope.analyze import modules as _modules  # noqa: F401  (registers the built-ins)
from callscope.analyze.output import CONTRACT_KEYS, contract_output
from callscope.analyze.registry import AnalysisRun, Registry, registry
from callscope.analyze.view import CallView, build_view
from callscope.contract.record import SessionRecord
from callscope.profile.model import Profile


def analyze_record(
    record: SessionRecord, profile: Profile, reg: Registry | None = None
) -> AnalysisRun:
    """Run every registered analyzer over one record."""
    return (reg or registry).run(build_view(record), profile)


def analyze_to_contract(record: SessionRecord, profile: Profile) -> dict[str, Any]:
    return contract_output(analyze_record(record, profile), profile)


__all__ = [
    "CONTRACT_KEYS",
    "AnalysisRun",
    "CallView",
    "Registry",
    "analyze_record",
    "analyze_to_contract",
    "build_view",
    "contract_output",
    "registry",
]
