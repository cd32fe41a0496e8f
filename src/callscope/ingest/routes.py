"""The ingest's HTTP routes: sessions (single and batch), the LiveKit webhook, health.

Each route takes the app's :class:`~callscope.ingest.service.IngestService` as a dependency;
the steps a record goes through live there, the HTTP shapes here.
"""

from __future__ import annotations

import os
import time
from typing import Annotated, Any

import anyio.to_thread
import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from callscope.contract.errors import RecordError
from callscope.contract.parse import decode_json
from callscope.contract.record import MAX_RECORD_BYTES
from callscope.ingest import metrics
from callscope.ingest.livekit import ENDING_EVENTS, WebhookError, verify_webhook
from callscope.ingest.service import (
    ClientError,
    IngestService,
    Prepared,
    error_response,
    failed,
    json_response,
    one_line,
    ping_store,
    record_error,
    service,
)
from callscope.queue.base import EnqueueOutcome
from callscope.store.live import record_room_event

# A batch may hold many records; each one is still held to the single-record limit.
BATCH_BYTES_FACTOR = 8
MAX_BATCH_ITEMS = 10_000

_JSON_TYPES = frozenset({"application/json", "text/json"})
_LINES_TYPES = frozenset(
    {
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/x-jsonl",
        "application/jsonlines",
        "application/x-jsonlines",
        "application/json-lines",
    }
)

Service = Annotated[IngestService, Depends(service)]
router = APIRouter()


def _media_type(request: Request) -> str:
    return (request.headers.get("content-type") or "").split(";")[0].strip().lower()


def _check_type(request: Request, allowed: frozenset[str]) -> None:
    media = _media_type(request)
    if (
        not media
        or media in allowed
        or (media.startswith("application/") and media.endswith("+json"))
    ):
        return
    raise ClientError(
        415,
        "unsupported_media_type",
        f"Content-Type {media!r} is not accepted here (send application/json"
        + (" or application/x-ndjson)" if allowed is not _JSON_TYPES else ")"),
    )


@router.post("/v1/sessions")
async def post_session(request: Request, svc: Service) -> Response:
    started = time.perf_counter()
    try:
        name = svc.authorize(request)
        _check_type(request, _JSON_TYPES)
        svc.rate(name, 1)
        body = await svc.read(request, svc.cap)
        try:
            prepared = svc.prepare(
                decode_json(body, "body"), "body", request.headers.get("x-callscope-priority")
            )
        except RecordError as exc:
            raise record_error(exc) from None
        (result,) = await svc.enqueue([prepared])
    except ClientError as exc:
        return failed(exc)
    await svc.seen([result])
    if result.outcome is EnqueueOutcome.DUPLICATE:
        metrics.record_duplicate("single")
        status = 200
    else:
        metrics.record_accepted("single")
        status = 202
    metrics.REQUEST_SECONDS.labels(endpoint="single").observe(time.perf_counter() - started)
    return json_response(
        {
            "session_id": result.session_id,
            "status": result.outcome.value,
            "revision": result.revision,
            "priority": prepared.priority,
        },
        status,
    )


@router.post("/v1/sessions:batch")
async def post_batch(request: Request, svc: Service) -> Response:
    started = time.perf_counter()
    try:
        name = svc.authorize(request)
        _check_type(request, _JSON_TYPES | _LINES_TYPES)
        body = await svc.read(request, svc.cap * BATCH_BYTES_FACTOR)
        items = _split_batch(body)
        svc.rate(name, sum(1 for it in items if not isinstance(it, RecordError)))
    except ClientError as exc:
        return failed(exc)
    header = request.headers.get("x-callscope-priority")
    prepared: list[tuple[int, Prepared]] = []
    results: list[dict[str, Any] | None] = [None] * len(items)
    for i, item in enumerate(items):
        if isinstance(item, RecordError):
            failure: RecordError = item
        else:
            try:
                prepared.append((i, svc.prepare(item, f"body[{i}]", header)))
                continue
            except RecordError as exc:
                failure = exc
        metrics.record_rejected(failure.reason)
        results[i] = _rejected(i, failure)
    if prepared:
        try:
            outcomes = await svc.enqueue([p for _, p in prepared])
        except ClientError as exc:
            return error_response(exc.status, exc.reason, exc.message, None, exc.retry_after)
        await svc.seen(outcomes)
        for (i, p), res in zip(prepared, outcomes, strict=True):
            results[i] = {
                "index": i,
                "status": res.outcome.value,
                "session_id": res.session_id,
                "revision": res.revision,
                "priority": p.priority,
            }
    counts = {"accepted": 0, "revision": 0, "duplicate": 0, "rejected": 0}
    for r in results:
        assert r is not None
        counts[r["status"]] += 1
    metrics.record_accepted("batch", counts["accepted"] + counts["revision"])
    metrics.record_duplicate("batch", counts["duplicate"])
    metrics.REQUEST_SECONDS.labels(endpoint="batch").observe(time.perf_counter() - started)
    status = 202 if counts["accepted"] + counts["revision"] else 200
    return json_response({**counts, "results": results}, status)


