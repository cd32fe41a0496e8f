"""The ingest service: sessions over HTTP into the queue, durable before the answer.

Routes: ``POST /v1/sessions``, ``POST /v1/sessions:batch``, ``POST /v1/livekit/webhook``,
``GET /healthz``, ``GET /readyz``, ``GET /metrics``. Other areas (the dashboard) mount their
own routers on the app :func:`create_app` returns.

Concurrent requests are committed together: every accepted session goes through one
``enqueue_many`` call per round (group commit), so one SQLite transaction or one Redis
pipeline carries many requests and each answer still waits for its own durable write.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
import orjson
import structlog
from fastapi import FastAPI, Request
from fastapi.responses import Response

from callscope.config import Settings
from callscope.contract.errors import RecordError
from callscope.contract.parse import canonical_payload, decode_json, validate_record
from callscope.contract.record import MAX_RECORD_BYTES
from callscope.ingest import metrics
from callscope.ingest.auth import AuthError, FailureThrottle, RateLimiter, TokenAuth
from callscope.ingest.body import BodyError, content_encoding, read_capped
from callscope.ingest.livekit import ENDING_EVENTS, RoomTracker, WebhookError, verify_webhook
from callscope.priority import priority_for
from callscope.profile.model import Profile, load_profile
from callscope.queue.base import (
    PRIORITY_HOT,
    PRIORITY_NORMAL,
    EnqueueOutcome,
    EnqueueResult,
    Queue,
    QueueUnavailable,
)
from callscope.store.live import record_room_event

log = structlog.get_logger("callscope.ingest")

# A batch may hold many records; each one is still held to the single-record limit.
BATCH_BYTES_FACTOR = 8
MAX_BATCH_ITEMS = 10_000
RETRY_AFTER_UNAVAILABLE_S = 5
_MAX_GROUP = 2_000  # sessions per group commit

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


class _Pingable(Protocol):
    def ping(self) -> bool: ...


@dataclass(frozen=True)
class _Prepared:
    session_id: str
    payload: bytes
    priority: int


class _ClientError(Exception):
    def __init__(
        self,
        status: int,
        reason: str,
        message: str,
        field: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.field = field
        self.retry_after = retry_after


def _one_line(text: str, limit: int = 400) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_response(
    status: int, reason: str, message: str, field: str | None = None, retry_after: int | None = None
) -> Response:
    body = orjson.dumps({"error": reason, "message": _one_line(message), "field": field})
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


_RECORD_STATUS = {
    "empty": 400,
    "encoding": 400,
    "malformed_json": 400,
    "not_an_object": 400,
    "too_large": 413,
}


def _record_error(exc: RecordError) -> _ClientError:
    status = _RECORD_STATUS.get(exc.reason, 422)
    return _ClientError(status, exc.reason, exc.message, exc.field)


class _Committer:
    """Group commit: requests queue their sessions here and one task writes them together."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self._pending: list[tuple[Sequence[_Prepared], asyncio.Future[list[EnqueueResult]]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, items: Sequence[_Prepared]) -> list[EnqueueResult]:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run())
        assert self._wake is not None
        future: asyncio.Future[list[EnqueueResult]] = asyncio.get_running_loop().create_future()
        self._pending.append((items, future))
        self._wake.set()
        return await future

    def _write(self, items: list[_Prepared]) -> list[EnqueueResult]:
        return self.queue.enqueue_many([(p.session_id, p.payload, p.priority) for p in items])

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                group: list[tuple[Sequence[_Prepared], asyncio.Future[list[EnqueueResult]]]] = []
                size = 0
                while self._pending and (
                    not group or size + len(self._pending[0][0]) <= _MAX_GROUP
                ):
                    entry = self._pending.pop(0)
                    group.append(entry)
                    size += len(entry[0])
                await self._commit(group)

    async def _commit(
        self, group: list[tuple[Sequence[_Prepared], asyncio.Future[list[EnqueueResult]]]]
    ) -> None:
        flat = [p for items, _ in group for p in items]
        try:
            results = await anyio.to_thread.run_sync(self._write, flat)
        except Exception as exc:
            if len(group) > 1 and not isinstance(exc, QueueUnavailable):
                # One request's items must not fail its neighbours': commit each alone, so
                # only the request that caused the failure sees it.
                for entry in group:
                    await self._commit([entry])
                return
            for _, fut in group:  # answered as 503 by each waiting request
                if not fut.done():
                    fut.set_exception(exc)
            return
        start = 0
        for items, fut in group:
            if not fut.done():
                fut.set_result(results[start : start + len(items)])
            start += len(items)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


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
    raise _ClientError(
        415,
        "unsupported_media_type",
        f"Content-Type {media!r} is not accepted here (send application/json"
        + (" or application/x-ndjson)" if allowed is not _JSON_TYPES else ")"),
    )


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
    auth = TokenAuth(settings.ingest_tokens())
    limiter = RateLimiter(settings.rate_limit_per_minute)
    failures = FailureThrottle()
    cap = settings.max_body_bytes
    chosen_profile = profile or load_profile(settings.profile)
    tracker: RoomTracker | None = None
    if settings.livekit_api_key and settings.livekit_api_secret:
        tracker = RoomTracker(
            settings.data_dir / "livekit_rooms.sqlite3", settings.livekit_missing_grace_s
        )

    state: dict[str, Any] = {"queue": queue, "committer": None}

    def _open_queue() -> Queue:
        if queue_factory is not None:
            return queue_factory()
        from callscope.queue import open_queue

        return open_queue(settings)

    def get_committer() -> _Committer:
        committer: _Committer | None = state["committer"]
        if committer is None:
            if state["queue"] is None:
                try:
                    state["queue"] = _open_queue()
                except QueueUnavailable:
                    raise
                except Exception as exc:
                    raise QueueUnavailable(_one_line(str(exc))) from None
            committer = _Committer(state["queue"])
            state["committer"] = committer
        return committer

    async def sweeper() -> None:
        assert tracker is not None
        interval = max(0.5, min(30.0, settings.livekit_missing_grace_s / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await anyio.to_thread.run_sync(tracker.sweep)
            except Exception:
                log.exception("missing-record sweep failed")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with contextlib.suppress(QueueUnavailable):
            get_committer()  # open the queue early; a failure is retried per request
        task = asyncio.create_task(sweeper()) if tracker else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            committer: _Committer | None = state["committer"]
            if committer is not None:
                await committer.close()
            if queue is None and state["queue"] is not None:
                state["queue"].close()
            if tracker is not None:
                tracker.close()

    app = FastAPI(
        title="callscope ingest", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    app.state.rooms = tracker
    app.state.ingest = state

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("ingest: unexpected error", path=request.url.path)
        return error_response(500, "internal", "internal error; the request was not accepted")

    def _authorize(request: Request) -> str:
        client = request.client.host if request.client else None
        try:
            failures.check(client)
            return auth.check(request.headers.get("authorization"), client)
        except AuthError as exc:
            if exc.status == 401:
                failures.failed(client)
            raise _ClientError(
                exc.status, exc.reason, exc.message, retry_after=exc.retry_after
            ) from None

    def _rate(name: str, cost: int) -> None:
        try:
            limiter.take(name, cost)
        except AuthError as exc:
            raise _ClientError(
                exc.status, exc.reason, exc.message, retry_after=exc.retry_after
            ) from None

    async def _read(request: Request, limit: int) -> bytes:
        try:
            encoding = content_encoding(request.headers.get("content-encoding"))
            return await read_capped(
                request.stream(),
                cap=limit,
                encoding=encoding,
                content_length=request.headers.get("content-length"),
            )
        except BodyError as exc:
            raise _ClientError(exc.status, exc.reason, exc.message) from None

    def _prepare(data: Any, source: str, header_priority: str | None) -> _Prepared:
        try:
            record = validate_record(data, source)
        except RecordError:
            raise
        except Exception as exc:  # e.g. a SessionReport the converter cannot read
            raise RecordError(
                source, f"unreadable record: {_one_line(str(exc), 200)}", reason="schema"
            ) from None
        payload = canonical_payload(record)
        if len(payload) > MAX_RECORD_BYTES:
            raise RecordError(
                source, f"record is over the {MAX_RECORD_BYTES:,}-byte limit", reason="too_large"
            )
        return _Prepared(
            record.session_id, payload, _priority(record._source or {}, header_priority)
        )

    def _priority(data: Mapping[str, Any], header: str | None) -> int:
        if header is not None:
            value = header.strip().lower()
            if value.lstrip("-").isdigit():
                return max(-100, min(100, int(value)))
            if value in ("hot", "hot_lead", "high"):
                return PRIORITY_HOT
        try:
            return priority_for(data, chosen_profile)
        except Exception:  # a priority hint must never cost the record
            return PRIORITY_NORMAL

    async def _enqueue(items: Sequence[_Prepared]) -> list[EnqueueResult]:
        try:
            committer = get_committer()
            return await committer.submit(items)
        except ValueError as exc:  # the queue refused an item (a check the record passed)
            metrics.record_rejected("invalid", len(items))
            raise _ClientError(422, "invalid", f"not accepted: {exc}") from None
        except QueueUnavailable as exc:
            metrics.record_rejected("queue_unavailable", len(items))
            raise _ClientError(
                503,
                "queue_unavailable",
                f"queue unavailable, nothing was accepted: {exc}",
                retry_after=RETRY_AFTER_UNAVAILABLE_S,
            ) from None
        except Exception as exc:
            log.exception("ingest: enqueue failed")
            metrics.record_rejected("queue_error", len(items))
            raise _ClientError(
                503,
                "queue_error",
                f"queue error, nothing was accepted: {type(exc).__name__}",
                retry_after=RETRY_AFTER_UNAVAILABLE_S,
            ) from None

    async def _seen(results: Sequence[EnqueueResult]) -> None:
        if tracker is not None and results:
            try:
                await anyio.to_thread.run_sync(
                    tracker.records_arrived, [r.session_id for r in results]
                )
            except Exception:
                log.exception("ingest: could not note arrivals for missing-record tracking")

    def _failed(exc: _ClientError) -> Response:
        metrics.record_rejected(exc.reason)
        return error_response(exc.status, exc.reason, exc.message, exc.field, exc.retry_after)

    @app.post("/v1/sessions")
    async def post_session(request: Request) -> Response:
        started = time.perf_counter()
        try:
            name = _authorize(request)
            _check_type(request, _JSON_TYPES)
            _rate(name, 1)
            body = await _read(request, cap)
            try:
                prepared = _prepare(
                    decode_json(body, "body"), "body", request.headers.get("x-callscope-priority")
                )
            except RecordError as exc:
                raise _record_error(exc) from None
            (result,) = await _enqueue([prepared])
        except _ClientError as exc:
            return _failed(exc)
        await _seen([result])
        if result.outcome is EnqueueOutcome.DUPLICATE:
            metrics.record_duplicate("single")
            status = 200
        else:
            metrics.record_accepted("single")
            status = 202
        metrics.REQUEST_SECONDS.labels(endpoint="single").observe(time.perf_counter() - started)
        return _json(
            {
                "session_id": result.session_id,
                "status": result.outcome.value,
                "revision": result.revision,
                "priority": prepared.priority,
            },
            status,
        )

    @app.post("/v1/sessions:batch")
    async def post_batch(request: Request) -> Response:
        started = time.perf_counter()
        try:
            name = _authorize(request)
            _check_type(request, _JSON_TYPES | _LINES_TYPES)
            body = await _read(request, cap * BATCH_BYTES_FACTOR)
            items = _split_batch(body)
            _rate(name, sum(1 for it in items if not isinstance(it, RecordError)))
        except _ClientError as exc:
            return _failed(exc)
        header = request.headers.get("x-callscope-priority")
        prepared: list[tuple[int, _Prepared]] = []
        results: list[dict[str, Any] | None] = [None] * len(items)
        for i, item in enumerate(items):
            if isinstance(item, RecordError):
                failure: RecordError = item
            else:
                try:
                    prepared.append((i, _prepare(item, f"body[{i}]", header)))
                    continue
                except RecordError as exc:
                    failure = exc
            metrics.record_rejected(failure.reason)
            results[i] = {
                "index": i,
                "status": "rejected",
                "session_id": failure.session_id,
                "error": failure.reason,
                "message": _one_line(failure.message),
                "field": failure.field,
            }
        if prepared:
            try:
                outcomes = await _enqueue([p for _, p in prepared])
            except _ClientError as exc:
                return error_response(exc.status, exc.reason, exc.message, None, exc.retry_after)
            await _seen(outcomes)
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
        return _json({**counts, "results": results}, status)

    def _split_batch(body: bytes) -> list[Any]:
        """Decoded items (or a RecordError in place of a bad line) of an array or JSON Lines."""
        stripped = body.lstrip()
        if not stripped:
            raise _ClientError(400, "empty", "empty body")
        items: list[Any]
        if stripped[:1] == b"[" or _single_document(stripped):
            try:
                doc = decode_json(body, "body")
            except RecordError as exc:
                raise _record_error(exc) from None
            items = doc if isinstance(doc, list) else [doc]
        else:
            items = []
            for lineno, line in enumerate(body.splitlines(), start=1):
                if not line.strip():
                    continue
                if len(line) > MAX_RECORD_BYTES:
                    items.append(
                        RecordError(
                            f"body:{lineno}", "record over the 5 MB limit", reason="too_large"
                        )
                    )
                    continue
                try:
                    items.append(decode_json(line, f"body:{lineno}"))
                except RecordError as exc:
                    items.append(exc)
        if not items:
            raise _ClientError(400, "empty", "the batch holds no records")
        if len(items) > MAX_BATCH_ITEMS:
            raise _ClientError(
                413,
                "too_many_items",
                f"batch of {len(items):,} records is over the "
                f"{MAX_BATCH_ITEMS:,}-record limit; split it",
            )
        return items

    @app.post("/v1/livekit/webhook")
    async def livekit_webhook(request: Request) -> Response:
        if tracker is None or not settings.livekit_api_key or not settings.livekit_api_secret:
            return error_response(
                404,
                "not_configured",
                "LiveKit webhooks are not configured "
                "(set CALLSCOPE_LIVEKIT_API_KEY and CALLSCOPE_LIVEKIT_API_SECRET)",
            )
        try:
            body = await _read(request, 1024 * 1024)
        except _ClientError as exc:
            return _failed(exc)
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
        if store is not None and hasattr(store, "execute"):  # calls in progress, for the dashboard
            await anyio.to_thread.run_sync(
                record_room_event, store, event.event, event.room.name, event.room.sid
            )
        if event.event in ENDING_EVENTS and event.room.name:
            await anyio.to_thread.run_sync(
                tracker.room_ended, event.room.name, event.room.sid, event.event
            )
        return _json({"ok": True, "event": event.event})

    from callscope.ingest.observability import create_observability_router

    app.include_router(
        create_observability_router(settings, prepare=_prepare, enqueue=_enqueue, seen=_seen)
    )

    @app.get("/healthz")
    async def healthz() -> Response:
        return _json({"status": "ok", "pid": os.getpid()})

    @app.get("/readyz")
    async def readyz() -> Response:
        checks: dict[str, str] = {}
        try:
            q = get_committer().queue
            ok = await anyio.to_thread.run_sync(q.ping)
            checks["queue"] = "ok" if ok else "unreachable"
        except Exception as exc:
            checks["queue"] = f"unreachable: {_one_line(str(exc), 200)}"
        if store is not None:
            checks["store"] = await anyio.to_thread.run_sync(_ping_store, store)
        ready = all(v == "ok" for v in checks.values())
        return _json(
            {"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503
        )

    @app.get("/metrics")
    async def metrics_endpoint() -> Response:
        try:
            q = get_committer().queue
            stats = await anyio.to_thread.run_sync(q.stats)
        except Exception:
            stats = None
        metrics.set_queue_stats(stats)
        if tracker is not None:
            try:
                await anyio.to_thread.run_sync(tracker.sweep)
            except Exception:
                log.exception("missing-record sweep failed")
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return app


def _ping_store(store: _Pingable) -> str:
    try:
        return "ok" if store.ping() else "unreachable"
    except Exception as exc:
        return f"unreachable: {_one_line(str(exc), 200)}"


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
