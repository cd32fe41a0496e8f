"""The dashboard: five aggregate views, sessions, their JSON/CSV twins, login and live events.

``create_dashboard_router(settings, store)`` returns an :class:`APIRouter` that the ingest app
includes next to its API (``callscope serve``). It is made of one router per concern —
:mod:`~callscope.dashboard.login`, :mod:`~callscope.dashboard.views`,
:mod:`~callscope.dashboard.sessions`, :mod:`~callscope.dashboard.live` — that share the
:class:`~callscope.dashboard.state.Dashboard` state and its auth/error wrappers. Pages are
server-rendered (Jinja2) with the numbers in the HTML; charts are Chart.js (bundled under
``static/vendor``) fed by JSON specs embedded in the page, so the dashboard works offline.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from callscope.config import Settings
from callscope.dashboard import live, login, sessions, views
from callscope.dashboard.recording import add_recording_routes
from callscope.dashboard.state import STATIC_DIR, STATIC_PREFIX, Dashboard
from callscope.profile import Profile, load_profile
from callscope.store.base import Store


def _audit_log(settings: Settings) -> Any:
    try:
        from callscope.governance.audit import AuditLog, default_audit_path
    except ImportError:  # governance is optional in a trimmed install
        return None
    return AuditLog(default_audit_path(settings.data_dir))


def create_dashboard_router(
    settings: Settings,
    store: Store,
    *,
    profile: Profile | None = None,
    refresh_interval: float = 5.0,
    poll_interval: float = 1.0,
    audit: Any = None,
) -> APIRouter:
    """Every dashboard route, ready for ``app.include_router(...)``."""
    dash = Dashboard(
        settings,
        store,
        profile or load_profile(settings.profile),
        refresh_interval,
        poll_interval,
        audit if audit is not None else _audit_log(settings),
    )
    router = APIRouter()
    for part in (login.router(dash), views.router(dash), sessions.router(dash), live.router(dash)):
        router.include_router(part)
    add_recording_routes(router, dash)

    @router.get(STATIC_PREFIX + "/{path:path}", include_in_schema=False)
    def static(path: str) -> Response:
        target = (STATIC_DIR / path).resolve()
        if not target.is_file() or STATIC_DIR.resolve() not in target.parents:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})

    return router
