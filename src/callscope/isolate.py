"""Finding the one item that fails a batch write, so its neighbours still land.

A batch write (one warehouse transaction, one multi-object upload) fails as a whole when a
single item in it is bad. :func:`write_isolating` then writes the items one by one: those that
fail alone are the bad ones. If the first few single writes all fail and none succeeds, the
backend itself is down, not an item: the rest are not tried and the caller retries the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")

# Consecutive single-item failures, with no success yet, that mean "the backend is down".
DOWN_AFTER = 3


@dataclass
class Isolated:
    """Outcome of a per-item retry: indexes written, indexes that failed alone (with why)."""

    written: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    backend_down: bool = False


def write_isolating(items: Sequence[T], write: Callable[[Sequence[T]], None]) -> Isolated:
    """Write ``items`` one at a time with ``write([item])`` after their batch write failed."""
    out = Isolated()
    for i, item in enumerate(items):
        try:
            write([item])
        except Exception as exc:
            out.failed[i] = f"{type(exc).__name__}: {exc}"
            if not out.written and len(out.failed) >= DOWN_AFTER:
                out.backend_down = True
                return out
            continue
        out.written.append(i)
    if not out.written and out.failed:
        out.backend_down = True  # nothing could be written: not one item's fault
    return out
