"""Re-run the analyzers over history from the raw store (new analyzer versions, A/B).

Every original record is kept in the raw store, so history can be analysed again at any
time: the latest revision of each session goes through the same pipeline as a queued one
(at its stored revision, without re-putting the raw record or firing alerts a second time
for calls long over). The warehouse keeps one row per session and adds ``analysis_results``
rows per ``(module, analyzer_version)``, so old and new versions sit side by side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from callscope.analyze import Registry
from callscope.pipeline.stage import Pipeline, Status
from callscope.profile.model import Profile
from callscope.queue.base import Message
from callscope.store.base import Store
from callscope.store.raw import RawObject, RawStore


@dataclass
class ReprocessStats:
    seen: int = 0
    reprocessed: int = 0
    skipped_current: int = 0
    unreadable: int = 0
    failed: int = 0  # could not be written (the store refused): run again


def latest_revisions(raw: RawStore, since: date | None, until: date | None) -> Iterator[RawObject]:
    """The newest revision of each session; revisions of one session share a day prefix."""
    pending: RawObject | None = None
    for obj in raw.iter(since, until):
        if pending is not None and obj.session_id == pending.session_id:
            if obj.revision > pending.revision:
                pending = obj
            continue
        if pending is not None:
            yield pending
        pending = obj
    if pending is not None:
        yield pending


def _message(obj: RawObject) -> Message:
    return Message(obj.session_id, obj.data, obj.revision, 1, 0, obj.key, 0.0)


def reprocess(
    raw: RawStore,
    store: Store,
    profile: Profile,
    registry: Registry,
    *,
    since: date | None = None,
    until: date | None = None,
    only_changed: bool = True,
    batch_size: int = 200,
    on_batch: Callable[[int], None] | None = None,
) -> ReprocessStats:
    stats = ReprocessStats()
    current = registry.versions(profile)
    stored = store.analyzer_versions() if only_changed else {}
    pipeline = Pipeline(store, profile, registry=registry, alerts=False)
    batch: list[Message] = []

    def flush() -> None:
        for outcome in pipeline.process(batch):
            if outcome.status is Status.STORED:
                stats.reprocessed += 1
            elif outcome.status is Status.DEAD:
                stats.unreadable += 1
            else:
                stats.failed += 1
        if on_batch is not None and batch:
            on_batch(len(batch))
        batch.clear()

    for obj in latest_revisions(raw, since, until):
        stats.seen += 1
        if only_changed and stored.get(obj.session_id) == current:
            stats.skipped_current += 1
            continue
        batch.append(_message(obj))
        if len(batch) >= batch_size:
            flush()
    flush()
    pipeline.close()
    return stats
