"""Append-only, hash-chained audit log for forget, retention, replay, exports and logins.

Each entry is one JSON line holding ``{seq, at, actor, action, target, details, prev_hash}``
and ``hash`` = sha256 over the canonical JSON (sorted keys, no spaces) of those seven fields.
Editing an entry breaks its hash; deleting or reordering one breaks the next entry's
``prev_hash`` or the ``seq`` order. Cutting entries off the end leaves a valid-looking chain,
so the head (last seq and hash) is also kept in a sidecar file ``<log>.head`` and ``verify``
checks that the log reaches it. Writers take an exclusive ``fcntl`` lock, so threads and
processes can append to the same file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from callscope.governance.clock import SYSTEM, Clock

GENESIS = "0" * 64
_FIELDS = ("seq", "at", "actor", "action", "target", "details", "prev_hash")


class AuditError(Exception):
    """The audit log cannot be written; one-line ``str()``."""


def entry_hash(entry: Mapping[str, Any]) -> str:
    body = {k: entry[k] for k in _FIELDS}
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    problem: str | None = None  # first problem found, one line
    line: int | None = None  # 1-based line of the log where it was found


class AuditLog:
    """``AuditLog(path).append(action, actor=..., target=..., details={...})``."""

    _thread_locks: ClassVar[dict[str, threading.Lock]] = {}

    def __init__(self, path: str | Path, *, clock: Clock = SYSTEM) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.clock = clock
        key = str(self.path.resolve())
        self._tlock = AuditLog._thread_locks.setdefault(key, threading.Lock())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock_file = open(self.path.with_name(self.path.name + ".lock"), "a")  # noqa: SIM115
        except OSError as exc:
            raise AuditError(f"audit log {self.path}: {exc.strerror or exc}") from None
        with self._tlock:
            try:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
                yield
            finally:
                fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)
                lock_file.close()

    def _read_head(self) -> tuple[int, str]:
        try:
            data = json.loads(self.head_path.read_text(encoding="utf-8"))
            return int(data["seq"]), str(data["hash"])
        except FileNotFoundError:
            return 0, GENESIS
        except (ValueError, KeyError, TypeError):
            raise AuditError(f"audit head {self.head_path} is unreadable") from None

    def append(
        self,
        action: str,
        *,
        actor: str = "system",
        target: str = "",
        details: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Append one entry and return it (with its ``hash``)."""
        with self._locked():
            seq, prev = self._read_head()
            entry: dict[str, Any] = {
                "seq": seq + 1,
                "at": self.clock.now().isoformat(),
                "actor": actor,
                "action": action,
                "target": target,
                "details": json.loads(json.dumps(dict(details or {}), default=str)),
                "prev_hash": prev,
            }
            entry["hash"] = entry_hash(entry)
            line = json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n"
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())
            tmp = self.head_path.with_name(self.head_path.name + ".tmp")
            tmp.write_text(
                json.dumps({"seq": entry["seq"], "hash": entry["hash"]}), encoding="utf-8"
            )
            os.replace(tmp, self.head_path)
            return entry

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        out: list[dict[str, Any]] = []
        with open(self.path, encoding="utf-8") as fh:
            for raw in fh:
                if raw.strip():
                    out.append(json.loads(raw))
        return out

    def verify(self) -> VerifyResult:
        head_seq, head_hash = self._read_head()
        prev, seq, count = GENESIS, 0, 0
        if not self.path.exists():
            if head_seq:
                return VerifyResult(False, 0, f"log missing but head says {head_seq} entries")
            return VerifyResult(True, 0)
        with open(self.path, encoding="utf-8") as fh:
            for lineno, raw in enumerate(fh, 1):
                if not raw.strip():
                    continue
                try:
                    entry = json.loads(raw)
                    missing = [k for k in (*_FIELDS, "hash") if k not in entry]
                except ValueError:
                    return VerifyResult(False, count, "entry is not JSON", lineno)
                if missing:
                    return VerifyResult(False, count, f"entry lacks {missing}", lineno)
                if entry["seq"] != seq + 1:
                    return VerifyResult(
                        False,
                        count,
                        f"seq {entry['seq']} follows {seq}: an entry was deleted or reordered",
                        lineno,
                    )
                if entry["prev_hash"] != prev:
                    return VerifyResult(
                        False,
                        count,
                        f"entry {entry['seq']} does not chain to the previous one",
                        lineno,
                    )
                if entry_hash(entry) != entry["hash"]:
                    return VerifyResult(
                        False, count, f"entry {entry['seq']} was edited (hash mismatch)", lineno
                    )
                prev, seq, count = entry["hash"], entry["seq"], count + 1
        if (seq, prev) != (head_seq, head_hash):
            return VerifyResult(
                False,
                count,
                f"log ends at entry {seq} but the head records "
                f"entry {head_seq}: entries were cut off or the head replaced",
            )
        return VerifyResult(True, count)


def default_audit_path(data_dir: str | Path) -> Path:
    return Path(data_dir) / "audit" / "audit.jsonl"
