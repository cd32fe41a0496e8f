"""The dashboard's routes: six views, their JSON twins under ``/api``, login, and live events.

``create_dashboard_router(settings, store)`` returns an :class:`APIRouter` that the ingest app
includes next to its API (``callscope serve``). Pages are server-rendered (Jinja2) with the
numbers in the HTML; charts are Chart.js (bundled under ``static/vendor``) fed by JSON specs
embedded in the page, so the dashboard works in closed networks.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from callscope.config import Settings
from callscope.dashboard import detail
from callscope.dashboard.auth import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    SESSION_MAX_AGE_S,
    Auth,
    User,
    is_https,
)
from callscope.dashboard.filters import FilterError, Filters, parse_filters
from callscope.dashboard.recording import add_recording_routes, livekit_panel
from callscope.profile import Profile, load_profile
from callscope.store import queries
from callscope.store.base import Store, StoreError
from callscope.store.rollups import refresh_rollups

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_PREFIX = "/static"
NAV: list[tuple[str, str, str]] = [
    ("/", "Overview", "overview"),
    ("/engineering", "Engineering", "engineering"),
    ("/revops", "RevOps", "revops"),
    ("/executive", "Executive", "executive"),
    ("/knowledge-base", "Knowledge base", "knowledge-base"),
    ("/sessions", "Sessions", "sessions"),
]


class _Unauthorized(Exception):
    pass


def _fmt_num(value: Any, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    v = float(value)
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.1f}" if abs(v) >= 10 else f"{v:,.2f}"
    return f"{text} {unit}".strip()


def _fmt_ms(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.0f} ms"


def _fmt_dt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return text[:16].replace("T", " ")


def _templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters["ms"] = _fmt_ms
    t.env.filters["num"] = _fmt_num
    t.env.filters["dt"] = _fmt_dt
    t.env.filters["urlencode"] = lambda v: quote(str(v), safe="")
    return t


def _audit_log(settings: Settings) -> Any:
    try:
        from callscope.governance.audit import AuditLog, default_audit_path
    except ImportError:  # governance is optional in a trimmed install
        return None
    return AuditLog(default_audit_path(settings.data_dir))


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError


def _json(data: Any, status: int = 200) -> Response:
    body = orjson.dumps(data, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status_code=status, media_type="application/json")


class Dashboard:
    """State shared by the routes: store, profile, auth, and the rollup refresh timer."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        profile: Profile,
        refresh_interval: float,
        poll_interval: float,
        audit: Any,
    ) -> None:
        self.settings = settings
        self.store = store
        self.profile = profile
        self.auth = Auth(settings, audit=audit)
        self.templates = _templates()
        self.refresh_interval = refresh_interval
        self.poll_interval = poll_interval
        self._last_refresh = 0.0
        self._refresh_lock = threading.Lock()
        t = profile.thresholds
        self.thresholds: dict[str, float] = {
            k: float(v) for k, v in t.model_dump().items() if isinstance(v, int | float)
        }
        self.hot_lead_above = int(profile.scoring.hot_lead_above)

    # -- data freshness ----------------------------------------------------------------
    def refresh(self) -> None:
        """Fold newly processed sessions into the rollups, at most every refresh_interval.

        The first call builds the rollups before answering; later ones run in a background
        thread so that no request waits for an incremental refresh.
        """
        now = time.monotonic()
        if self._last_refresh and now - self._last_refresh < self.refresh_interval:
            return
        if not self._refresh_lock.acquire(blocking=not self._last_refresh):
            return  # a refresh is already running; serve what is there
        if not self._last_refresh:
            try:
                self._refresh_now()
            except StoreError as exc:
                # A read-only or briefly unreachable warehouse: serve what the rollups hold.
                log.warning("rollup refresh failed: %s", exc)
                self._last_refresh = time.monotonic()
            finally:
                self._refresh_lock.release()
            return
        self._last_refresh = now
        threading.Thread(
            target=self._refresh_background, daemon=True, name="callscope-rollups"
        ).start()

    def _refresh_now(self) -> None:
        refresh_rollups(self.store)
        self._last_refresh = time.monotonic()

    def _refresh_background(self) -> None:
        try:
            self._refresh_now()
        except StoreError as exc:
            log.warning("rollup refresh failed: %s", exc)
        finally:
            self._refresh_lock.release()

    def filters(self, request: Request) -> Filters:
        latest = queries.latest_day(self.store)
        default_end = latest or datetime.now(UTC).date()
        return parse_filters(dict(request.query_params), default_end)

    # -- access ------------------------------------------------------------------------
    def user(self, request: Request) -> User:
        user = self.auth.user_from_request(request)
        if user is None:
            raise _Unauthorized()
        return user

    def page(
        self, request: Request, name: str, context: dict[str, Any], status: int = 200
    ) -> Response:
        base = {
            "static_prefix": STATIC_PREFIX,
            "nav": NAV,
            "auth_enabled": self.auth.enabled,
            "options": {},
            "filters": None,
            "error": None,
            "user": None,
        }
        base.update(context)
        return self.templates.TemplateResponse(request, name, base, status_code=status)


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
    _add_auth_routes(router, dash)
    _add_views(router, dash)
    _add_live(router, dash)
    add_recording_routes(router, dash)

    @router.get(STATIC_PREFIX + "/{path:path}", include_in_schema=False)
    def static(path: str) -> Response:
        target = (STATIC_DIR / path).resolve()
        if not target.is_file() or STATIC_DIR.resolve() not in target.parents:
            return Response("not found", status_code=404, media_type="text/plain")
        return FileResponse(target, headers={"Cache-Control": "public, max-age=3600"})

    return router


