"""Re-run the analyzers over history from the raw store (new analyzer versions, A/B).

Every original record is kept in the raw store, so history can be analysed again at any
time: the latest revision of each session is re-analysed with the current registry and
written back. The warehouse keeps one row per session and adds ``analysis_results`` rows per
``(module, analyzer_version)``, so old and new versions sit side by side for comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from callscope.analyze import Registry
from callscope.profile.model import Profile
from callscope.store.base import ProcessedSession, Store
from callscope.store.raw import RawObject, RawStore
from callscope.worker import analyze_payload


@dataclass
class ReprocessStats:
    seen: int = 0
    reprocessed: int = 0
    skipped_current: int = 0
    unreadable: int = 0


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


def _stored_versions(store: Store) -> dict[str, Any]:
    rows = store.fetch("SELECT session_id, analyzer_versions FROM sessions")
    out: dict[str, Any] = {}
    for row in rows:
        versions = row["analyzer_versions"]
        out[row["session_id"]] = orjson.loads(versions) if isinstance(versions, str) else versions
    return out


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
    current = registry.versions()
    stored = _stored_versions(store) if only_changed else {}
    batch: list[ProcessedSession] = []
    now = datetime.now(UTC)

    def flush() -> None:
        if batch:
            store.write(batch)
            if on_batch is not None:
                on_batch(len(batch))
            batch.clear()

    for obj in latest_revisions(raw, since, until):
        stats.seen += 1
        if only_changed and stored.get(obj.session_id) == current:
            stats.skipped_current += 1
            continue
        result = analyze_payload(obj.data, profile, registry)
        if result.analysis is None or result.record is None:
            stats.unreadable += 1
            continue
        batch.append(
            ProcessedSession(
                record=result.record,
                raw=result.payload or obj.data,
                analysis=result.analysis,
                revision=obj.revision,
                processed_at=now,
                view=result.view,
            )
        )
        stats.reprocessed += 1
        if len(batch) >= batch_size:
            flush()
    flush()
    return stats
