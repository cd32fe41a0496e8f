"""The analytics worker: lease a batch, run it through the pipeline, settle it on the queue.

At-least-once delivery from the queue plus idempotent warehouse writes gives exactly-once
results: a worker killed mid-batch leaves its leases to expire, another worker processes the
same sessions again, and the store keeps one row per session.

With ``concurrency > 1`` the CPU-bound analysis runs in a process pool while this process
keeps the single warehouse connection (DuckDB allows one writer process); the next batch is
leased and its analysis started before the current one is written, so the two overlap.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from callscope.analyze import Registry
from callscope.pipeline import Hooks, Outcome, Pipeline, Status, settle
from callscope.pipeline.analysis import Collect
from callscope.pipeline.stage import STORE_FAILED, RawSink
from callscope.profile.model import Profile
from callscope.queue.base import Message, Queue
from callscope.store.base import Store


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

    def count(self, outcomes: Sequence[Outcome]) -> None:
        self.batches += 1
        for o in outcomes:
            if o.status is Status.STORED:
                self.processed += 1
                self.alerts += o.alerts
            elif o.status is Status.DEAD:
                self.dead_lettered += 1
            else:
                self.retried += 1
            for module in o.module_errors:
                self.module_errors[module] = self.module_errors.get(module, 0) + 1


@dataclass
class _InFlight:
    """A leased batch whose analysis is under way."""

    messages: list[Message]
    collect: Collect
    started: float


class Worker:
    def __init__(
        self,
        queue: Queue,
        store: Store,
        profile: Profile,
        *,
        raw_store: RawSink | None = None,
        batch_size: int = 100,
        visibility_timeout: float = 60.0,
        concurrency: int = 1,
        profile_source: str | None = None,
        settings: Any = None,
        registry: Registry | None = None,
        hooks: Hooks | None = None,
    ) -> None:
        self.queue = queue
        self.batch_size = batch_size
        self.visibility_timeout = visibility_timeout
        self.pipeline = Pipeline(
            store,
            profile,
            registry=registry,
            raw_store=raw_store,
            concurrency=concurrency,
            profile_source=profile_source,
            settings=settings,
            hooks=hooks,
        )
        self.stats = WorkerStats()

    @property
    def store(self) -> Store:
        return self.pipeline.store

    @property
    def registry(self) -> Registry:
        return self.pipeline.registry

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.pipeline.close()

    def process_batch(self, messages: Sequence[Message]) -> int:
        """Process and settle one leased batch; returns the number of sessions stored."""
        if not messages:
            return 0
        return self._settle(self.pipeline.process(messages))

    def _settle(self, outcomes: list[Outcome]) -> int:
        settle(self.queue, outcomes)
        self.stats.count(outcomes)
        return sum(1 for o in outcomes if o.status is Status.STORED)

    def _lease_and_start(self) -> _InFlight | None:
        messages = self.queue.lease(self.batch_size, visibility_timeout=self.visibility_timeout)
        if not messages:
            return None
        return _InFlight(messages, self.pipeline.start(messages), time.perf_counter())

    def _complete(self, batch: _InFlight, on_batch: Callable[[int], None] | None) -> bool:
        """Finish a batch; False when all of it must be retried (the store is failing)."""
        outcomes = self.pipeline.finish(batch.messages, batch.collect, batch.started)
        self._settle(outcomes)
        if on_batch is not None:
            on_batch(len(batch.messages))
        return not all(
            o.status is Status.RETRY and (o.reason or "").startswith(STORE_FAILED) for o in outcomes
        )

    def run_once(
        self,
        *,
        on_batch: Callable[[int], None] | None = None,
        max_sessions: int | None = None,
        poll_interval: float = 0.2,
    ) -> WorkerStats:
        """Process until the queue has nothing ready (``--once``).

        Stops early when the warehouse refused a whole batch (it is down) instead of spinning
        on backoff.
        """
        pending: _InFlight | None = None
        while True:
            room = max_sessions is None or self.stats.processed < max_sessions
            upcoming = self._lease_and_start() if room else None
            if pending is not None and not self._complete(pending, on_batch):
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


def default_concurrency() -> int:
    return max(1, (os.cpu_count() or 1))