# -- login / logout ---------------------------------------------------------------------------


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _add_auth_routes(router: APIRouter, dash: Dashboard) -> None:
    auth = dash.auth

    def login_page(request: Request, error: str | None, status: int, nxt: str) -> Response:
        token = auth.new_login_csrf()
        resp = dash.page(
            request,
            "login.html",
            {"error": error, "csrf": token, "next": nxt, "configured": auth.configured},
            status,
        )
        resp.set_cookie(
            LOGIN_CSRF_COOKIE,
            auth.sign_login_csrf(token),
            max_age=3600,
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )
        return resp

    @router.get("/login", include_in_schema=False)
    def login_form(request: Request, next: str = "/") -> Response:
        if not auth.enabled:
            return RedirectResponse(_safe_next(next), status_code=303)
        return login_page(request, None, 200, _safe_next(next))

    @router.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        if not auth.enabled:
            return RedirectResponse("/", status_code=303)
        form = await request.form()
        secret = str(form.get("secret", ""))
        nxt = _safe_next(str(form.get("next", "/")))
        client = request.client.host if request.client else "unknown"
        if not auth.configured:
            return login_page(request, "dashboard access is not configured", 503, nxt)
        if auth.throttled(client):
            return login_page(request, "too many failed sign-ins; wait a minute", 429, nxt)
        if not auth.login_csrf_ok(request, str(form.get("csrf", ""))):
            return login_page(request, "the sign-in form expired; please try again", 400, nxt)
        who = auth.check_secret(secret) if secret else None
        if who is None:
            auth.record_failure(client)
            auth.audit_login(user="?", role="", client=client, ok=False, method="password")
            return login_page(request, "wrong password or token", 401, nxt)
        name, role = who
        auth.audit_login(user=name, role=role, client=client, ok=True, method="password")
        resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(
            SESSION_COOKIE,
            auth.session_cookie(name, role),
            max_age=SESSION_MAX_AGE_S,
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )
        resp.delete_cookie(LOGIN_CSRF_COOKIE)
        return resp

    @router.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        user = auth.user_from_request(request)
        form = await request.form()
        if user is None or not auth.csrf_ok(user, str(form.get("csrf", ""))):
            return JSONResponse({"error": "missing or invalid CSRF token"}, status_code=403)
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp


# -- views ------------------------------------------------------------------------------------

ViewFn = Callable[[Dashboard, Filters, Request], dict[str, Any]]


