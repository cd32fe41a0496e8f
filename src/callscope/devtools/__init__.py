"""Developer tools that never run inside an agent: simulated sessions for tests and demos,
synthetic calls of bundled profiles, ASR-noisy variants of labeled sets.

Kept out of :mod:`callscope.collect` so the collector's import path (and the base install)
carries none of it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

# Profiles whose calls have a generator of their own (`callscope generate`): name -> module.
_GENERATORS = {"home_services": "callscope.devtools.home_services_gen"}


def generator_for(profile_name: str) -> Callable[..., dict[str, Any]] | None:
    """The ``generate_record`` of a profile's own generator, or None (imported on demand)."""
    module = _GENERATORS.get(profile_name)
    if module is None:
        return None
    fn: Callable[..., dict[str, Any]] = import_module(module).generate_record
    return fn
