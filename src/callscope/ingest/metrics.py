"""Prometheus metrics of the whole pipeline, on one module-level registry.

The ingest service renders this registry on ``GET /metrics``. The worker imports the
``record_*`` functions: when it runs inline (``callscope serve --workers-inline N``) its figures
appear on the same endpoint; a stand-alone worker process can expose its own copy with
:func:`start_metrics_server`.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

from callscope.queue.base import QueueStats

REGISTRY = CollectorRegistry(auto_describe=True)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

ACCEPTED = Counter(
    "callscope_ingest_accepted",
    "Sessions accepted into the queue (new or a new revision)",
    ["endpoint"],
    registry=REGISTRY,
)
DUPLICATES = Counter(
    "callscope_ingest_duplicates",
    "Identical re-sends answered as duplicates",
    ["endpoint"],
    registry=REGISTRY,
)
REJECTED = Counter(
    "callscope_ingest_rejected",
    "Requests or batch items refused, by reason",
    ["reason"],
    registry=REGISTRY,
)
REQUEST_SECONDS = Histogram(
    "callscope_ingest_request_seconds",
    "Ingest request handling time",
    ["endpoint"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
QUEUE_DEPTH = Gauge(
    "callscope_queue_depth",
    "Messages waiting in the queue (ready and delayed)",
    registry=REGISTRY,
)
QUEUE_LEASED = Gauge("callscope_queue_leased", "Messages in flight", registry=REGISTRY)
DLQ_DEPTH = Gauge("callscope_dlq_depth", "Messages in the dead-letter queue", registry=REGISTRY)
OLDEST_AGE = Gauge(
    "callscope_queue_oldest_age_seconds",
    "Age of the oldest unprocessed message (0 if none)",
    registry=REGISTRY,
)
QUEUE_UP = Gauge("callscope_queue_up", "1 when the last queue check succeeded", registry=REGISTRY)
PROCESSED = Counter(
    "callscope_processed",
    "Sessions processed by workers, by outcome",
    ["outcome"],
    registry=REGISTRY,
)
PROCESSING_SECONDS = Histogram(
    "callscope_processing_seconds",
    "Time to analyse and store one session",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
ANALYZER_ERRORS = Counter(
    "callscope_analyzer_errors",
    "Analyzer failures, by analyzer module",
    ["module"],
    registry=REGISTRY,
)
MISSING_RECORDS = Counter(
    "callscope_missing_records",
    "LiveKit rooms that finished without a session record arriving within the grace period",
    registry=REGISTRY,
)
WEBHOOKS = Counter(
    "callscope_livekit_webhooks",
    "LiveKit webhook events received, by event",
    ["event"],
    registry=REGISTRY,
)


def record_accepted(endpoint: str, n: int = 1) -> None:
    if n:
        ACCEPTED.labels(endpoint=endpoint).inc(n)


def record_duplicate(endpoint: str, n: int = 1) -> None:
    if n:
        DUPLICATES.labels(endpoint=endpoint).inc(n)


def record_rejected(reason: str, n: int = 1) -> None:
    if n:
        REJECTED.labels(reason=reason).inc(n)


def record_processed(duration_s: float, outcome: str = "ok") -> None:
    """One session through a worker; ``outcome`` is ok / retried / dead_lettered."""
    PROCESSED.labels(outcome=outcome).inc()
    PROCESSING_SECONDS.observe(max(0.0, duration_s))


def record_analyzer_error(module: str) -> None:
    ANALYZER_ERRORS.labels(module=module).inc()


def record_missing_records(n: int = 1) -> None:
    if n:
        MISSING_RECORDS.inc(n)


def record_webhook(event: str) -> None:
    WEBHOOKS.labels(event=event or "unknown").inc()


def set_queue_stats(stats: QueueStats | None) -> None:
    """Update the queue gauges; ``None`` means the queue could not be reached."""
    if stats is None:
        QUEUE_UP.set(0)
        return
    QUEUE_UP.set(1)
    QUEUE_DEPTH.set(stats.ready + stats.delayed)
    QUEUE_LEASED.set(stats.leased)
    DLQ_DEPTH.set(stats.dead)
    OLDEST_AGE.set(stats.oldest_ready_age_s or 0.0)


def render() -> tuple[bytes, str]:
    """The registry in the Prometheus text format, and its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def start_metrics_server(port: int, addr: str = "127.0.0.1") -> None:
    """Serve this registry on ``http://addr:port/metrics`` from a background thread."""
    start_http_server(port, addr=addr, registry=REGISTRY)
