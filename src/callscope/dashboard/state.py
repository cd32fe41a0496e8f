"""State every dashboard router shares, and the one place auth and errors are handled.

:class:`Dashboard` holds the store, profile, auth and the rollup refresh timer.
:func:`page` and :func:`api` wrap a route so that every page and every JSON/CSV endpoint
answers the same way: no user → the sign-in page (pages) or ``401`` (APIs); a bad filter →
``400`` with one line; a warehouse that cannot answer → ``503`` with one line.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from callscope.config import Settings
from callscope.dashboard import profile_fields as pf
from callscope.dashboard.auth import Auth, User
from callscope.dashboard.filters import FilterError, Filters, parse_filters
from callscope.profile import Profile
from callscope.store import queries
from callscope.store.base import Store, StoreError
from callscope.store.panels import DrillError
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
BadInput = (FilterError, DrillError)


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
    return str(value)[:16].replace("T", " ")


def _templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    t.env.filters["ms"] = _fmt_ms
    t.env.filters["num"] = _fmt_num
    t.env.filters["dt"] = _fmt_dt
    t.env.filters["urlencode"] = lambda v: quote(str(v), safe="")
    return t


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError


def json_response(data: Any, status: int = 200) -> Response:
    body = orjson.dumps(data, default=_json_default, option=orjson.OPT_NON_STR_KEYS)
    return Response(body, status_code=status, media_type="application/json")


class Dashboard:
    """Store, profile, auth, templates and the rollup refresh timer, shared by the routes."""

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
        self.tiers = pf.tiers(profile)
        # Tier tags name and colour a tier from the profile (templates never spell an id).
        self.templates.env.filters["tier_label"] = lambda t: pf.tier_label(
            profile, t or self.tiers.below
        )
        self.templates.env.filters["tier_class"] = lambda t: pf.tier_class(profile, t)

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
        return parse_filters(dict(request.query_params), default_end, self.tiers.ids)

    def render(
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
            "profile_name": self.profile.name,
        }
        base.update(context)
        return self.templates.TemplateResponse(request, name, base, status_code=status)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


PageFn = Callable[[Request, User], Response]
ApiFn = Callable[[Request, User], Any]


def page(dash: Dashboard, title: str, key: str) -> Callable[[PageFn], Callable[..., Response]]:
    """A page route: sign-in redirect, 400 on bad input, 503 when the warehouse fails."""

    def wrap(fn: PageFn) -> Callable[..., Response]:
        # Not functools.wraps: FastAPI would read the wrapped signature as query parameters.
        def route(request: Request) -> Response:
            user = dash.auth.user_from_request(request)
            if user is None:
                return login_redirect(request)
            ctx = {"title": title, "active": key, "user": user}
            try:
                return fn(request, user)
            except StoreError as exc:
                err = f"warehouse unavailable: {exc}"
                return dash.render(request, "error.html", {**ctx, "error": err}, 503)
            except BadInput as exc:
                return dash.render(request, "error.html", {**ctx, "error": str(exc)}, 400)

        route.__name__ = f"page_{fn.__name__}"
        return route

    return wrap


def api(dash: Dashboard) -> Callable[[ApiFn], Callable[..., Response]]:
    """A JSON/CSV route: 401 without a user, 400 on bad input, 503 when the warehouse fails.

    The wrapped function returns JSON-able data (sent as JSON) or a ready ``Response``.
    """

    def wrap(fn: ApiFn) -> Callable[..., Response]:
        def route(request: Request) -> Response:
            user = dash.auth.user_from_request(request)
            if user is None:
                return json_response({"error": "authentication required"}, 401)
            try:
                out = fn(request, user)
            except StoreError as exc:
                return json_response({"error": f"warehouse unavailable: {exc}"}, 503)
            except BadInput as exc:
                return json_response({"error": str(exc)}, 400)
            return out if isinstance(out, Response) else json_response(out)

        route.__name__ = f"api_{fn.__name__}"
        return route

    return wrap
