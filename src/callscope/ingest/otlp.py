"""OTLP/HTTP protobuf export requests (traces, logs, metrics) as telemetry rows.

Decoding uses opentelemetry-proto's own messages. Every span, log record and data point is
attributed to its LiveKit job and room: LiveKit stamps ``job_id`` / ``room_id`` on each
record's attributes (and on the trace resource); the record's own attributes win over the
scope's and the resource's. Values are turned into plain JSON (AnyValue → str/int/float/bool/
list/dict; bytes as hex). A record without a job is kept with ``job_id`` ''.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from callscope.store.telemetry import LogRow, MetricPoint, SpanRow

# A single attribute value longer than this is cut: spans carry whole chat contexts.
MAX_VALUE_CHARS = 16_000


class OtlpError(ValueError):
    """The body is not the OTLP message the endpoint takes; ``str()`` is one line."""


def _value(v: AnyValue) -> Any:
    kind = v.WhichOneof("value")
    if kind is None:
        return None
    if kind == "string_value":
        s = v.string_value
        return s if len(s) <= MAX_VALUE_CHARS else s[:MAX_VALUE_CHARS] + "…"
    if kind == "array_value":
        return [_value(x) for x in v.array_value.values]
    if kind == "kvlist_value":
        return attributes(v.kvlist_value.values)
    if kind == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, kind)


def attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in kvs}


def _ids(*layers: Mapping[str, Any]) -> tuple[str, str]:
    job = room = ""
    for layer in layers:  # innermost first
        job = job or str(layer.get("job_id") or layer.get("lk.job_id") or "")
        room = room or str(layer.get("room_id") or layer.get("lk.room_sid") or "")
    return job, room


def _parse(message: Any, body: bytes, what: str) -> Any:
    try:
        message.ParseFromString(body)
    except DecodeError as exc:
        raise OtlpError(f"not an OTLP {what} export request (protobuf): {exc}") from None
    return message


def spans(body: bytes) -> list[SpanRow]:
    req = _parse(ExportTraceServiceRequest(), body, "traces")
    out: list[SpanRow] = []
    for rs in req.resource_spans:
        res = attributes(rs.resource.attributes)
        for ss in rs.scope_spans:
            scope = attributes(ss.scope.attributes)
            for s in ss.spans:
                attrs = attributes(s.attributes)
                job, room = _ids(attrs, scope, res)
                out.append(
                    SpanRow(
                        trace_id=s.trace_id.hex(),
                        span_id=s.span_id.hex(),
                        parent_id=s.parent_span_id.hex(),
                        job_id=job,
                        room_id=room,
                        name=s.name,
                        start_ns=int(s.start_time_unix_nano),
                        end_ns=int(s.end_time_unix_nano or s.start_time_unix_nano),
                        attributes=attrs,
                    )
                )
    return out


def logs(body: bytes) -> list[LogRow]:
    req = _parse(ExportLogsServiceRequest(), body, "logs")
    out: list[LogRow] = []
    for rl in req.resource_logs:
        res = attributes(rl.resource.attributes)
        for sl in rl.scope_logs:
            scope = attributes(sl.scope.attributes)
            for r in sl.log_records:
                attrs = attributes(r.attributes)
                job, room = _ids(attrs, scope, res)
                at = int(r.time_unix_nano or r.observed_time_unix_nano)
                body_value = _value(r.body)
                text = body_value if isinstance(body_value, str) else orjson.dumps(body_value)
                digest = hashlib.sha256(r.SerializeToString(deterministic=True))
                digest.update(job.encode() + b"\0" + sl.scope.name.encode())
                out.append(
                    LogRow(
                        id=digest.hexdigest()[:32],
                        job_id=job,
                        room_id=room,
                        scope=sl.scope.name,
                        at_ns=at,
                        severity=r.severity_text or str(r.severity_number),
                        body=text if isinstance(text, str) else text.decode(),
                        attributes=attrs,
                    )
                )
    return out


def _point_id(name: str, job: str, point: Any) -> str:
    digest = hashlib.sha256(point.SerializeToString(deterministic=True))
    digest.update(name.encode() + b"\0" + job.encode())
    return digest.hexdigest()[:32]


def _points(metric: Any) -> tuple[str, Iterable[Any]]:
    kind = metric.WhichOneof("data")
    if kind in ("sum", "gauge", "histogram", "exponential_histogram"):
        return kind, getattr(metric, kind).data_points
    return kind or "", ()


def metrics(body: bytes) -> list[MetricPoint]:
    req = _parse(ExportMetricsServiceRequest(), body, "metrics")
    out: list[MetricPoint] = []
    for rm in req.resource_metrics:
        res = attributes(rm.resource.attributes)
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                kind, points = _points(m)
                for p in points:
                    attrs = attributes(p.attributes)
                    job, room = _ids(attrs, res)
                    if kind in ("histogram", "exponential_histogram"):
                        value, count, kind_out = float(p.sum), int(p.count), "histogram"
                    else:
                        which = p.WhichOneof("value")
                        value = float(getattr(p, which)) if which else 0.0
                        count, kind_out = None, kind
                    out.append(
                        MetricPoint(
                            id=_point_id(m.name, job, p),
                            job_id=job,
                            room_id=room,
                            name=m.name,
                            kind=kind_out,
                            unit=m.unit,
                            start_ns=int(p.start_time_unix_nano),
                            at_ns=int(p.time_unix_nano),
                            value=value,
                            count=count,
                        )
                    )
    return out
