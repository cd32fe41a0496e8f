"""Developer tools: synthetic calls of bundled profiles, ASR-noisy variants of labeled sets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callscope.devtools import home_services_gen

# Profiles whose calls have a generator of their own, by profile name (`callscope generate`).
GENERATORS: dict[str, Callable[..., dict[str, Any]]] = {
    "home_services": home_services_gen.generate_record,
}
