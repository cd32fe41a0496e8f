"""Sign-in and sign-out: the only routes that answer without a user."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from callscope.dashboard.auth import LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_MAX_AGE_S, is_https
from callscope.dashboard.state import Dashboard


def router(dash: Dashboard) -> APIRouter:
    r = APIRouter()
    _add_auth_routes(r, dash)
    return r


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _add_auth_routes(router: APIRouter, dash: Dashboard) -> None:
    auth = dash.auth

    def login_page(request: Request, error: str | None, status: int, nxt: str) -> Response:
        token = auth.new_login_csrf()
        resp = dash.render(
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
        auth.end_session(user)  # server-side: a copied cookie stops working too
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE)
        return resp
