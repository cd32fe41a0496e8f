"""Alerts: per-call rules (the worker's hook) and windowed rules (``callscope alerts``).

Fired alerts land in the warehouse's ``alerts_history``; the sinks dispatcher routes them.
"""

from callscope.alerts.rules import DEFAULT_RULES, Alert, evaluate

__all__ = ["DEFAULT_RULES", "Alert", "evaluate"]
