"""The ingest service (HTTP → queue) and the pipeline's Prometheus metrics.

``create_app`` is imported lazily so that the worker can use :mod:`callscope.ingest.metrics`
without loading FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from callscope.ingest.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from callscope.ingest.app import create_app

        return create_app
    raise AttributeError(name)
