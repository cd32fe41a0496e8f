"""``uvicorn --factory callscope.ingest.factory:app_from_env``: the app from config and env.

Used by ``callscope serve --http-workers N`` (each uvicorn process builds its own app) and by
container images that run uvicorn directly.
"""

from __future__ import annotations

from fastapi import FastAPI

from callscope.config import load_settings
from callscope.ingest.app import create_app


def app_from_env() -> FastAPI:
    return create_app(load_settings())
