"""LiveKit's own observability upload, received by ``callscope serve`` (zero agent code).

livekit-agents sends each session to ``$LIVEKIT_OBSERVABILITY_URL`` (LiveKit Cloud otherwise):

- ``POST /observability/recordings/v0``: multipart ``header`` (``MetricsRecordingHeader``
  protobuf), ``chat_history`` (JSON) and ``audio`` (Ogg) once the session ends. It becomes a
  SessionRecord and goes on the queue like any other record (dedup, revisions); the audio
  goes to the raw store beside the call's records.
- ``POST /observability/{traces,logs,metrics}/otlp/v0``: OTLP/HTTP protobuf, kept per job in
  the telemetry store (:mod:`callscope.store.telemetry`) for the session page's waterfall.
  Evaluation, outcome and tag logs, and the metric totals, are merged into the job's record:
  when they arrive after the recording, the record is rebuilt and queued again (a revision if
  anything changed, a duplicate if not).

Every request carries ``Authorization: Bearer <JWT>`` signed with the agent's LiveKit API key
and secret with an observability write grant; it is checked with livekit-api's
``TokenVerifier`` against the same key pair as the LiveKit webhook. Answers follow what the
uploaders do with them: 2xx done; 4xx is never retried (bad input, bad token); 503 with
``Retry-After`` and a ``google.rpc.Status`` body carrying ``RetryInfo`` when the queue is
down (the recording uploader retries only on that detail, the OTLP exporters on 503/429).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import anyio.to_thread
import orjson
import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2  # type: ignore[import-untyped]
from livekit.api import TokenVerifier
from livekit.protocol.metrics import MetricsRecordingHeader
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from callscope.config import Settings
from callscope.contract.errors import RecordError
from callscope.contract.session_report import record_from_recording
from callscope.ingest import metrics, otlp
from callscope.ingest.body import BodyError, content_encoding, read_capped
from callscope.ingest.service import ClientError, IngestService, service
from callscope.queue.base import EnqueueOutcome, EnqueueResult
from callscope.store.telemetry import Recording, TelemetryStore, telemetry_path

log = structlog.get_logger("callscope.ingest.observability")

MAX_RECORDING_BYTES = 256 * 1024 * 1024  # an hour of Opus audio is ~30 MB
MAX_OTLP_BYTES = 32 * 1024 * 1024
_PROTOBUF = "application/x-protobuf"

Service = Annotated[IngestService, Depends(service)]


class ObservabilityError(Exception):
    def __init__(self, status: int, reason: str, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.retry_after = retry_after


def verify_token(authorization: str | None, api_key: str, api_secret: str) -> None:
    """Raise 401 unless the bearer JWT is ours, unexpired and grants observability write."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise ObservabilityError(401, "unauthorized", "missing Bearer token")
    try:
        claims = TokenVerifier(api_key, api_secret).verify(authorization[7:].strip())
    except Exception as exc:  # pyjwt: bad signature, expired, wrong issuer, malformed
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ObservabilityError(401, "unauthorized", f"token rejected: {first}") from None
    if claims.observability is None or not claims.observability.write:
        raise ObservabilityError(401, "unauthorized", "token has no observability write grant")


def status_response(exc: ObservabilityError) -> Response:
    """A ``google.rpc.Status`` body (what OTLP and LiveKit's uploader read), JSON-free."""
    code = {400: code_pb2.INVALID_ARGUMENT, 401: code_pb2.UNAUTHENTICATED}.get(
        exc.status, code_pb2.UNAVAILABLE if exc.status >= 500 else code_pb2.FAILED_PRECONDITION
    )
    status = status_pb2.Status(code=code, message=f"{exc.reason}: {exc.message}"[:500])
    headers: dict[str, str] = {}
    if exc.retry_after is not None:
        info = error_details_pb2.RetryInfo()
        info.retry_delay.seconds = exc.retry_after
        status.details.add().Pack(info)
        headers["Retry-After"] = str(exc.retry_after)
    return Response(
        status.SerializeToString(), status_code=exc.status, media_type=_PROTOBUF, headers=headers
    )


def header_fields(header: MetricsRecordingHeader) -> dict[str, Any]:
    start_ms = header.start_time.ToMilliseconds() if header.HasField("start_time") else 0
    return {
        "room_id": header.room_id,
        "job_id": header.job_id,
        "room_name": header.room_name,
        "duration": header.duration,
        "start_time": _iso(start_ms / 1000.0) if start_ms > 0 else None,
        "simulated": header.simulated,
        "redaction_enabled": header.redaction_enabled,
        "room_tags": dict(header.room_tags),
        "session_summary": header.session_summary,
    }


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


async def _parts(request: Request, body: bytes) -> dict[str, tuple[str, bytes]]:
    """The multipart form's parts by name: (content type, bytes)."""

    async def once() -> AsyncGenerator[bytes, None]:
        yield body

    try:
        form = await MultiPartParser(
            request.headers, once(), max_files=8, max_fields=8, max_part_size=4 * 1024 * 1024
        ).parse()
    except MultiPartException as exc:
        raise ObservabilityError(400, "bad_multipart", str(exc)) from None
    parts: dict[str, tuple[str, bytes]] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            parts[name] = (value.content_type or "", await value.read())
            await value.close()
        else:
            parts[name] = ("text/plain", value.encode("utf-8"))
    return parts


