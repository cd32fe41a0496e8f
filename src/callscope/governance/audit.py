"""Append-only, hash-chained audit log for forget, retention, replay, exports and logins.

Each entry is one JSON line holding ``{seq, at, actor, action, target, details, prev_hash}``
and ``hash`` = sha256 over the canonical JSON (sorted keys, no spaces) of those seven fields.
Editing an entry breaks its hash; deleting or reordering one breaks the next entry's
``prev_hash`` or the ``seq`` order. Cutting entries off the end leaves a valid-looking chain,
so the head (last seq and hash) is also kept in a sidecar file ``<log>.head`` and ``verify``
checks that the log reaches it. With ``CALLSCOPE_AUDIT_KEY`` set (a secret kept outside the
data dir) each entry is marked ``"mac": "hmac-sha256"`` and its hash is an HMAC of the same
fields under that key: truncating the log and rewriting the head, or recomputing the whole
chain, then needs the key, and ``verify`` with the key refuses any entry not keyed with it.
Writers take an exclusive ``fcntl`` lock, so threads and
processes can append to the same file.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
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


KEY_ENV = "CALLSCOPE_AUDIT_KEY"
KEYED = "hmac-sha256"


def audit_key() -> bytes | None:
    value = os.environ.get(KEY_ENV, "")
    return value.encode("utf-8") if value else None


def entry_hash(entry: Mapping[str, Any], key: bytes | None = None) -> str:
    """sha256 of the canonical entry, or HMAC-SHA256 with ``key`` for a keyed entry.

    Without a key anyone who can write the file can recompute a whole chain (and its head);
    with one, a rewrite needs the secret, which lives outside the data dir.
    """
    body = {k: entry[k] for k in _FIELDS}
    if entry.get("mac") is not None:
        body["mac"] = entry["mac"]
    canonical = json.dumps(
        body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode("utf-8")
    if entry.get("mac") == KEYED:
        if key is None:
            raise AuditError(f"entry {entry.get('seq')} is keyed: set {KEY_ENV} to verify it")
        return hmac.new(key, canonical, hashlib.sha256).hexdigest()
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    entries: int
    problem: str | None = None  # first problem found, one line
    line: int | None = None  # 1-based line of the log where it was found


class AuditLog:
    """``AuditLog(path).append(action, actor=..., target=..., details={...})``."""

    _thread_locks: ClassVar[dict[str, threading.Lock]] = {}

    def __init__(
        self, path: str | Path, *, clock: Clock = SYSTEM, key: bytes | None = None
    ) -> None:
        self.path = Path(path)
        self.key = key if key is not None else audit_key()
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.clock = clock
        lock_key = str(self.path.resolve())
        self._tlock = AuditLog._thread_locks.setdefault(lock_key, threading.Lock())

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
            if self.key is not None:
                entry["mac"] = KEYED
            entry["hash"] = entry_hash(entry, self.key)
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
                if self.key is not None and entry.get("mac") != KEYED:
                    return VerifyResult(
                        False,
                        count,
                        f"entry {entry['seq']} is not keyed: written without {KEY_ENV}, "
                        "or rewritten by someone without it",
                        lineno,
                    )
                try:
                    digest = entry_hash(entry, self.key)
                except AuditError as exc:
                    return VerifyResult(False, count, str(exc), lineno)
                if not hmac.compare_digest(digest, str(entry["hash"])):
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
