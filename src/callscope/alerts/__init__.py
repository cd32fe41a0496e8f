"""Alert rules over analysed calls; fired alerts land in the warehouse's alerts_history."""

from callscope.alerts.rules import DEFAULT_RULES, Alert, evaluate

__all__ = ["DEFAULT_RULES", "Alert", "evaluate"]
