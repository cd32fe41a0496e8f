"""The one processing path: queued messages in, one outcome per message out.

Every consumer calls it - the worker (``callscope worker``, serve's inline worker), the AWS
Lambda handler and ``callscope reprocess`` - so they store the same rows, keep the same raw
records, fire the same alerts and honour revisions the same way. Each message fails alone:
an unreadable payload, a crash of the analysis code or a row the warehouse or the raw store
refuses costs that message, never its batch neighbours.

What the outcome means for the queue is the caller's to apply (:func:`settle` for a
:class:`~callscope.queue.base.Queue`, partial batch failures for Lambda).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol

import structlog

from callscope.analyze import Registry
from callscope.pipeline.analysis import (
    Analysis,
    Collect,
    Context,
    Failed,
    Prepared,
    registry_for,
)
from callscope.profile.model import Profile
from callscope.queue.base import Message, Queue
from callscope.store.base import AlertRecord, Store
from callscope.store.rows import Rows, tool_kinds_of

log = structlog.get_logger("callscope.pipeline")


class Status(StrEnum):
    STORED = "stored"  # in the warehouse (or older than what it holds): ack
    DEAD = "dead"  # can never succeed, e.g. not a SessionRecord: dead-letter now
    RETRY = "retry"  # may succeed later (store down, a crash): back to the queue


@dataclass(frozen=True)
class Outcome:
    message: Message
    status: Status
    reason: str | None = None
    alerts: int = 0
    module_errors: tuple[str, ...] = ()

    @property
    def session_id(self) -> str:
        return self.message.session_id


class RawSink(Protocol):
    """Where the original records go (:class:`callscope.store.raw.RawStore`)."""

    def put_many(self, items: Sequence[tuple[str, int, Any, bytes]]) -> list[str]: ...


@dataclass(frozen=True)
class Hooks:
    """Metrics callbacks; the CLI wires the Prometheus ones of the ingest service."""

    analyzer_error: Callable[[str], None] | None = None
    processed: Callable[[float], None] | None = None


STORE_FAILED = "store write failed"


def _reason(what: str, exc: BaseException) -> str:
    return f"{what}: {type(exc).__name__}: {str(exc)[:300]}"


class Pipeline:
    """Analyze, keep the raw record, write the warehouse, fire alerts - per message."""

    def __init__(
        self,
        store: Store,
        profile: Profile,
        *,
        registry: Registry | None = None,
        raw_store: RawSink | None = None,
        alerts: bool = True,
        concurrency: int = 1,
        profile_source: str | None = None,
        settings: Any = None,
        hooks: Hooks | None = None,
    ) -> None:
        self.store = store
        self.profile = profile
        self.raw_store = raw_store
        self.hooks = hooks or Hooks()
        reg = registry if registry is not None else registry_for(profile, settings)
        # The rows are built where the analysis runs: with the tool kinds the store uses.
        kinds = getattr(store, "tool_kinds", None) or tool_kinds_of(profile)
        self.analysis = Analysis(
            Context(profile, reg, kinds, alerts),
            concurrency=concurrency,
            profile_source=profile_source or profile.name,
            settings=settings,
        )

    @property
    def registry(self) -> Registry:
        return self.analysis.ctx.registry

    def process(self, messages: Sequence[Message]) -> list[Outcome]:
        """Process one batch to the end; one outcome per message, in order."""
        return self.finish(messages, self.start(messages))

    def start(self, messages: Sequence[Message]) -> Collect:
        """Start the analysis of a batch (in the background with a pool); see :meth:`finish`."""
        return self.analysis.start([(m.payload, m.revision) for m in messages])

    def finish(
        self, messages: Sequence[Message], collect: Collect, started: float | None = None
    ) -> list[Outcome]:
        t0 = time.perf_counter() if started is None else started
        if not messages:
            return []
        try:
            results = collect()
        except Exception as exc:  # a pool process died: nothing was judged, retry them all
            reason = _reason("analysis failed", exc)
            log.error("batch.analysis_failed", error=reason, size=len(messages))
            return [Outcome(m, Status.RETRY, reason) for m in messages]
        outcomes: list[Outcome | None] = [None] * len(messages)
        ready: dict[str, tuple[int, Prepared]] = {}
        superseded: list[tuple[int, Prepared]] = []
        for i, (message, result) in enumerate(zip(messages, results, strict=True)):
            if isinstance(result, Failed):
                outcomes[i] = self._failed(message, result)
                continue
            item = result if result.raw is not None else replace(result, raw=message.payload)
            seen = ready.get(item.session_id)
            if seen is not None and seen[1].revision > item.revision:
                superseded.append((i, item))  # a newer revision of it is in this batch
                continue
            if seen is not None:
                superseded.append(seen)
            ready[item.session_id] = (i, item)
        for i, why in self._keep_originals(superseded):
            outcomes[i] = Outcome(messages[i], Status.STORED if why is None else Status.RETRY, why)
        kept = list(ready.values())
        failures = self._write([p for _, p in kept])
        fired = self._fire_alerts(
            [p for (_, p), why in zip(kept, failures, strict=True) if not why]
        )
        for (i, p), why in zip(kept, failures, strict=True):
            status = Status.STORED if why is None else Status.RETRY
            count = fired.get(p.session_id, 0)
            outcomes[i] = Outcome(messages[i], status, why, count, p.module_errors)
        done = [o for o in outcomes if o is not None]
        self._observe(done, (time.perf_counter() - t0) / len(messages))
        return done

    def _failed(self, message: Message, result: Failed) -> Outcome:
        status = Status.RETRY if result.crashed else Status.DEAD
        log.warning(
            "record.failed", session_id=message.session_id, status=status, reason=result.error
        )
        return Outcome(message, status, result.error)

    # -- writes -------------------------------------------------------------------------

    def _keep_originals(self, items: list[tuple[int, Prepared]]) -> list[tuple[int, str | None]]:
        """Raw records of revisions a newer one in the batch replaces: kept, not tabled."""
        if not items or self.raw_store is None:
            return [(i, None) for i, _ in items]
        try:
            self.raw_store.put_many(
                [(p.session_id, p.revision, p.day, p.raw or b"") for _, p in items]
            )
            return [(i, None) for i, _ in items]
        except Exception as exc:
            return [(i, _reason(STORE_FAILED, exc)) for i, _ in items]

    def _write(self, items: list[Prepared]) -> list[str | None]:
        """Raw records, then the warehouse; per item ``None`` (written) or why not."""
        if not items:
            return []
        try:
            self._write_all(items)
            return [None] * len(items)
        except Exception as exc:
            reason = _reason(STORE_FAILED, exc)
            if len(items) == 1 or not self.store_up():
                # The warehouse is down: retry later, lose nothing, and do not hammer it.
                log.error("batch.store_failed", error=reason, size=len(items))
                return [reason] * len(items)
            log.warning("batch.write_isolating", error=reason, size=len(items))
        # Something in the batch is refused: write each alone so only that one fails.
        return [self._write_one(p) for p in items]

    def _write_one(self, item: Prepared) -> str | None:
        try:
            self._write_all([item])
            return None
        except Exception as exc:
            reason = _reason(STORE_FAILED, exc)
            log.warning("record.write_failed", session_id=item.session_id, error=reason)
            return reason

    def _write_all(self, items: list[Prepared]) -> None:
        if self.raw_store is not None:
            # First: a session is in the warehouse only once its original is kept (reprocess).
            self.raw_store.put_many(
                [(p.session_id, p.revision, p.day, p.raw or b"") for p in items]
            )
        # Merged afresh each time: a failed write must not leave rows dropped from the parts.
        self.store.write_rows(Rows.merge(p.rows for p in items))

    def store_up(self) -> bool:
        try:
            return bool(self.store.ping())
        except Exception:
            return False

    # -- alerts -------------------------------------------------------------------------

    def _fire_alerts(self, batch: Sequence[Prepared]) -> dict[str, int]:
        """Record the alerts of stored sessions; their ids make a re-fire a no-op.

        Alerts are a side channel: a failure here is logged and never fails the session.
        """
        alerts = [a for item in batch for a in item.alerts]
        if not alerts:
            return {}
        try:
            self.store.write_alerts(alerts)
            written = alerts
        except Exception as exc:
            # One bad alert must not cost the others: retry them one at a time.
            log.warning("alert.batch_write_failed", size=len(alerts), error=str(exc))
            written = [a for a in alerts if self._write_alert(a)]
        counts: dict[str, int] = {}
        for a in written:
            if a.session_id is not None:
                counts[a.session_id] = counts.get(a.session_id, 0) + 1
        return counts

    def _write_alert(self, alert: AlertRecord) -> bool:
        try:
            self.store.write_alert(
                alert.rule,
                alert.message,
                severity=alert.severity,
                session_id=alert.session_id,
                channel=alert.channel,
                payload=alert.payload,
                alert_id=alert.alert_id,
                fired_at=alert.fired_at,
            )
            return True
        except Exception as exc:
            log.warning("alert.write_failed", rule=alert.rule, error=str(exc))
            return False

    def _observe(self, outcomes: Sequence[Outcome], per_session_s: float) -> None:
        if self.hooks.analyzer_error is not None:
            for o in outcomes:
                for module in o.module_errors:
                    self.hooks.analyzer_error(module)
        if self.hooks.processed is not None:
            for o in outcomes:
                if o.status is Status.STORED:
                    self.hooks.processed(per_session_s)

    def close(self) -> None:
        self.analysis.close()


def settle(queue: Queue, outcomes: Sequence[Outcome]) -> None:
    """Apply outcomes to the queue they were leased from: ack, dead-letter or retry."""
    for o in outcomes:
        if o.status is Status.STORED:
            queue.ack(o.message)
        elif o.status is Status.DEAD:
            queue.dead_letter(o.message, o.reason or "unreadable record")
        else:
            queue.nack(o.message, o.reason or "retry")
