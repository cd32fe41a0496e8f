"""The analytics worker: lease a batch, analyze each session, write the batch, ack.

At-least-once delivery from the queue plus idempotent warehouse writes gives exactly-once
results: a worker killed mid-batch leaves its leases to expire, another worker processes the
same sessions again, and the store keeps one row per session.

With ``concurrency > 1`` the CPU-bound analysis runs in a process pool while this process
keeps the single warehouse connection (DuckDB allows one writer process).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog

from callscope.alerts import evaluate
from callscope.analyze import CallView, Registry, build_view, contract_output, registry
from callscope.contract.errors import RecordError
from callscope.contract.parse import decode_json, parse_record, validate_record
from callscope.contract.record import SessionRecord
from callscope.governance.consent import apply_consent, consent_of
from callscope.profile.model import Profile, load_profile
from callscope.queue.base import Message, Queue
from callscope.store.base import AlertRecord, ProcessedSession, Store

log = structlog.get_logger("callscope.worker")


@dataclass
class WorkerStats:
    processed: int = 0
    dead_lettered: int = 0
    retried: int = 0
    batches: int = 0
    alerts: int = 0
    module_errors: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self.started

    @property
    def rate(self) -> float:
        return self.processed / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class Analyzed:
    """What a pool process sends back: the analysis, or why the payload is unusable."""

    analysis: dict[str, Any] | None
    error: str | None
    record: SessionRecord | None = None  # kept in-process; pool results re-parse instead
    payload: bytes | None = None  # set when consent rewrote the record
    view: CallView | None = None  # in-process only: the store builds its rows from it


# What crosses the process boundary: (analysis as JSON, error, payload rewritten by consent).
# orjson bytes cost a fifth of pickling the nested analysis dict both ways.
_PoolResult = tuple[bytes | None, str | None, bytes | None]
_JSON_OPTS = orjson.OPT_NON_STR_KEYS


_POOL_PROFILE: Profile | None = None
_POOL_REGISTRY: Registry | None = None


def _pool_init(profile_source: str | None, settings: Any = None) -> None:
    global _POOL_PROFILE, _POOL_REGISTRY
    # Workers must not die on the parent's Ctrl-C: the parent drains and shuts them down.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _POOL_PROFILE = load_profile(profile_source)
    # An LLM backend holds sockets that cannot cross a fork: each process builds its own.
    _POOL_REGISTRY = registry_for(_POOL_PROFILE, settings)


def registry_for(profile: Profile, settings: Any = None) -> Registry:
    """The analyzers to run: the offline registry, or the LLM one the settings ask for."""
    if settings is None or getattr(settings, "analysis_backend", "offline") == "offline":
        return registry
    from callscope.llm import build_llm_registry

    return build_llm_registry(profile, settings)


def analyze_payload(payload: bytes, profile: Profile, reg: Registry | None = None) -> Analyzed:
    """Decode, apply consent, validate and analyze one queued payload; never raises."""
    try:
        data = decode_json(payload, "queue")
        if isinstance(data, dict) and consent_of(data) != (True, True):
            # What consent does not allow never reaches an analyzer, the raw store or a table.
            data = apply_consent(data)
            payload = orjson.dumps(data)
        record = validate_record(data, "queue")
    except RecordError as exc:
        return Analyzed(None, str(exc))
    # analyze_record() without discarding the view: the warehouse rows are built from it too.
    view = build_view(record)
    analysis = contract_output((reg or registry).run(view, profile))
    return Analyzed(analysis, None, record, payload, view)


def _analyze_in_pool(payload: bytes) -> _PoolResult:
    assert _POOL_PROFILE is not None
    result = analyze_payload(payload, _POOL_PROFILE, _POOL_REGISTRY)
    changed = result.payload if result.payload is not payload else None
    if result.analysis is None:
        return None, result.error, changed
    return orjson.dumps(result.analysis, option=_JSON_OPTS, default=str), None, changed


def _analyze_chunk_in_pool(payloads: list[bytes]) -> list[_PoolResult]:
    return [_analyze_in_pool(p) for p in payloads]


def _from_pool(got: _PoolResult) -> Analyzed:
    analysis, error, payload = got
    return Analyzed(None if analysis is None else orjson.loads(analysis), error, None, payload)


def _observe(name: str, *args: Any) -> None:
    """Pipeline metrics, when the Prometheus registry of the ingest service is importable."""
    try:
        from callscope.ingest import metrics
    except ImportError:
        return
    fn = getattr(metrics, name, None)
    if callable(fn):
        fn(*args)


class Worker:
    def __init__(
        self,
        queue: Queue,
        store: Store,
        profile: Profile,
        *,
        raw_store: Any | None = None,
        batch_size: int = 100,
        visibility_timeout: float = 60.0,
        concurrency: int = 1,
        profile_source: str | None = None,
        settings: Any = None,
    ) -> None:
        self.queue = queue
        self.store = store
        self.profile = profile
        self.raw_store = raw_store
        self.batch_size = batch_size
        self.visibility_timeout = visibility_timeout
        self.concurrency = max(1, concurrency)
        self._pool: ProcessPoolExecutor | None = None
        self._profile_source = profile_source
        # Settings travel to the pool processes, which build their own (LLM) registry.
        self._settings = settings
        self.registry = registry_for(profile, settings)
        self.stats = WorkerStats()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _start_analysis(self, messages: Sequence[Message]) -> Callable[[], list[Analyzed]]:
        """Start analysing a batch; the returned function waits for and returns the results.

        With a pool the analysis runs in the background, so the caller can write the previous
        batch meanwhile: analysis and warehouse writes overlap instead of taking turns.
        """
        if self.concurrency == 1 or len(messages) < 4:
            return lambda: [
                analyze_payload(m.payload, self.profile, self.registry) for m in messages
            ]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.concurrency,
                initializer=_pool_init,
                initargs=(self._profile_source, self._settings),
            )
        pool = self._pool
        size = max(1, len(messages) // (self.concurrency * 4))
        payloads = [m.payload for m in messages]
        futures = [
            pool.submit(_analyze_chunk_in_pool, payloads[i : i + size])
            for i in range(0, len(payloads), size)
        ]
        return lambda: [_from_pool(r) for f in futures for r in f.result()]

    def process_batch(self, messages: Sequence[Message]) -> int:
        """Analyze and store one leased batch; returns the number of sessions stored."""
        if not messages:
            return 0
        return self._finish(messages, self._start_analysis(messages), time.perf_counter())

    def _finish(
        self,
        messages: Sequence[Message],
        collect: Callable[[], list[Analyzed]],
        started: float,
    ) -> int:
        try:
            analyzed = collect()
        except Exception as exc:  # a crashed pool process or a bug: retry, never drop
            reason = f"analysis failed: {type(exc).__name__}: {exc}"
            log.error("batch.analysis_failed", error=reason, size=len(messages))
            for message in messages:
                self.queue.nack(message, reason)
            self.stats.retried += len(messages)
            return 0
        batch: list[ProcessedSession] = []
        good: list[Message] = []
        now = datetime.now(UTC)
        for message, result in zip(messages, analyzed, strict=True):
            if result.analysis is None:
                # Unreadable payloads never get better with retries: straight to the DLQ.
                self.queue.dead_letter(message, result.error or "unreadable record")
                self.stats.dead_lettered += 1
                log.warning(
                    "record.dead_lettered", session_id=message.session_id, reason=result.error
                )
                continue
            for module in result.analysis.get("errors") or {}:
                self.stats.module_errors[module] = self.stats.module_errors.get(module, 0) + 1
                _observe("record_analyzer_error", module)
            payload = result.payload or message.payload
            record = result.record or parse_record(payload, "queue")
            batch.append(
                ProcessedSession(
                    record=record,
                    raw=payload,
                    analysis=result.analysis,
                    revision=message.revision,
                    processed_at=now,
                    view=result.view,
                )
            )
            good.append(message)
        if batch:
            try:
                self.store.write(batch)
                if self.raw_store is not None:
                    self._put_raw(batch)
            except Exception as exc:  # the warehouse is down: retry later, lose nothing
                reason = f"store write failed: {type(exc).__name__}: {exc}"
                log.error("batch.store_failed", error=reason, size=len(batch))
                for message in good:
                    self.queue.nack(message, reason)
                self.stats.retried += len(good)
                return 0
            self._fire_alerts(batch)
            for message in good:
                self.queue.ack(message)
        self.stats.processed += len(batch)
        self.stats.batches += 1
        per_session = (time.perf_counter() - started) / max(1, len(messages))
        for _ in batch:
            _observe("record_processed", per_session)
        return len(batch)

    def _put_raw(self, batch: Sequence[ProcessedSession]) -> None:
        items = [
            (p.record.session_id, p.revision, p.record.started_at.date(), p.raw) for p in batch
        ]
        put_many = getattr(self.raw_store, "put_many", None)
        if callable(put_many):
            put_many(items)
            return
        assert self.raw_store is not None
        for sid, revision, day, raw in items:
            self.raw_store.put(sid, revision, day, raw)

    def _fire_alerts(self, batch: Sequence[ProcessedSession]) -> None:
        # Alerts are a side channel: a failure here is logged, never fails the batch.
        alerts = [
            AlertRecord(
                alert.rule,
                alert.message,
                severity=alert.severity,
                session_id=alert.session_id,
                channel=alert.channel,
                payload=alert.payload,
                fired_at=item.processed_at,
                alert_id=alert.alert_id,
            )
            for item in batch
            for alert in evaluate(
                item.record.session_id, item.analysis, self.profile, record=item.record
            )
        ]
        if not alerts:
            return
        write_alerts = getattr(self.store, "write_alerts", None)
        if callable(write_alerts):
            try:
                write_alerts(alerts)
                self.stats.alerts += len(alerts)
                return
            except Exception as exc:
                # One bad alert must not cost the others: retry them one at a time.
                log.warning("alert.batch_write_failed", size=len(alerts), error=str(exc))
        for a in alerts:
            try:
                self.store.write_alert(
                    a.rule,
                    a.message,
                    severity=a.severity,
                    session_id=a.session_id,
                    channel=a.channel,
                    payload=a.payload,
                    alert_id=a.alert_id,
                    fired_at=a.fired_at,
                )
                self.stats.alerts += 1
            except Exception as exc:
                log.warning("alert.write_failed", rule=a.rule, error=str(exc))

    def _lease_and_start(self) -> _InFlight | None:
        messages = self.queue.lease(self.batch_size, visibility_timeout=self.visibility_timeout)
        if not messages:
            return None
        return _InFlight(messages, self._start_analysis(messages), time.perf_counter())

    def _complete(self, batch: _InFlight, on_batch: Callable[[int], None] | None) -> int:
        stored = self._finish(batch.messages, batch.collect, batch.started)
        if on_batch is not None:
            on_batch(len(batch.messages))
        return stored

    def run_once(
        self,
        *,
        on_batch: Callable[[int], None] | None = None,
        max_sessions: int | None = None,
        poll_interval: float = 0.2,
    ) -> WorkerStats:
        """Process until the queue has nothing ready (``--once``).

        The next batch is leased and its analysis started before the current one is written,
        so with a pool the two overlap.
        """
        pending: _InFlight | None = None
        while True:
            room = max_sessions is None or self.stats.processed < max_sessions
            upcoming = self._lease_and_start() if room else None
            if pending is not None:
                retried_before = self.stats.retried
                self._complete(pending, on_batch)
                if self.stats.retried > retried_before:
                    # The store is failing: stop instead of spinning on backoff.
                    if upcoming is not None:
                        self._complete(upcoming, on_batch)
                    break
            pending = upcoming
            if pending is not None:
                continue
            if not room:
                break
            # Leases of a crashed worker and retries in backoff come back by themselves;
            # "once" means until nothing is left to do, so wait for them.
            stats = self.queue.stats()
            if stats.leased == 0 and stats.delayed == 0:
                break
            time.sleep(poll_interval)
        return self.stats

    def run_forever(self, stop: threading.Event, *, idle_sleep: float = 0.5) -> WorkerStats:
        pending: _InFlight | None = None
        while not stop.is_set() or pending is not None:
            upcoming = None if stop.is_set() else self._lease_and_start()
            if pending is not None:
                self._complete(pending, None)
            pending = upcoming
            if pending is None and not stop.is_set():
                stop.wait(idle_sleep)
        return self.stats


@dataclass
class _InFlight:
    """A leased batch whose analysis is under way."""

    messages: list[Message]
    collect: Callable[[], list[Analyzed]]
    started: float


_LAMBDA_STATE: dict[str, Any] = {}


def process_payload(payload: bytes, *, settings: Any = None) -> None:
    """Process one payload end to end (the AWS Lambda path): parse, analyze, store.

    Raises on any failure so the caller (SQS partial-batch response) retries that message.
    """
    from callscope.config import load_settings
    from callscope.store import open_store
    from callscope.store.rows import tool_kinds_of

    cfg = settings or load_settings()
    key = cfg.resolved_store_url()
    if _LAMBDA_STATE.get("key") != key:
        loaded = load_profile(cfg.profile)
        _LAMBDA_STATE.update(
            key=key,
            store=open_store(key, tool_kinds=tool_kinds_of(loaded)),
            profile=loaded,
            registry=registry_for(loaded, cfg),
        )
    profile: Profile = _LAMBDA_STATE["profile"]
    result = analyze_payload(payload, profile, _LAMBDA_STATE["registry"])
    if result.analysis is None or result.record is None:
        raise RecordError("sqs", result.error or "unreadable record", reason="schema")
    store: Store = _LAMBDA_STATE["store"]
    store.write(
        [
            ProcessedSession(
                record=result.record,
                raw=result.payload or payload,
                analysis=result.analysis,
                view=result.view,
            )
        ]
    )


def default_concurrency() -> int:
    return max(1, (os.cpu_count() or 1))
