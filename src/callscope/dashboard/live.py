"""``/events``: server-sent events that keep every open page current.

``session`` events carry each newly processed call (the live feed, the session list, "calls
today"); ``tick`` events carry the real-time numbers — current calls active, the last hour's
average latency, token rate and cost burn — with their "as of" time, every
:data:`TICK_EVERY` polls and whenever new calls arrived.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sse_starlette.sse import EventSourceResponse
from starlette.concurrency import run_in_threadpool

from callscope.dashboard import profile_fields as pf
from callscope.dashboard.auth import User
from callscope.dashboard.state import Dashboard, api, json_response
from callscope.store import live, queries
from callscope.store.base import StoreError

TICK_EVERY = 5


def realtime(dash: Dashboard) -> dict[str, Any]:
    now = datetime.now(UTC)
    try:
        active = live.active_calls(dash.store, now)
    except StoreError:
        active = {"count": None, "rooms": [], "source": "unavailable"}
    hour = live.last_hour(dash.store, now)
    newest = queries.newest_processed(dash.store)
    return {
        "as_of": hour["as_of"],
        "data_through": newest.isoformat().replace("+00:00", "Z") if newest else None,
        "active_calls": active["count"],
        "active_source": active["source"],
        **{f"last_hour_{k}": v for k, v in hour.items() if k != "as_of"},
    }


def router(dash: Dashboard) -> APIRouter:
    r = APIRouter()

    @api(dash)
    def api_realtime(request: Request, user: User) -> Any:
        return realtime(dash)

    @r.get("/events", include_in_schema=False)
    async def events(request: Request) -> Response:
        if dash.auth.user_from_request(request) is None:
            return json_response({"error": "authentication required"}, 401)
        since = await run_in_threadpool(queries.newest_processed, dash.store)
        start = since or datetime(1970, 1, 1, tzinfo=UTC)
        return EventSourceResponse(_stream(dash, request, start), ping=15)

    r.add_api_route("/api/realtime", api_realtime, methods=["GET"])
    return r


async def _stream(
    dash: Dashboard, request: Request, start: datetime
) -> AsyncIterator[dict[str, str]]:
    cursor = start
    yield {"event": "hello", "data": orjson.dumps({"since": cursor.isoformat()}).decode()}
    polls = 0
    while not await request.is_disconnected():
        await asyncio.sleep(dash.poll_interval)
        polls += 1
        try:
            rows = await run_in_threadpool(
                queries.new_sessions, dash.store, cursor, 100, dash.tiers
            )
        except StoreError:
            continue  # the warehouse is briefly unavailable; retry on the next tick
        for row in rows:
            processed = row.pop("_processed_at")
            row["tier_label"] = pf.tier_label(dash.profile, row["tier"])
            row["tier_class"] = pf.tier_class(dash.profile, row["tier"])
            if isinstance(processed, datetime):
                cursor = max(
                    cursor, processed if processed.tzinfo else processed.replace(tzinfo=UTC)
                )
            yield {"event": "session", "data": orjson.dumps(row).decode()}
        if rows or polls % TICK_EVERY == 1:
            try:
                tick = await run_in_threadpool(realtime, dash)
            except StoreError:
                continue
            yield {"event": "tick", "data": orjson.dumps(tick).decode()}
