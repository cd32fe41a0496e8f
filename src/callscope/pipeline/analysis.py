"""Analysis of queued payloads, up to warehouse rows: in this process or in a pool.

``analyze_payload`` and ``prepare`` never raise: an unreadable payload and a crash of the
analysis code both come back as an error value, so one bad message fails alone.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import orjson

from callscope.alerts import evaluate
from callscope.analyze import CallView, Registry, build_view, contract_output, registry
from callscope.contract.errors import RecordError
from callscope.contract.parse import decode_json, validate_record
from callscope.contract.record import SessionRecord
from callscope.governance.consent import apply_consent, consent_of
from callscope.profile.model import Profile, load_profile
from callscope.store.base import AlertRecord, ProcessedSession
from callscope.store.rows import Rows, build_rows


@dataclass(frozen=True)
class Analyzed:
    """What the analysis of one payload gave: the output, or why there is none.

    ``crashed`` tells a bug or resource failure in the analysis (worth a retry) from a
    payload that can never be read (straight to the dead-letter queue).
    """

    analysis: dict[str, Any] | None
    error: str | None
    record: SessionRecord | None = None  # kept in-process; pool results re-parse instead
    payload: bytes | None = None  # set when consent rewrote the record
    view: CallView | None = None  # in-process only: the store builds its rows from it
    crashed: bool = False


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
    try:
        # analyze_record() without discarding the view: the warehouse rows are built from it.
        view = build_view(record)
        analysis = contract_output((reg or registry).run(view, profile), profile)
    except Exception as exc:  # the registry isolates modules; this is a bug around them
        return Analyzed(None, f"analysis crashed: {type(exc).__name__}: {exc}", crashed=True)
    return Analyzed(analysis, None, record, payload, view)


@dataclass(frozen=True)
class Prepared:
    """One call ready for the warehouse: its rows and alerts, built where it was analysed.

    Building rows in the analysing process keeps the single writing process down to the
    bulk loads, so a pool scales the whole per-call cost, not only the analyzers.
    """

    session_id: str
    revision: int
    day: date
    raw: bytes | None  # None: the message payload as received (consent changed nothing)
    rows: Rows
    alerts: tuple[AlertRecord, ...]
    module_errors: tuple[str, ...]


@dataclass(frozen=True)
class Failed:
    error: str
    crashed: bool = False  # a bug or resource failure (retry), not an unreadable payload


Result = Prepared | Failed
Item = tuple[bytes, int]  # (payload, revision)


@dataclass(frozen=True)
class Context:
    """What preparing a call needs besides the payload (rebuilt in every pool process)."""

    profile: Profile
    registry: Registry
    tool_kinds: Mapping[str, str]
    alerts: bool = True


def _alerts(p: ProcessedSession, profile: Profile) -> tuple[AlertRecord, ...]:
    return tuple(
        AlertRecord(
            a.rule,
            a.message,
            severity=a.severity,
            session_id=a.session_id,
            channel=a.channel,
            payload=a.payload,
            fired_at=p.processed_at,
            alert_id=a.alert_id,
        )
        for a in evaluate(p.session_id, p.analysis, profile, record=p.record)
    )


def prepare(payload: bytes, revision: int, ctx: Context) -> Result:
    """Analyze one payload and build its warehouse rows and alerts; never raises."""
    got = analyze_payload(payload, ctx.profile, ctx.registry)
    if got.analysis is None or got.record is None:
        return Failed(got.error or "unreadable record", got.crashed)
    try:
        p = ProcessedSession(
            record=got.record,
            raw=got.payload or payload,
            analysis=got.analysis,
            revision=revision,
            processed_at=datetime.now(UTC),
            view=got.view,
            profile=ctx.profile.name,
        )
        rows = build_rows([p], ctx.tool_kinds)
        alerts = _alerts(p, ctx.profile) if ctx.alerts else ()
    except Exception as exc:  # a bug in the row or alert code: this call alone fails
        return Failed(f"preparing rows crashed: {type(exc).__name__}: {exc}", crashed=True)
    return Prepared(
        session_id=p.session_id,
        revision=revision,
        day=p.record.started_at.date(),
        raw=None if got.payload is payload else got.payload,
        rows=rows,
        alerts=alerts,
        module_errors=tuple(got.analysis.get("errors") or ()),
    )


_POOL_CTX: Context | None = None


def _pool_init(
    profile_source: str | None, settings: Any, tool_kinds: Mapping[str, str], alerts: bool
) -> None:
    global _POOL_CTX
    # Pool processes must not die on the parent's Ctrl-C: the parent drains and stops them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    profile = load_profile(profile_source)
    # An LLM backend holds sockets that cannot cross a fork: each process builds its own.
    _POOL_CTX = Context(profile, registry_for(profile, settings), dict(tool_kinds), alerts)


def _prepare_chunk(items: list[Item]) -> list[Result]:
    assert _POOL_CTX is not None
    return [prepare(payload, revision, _POOL_CTX) for payload, revision in items]


Collect = Callable[[], list[Result]]


class Analysis:
    """Prepares batches, in this process or in a pool of ``concurrency`` processes."""

    def __init__(
        self,
        ctx: Context,
        *,
        concurrency: int = 1,
        profile_source: str | None = None,
        settings: Any = None,
    ) -> None:
        self.ctx = ctx
        self.concurrency = max(1, concurrency)
        self._profile_source = profile_source
        self._settings = settings  # travels to the pool processes, which build their registry
        self._pool: ProcessPoolExecutor | None = None

    def start(self, items: Sequence[Item]) -> Collect:
        """Start preparing; the returned function waits for and returns the results in order.

        With a pool the work runs in the background, so the caller can write the previous
        batch meanwhile: analysis and warehouse writes overlap instead of taking turns.
        """
        if self.concurrency == 1 or len(items) < 4:
            return lambda: [prepare(p, rev, self.ctx) for p, rev in items]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.concurrency,
                initializer=_pool_init,
                initargs=(
                    self._profile_source,
                    self._settings,
                    dict(self.ctx.tool_kinds),
                    self.ctx.alerts,
                ),
            )
        size = max(1, len(items) // (self.concurrency * 4))
        chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
        futures = [self._pool.submit(_prepare_chunk, c) for c in chunks]
        return lambda: [r for f in futures for r in f.result()]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
