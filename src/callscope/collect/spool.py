"""The on-disk spool: records wait here until the backend has taken them.

Every record is written here (atomically) before the first send attempt, so the window in
which a crash can lose a finished call is the time between ``close`` and this write. Several
processes may share one spool directory (a LiveKit worker forks job processes): a record is
claimed for sending by renaming it, which only one process can win.

Layout under the spool directory::

    <time_ns>-<pid>-<n>.rec                      waiting
    <time_ns>-<pid>-<n>.rec.<pid>.inflight       being sent by process <pid>
    rejected/<name>.rec (+ .reason.txt)          refused by the backend for good
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import orjson

from callscope.collect.transports import Envelope, atomic_write

MAGIC = b"CSR1\n"


class SpoolError(Exception):
    """A spool file that cannot be read back."""


def encode_spool(envelope: Envelope) -> bytes:
    meta = orjson.dumps({"session_id": envelope.session_id, "spooled_at": time.time()})
    return MAGIC + meta + b"\n" + envelope.body_gz


def decode_spool(data: bytes) -> Envelope:
    if not data.startswith(MAGIC):
        raise SpoolError("not a callscope spool file")
    meta_line, sep, body = data[len(MAGIC) :].partition(b"\n")
    if not sep:
        raise SpoolError("truncated spool file")
    try:
        meta = orjson.loads(meta_line)
    except orjson.JSONDecodeError as exc:
        raise SpoolError(f"bad spool header: {exc}") from None
    sid = meta.get("session_id") if isinstance(meta, dict) else None
    if not isinstance(sid, str) or not body:
        raise SpoolError("spool header has no session_id")
    return Envelope(session_id=sid, body_gz=body)


P = ParamSpec("P")
R = TypeVar("R")


def _locked(fn: Callable[Concatenate[Spool, P], R]) -> Callable[Concatenate[Spool, P], R]:
    def wrapper(self: Spool, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return fn(self, *args, **kwargs)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Spool:
    def __init__(self, directory: Path, *, max_bytes: int, fsync: bool = True) -> None:
        self.directory = directory
        self.rejected_dir = directory / "rejected"
        self.max_bytes = max_bytes
        self.fsync = fsync
        self._known: deque[str] = deque()
        self._bytes = 0
        self._seq = itertools.count()
        self._ready = False
        # encoder and sender threads share the index; the agent's event loop never takes this
        self._lock = threading.RLock()

    # -- setup -------------------------------------------------------------------------
    @_locked
    def open(self) -> int:
        """Create the directory, take back records left in flight by dead processes.

        Returns how many records are waiting (from earlier runs or other processes).
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        self._recover_inflight()
        # Ready only once the waiting records are counted: a flush() that saw "ready" with
        # nothing counted yet would return before re-sending an earlier run's records.
        waiting = self.rescan()
        self._ready = True
        return waiting

    def _recover_inflight(self) -> None:
        me = os.getpid()
        for entry in os.scandir(self.directory):
            if not entry.name.endswith(".inflight"):
                continue
            stem, _, rest = entry.name.rpartition(".rec.")
            try:
                owner = int(rest.split(".", 1)[0])
            except ValueError:
                continue
            # Our own pid here means a previous process that happened to have it.
            if owner == me or not _pid_alive(owner):
                with contextlib.suppress(OSError):
                    os.replace(entry.path, self.directory / f"{stem}.rec")

    @_locked
    def rescan(self) -> int:
        names: list[str] = []
        total = 0
        for entry in os.scandir(self.directory):
            if entry.name.endswith((".rec", ".inflight")) and entry.is_file():
                with contextlib.suppress(OSError):
                    total += entry.stat().st_size
                if entry.name.endswith(".rec"):
                    names.append(entry.name)
        names.sort()
        self._known = deque(names)
        self._bytes = total
        return len(names)

    @property
    def ready(self) -> bool:
        return self._ready

    @property
    def bytes_used(self) -> int:
        return self._bytes

    def waiting(self) -> int:
        return len(self._known)

    # -- records ---------------------------------------------------------------------
    @_locked
    def put(self, envelope: Envelope) -> bool:
        """Write a record; False when the spool is over its size bound (caller keeps it)."""
        data = encode_spool(envelope)
        if self._bytes + len(data) > self.max_bytes:
            return False
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self._seq):06d}.rec"
        atomic_write(self.directory / name, data, fsync=self.fsync)
        self._bytes += len(data)
        self._known.append(name)
        return True

    @_locked
    def claim(self) -> tuple[Path, Envelope] | None:
        """The oldest waiting record, renamed so no other process sends it too."""
        for attempt in range(2):
            while self._known:
                name = self._known.popleft()
                src = self.directory / name
                dst = self.directory / f"{name}.{os.getpid()}.inflight"
                try:
                    os.replace(src, dst)
                except OSError:
                    continue  # another process claimed it first, or it was removed
                try:
                    return dst, decode_spool(dst.read_bytes())
                except (OSError, SpoolError) as exc:
                    self.reject(dst, f"unreadable spool file: {exc}")
                    continue
            if attempt == 0 and self.rescan() == 0:
                return None
        return None

    @_locked
    def done(self, path: Path) -> None:
        try:
            size = path.stat().st_size
            path.unlink()
        except OSError:
            return
        self._bytes = max(0, self._bytes - size)

    @_locked
    def release(self, path: Path) -> None:
        """Put a claimed record back at the head of the line (its send failed for now)."""
        name = path.name.split(".rec.", 1)[0] + ".rec"
        try:
            os.replace(path, self.directory / name)
        except OSError:
            return
        self._known.appendleft(name)

    @_locked
    def reject(self, path: Path, reason: str) -> Path | None:
        """Move a record the backend refused for good aside, with the reason next to it."""
        name = path.name.split(".rec.", 1)[0] + ".rec"
        try:
            size = path.stat().st_size
            self.rejected_dir.mkdir(parents=True, exist_ok=True)
            dst = self.rejected_dir / name
            os.replace(path, dst)
            (self.rejected_dir / f"{name}.reason.txt").write_text(reason + "\n", encoding="utf-8")
        except OSError:
            return None
        self._bytes = max(0, self._bytes - size)
        return dst

    def rejected(self) -> list[Path]:
        if not self.rejected_dir.is_dir():
            return []
        return sorted(p for p in self.rejected_dir.iterdir() if p.suffix == ".rec")
