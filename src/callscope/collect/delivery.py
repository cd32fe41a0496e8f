"""Background delivery: the agent's event loop hands over references and returns at once.

Two daemon threads per transport (shared by every session of the process):

* the *encoder* builds the record from the references taken at ``close`` (``to_dict`` of the
  chat history, in small chunks so the event loop gets the GIL back often), serializes it
  with orjson, gzips it (zlib releases the GIL) and writes it to the spool;
* the *sender* sends spooled records oldest first. Transient failures back off exponentially
  with jitter, honouring ``Retry-After``; permanent refusals go to ``rejected/``.

A slow or dead backend therefore never holds records in memory: they wait on disk, bounded
by ``max_spool_bytes``. Only when the spool is full or unwritable are records kept in memory
(bounded by ``max_memory_records``; past that the oldest are dropped, loudly).

Fork safety: after ``os.fork()`` the child forgets the parent's threads, sockets and
in-memory records (the parent still owns and sends those) and starts its own threads lazily.
"""

from __future__ import annotations

import atexit
import contextlib
import gzip
import hashlib
import logging
import os
import random
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import orjson

from callscope.collect.spool import Spool
from callscope.collect.transports import (
    Envelope,
    PermanentError,
    TransientError,
    Transport,
    transport_from_url,
)

log = logging.getLogger("callscope.collect")

MiB = 1024 * 1024


def default_spool_root() -> Path:
    env = os.environ.get("CALLSCOPE_SPOOL_DIR")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "callscope" / "spool"


@dataclass(frozen=True)
class DeliveryOptions:
    """Tuning. Defaults suit a LiveKit worker running tens of calls at once."""

    spool_dir: Path | None = None  # per-transport subfolder of this (default: see docs)
    max_spool_bytes: int = 512 * MiB
    max_memory_records: int = 1000
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 60.0
    max_retry_after_s: float = 600.0  # a server's Retry-After is honoured up to this
    fsync: bool = True  # fsync spool files: survive a power cut, not just a process kill
    exit_timeout_s: float = 3.0  # at interpreter exit, how long to keep sending
    rescan_interval_s: float = 30.0  # look for records left by other processes when idle
    gzip_level: int = 5


class Job(Protocol):
    """A finished session, as references; ``build`` runs on the encoder thread."""

    session_id: str

    def build(self) -> dict[str, Any]: ...


@dataclass
class _Burst:
    """Log the first failure of a burst and the recovery, not every record."""

    what: str
    summary: str = "recovered after %d failed attempts in %.0fs"
    failing: bool = False
    count: int = 0
    last_error: str = ""
    since: float = 0.0

    def fail(self, message: str, detail: str) -> None:
        self.count += 1
        self.last_error = detail
        if not self.failing:
            self.failing = True
            self.since = time.monotonic()
            log.warning("callscope: %s failing (%s); %s", self.what, detail, message)
        else:
            log.debug("callscope: %s still failing (%s)", self.what, detail)

    def ok(self) -> None:
        if self.failing:
            log.warning(
                "callscope: %s " + self.summary,
                self.what,
                self.count,
                time.monotonic() - self.since,
            )
        self.failing = False
        self.count = 0


