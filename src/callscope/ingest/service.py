"""The ingest's record path, shared by every route that accepts records.

:class:`IngestService` holds what the routes need (auth, rate limits, the group-committing
queue writer, the LiveKit room tracker) and the steps each request goes through: authorize,
read the capped body, validate into a canonical payload, enqueue, note the arrival. The
routes (:mod:`callscope.ingest.routes`, :mod:`callscope.ingest.observability`) reach it as a
FastAPI dependency.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
import orjson
import structlog
from fastapi import Request
from fastapi.responses import Response

from callscope.config import Settings
from callscope.contract.errors import RecordError
from callscope.contract.parse import canonical_payload, validate_record
from callscope.contract.record import MAX_RECORD_BYTES
from callscope.ingest import metrics
from callscope.ingest.auth import AuthError, FailureThrottle, RateLimiter, TokenAuth
from callscope.ingest.body import BodyError, content_encoding, read_capped
from callscope.ingest.livekit import RoomTracker
from callscope.priority import priority_for
from callscope.profile.model import Profile
from callscope.queue.base import (
    PRIORITY_HOT,
    PRIORITY_NORMAL,
    EnqueueResult,
    Queue,
    QueueUnavailable,
)

log = structlog.get_logger("callscope.ingest")

RETRY_AFTER_UNAVAILABLE_S = 5
_MAX_GROUP = 2_000  # sessions per group commit


class Pingable(Protocol):
    def ping(self) -> bool: ...


@dataclass(frozen=True)
class Prepared:
    session_id: str
    payload: bytes
    priority: int


class ClientError(Exception):
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


def one_line(text: str, limit: int = 400) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def error_response(
    status: int, reason: str, message: str, field: str | None = None, retry_after: int | None = None
) -> Response:
    body = orjson.dumps({"error": reason, "message": one_line(message), "field": field})
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Response(body, status_code=status, media_type="application/json", headers=headers)


def json_response(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


_RECORD_STATUS = {
    "empty": 400,
    "encoding": 400,
    "malformed_json": 400,
    "not_an_object": 400,
    "too_large": 413,
}


def record_error(exc: RecordError) -> ClientError:
    status = _RECORD_STATUS.get(exc.reason, 422)
    return ClientError(status, exc.reason, exc.message, exc.field)


class Committer:
    """Group commit: requests queue their sessions here and one task writes them together."""

    def __init__(self, queue: Queue) -> None:
        self.queue = queue
        self._pending: list[tuple[Sequence[Prepared], asyncio.Future[list[EnqueueResult]]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def submit(self, items: Sequence[Prepared]) -> list[EnqueueResult]:
        if self._task is None or self._task.done():
            self._wake = asyncio.Event()
            self._task = asyncio.create_task(self._run())
        assert self._wake is not None
        future: asyncio.Future[list[EnqueueResult]] = asyncio.get_running_loop().create_future()
        self._pending.append((items, future))
        self._wake.set()
        return await future

    def _write(self, items: list[Prepared]) -> list[EnqueueResult]:
        return self.queue.enqueue_many([(p.session_id, p.payload, p.priority) for p in items])

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                group: list[tuple[Sequence[Prepared], asyncio.Future[list[EnqueueResult]]]] = []
                size = 0
                while self._pending and (
                    not group or size + len(self._pending[0][0]) <= _MAX_GROUP
                ):
                    entry = self._pending.pop(0)
                    group.append(entry)
                    size += len(entry[0])
                await self._commit(group)

    async def _commit(
        self, group: list[tuple[Sequence[Prepared], asyncio.Future[list[EnqueueResult]]]]
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


def ping_store(store: Pingable) -> str:
    try:
        return "ok" if store.ping() else "unreachable"
    except Exception as exc:
        return f"unreachable: {one_line(str(exc), 200)}"


class IngestService:
    """One ingest app's state and record path (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        profile: Profile,
        *,
        queue: Queue | None = None,
        store: Any = None,
        queue_factory: Callable[[], Queue] | None = None,
    ) -> None:
        self.settings = settings
        self.profile = profile
        self.store = store  # only checked by /readyz and fed room events; never written
        self.auth = TokenAuth(settings.ingest_tokens())
        self.limiter = RateLimiter(settings.rate_limit_per_minute)
        self.failures = FailureThrottle()
        self.cap = settings.max_body_bytes
        self.tracker: RoomTracker | None = None
        if settings.livekit_api_key and settings.livekit_api_secret:
            self.tracker = RoomTracker(
                settings.data_dir / "livekit_rooms.sqlite3", settings.livekit_missing_grace_s
            )
        self._own_queue = queue is None  # a queue given by the caller is theirs to close
        self._queue = queue
        self._queue_factory = queue_factory
        self._committer: Committer | None = None

    def _open_queue(self) -> Queue:
        if self._queue_factory is not None:
            return self._queue_factory()
        from callscope.queue import open_queue

        return open_queue(self.settings)

    def committer(self) -> Committer:
        """The group committer, opening the queue on first use (retried per request)."""
        if self._committer is None:
            if self._queue is None:
                try:
                    self._queue = self._open_queue()
                except QueueUnavailable:
                    raise
                except Exception as exc:
                    raise QueueUnavailable(one_line(str(exc))) from None
            self._committer = Committer(self._queue)
        return self._committer

    async def sweeper(self) -> None:
        """Flag rooms that ended without a record, every quarter of the grace period."""
        assert self.tracker is not None
        interval = max(0.5, min(30.0, self.settings.livekit_missing_grace_s / 4))
        while True:
            await asyncio.sleep(interval)
            await self.sweep()

    async def sweep(self) -> None:
        if self.tracker is None:
            return
        try:
            await anyio.to_thread.run_sync(self.tracker.sweep)
        except Exception:
            log.exception("missing-record sweep failed")

    async def close(self) -> None:
        if self._committer is not None:
            await self._committer.close()
        if self._own_queue and self._queue is not None:
            self._queue.close()
        if self.tracker is not None:
            self.tracker.close()

    def authorize(self, request: Request) -> str:
        """The token's name, or a 401/429 (repeated failures from one client are throttled)."""
        client = request.client.host if request.client else None
        try:
            self.failures.check(client)
            return self.auth.check(request.headers.get("authorization"), client)
        except AuthError as exc:
            if exc.status == 401:
                self.failures.failed(client)
            raise ClientError(
                exc.status, exc.reason, exc.message, retry_after=exc.retry_after
            ) from None

    def rate(self, name: str, cost: int) -> None:
        try:
            self.limiter.take(name, cost)
        except AuthError as exc:
            raise ClientError(
                exc.status, exc.reason, exc.message, retry_after=exc.retry_after
            ) from None

    async def read(self, request: Request, limit: int) -> bytes:
        try:
            encoding = content_encoding(request.headers.get("content-encoding"))
            return await read_capped(
                request.stream(),
                cap=limit,
                encoding=encoding,
                content_length=request.headers.get("content-length"),
            )
        except BodyError as exc:
            raise ClientError(exc.status, exc.reason, exc.message) from None

    def prepare(self, data: Any, source: str, header_priority: str | None) -> Prepared:
        """Validate one record into its canonical payload and queue priority."""
        try:
            record = validate_record(data, source)
        except RecordError:
            raise
        except Exception as exc:  # e.g. a SessionReport the converter cannot read
            raise RecordError(
                source, f"unreadable record: {one_line(str(exc), 200)}", reason="schema"
            ) from None
        payload = canonical_payload(record)
        if len(payload) > MAX_RECORD_BYTES:
            raise RecordError(
                source, f"record is over the {MAX_RECORD_BYTES:,}-byte limit", reason="too_large"
            )
        return Prepared(
            record.session_id, payload, self._priority(record._source or {}, header_priority)
        )

    def _priority(self, data: Mapping[str, Any], header: str | None) -> int:
        if header is not None:
            value = header.strip().lower()
            if value.lstrip("-").isdigit():
                return max(-100, min(100, int(value)))
            if value in ("hot", "hot_lead", "high"):
                return PRIORITY_HOT
        try:
            return priority_for(data, self.profile)
        except Exception:  # a priority hint must never cost the record
            return PRIORITY_NORMAL

    async def enqueue(self, items: Sequence[Prepared]) -> list[EnqueueResult]:
        """Durably queued (group commit), or a 422/503 ``ClientError`` for all of ``items``."""
        try:
            return await self.committer().submit(items)
        except ValueError as exc:  # the queue refused an item (a check the record passed)
            metrics.record_rejected("invalid", len(items))
            raise ClientError(422, "invalid", f"not accepted: {exc}") from None
        except QueueUnavailable as exc:
            metrics.record_rejected("queue_unavailable", len(items))
            raise ClientError(
                503,
                "queue_unavailable",
                f"queue unavailable, nothing was accepted: {exc}",
                retry_after=RETRY_AFTER_UNAVAILABLE_S,
            ) from None
        except Exception as exc:
            log.exception("ingest: enqueue failed")
            metrics.record_rejected("queue_error", len(items))
            raise ClientError(
                503,
                "queue_error",
                f"queue error, nothing was accepted: {type(exc).__name__}",
                retry_after=RETRY_AFTER_UNAVAILABLE_S,
            ) from None

    async def seen(self, results: Sequence[EnqueueResult]) -> None:
        """Note the arrivals, so the room tracker stops waiting for these records."""
        if self.tracker is not None and results:
            try:
                await anyio.to_thread.run_sync(
                    self.tracker.records_arrived, [r.session_id for r in results]
                )
            except Exception:
                log.exception("ingest: could not note arrivals for missing-record tracking")


def failed(exc: ClientError) -> Response:
    metrics.record_rejected(exc.reason)
    return error_response(exc.status, exc.reason, exc.message, exc.field, exc.retry_after)


def service(request: Request) -> IngestService:
    """The FastAPI dependency every ingest route takes."""
    found: IngestService = request.app.state.ingest_service
    return found
