"""A clock the governance jobs read instead of ``datetime.now``, so tests can fix "now"."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def _system_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Clock:
    """``Clock()`` follows the system; ``Clock.fixed(t)`` stands still until ``advance``."""

    _source: Callable[[], datetime] = field(default=_system_now)
    _offset: timedelta = field(default=timedelta(0))

    @classmethod
    def fixed(cls, at: datetime) -> Clock:
        if at.tzinfo is None:
            raise ValueError("a fixed clock needs a timezone-aware datetime")
        return cls(lambda: at)

    def now(self) -> datetime:
        return (self._source() + self._offset).astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


SYSTEM = Clock()
