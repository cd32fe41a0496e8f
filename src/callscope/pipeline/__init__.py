"""The processing stage every consumer shares: messages in, per-message outcomes out."""

from callscope.pipeline.analysis import Analysis, Analyzed, analyze_payload, registry_for
from callscope.pipeline.stage import Hooks, Outcome, Pipeline, Status, settle

__all__ = [
    "Analysis",
    "Analyzed",
    "Hooks",
    "Outcome",
    "Pipeline",
    "Status",
    "analyze_payload",
    "registry_for",
    "settle",
]