@dataclass
class DeliveryStats:
    submitted: int = 0
    encoded: int = 0
    spooled: int = 0  # written to the disk spool: from here a SIGKILL loses nothing
    delivered: int = 0
    rejected: int = 0
    dropped: int = 0
    build_errors: int = 0
    attempts_failed: int = 0
    spooled_waiting: int = 0
    in_memory: int = 0
    failing: bool = False
    last_error: str = ""
    spool_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Delivery:
    """Sends records for one transport URL from this process."""

    def __init__(self, transport: Transport, options: DeliveryOptions | None = None) -> None:
        self.transport = transport
        self.options = options or DeliveryOptions()
        root = Path(self.options.spool_dir or default_spool_root())
        key = hashlib.blake2b(transport.url.encode("utf-8"), digest_size=6).hexdigest()
        scheme = transport.url.split("://", 1)[0]
        self.spool = Spool(
            root / f"{scheme}-{key}",
            max_bytes=self.options.max_spool_bytes,
            fsync=self.options.fsync,
        )
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._cond = threading.Condition()
        self._jobs: deque[Job] = deque()
        self._mem: deque[Envelope] = deque()
        self._encoder: threading.Thread | None = None
        self._sender: threading.Thread | None = None
        self._pid = os.getpid()
        self._closing = False  # drain, then stop
        self._stopped = False  # stop now
        self._encoding = 0
        self._sending = False
        self._spool_usable = True
        self._spool_full_warned = False
        self._next_try = 0.0
        self._attempt = 0
        self._last_rescan = time.monotonic()
        self.stats_ = DeliveryStats(spool_dir=str(self.spool.directory))
        self._send_burst = _Burst(f"delivery to {self.transport.url}")
        self._reject_burst = _Burst(
            f"records refused by {self.transport.url}",
            summary=f"stopped: %d record(s) refused over %.0fs, kept in {self.spool.rejected_dir}",
        )
        self._spool_burst = _Burst(f"spool at {self.spool.directory}")

    # -- called on the agent's event loop: O(1), never raises ---------------------------
    def submit(self, job: Job) -> None:
        try:
            with self._cond:
                if self._pid != os.getpid():
                    self._after_fork()
                self._jobs.append(job)
                self.stats_.submitted += 1
                self._ensure_threads()
                self._cond.notify_all()
        except Exception:  # the agent must never see our failures
            log.exception("callscope: could not hand over session %s", job.session_id)

    def _ensure_threads(self) -> None:
        if self._stopped:
            self._stopped = self._closing = False
        if self._encoder is None or not self._encoder.is_alive():
            self._encoder = threading.Thread(
                target=self._encoder_main, name="callscope-encoder", daemon=True
            )
            self._encoder.start()
        if self._sender is None or not self._sender.is_alive():
            self._sender = threading.Thread(
                target=self._sender_main, name="callscope-sender", daemon=True
            )
            self._sender.start()

    def start(self) -> None:
        """Start the threads now (re-sends records spooled by an earlier run)."""
        with self._cond:
            if self._pid != os.getpid():
                self._after_fork()
            self._ensure_threads()

    # -- encoder thread ----------------------------------------------------------------
    def _encoder_main(self) -> None:
        self._open_spool()
        while True:
            with self._cond:
                while not self._jobs and not self._stopped and not self._closing:
                    self._cond.wait()
                if self._stopped or (self._closing and not self._jobs):
                    return
                job = self._jobs.popleft()
                self._encoding += 1
            try:
                envelope = self._encode(job)
                if envelope is not None:
                    self._store(envelope)
            finally:
                with self._cond:
                    self._encoding -= 1
                    self._cond.notify_all()

    def _open_spool(self) -> None:
        try:
            waiting = self.spool.open()
        except OSError as exc:
            self._spool_usable = False
            log.warning(
                "callscope: spool directory %s unusable (%s); records will be kept in "
                "memory until sent and are lost if the process dies",
                self.spool.directory,
                exc.strerror or exc,
            )
            return
        if waiting:
            log.info("callscope: %d spooled record(s) from an earlier run will be re-sent", waiting)
        with self._cond:
            self._cond.notify_all()

    def _encode(self, job: Job) -> Envelope | None:
        try:
            record = job.build()
            raw = orjson.dumps(
                record,
                default=_json_default,
                option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY,
            )
        except Exception as exc:
            with self._cond:
                self.stats_.build_errors += 1
            log.error(
                "callscope: could not build the record for session %s: %s: %s",
                job.session_id,
                type(exc).__name__,
                exc,
                exc_info=True,
            )
            return None
        body = gzip.compress(raw, compresslevel=self.options.gzip_level, mtime=0)
        with self._cond:
            self.stats_.encoded += 1
        return Envelope(session_id=job.session_id, body_gz=body, _json=raw)

    def _store(self, envelope: Envelope) -> None:
        stored = False
        if self._spool_usable and self.spool.ready:
            envelope_light = Envelope(envelope.session_id, envelope.body_gz)
            try:
                stored = self.spool.put(envelope_light)
            except OSError as exc:
                self._spool_burst.fail(
                    "keeping records in memory until it works again", str(exc.strerror or exc)
                )
            else:
                if stored:
                    self.stats_.spooled += 1
                    self._spool_burst.ok()
                    self._spool_full_warned = False
                elif not self._spool_full_warned:
                    self._spool_full_warned = True
                    log.warning(
                        "callscope: spool %s is full (%.0f MB of max_spool_bytes=%.0f MB): the "
                        "backend has been unreachable for a while; new records are kept in "
                        "memory (up to %d) and are lost if the process dies",
                        self.spool.directory,
                        self.spool.bytes_used / MiB,
                        self.options.max_spool_bytes / MiB,
                        self.options.max_memory_records,
                    )
        with self._cond:
            if not stored:
                self._mem.append(envelope)
                while len(self._mem) > self.options.max_memory_records:
                    lost = self._mem.popleft()
                    self.stats_.dropped += 1
                    log.error(
                        "callscope: dropped the record for session %s: spool full or "
                        "unwritable and %d records already waiting in memory",
                        lost.session_id,
                        self.options.max_memory_records,
                    )
            self._cond.notify_all()

    # -- sender thread -----------------------------------------------------------------
    def _has_work(self) -> bool:
        return bool(self._mem) or self.spool.waiting() > 0

    def _sender_main(self) -> None:
        # import and build the client now, at attach time, not when the first call ends
        prepare = getattr(self.transport, "prepare", None)
        if callable(prepare):
            try:
                prepare()
            except Exception as exc:
                log.debug("callscope: could not prepare %s: %s", self.transport.url, exc)
        while True:
            rescan = False
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    now = time.monotonic()
                    if self._has_work() and now >= self._next_try:
                        break
                    if (
                        self._closing
                        and not self._has_work()
                        and not self._jobs
                        and not self._encoding
                    ):
                        return
                    due = self._last_rescan + self.options.rescan_interval_s
                    if not self._has_work() and self.spool.ready and now >= due:
                        # records left by processes that died since we started
                        rescan = True
                        self._last_rescan = now
                        break
                    self._cond.wait(
                        timeout=max(0.05, (self._next_try if self._has_work() else due) - now)
                    )
                envelope: Envelope | None = None
                if not rescan:
                    envelope = self._mem.popleft() if self._mem else None
                    self._sending = True
            if rescan:
                with contextlib.suppress(OSError):
                    self.spool.open()
                continue
            try:
                if envelope is not None:
                    self._send_memory(envelope)
                else:
                    self._send_spooled()
            finally:
                with self._cond:
                    self._sending = False
                    self._cond.notify_all()

    def _send_spooled(self) -> None:
        try:
            claimed = self.spool.claim()
        except OSError as exc:
            self._spool_burst.fail("records wait until it is readable", str(exc))
            self._defer(None)
            return
        if claimed is None:
            return
        path, envelope = claimed
        outcome = self._attempt_send(envelope)
        if outcome == "ok":
            self.spool.done(path)
        elif outcome == "retry":
            self.spool.release(path)
        else:
            where = self.spool.reject(path, outcome)
            log.debug("callscope: rejected record kept at %s", where)

    def _send_memory(self, envelope: Envelope) -> None:
        outcome = self._attempt_send(envelope)
        if outcome == "retry":
            with self._cond:
                self._mem.appendleft(envelope)
        elif outcome != "ok":
            try:
                self.spool.rejected_dir.mkdir(parents=True, exist_ok=True)
                from callscope.collect.spool import encode_spool
                from callscope.collect.transports import atomic_write, safe_filename

                atomic_write(
                    self.spool.rejected_dir
                    / f"{time.time_ns():020d}-{safe_filename(envelope.session_id)}.rec",
                    encode_spool(envelope),
                    fsync=False,
                )
            except OSError:
                pass

    def _attempt_send(self, envelope: Envelope) -> str:
        """Send once: ``ok``, ``retry``, or the reason of a permanent refusal."""
        try:
            self.transport.send(envelope)
        except TransientError as exc:
            self._defer(exc.retry_after, str(exc))
            return "retry"
        except PermanentError as exc:
            with self._cond:
                self.stats_.rejected += 1
            self._reject_burst.fail(
                f"session {envelope.session_id} moved to {self.spool.rejected_dir} and not "
                "retried (further refusals are logged at debug level)",
                str(exc),
            )
            # a refusal is an answer: the backend is up, so delivery itself is healthy
            self._healthy()
            return str(exc) or "refused"
        except Exception as exc:
            # A bug or an unexpected library error: keep the record and retry later.
            self._defer(None, f"{type(exc).__name__}: {exc}")
            return "retry"
        with self._cond:
            self.stats_.delivered += 1
        self._healthy()
        self._reject_burst.ok()
        return "ok"

    def _healthy(self) -> None:
        self._send_burst.ok()
        with self._cond:
            self._attempt = 0
            self._next_try = 0.0

    def _defer(self, retry_after: float | None, detail: str = "") -> None:
        with self._cond:
            self._attempt += 1
            self.stats_.attempts_failed += 1
            delay = backoff(self._attempt, self.options.backoff_base_s, self.options.backoff_cap_s)
            if retry_after is not None:
                # the server knows best, within reason
                delay = min(max(retry_after, 0.0), self.options.max_retry_after_s)
            self._next_try = time.monotonic() + delay
        self._send_burst.fail(
            f"records are kept in {self.spool.directory} and retried (next in {delay:.1f}s)",
            detail or "transient error",
        )

    # -- control -----------------------------------------------------------------------
    def _idle(self) -> bool:
        opening = self._encoder is not None and self._spool_usable and not self.spool.ready
        return (
            not opening
            and not self._jobs
            and not self._encoding
            and not self._sending
            and not self._has_work()
        )

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every record handed over so far is delivered (or refused for good).

        Returns False when ``timeout`` passes first; the records stay spooled and keep being
        retried. Never call this on the event loop without ``asyncio.to_thread``.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        with self._cond:
            if self._pid != os.getpid():
                self._after_fork()
            if self._jobs or self._has_work():
                self._ensure_threads()
            if self._has_work() and self._next_try > time.monotonic():
                # an explicit flush retries now rather than waiting out the backoff
                self._next_try = 0.0
                self._cond.notify_all()
            while not self._idle():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(timeout=min(remaining, 0.25))
            return True

    def shutdown(self, timeout: float = 5.0) -> bool:
        """Flush for up to ``timeout``, then stop the threads. Undelivered records stay
        spooled for the next start."""
        deadline = time.monotonic() + max(0.0, timeout)
        ok = self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        for thread in (self._encoder, self._sender):
            if thread is not None and thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()) + 0.05)
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        self.transport.reset()
        return ok

    def stats(self) -> DeliveryStats:
        with self._cond:
            s = self.stats_
            s.spooled_waiting = self.spool.waiting()
            s.in_memory = len(self._mem) + len(self._jobs)
            s.failing = self._send_burst.failing
            s.last_error = self._send_burst.last_error
            return DeliveryStats(**{k: getattr(s, k) for k in s.__dataclass_fields__})

    def _after_fork(self) -> None:
        # The parent still owns its in-memory records and threads; the child starts clean.
        self.transport.reset()
        self.spool = Spool(
            self.spool.directory, max_bytes=self.spool.max_bytes, fsync=self.spool.fsync
        )
        self._init_runtime()


