"""The ingest service: sessions over HTTP into the queue, durable before the answer.

Routes: ``POST /v1/sessions``, ``POST /v1/sessions:batch``, ``POST /v1/livekit/webhook``,
``GET /healthz``, ``GET /readyz``, ``GET /metrics`` (:mod:`callscope.ingest.routes`) and
LiveKit's observability upload (:mod:`callscope.ingest.observability`). Other areas (the
dashboard) mount their own routers on the app :func:`create_app` returns.

Concurrent requests are committed together: every accepted session goes through one
``enqueue_many`` call per round (group commit), so one SQLite transaction or one Redis
pipeline carries many requests and each answer still waits for its own durable write.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response

from callscope.config import Settings
from callscope.ingest.routes import router as ingest_router
from callscope.ingest.service import IngestService, error_response
from callscope.profile.model import Profile, load_profile
from callscope.queue.base import Queue, QueueUnavailable

__all__ = ["create_app", "error_response"]

log = structlog.get_logger("callscope.ingest")


def create_app(
    settings: Settings,
    queue: Queue | None = None,
    store: Any = None,
    *,
    profile: Profile | None = None,
    queue_factory: Callable[[], Queue] | None = None,
) -> FastAPI:
    """The ingest app. Without ``queue`` it opens ``settings.resolved_queue_url()`` on start.

    ``store`` (anything with ``ping()``) is only checked by ``/readyz``; the ingest path never
    writes the warehouse.
    """
    svc = IngestService(
        settings,
        profile or load_profile(settings.profile),
        queue=queue,
        store=store,
        queue_factory=queue_factory,
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with contextlib.suppress(QueueUnavailable):
            svc.committer()  # open the queue early; a failure is retried per request
        task = asyncio.create_task(svc.sweeper()) if svc.tracker else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await svc.close()

    app = FastAPI(
        title="callscope ingest", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    app.state.rooms = svc.tracker
    app.state.ingest_service = svc
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(ingest_router)
    from callscope.ingest.observability import create_observability_router

    app.include_router(create_observability_router(settings))
    return app


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("ingest: unexpected error", path=request.url.path)
    return error_response(500, "internal", "internal error; the request was not accepted")