def _rejected(index: int, failure: RecordError) -> dict[str, Any]:
    return {
        "index": index,
        "status": "rejected",
        "session_id": failure.session_id,
        "error": failure.reason,
        "message": one_line(failure.message),
        "field": failure.field,
    }


def _split_batch(body: bytes) -> list[Any]:
    """Decoded items (or a RecordError in place of a bad line) of an array or JSON Lines."""
    stripped = body.lstrip()
    if not stripped:
        raise ClientError(400, "empty", "empty body")
    items: list[Any]
    if stripped[:1] == b"[" or _single_document(stripped):
        try:
            doc = decode_json(body, "body")
        except RecordError as exc:
            raise record_error(exc) from None
        items = doc if isinstance(doc, list) else [doc]
    else:
        items = []
        for lineno, line in enumerate(body.splitlines(), start=1):
            if not line.strip():
                continue
            if len(line) > MAX_RECORD_BYTES:
                items.append(
                    RecordError(f"body:{lineno}", "record over the 5 MB limit", reason="too_large")
                )
                continue
            try:
                items.append(decode_json(line, f"body:{lineno}"))
            except RecordError as exc:
                items.append(exc)
    if not items:
        raise ClientError(400, "empty", "the batch holds no records")
    if len(items) > MAX_BATCH_ITEMS:
        raise ClientError(
            413,
            "too_many_items",
            f"batch of {len(items):,} records is over the "
            f"{MAX_BATCH_ITEMS:,}-record limit; split it",
        )
    return items


def _single_document(data: bytes) -> bool:
    # JSON Lines has a newline between objects; a pretty-printed single object has newlines
    # too, so decide by whether the first line alone is a complete JSON value.
    first, sep, rest = data.partition(b"\n")
    if not sep or not rest.strip():
        return True
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return True
    return False


@router.post("/v1/livekit/webhook")
async def livekit_webhook(request: Request, svc: Service) -> Response:
    settings, tracker = svc.settings, svc.tracker
    if tracker is None or not settings.livekit_api_key or not settings.livekit_api_secret:
        return error_response(
            404,
            "not_configured",
            "LiveKit webhooks are not configured "
            "(set CALLSCOPE_LIVEKIT_API_KEY and CALLSCOPE_LIVEKIT_API_SECRET)",
        )
    try:
        body = await svc.read(request, 1024 * 1024)
    except ClientError as exc:
        return failed(exc)
    try:
        event = verify_webhook(
            body,
            request.headers.get("authorization"),
            settings.livekit_api_key,
            settings.livekit_api_secret,
        )
    except WebhookError as exc:
        metrics.record_rejected("webhook_unauthorized")
        return error_response(401, "unauthorized", str(exc))
    metrics.record_webhook(event.event)
    store = svc.store
    if store is not None and hasattr(store, "execute"):  # calls in progress, for the dashboard
        await anyio.to_thread.run_sync(
            record_room_event, store, event.event, event.room.name, event.room.sid
        )
    if event.event in ENDING_EVENTS and event.room.name:
        await anyio.to_thread.run_sync(
            tracker.room_ended, event.room.name, event.room.sid, event.event
        )
    return json_response({"ok": True, "event": event.event})


@router.get("/healthz")
async def healthz() -> Response:
    return json_response({"status": "ok", "pid": os.getpid()})


@router.get("/readyz")
async def readyz(svc: Service) -> Response:
    checks: dict[str, str] = {}
    try:
        q = svc.committer().queue
        ok = await anyio.to_thread.run_sync(q.ping)
        checks["queue"] = "ok" if ok else "unreachable"
    except Exception as exc:
        checks["queue"] = f"unreachable: {one_line(str(exc), 200)}"
    if svc.store is not None:
        checks["store"] = await anyio.to_thread.run_sync(ping_store, svc.store)
    ready = all(v == "ok" for v in checks.values())
    return json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503
    )


@router.get("/metrics")
async def metrics_endpoint(svc: Service) -> Response:
    try:
        q = svc.committer().queue
        stats = await anyio.to_thread.run_sync(q.stats)
    except Exception:
        stats = None
    metrics.set_queue_stats(stats)
    await svc.sweep()
    body, content_type = metrics.render()
    return Response(body, media_type=content_type)
