"""The five aggregate views: their data, their pages, their JSON and every panel's JSON/CSV.

Each view's data is one dict (:func:`build`): the store's numbers (``queries``, ``panels``,
``live``) named from the active profile (``profile_fields``) and redacted for the viewer
role, so the page, ``/api/<view>``, ``/api/<view>/<panel>`` and
``/export/<view>/<panel>.csv`` always show the same numbers.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from callscope.dashboard import profile_fields as pf
from callscope.dashboard.auth import User
from callscope.dashboard.catalog import BY_VIEW, PANELS, Panel
from callscope.dashboard.filters import FilterError, Filters
from callscope.dashboard.state import Dashboard, api, json_response, page
from callscope.governance.redact import redact_text
from callscope.store import live, panels, queries
from callscope.store.base import StoreError

TITLES = {
    "overview": ("Overview", "overview.html", "/"),
    "engineering": ("Engineering", "engineering.html", "/engineering"),
    "revops": ("RevOps", "revops.html", "/revops"),
    "executive": ("Executive", "executive.html", "/executive"),
    "knowledge-base": ("Knowledge base", "knowledge_base.html", "/knowledge-base"),
}
# Who the caller is: hidden from the viewer role. Free text a caller may have said: through
# the PII redactor (as transcripts are).
_IDENTITY_KEYS = frozenset({"caller", "company", "user_name", "user_email"})
_FREE_TEXT_KEYS = frozenset({"query", "examples", "message"})


def meeting_value(request: Request) -> float:
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


def _live(dash: Dashboard) -> dict[str, Any]:
    now = datetime.now(UTC)
    try:
        active = live.active_calls(dash.store, now)
    except StoreError:
        active = {"count": None, "rooms": [], "source": "unavailable"}
    return {"active_calls": active, "last_hour": live.last_hour(dash.store, now)}


def _pipeline(measured: dict[str, Any] | None, meetings: int, value: float) -> dict[str, Any]:
    if measured is not None:
        return {
            "value": measured["pipeline"],
            "measured": True,
            "note": f"measured: CRM outcomes of {measured['sessions']:,} calls",
        }
    if value:
        return {
            "value": round(meetings * value, 2),
            "measured": False,
            "note": f"assumption: {meetings:,} meetings × ${value:,.0f} per meeting",
        }
    return {
        "value": None,
        "measured": False,
        "note": "no outcomes table yet: set meeting_value to estimate",
    }


def overview(dash: Dashboard, f: Filters, request: Request) -> dict[str, Any]:
    now = datetime.now(UTC).date()
    today = f.day_shown(now)
    data = queries.overview(
        dash.store,
        f,
        today=today,
        thresholds=dash.thresholds,
        hot_lead_above=dash.hot_lead_above,
        tiers=dash.tiers,
    )
    q = panels.quality(dash.store, f, dash.tiers)
    per_day = q.pop("per_day")
    data.update(q)
    data.update(panels.trends(per_day, f))
    data["hot_today"] = queries.hot_leads(
        dash.store, queries.Range.of(f, today, today), limit=10, tiers=dash.tiers
    )
    data["today_is_now"] = today == now
    data.update(_live(dash))
    data["top_tier_label"] = pf.tier_label(dash.profile, dash.tiers.top)
    return data


def engineering(dash: Dashboard, f: Filters, request: Request) -> dict[str, Any]:
    data = queries.engineering(dash.store, f, thresholds=dash.thresholds, tiers=dash.tiers)
    for c in data["components"]:
        c["label"] = pf.COMPONENT_LABELS.get(c["key"], c["key"])
    q = panels.quality(dash.store, f, dash.tiers)
    data.update(panels.resources(dash.store, f, q["per_day"]))
    data.update(_live(dash))
    return data


def revops(dash: Dashboard, f: Filters, request: Request) -> dict[str, Any]:
    data = queries.revops(dash.store, f, hot_lead_above=dash.hot_lead_above, tiers=dash.tiers)
    q = panels.quality(dash.store, f, dash.tiers)
    trend = panels.trends(q["per_day"], f)
    data["qualification_trend"] = trend["qualification_trend"]
    data["meeting_trend"] = trend["meeting_trend"]
    data.update(panels.leads(dash.store, f, team_bands=pf.bands(dash.profile, "team_size")))
    data["conversion_pct"] = q["conversion_pct"]
    data["top_tier_calls"] = q["top_tier_calls"]
    data["avg_engagement"] = q["avg_engagement"]
    measured = panels.outcomes(dash.store, f)
    data["pipeline"] = _pipeline(measured, data["meetings_booked"], meeting_value(request))
    data["fields"] = {
        k: {"shown": pf.has_field(dash.profile, k), "label": pf.field_label(dash.profile, k)}
        for k in ("industry", "team_size", "integrations", "competitors", "objections")
    }
    return data


def executive(dash: Dashboard, f: Filters, request: Request) -> dict[str, Any]:
    value = meeting_value(request)
    data = queries.executive(dash.store, f, meeting_value=value, tiers=dash.tiers)
    q = panels.quality(dash.store, f, dash.tiers)
    res = panels.resources(dash.store, f, q["per_day"])
    measured = panels.outcomes(dash.store, f)
    data["outcomes"] = measured
    data["pipeline"] = _pipeline(measured, data["meetings_booked"], value)
    cost = data["cost"]
    if measured is not None:
        won = measured["closed_won"]
        data["roi"] = round(measured["won_amount"] / cost, 1) if cost else None
        data["roi_note"] = "measured: closed-won amount ÷ agent cost"
        data["cost_per_acquisition"] = {
            "value": round(cost / won, 2) if won else None,
            "note": "per closed-won deal (measured)",
        }
        data["trial_conversion"] = {
            "value": measured["trial_conversion_pct"],
            "note": "trials converted, from CRM outcomes",
        }
    else:
        data["roi_note"] = (
            f"assumption: ${value:,.0f} per meeting" if value else "set meeting_value to estimate"
        )
        meetings = data["meetings_booked"]
        data["cost_per_acquisition"] = {
            "value": round(cost / meetings, 2) if meetings else None,
            "note": "per booked meeting (no outcomes table: assumed acquisition)",
        }
        data["trial_conversion"] = {"value": None, "note": "needs CRM outcomes (outcomes table)"}
    data["utilization"] = {
        "value": res["utilization"],
        "call_hours": res["call_hours"],
        "note": "average calls in progress (call-hours ÷ hours in range)",
    }
    data["conversion_rate_pct"] = q["conversion_pct"]
    return data


def knowledge_base(dash: Dashboard, f: Filters, request: Request) -> dict[str, Any]:
    data = queries.knowledge_base(dash.store, f, cluster=_kb_gaps(dash), tiers=dash.tiers)
    data.update(panels.knowledge(dash.store, f))
    return data


BUILDERS: dict[str, Callable[[Dashboard, Filters, Request], dict[str, Any]]] = {
    "overview": overview,
    "engineering": engineering,
    "revops": revops,
    "executive": executive,
    "knowledge-base": knowledge_base,
}


def _redact(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _redact(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, key) for v in value]
    if key in _IDENTITY_KEYS and value:
        return "[REDACTED]"
    if key in _FREE_TEXT_KEYS and isinstance(value, str):
        return redact_text(value)
    return value


def _name_charts(data: dict[str, Any], dash: Dashboard) -> None:
    for k, v in list(data.items()):
        if isinstance(v, dict) and "datasets" in v:
            data[k] = pf.relabel(v, dash.profile)


def build(dash: Dashboard, key: str, request: Request, user: User) -> tuple[Filters, Any]:
    dash.refresh()
    f = dash.filters(request)
    data = BUILDERS[key](dash, f, request)
    _name_charts(data, dash)
    if not user.sees_pii:
        data = _redact(data)
    data["as_of"] = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    data["drill_base"] = f.query_string()
    return f, data


# -- CSV ------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}={_cell(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    # A cell a spreadsheet would run as a formula is quoted as text (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(rows: list[dict[str, Any]], name: str) -> Response:
    buf = io.StringIO()
    columns: list[str] = []
    for r in rows:
        columns += [k for k in r if k not in columns]
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in columns])
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def table_rows(panel: Panel, data: dict[str, Any]) -> list[dict[str, Any]]:
    value = data.get(panel.key)
    if isinstance(value, list):
        return [v if isinstance(v, dict) else {"value": v} for v in value]
    if isinstance(value, dict):
        return [{"key": k, "value": v} for k, v in value.items()]
    return []


# -- routes ---------------------------------------------------------------------------


def router(dash: Dashboard) -> APIRouter:
    r = APIRouter()
    for key, (title, template, path) in TITLES.items():
        _view_routes(r, dash, key, title, template, path)

    @api(dash)
    def options(request: Request, user: User) -> Any:
        dash.refresh()
        return queries.options(dash.store, dash.tiers)

    @api(dash)
    def catalog(request: Request, user: User) -> Any:
        return [
            {
                "id": p.id,
                "view": p.view,
                "title": p.title,
                "kind": p.kind,
                "api": f"/api/{p.view}/{p.id}",
                "csv": f"/export/{p.view}/{p.id}.csv" if p.kind in ("table", "cloud") else None,
            }
            for p in PANELS
        ]

    r.add_api_route("/api/options", options, methods=["GET"])
    r.add_api_route("/api/panels", catalog, methods=["GET"])
    return r


def _view_routes(
    r: APIRouter, dash: Dashboard, key: str, title: str, template: str, path: str
) -> None:
    @page(dash, title, key)
    def view(request: Request, user: User) -> Response:
        f, data = build(dash, key, request, user)
        opts = queries.options(dash.store, dash.tiers)
        ctx = {
            "title": title,
            "active": key,
            "user": user,
            "filters": f,
            "options": opts,
            "d": data,
            "panels": BY_VIEW.get(key, {}),
            "request_args": dict(request.query_params),
        }
        return dash.render(request, template, ctx)

    @api(dash)
    def view_api(request: Request, user: User) -> Any:
        f, data = build(dash, key, request, user)
        return {"filters": f.as_dict(), **data}

    @api(dash)
    def panel_api(request: Request, user: User) -> Any:
        panel = _panel(key, request.path_params["panel"])
        if panel is None:
            return json_response({"error": f"no panel {request.path_params['panel']!r}"}, 404)
        f, data = build(dash, key, request, user)
        return {
            "filters": f.as_dict(),
            "panel": panel.id,
            "title": panel.title,
            "as_of": data["as_of"],
            "data": data.get(panel.key),
        }

    @api(dash)
    def panel_csv(request: Request, user: User) -> Any:
        panel = _panel(key, request.path_params["panel"])
        if panel is None or panel.kind not in ("table", "cloud"):
            name = request.path_params["panel"]
            return json_response({"error": f"no table {name!r} on {key}"}, 404)
        _, data = build(dash, key, request, user)
        return to_csv(table_rows(panel, data), f"{key}-{panel.id}")

    slug = key.replace("-", "_")
    view.__name__ = f"page_{slug}"
    r.add_api_route(path, view, methods=["GET"], include_in_schema=False)
    r.add_api_route(f"/api/{key}", view_api, methods=["GET"], name=f"api_{slug}")
    r.add_api_route(f"/api/{key}/{{panel}}", panel_api, methods=["GET"], name=f"panel_{slug}")
    r.add_api_route(f"/export/{key}/{{panel}}.csv", panel_csv, methods=["GET"], name=f"csv_{slug}")


def _panel(view: str, panel_id: str) -> Panel | None:
    return BY_VIEW.get(view, {}).get(panel_id)


__all__ = ["PANELS", "build", "router", "to_csv"]