def backoff(attempt: int, base: float, cap: float) -> float:
    """Exponential backoff with full jitter in the upper half: base·2^(n-1)·[0.5, 1).

    The exponent is capped: a collector that has been offline for days counts thousands of
    attempts, and 2.0 ** 1100 overflows a float (the sender thread died on it once).
    """
    delay = min(cap, base * 2.0 ** min(max(0, attempt - 1), 60))
    return float(delay * (0.5 + random.random() * 0.5))


def _json_default(value: Any) -> Any:
    for attr in ("model_dump", "to_dict"):
        fn = getattr(value, attr, None)
        if callable(fn):
            return fn()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


# -- one Delivery per transport per process ------------------------------------------------
_registry: dict[tuple[str, str | None, str], Delivery] = {}
_registry_lock = threading.Lock()


def get_delivery(
    transport: str | Transport, *, token: str | None = None, options: DeliveryOptions | None = None
) -> Delivery:
    """The process-wide Delivery for a transport URL (created on first use)."""
    opts = options or DeliveryOptions()
    url = transport if isinstance(transport, str) else transport.url
    key = (url, token, str(opts.spool_dir or default_spool_root()))
    with _registry_lock:
        delivery = _registry.get(key)
        if delivery is None:
            backend = (
                transport_from_url(transport, token=token)
                if isinstance(transport, str)
                else transport
            )
            delivery = Delivery(backend, opts)
            _registry[key] = delivery
        return delivery


def all_deliveries() -> list[Delivery]:
    with _registry_lock:
        return list(_registry.values())


def _at_exit() -> None:
    for delivery in all_deliveries():
        if delivery._pid != os.getpid():
            continue
        with contextlib.suppress(Exception):
            delivery.shutdown(delivery.options.exit_timeout_s)


def _after_fork_in_child() -> None:
    global _registry_lock
    _registry_lock = threading.Lock()
    for delivery in list(_registry.values()):
        delivery._after_fork()


atexit.register(_at_exit)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
