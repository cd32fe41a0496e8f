"""Errors a user sees when a record cannot be read: one line, naming the source and field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RecordError(Exception):
    """A record that cannot be accepted. ``str()`` is the one-line message shown to users."""

    source: str
    message: str
    field: str | None = None
    reason: str = "invalid"  # machine-readable: malformed_json, schema, too_large, encoding, ...
    session_id: str | None = None

    def __str__(self) -> str:
        where = f" at {self.field}" if self.field else ""
        return f"{self.source}: {self.message}{where}"