def _decode_recording(
    parts: Mapping[str, tuple[str, bytes]],
) -> tuple[bytes, dict[str, Any], bytes | None, Any]:
    if "header" not in parts:
        raise ObservabilityError(400, "missing_header", "the form has no 'header' part")
    header_bytes = parts["header"][1]
    try:
        header = MetricsRecordingHeader.FromString(header_bytes)
    except DecodeError as exc:
        raise ObservabilityError(400, "bad_header", f"header is not a protobuf: {exc}") from None
    chat_bytes = parts["chat_history"][1] if "chat_history" in parts else None
    chat: Any = None
    if chat_bytes:
        try:
            chat = orjson.loads(chat_bytes)
        except orjson.JSONDecodeError as exc:
            raise ObservabilityError(
                400, "bad_chat_history", f"chat_history is not JSON: {exc}"
            ) from None
        if not isinstance(chat, dict):
            raise ObservabilityError(400, "bad_chat_history", "chat_history is not an object")
    return header_bytes, header_fields(header), chat_bytes, chat


def create_observability_router(settings: Settings) -> APIRouter:
    """The ``/observability/*`` routes, feeding records into the ingest's own record path
    (:class:`~callscope.ingest.service.IngestService`: validation, group commit, arrivals)."""
    receiver = _Receiver(settings)
    router = APIRouter()
    router.add_api_route("/observability/recordings/v0", receiver.recording, methods=["POST"])
    for kind, parse in (("traces", otlp.spans), ("logs", otlp.logs), ("metrics", otlp.metrics)):
        router.add_api_route(
            f"/observability/{kind}/otlp/v0",
            receiver.otlp_endpoint(kind, parse),
            methods=["POST"],
            name=f"otlp_{kind}",
        )
    return router