def _meeting_value(request: Request) -> float:
    raw = request.query_params.get("meeting_value", "").strip()
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise FilterError(f"meeting_value: {raw!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise FilterError("meeting_value: must be a non-negative number")
    return value


def _kb_gaps(dash: Dashboard) -> queries.GapFn | None:
    try:
        from callscope.analyze.gaps import content_gaps, normalise
    except ImportError:
        return None
    topics = dash.profile.kb_topics

    def cluster(pairs: list[tuple[str, str]]) -> list[dict[str, Any]]:
        # Rollup queries are lower-cased and trimmed; the clusterer normalises further, so
        # map its queries back to ours to sum the rollup's counts per gap.
        ours: dict[str, list[str]] = {}
        for _, query in pairs:
            ours.setdefault(normalise(query), []).append(query)
        out = []
        for g in content_gaps(pairs, topics)[:12]:
            members = sorted({q for n in g.queries for q in ours.get(n, [])})
            out.append(
                {
                    "label": g.topic.replace("_", " "),
                    "count": g.count,
                    "sessions": g.session_count,
                    "examples": g.queries[:4],
                    "terms": g.terms,
                    "members": members,
                }
            )
        return out

    return cluster


VIEWS: dict[str, tuple[str, str, ViewFn]] = {
    "overview": (
        "Overview",
        "overview.html",
        lambda d, f, r: queries.overview(
            d.store,
            f,
            today=datetime.now(UTC).date(),
            thresholds=d.thresholds,
            hot_lead_above=d.hot_lead_above,
        ),
    ),
    "engineering": (
        "Engineering",
        "engineering.html",
        lambda d, f, r: queries.engineering(d.store, f, thresholds=d.thresholds),
    ),
    "revops": (
        "RevOps",
        "revops.html",
        lambda d, f, r: queries.revops(d.store, f, hot_lead_above=d.hot_lead_above),
    ),
    "executive": (
        "Executive",
        "executive.html",
        lambda d, f, r: queries.executive(d.store, f, meeting_value=_meeting_value(r)),
    ),
    "knowledge-base": (
        "Knowledge base",
        "knowledge_base.html",
        lambda d, f, r: queries.knowledge_base(d.store, f, cluster=_kb_gaps(d)),
    ),
}
PATHS = {
    "overview": "/",
    "engineering": "/engineering",
    "revops": "/revops",
    "executive": "/executive",
    "knowledge-base": "/knowledge-base",
}


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


def _unavailable(
    dash: Dashboard, request: Request, title: str, key: str, user: User, exc: StoreError
) -> Response:
    return dash.page(
        request,
        "error.html",
        {"title": title, "active": key, "user": user, "error": f"warehouse unavailable: {exc}"},
        status=503,
    )


def _add_views(router: APIRouter, dash: Dashboard) -> None:
    def make_page(key: str) -> Callable[[Request], Response]:
        title, template, fn = VIEWS[key]

        def view(request: Request) -> Response:
            try:
                user = dash.user(request)
            except _Unauthorized:
                return _login_redirect(request)
            try:
                dash.refresh()
                opts = queries.options(dash.store)
                f = dash.filters(request)
                data = fn(dash, f, request)
            except StoreError as exc:
                return _unavailable(dash, request, title, key, user, exc)
            except FilterError as exc:
                return dash.page(
                    request,
                    "error.html",
                    {
                        "title": title,
                        "active": key,
                        "user": user,
                        "error": str(exc),
                        "options": opts,
                        "filters": None,
                    },
                    status=400,
                )
            return dash.page(
                request,
                template,
                {
                    "title": title,
                    "active": key,
                    "user": user,
                    "filters": f,
                    "options": opts,
                    "d": data,
                    "request_args": dict(request.query_params),
                },
            )

        view.__name__ = f"page_{key.replace('-', '_')}"
        return view

    def make_api(key: str) -> Callable[[Request], Response]:
        _, _, fn = VIEWS[key]

        def api(request: Request) -> Response:
            if dash.auth.user_from_request(request) is None:
                return _json({"error": "authentication required"}, 401)
            try:
                dash.refresh()
                f = dash.filters(request)
                data = fn(dash, f, request)
            except StoreError as exc:
                return _json({"error": f"warehouse unavailable: {exc}"}, 503)
            except FilterError as exc:
                return _json({"error": str(exc)}, 400)
            return _json({"filters": f.as_dict(), **data})

        api.__name__ = f"api_{key.replace('-', '_')}"
        return api

    for key, path in PATHS.items():
        router.add_api_route(path, make_page(key), methods=["GET"], include_in_schema=False)
        router.add_api_route(
            f"/api/{'overview' if key == 'overview' else key}", make_api(key), methods=["GET"]
        )

    @router.get("/api/options")
    def api_options(request: Request) -> Response:
        if dash.auth.user_from_request(request) is None:
            return _json({"error": "authentication required"}, 401)
        dash.refresh()
        return _json(queries.options(dash.store))

    def list_sessions(request: Request, f: Filters) -> list[dict[str, Any]]:
        q = (request.query_params.get("q") or "").strip()[:200] or None
        before_raw = request.query_params.get("before")
        before = None
        if before_raw:
            try:
                before = datetime.fromisoformat(before_raw.replace("Z", "+00:00"))
            except ValueError:
                raise FilterError(f"before: {before_raw!r} is not a timestamp") from None
        return queries.sessions_list(dash.store, f, q=q, before=before)

    @router.get("/sessions", include_in_schema=False)
    def sessions_page(request: Request) -> Response:
        try:
            user = dash.user(request)
        except _Unauthorized:
            return _login_redirect(request)
        try:
            dash.refresh()
            opts = queries.options(dash.store)
            f = dash.filters(request)
            rows = list_sessions(request, f)
        except StoreError as exc:
            return _unavailable(dash, request, "Sessions", "sessions", user, exc)
        except FilterError as exc:
            return dash.page(
                request,
                "error.html",
                {"title": "Sessions", "active": "sessions", "user": user, "error": str(exc)},
                400,
            )
        q = request.query_params.get("q", "")
        live = not q and not request.query_params.get("before")
        return dash.page(
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
                "live": live,
                "next_before": rows[-1]["started_at"] if len(rows) >= 50 else None,
            },
        )

    @router.get("/api/sessions")
    def api_sessions(request: Request) -> Response:
        if dash.auth.user_from_request(request) is None:
            return _json({"error": "authentication required"}, 401)
        try:
            dash.refresh()
            f = dash.filters(request)
            rows = list_sessions(request, f)
        except StoreError as exc:
            return _json({"error": f"warehouse unavailable: {exc}"}, 503)
        except FilterError as exc:
            return _json({"error": str(exc)}, 400)
        return _json({"filters": f.as_dict(), "sessions": rows})

    @router.get("/sessions/{session_id}", include_in_schema=False)
    def session_page(request: Request, session_id: str) -> Response:
        try:
            user = dash.user(request)
        except _Unauthorized:
            return _login_redirect(request)
        try:
            found = queries.session_detail(dash.store, session_id)
        except StoreError as exc:
            return _unavailable(dash, request, "Sessions", "sessions", user, exc)
        if found is None:
            return dash.page(
                request,
                "error.html",
                {
                    "title": "Session not found",
                    "active": "sessions",
                    "user": user,
                    "error": f"no session {session_id!r} in the warehouse",
                },
                404,
            )
        view = detail.build(found, dash.profile, pii=user.sees_pii, thresholds=dash.thresholds)
        view["livekit"] = livekit_panel(dash.settings, session_id, pii=user.sees_pii)
        return dash.page(
            request,
            "session.html",
            {"title": f"Call {session_id}", "active": "sessions", "user": user, "s": view},
        )

    @router.get("/api/sessions/{session_id}")
    def api_session(request: Request, session_id: str) -> Response:
        user = dash.auth.user_from_request(request)
        if user is None:
            return _json({"error": "authentication required"}, 401)
        try:
            found = queries.session_detail(dash.store, session_id)
        except StoreError as exc:
            return _json({"error": f"warehouse unavailable: {exc}"}, 503)
        if found is None:
            return _json({"error": f"no session {session_id!r}"}, 404)
        view = detail.build(found, dash.profile, pii=user.sees_pii, thresholds=dash.thresholds)
        view["livekit"] = livekit_panel(dash.settings, session_id, pii=user.sees_pii)
        return _json(view)


