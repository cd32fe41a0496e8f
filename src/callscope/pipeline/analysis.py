"""Analysis of queued payloads: in this process, or spread over a pool of processes.

``analyze_payload`` never raises: an unreadable payload and a crash of the analysis code both
come back as an :class:`Analyzed` with an error, so one bad message fails alone.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import orjson

from callscope.analyze import CallView, Registry, build_view, contract_output, registry
from callscope.contract.errors import RecordError
from callscope.contract.parse import decode_json, validate_record
from callscope.contract.record import SessionRecord
from callscope.governance.consent import apply_consent, consent_of
from callscope.profile.model import Profile, load_profile


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
        analysis = contract_output((reg or registry).run(view, profile))
    except Exception as exc:  # the registry isolates modules; this is a bug around them
        return Analyzed(None, f"analysis crashed: {type(exc).__name__}: {exc}", crashed=True)
    return Analyzed(analysis, None, record, payload, view)


# What crosses the process boundary: (analysis as JSON, error, payload rewritten by consent,
# crashed). orjson bytes cost a fifth of pickling the nested analysis dict both ways.
_PoolResult = tuple[bytes | None, str | None, bytes | None, bool]
_JSON_OPTS = orjson.OPT_NON_STR_KEYS

_POOL_PROFILE: Profile | None = None
_POOL_REGISTRY: Registry | None = None


def _pool_init(profile_source: str | None, settings: Any = None) -> None:
    global _POOL_PROFILE, _POOL_REGISTRY
    # Pool processes must not die on the parent's Ctrl-C: the parent drains and stops them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _POOL_PROFILE = load_profile(profile_source)
    # An LLM backend holds sockets that cannot cross a fork: each process builds its own.
    _POOL_REGISTRY = registry_for(_POOL_PROFILE, settings)


def _analyze_in_pool(payload: bytes) -> _PoolResult:
    assert _POOL_PROFILE is not None
    result = analyze_payload(payload, _POOL_PROFILE, _POOL_REGISTRY)
    changed = result.payload if result.payload is not payload else None
    if result.analysis is None:
        return None, result.error, changed, result.crashed
    return orjson.dumps(result.analysis, option=_JSON_OPTS, default=str), None, changed, False


def _analyze_chunk_in_pool(payloads: list[bytes]) -> list[_PoolResult]:
    return [_analyze_in_pool(p) for p in payloads]


def _from_pool(got: _PoolResult) -> Analyzed:
    analysis, error, payload, crashed = got
    loaded = None if analysis is None else orjson.loads(analysis)
    return Analyzed(loaded, error, None, payload, crashed=crashed)


Collect = Callable[[], list[Analyzed]]


class Analysis:
    """Runs the analyzers over batches, in this process or in a pool of ``concurrency``."""

    def __init__(
        self,
        profile: Profile,
        reg: Registry,
        *,
        concurrency: int = 1,
        profile_source: str | None = None,
        settings: Any = None,
    ) -> None:
        self.profile = profile
        self.registry = reg
        self.concurrency = max(1, concurrency)
        self._profile_source = profile_source
        self._settings = settings  # travels to the pool processes, which build their registry
        self._pool: ProcessPoolExecutor | None = None

    def start(self, payloads: Sequence[bytes]) -> Collect:
        """Start analysing; the returned function waits for and returns the results in order.

        With a pool the analysis runs in the background, so the caller can write the previous
        batch meanwhile: analysis and warehouse writes overlap instead of taking turns.
        """
        if self.concurrency == 1 or len(payloads) < 4:
            return lambda: [analyze_payload(p, self.profile, self.registry) for p in payloads]
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.concurrency,
                initializer=_pool_init,
                initargs=(self._profile_source, self._settings),
            )
        size = max(1, len(payloads) // (self.concurrency * 4))
        chunks = [list(payloads[i : i + size]) for i in range(0, len(payloads), size)]
        futures = [self._pool.submit(_analyze_chunk_in_pool, c) for c in chunks]
        return lambda: [_from_pool(r) for f in futures for r in f.result()]

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
