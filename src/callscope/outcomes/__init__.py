"""Outcomes after the call: import, CRM pull, qualification accuracy and the learned scorer."""