# -- live -------------------------------------------------------------------------------------


def _add_live(router: APIRouter, dash: Dashboard) -> None:
    @router.get("/events", include_in_schema=False)
    async def events(request: Request) -> Response:
        if dash.auth.user_from_request(request) is None:
            return _json({"error": "authentication required"}, 401)
        since = await run_in_threadpool(queries.newest_processed, dash.store)
        start = since or datetime(1970, 1, 1, tzinfo=UTC)

        async def stream() -> AsyncIterator[dict[str, str]]:
            cursor = start
            yield {"event": "hello", "data": orjson.dumps({"since": cursor.isoformat()}).decode()}
            while not await request.is_disconnected():
                await asyncio.sleep(dash.poll_interval)
                try:
                    rows = await run_in_threadpool(queries.new_sessions, dash.store, cursor)
                except StoreError:
                    continue  # the warehouse is briefly unavailable; retry on the next tick
                today = datetime.now(UTC).date().isoformat()
                for row in rows:
                    processed = row.pop("_processed_at")
                    if isinstance(processed, datetime):
                        cursor = max(
                            cursor, processed if processed.tzinfo else processed.replace(tzinfo=UTC)
                        )
                    row["is_today"] = str(row.get("started_at") or "").startswith(today)
                    yield {"event": "session", "data": orjson.dumps(row).decode()}

        return EventSourceResponse(stream(), ping=15)
