"""The session list (with the drill-down filters every aggregate links to) and one call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from callscope.dashboard import detail
from callscope.dashboard.auth import User
from callscope.dashboard.filters import FilterError, Filters
from callscope.dashboard.recording import livekit_panel
from callscope.dashboard.state import Dashboard, api, json_response, page
from callscope.dashboard.views import to_csv
from callscope.store import panels, queries

# Drill parameters the list understands, as the page shows them ("industry: healthcare").
DRILL_PARAMS = (
    *panels.SIGNAL_KINDS,
    *panels.LEAD_COLUMNS,
    "sentiment",
    "region",
    "score",
    "tool",
    "kb_query",
    "meeting",
)


def drill_of(request: Request) -> dict[str, str]:
    out = {}
    for name in DRILL_PARAMS:
        value = (request.query_params.get(name) or "").strip()
        if len(value) > 200:
            raise FilterError(f"{name}: longer than 200 characters")
        if value:
            out[name] = value
    return out


def list_sessions(
    dash: Dashboard, request: Request, f: Filters, limit: int = 50
) -> list[dict[str, Any]]:
    q = (request.query_params.get("q") or "").strip()[:200] or None
    before_raw = request.query_params.get("before")
    before = None
    if before_raw:
        try:
            before = datetime.fromisoformat(before_raw.replace("Z", "+00:00"))
        except ValueError:
            raise FilterError(f"before: {before_raw!r} is not a timestamp") from None
    extra = panels.drill_where(drill_of(request))
    return queries.sessions_list(
        dash.store, f, q=q, before=before, extra=extra, limit=limit, tiers=dash.tiers
    )


def _redacted(rows: list[dict[str, Any]], user: User) -> list[dict[str, Any]]:
    if user.sees_pii:
        return rows
    return [{**r, "company": "[REDACTED]" if r.get("company") else None} for r in rows]


def router(dash: Dashboard) -> APIRouter:
    r = APIRouter()

    @page(dash, "Sessions", "sessions")
    def sessions_page(request: Request, user: User) -> Response:
        dash.refresh()
        opts = queries.options(dash.store, dash.tiers)
        f = dash.filters(request)
        drill = drill_of(request)
        rows = _redacted(list_sessions(dash, request, f), user)
        q = request.query_params.get("q", "")
        live = not q and not request.query_params.get("before") and not drill
        return dash.render(
            request,
            "sessions.html",
            {
                "title": "Sessions",
                "active": "sessions",
                "user": user,
                "filters": f,
                "options": opts,
                "rows": rows,
                "q": q,
                "drill": drill,
                "live": live,
                "export_qs": request.url.query,
                "next_before": rows[-1]["started_at"] if len(rows) >= 50 else None,
            },
        )

    @api(dash)
    def api_sessions(request: Request, user: User) -> Any:
        dash.refresh()
        f = dash.filters(request)
        rows = _redacted(list_sessions(dash, request, f), user)
        return {"filters": f.as_dict(), "drill": drill_of(request), "sessions": rows}

    @api(dash)
    def sessions_csv(request: Request, user: User) -> Any:
        dash.refresh()
        f = dash.filters(request)
        return to_csv(_redacted(list_sessions(dash, request, f, limit=10_000), user), "sessions")

    @page(dash, "Sessions", "sessions")
    def session_page(request: Request, user: User) -> Response:
        session_id = request.path_params["session_id"]
        found = queries.session_detail(dash.store, session_id)
        if found is None:
            err = f"no session {session_id!r} in the warehouse"
            ctx = {"title": "Session not found", "active": "sessions", "user": user, "error": err}
            return dash.render(request, "error.html", ctx, 404)
        view = detail.build(found, dash.profile, pii=user.sees_pii, thresholds=dash.thresholds)
        view["livekit"] = livekit_panel(dash.settings, session_id, pii=user.sees_pii)
        ctx = {"title": f"Call {session_id}", "active": "sessions", "user": user, "s": view}
        return dash.render(request, "session.html", ctx)

    @api(dash)
    def api_session(request: Request, user: User) -> Any:
        session_id = request.path_params["session_id"]
        found = queries.session_detail(dash.store, session_id)
        if found is None:
            return json_response({"error": f"no session {session_id!r}"}, 404)
        view = detail.build(found, dash.profile, pii=user.sees_pii, thresholds=dash.thresholds)
        view["livekit"] = livekit_panel(dash.settings, session_id, pii=user.sees_pii)
        return view

    r.add_api_route("/sessions", sessions_page, methods=["GET"], include_in_schema=False)
    r.add_api_route("/api/sessions", api_sessions, methods=["GET"])
    r.add_api_route("/export/sessions.csv", sessions_csv, methods=["GET"])
    r.add_api_route(
        "/sessions/{session_id}", session_page, methods=["GET"], include_in_schema=False
    )
    r.add_api_route("/api/sessions/{session_id}", api_session, methods=["GET"])
    return r