class _Receiver:
    """The telemetry store and raw store of one app, opened on first use."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._telemetry: TelemetryStore | None = None
        self._raw: Any = None

    def telemetry(self) -> TelemetryStore:
        if self._telemetry is None:
            self._telemetry = TelemetryStore(telemetry_path(self.settings.data_dir))
        return self._telemetry

    def raw_store(self) -> Any:
        if self._raw is None:
            from callscope.store.raw import open_raw_store

            self._raw = open_raw_store(self.settings.resolved_raw_url())
        return self._raw

    def authorize(self, request: Request) -> None:
        settings = self.settings
        if not settings.livekit_api_key or not settings.livekit_api_secret:
            raise ObservabilityError(
                404,
                "not_configured",
                "LiveKit observability is not configured (set CALLSCOPE_LIVEKIT_API_KEY and "
                "CALLSCOPE_LIVEKIT_API_SECRET to the agents' LIVEKIT_API_KEY/SECRET)",
            )
        verify_token(
            request.headers.get("authorization"),
            settings.livekit_api_key,
            settings.livekit_api_secret,
        )

    async def recording(self, request: Request, svc: Service) -> Response:
        try:
            self.authorize(request)
            if not (request.headers.get("content-type") or "").startswith("multipart/form-data"):
                raise ObservabilityError(415, "unsupported_media_type", "send multipart/form-data")
            body = await _read(request, MAX_RECORDING_BYTES)
            parts = await _parts(request, body)
            header_bytes, header, chat_bytes, chat = _decode_recording(parts)
            result = await self._store_and_queue(svc, header_bytes, header, chat_bytes, chat, parts)
        except ObservabilityError as exc:
            metrics.record_rejected(f"livekit_{exc.reason}")
            return _failed(exc)
        status = 200 if result.outcome is EnqueueOutcome.DUPLICATE else 202
        return Response(
            orjson.dumps(
                {
                    "session_id": result.session_id,
                    "status": result.outcome.value,
                    "revision": result.revision,
                }
            ),
            status_code=status,
            media_type="application/json",
        )

    async def _store_and_queue(
        self,
        svc: IngestService,
        header_bytes: bytes,
        header: dict[str, Any],
        chat_bytes: bytes | None,
        chat: Any,
        parts: Mapping[str, tuple[str, bytes]],
    ) -> EnqueueResult:
        job_id = str(header.get("job_id") or "")
        tel = self.telemetry()
        extra = await anyio.to_thread.run_sync(tel.annotations, job_id)
        try:
            record = record_from_recording(header, chat, annotations=extra)
        except ValueError as exc:
            raise ObservabilityError(400, "bad_header", str(exc)) from None
        session_id = record.get("session_id")
        if not isinstance(session_id, str) or not session_id:
            raise ObservabilityError(422, "schema", "the upload names no room and no job")
        audio_meta: dict[str, Any] | None = None
        audio = parts.get("audio")
        if audio and audio[1]:
            day = datetime.fromisoformat(str(record["started_at"]).replace("Z", "+00:00"))
            key = await anyio.to_thread.run_sync(
                self.raw_store().put_audio, session_id, day, audio[1]
            )
            audio_meta = {"key": key, "content_type": "audio/ogg"}
            record = record_from_recording(header, chat, annotations=extra, audio=audio_meta)
        rec = Recording(
            job_id=job_id or session_id,
            room_id=str(header.get("room_id") or ""),
            session_id=session_id,
            header=header_bytes,
            chat_history=chat_bytes,
            audio_key=audio_meta["key"] if audio_meta else None,
        )
        await anyio.to_thread.run_sync(tel.put_recording, rec)
        return await _queue_record(svc, record, "livekit recording")

    def build(self, rec: Recording) -> dict[str, Any]:
        """The job's record rebuilt from its stored recording and its latest annotations."""
        header = header_fields(MetricsRecordingHeader.FromString(rec.header))
        chat = orjson.loads(rec.chat_history) if rec.chat_history else None
        audio = {"key": rec.audio_key, "content_type": "audio/ogg"} if rec.audio_key else None
        extra = self.telemetry().annotations(rec.job_id)
        return record_from_recording(header, chat, annotations=extra, audio=audio)

    async def requeue(self, svc: IngestService, job_ids: set[str]) -> None:
        """Records whose job got evaluations/outcome/metrics after its recording arrived."""
        for job_id in sorted(j for j in job_ids if j):
            rec = await anyio.to_thread.run_sync(self.telemetry().recording, job_id)
            if rec is None:
                continue  # the recording has not arrived yet: it will merge these itself
            record = await anyio.to_thread.run_sync(self.build, rec)
            await _queue_record(svc, record, "livekit telemetry")

    def otlp_endpoint(
        self, kind: str, parse: Callable[[bytes], Sequence[Any]]
    ) -> Callable[[Request, IngestService], Awaitable[Response]]:
        ok = {
            "traces": ExportTraceServiceResponse,
            "logs": ExportLogsServiceResponse,
            "metrics": ExportMetricsServiceResponse,
        }[kind]().SerializeToString()

        async def export(request: Request, svc: Service) -> Response:
            started = time.perf_counter()
            try:
                self.authorize(request)
                media = (request.headers.get("content-type") or "").split(";")[0].strip()
                if media not in ("application/x-protobuf", "application/protobuf"):
                    raise ObservabilityError(
                        415, "unsupported_media_type", "send OTLP as application/x-protobuf"
                    )
                body = await _read(request, MAX_OTLP_BYTES)
                try:
                    rows = parse(body)
                except otlp.OtlpError as exc:
                    raise ObservabilityError(400, "bad_otlp", str(exc)) from None
                await anyio.to_thread.run_sync(self._write, kind, rows)
                if kind in ("logs", "metrics"):
                    await self.requeue(svc, _jobs_to_merge(kind, rows))
            except ObservabilityError as exc:
                metrics.record_rejected(f"otlp_{exc.reason}")
                return status_response(exc)
            log.debug("otlp.received", kind=kind, n=len(rows), s=time.perf_counter() - started)
            return Response(ok, media_type=_PROTOBUF)

        return export

    def _write(self, kind: str, rows: Sequence[Any]) -> None:
        tel = self.telemetry()
        if kind == "traces":
            tel.add_spans(rows)
        elif kind == "logs":
            tel.add_logs(rows)
        else:
            tel.add_metrics(rows)


async def _read(request: Request, cap: int) -> bytes:
    try:
        return await read_capped(
            request.stream(),
            cap=cap,
            encoding=content_encoding(request.headers.get("content-encoding")),
            content_length=request.headers.get("content-length"),
        )
    except BodyError as exc:
        raise ObservabilityError(exc.status, exc.reason, exc.message) from None


async def _queue_record(svc: IngestService, record: dict[str, Any], source: str) -> EnqueueResult:
    try:
        prepared = svc.prepare(record, source, None)
    except RecordError as exc:
        raise ObservabilityError(422, exc.reason, exc.message) from None
    try:
        (result,) = await svc.enqueue([prepared])
    except ClientError as exc:  # the ingest's own 503 (queue unavailable / error)
        raise ObservabilityError(
            exc.status, exc.reason, exc.message, retry_after=exc.retry_after or 5
        ) from None
    await svc.seen([result])
    if result.outcome is EnqueueOutcome.DUPLICATE:
        metrics.record_duplicate("livekit_recording")
    else:
        metrics.record_accepted("livekit_recording")
    return result


def _jobs_to_merge(kind: str, rows: Sequence[Any]) -> set[str]:
    if kind == "metrics":
        return {r.job_id for r in rows}
    return {r.job_id for r in rows if r.scope == "evaluations"}


def _failed(exc: ObservabilityError) -> Response:
    if exc.status >= 500 or exc.status == 429:
        return status_response(exc)  # the uploader retries only on a Status with RetryInfo
    body = orjson.dumps({"error": exc.reason, "message": exc.message})
    return Response(body, status_code=exc.status, media_type="application/json")
