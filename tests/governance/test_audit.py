from __future__ import annotations

import json
import multiprocessing
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from callscope.governance.audit import AuditLog
from callscope.governance.clock import Clock


def _log(tmp_path: Path, n: int = 5) -> AuditLog:
    log = AuditLog(tmp_path / "audit.jsonl", clock=Clock.fixed(datetime(2026, 1, 1, tzinfo=UTC)))
    for i in range(n):
        log.append("forget", actor="ops", target=f"t{i}", details={"i": i})
    return log


def _lines(log: AuditLog) -> list[str]:
    return log.path.read_text().splitlines(keepends=True)


def test_intact_chain_verifies(tmp_path: Path) -> None:
    log = _log(tmp_path)
    result = log.verify()
    assert result.ok and result.entries == 5
    entries = log.entries()
    assert [e["seq"] for e in entries] == [1, 2, 3, 4, 5]
    assert entries[1]["prev_hash"] == entries[0]["hash"]


def test_edited_entry_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    entry = json.loads(lines[2])
    entry["details"] = {"i": 99}
    lines[2] = json.dumps(entry) + "\n"
    log.path.write_text("".join(lines))
    result = log.verify()
    assert not result.ok and result.line == 3 and "edited" in (result.problem or "")


def test_deleted_entry_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    del lines[1]
    log.path.write_text("".join(lines))
    assert not log.verify().ok


def test_reordered_entries_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    lines = _lines(log)
    lines[1], lines[2] = lines[2], lines[1]
    log.path.write_text("".join(lines))
    assert not log.verify().ok


def test_truncated_tail_detected(tmp_path: Path) -> None:
    log = _log(tmp_path)
    log.path.write_text("".join(_lines(log)[:3]))
    result = log.verify()
    assert not result.ok and "cut off" in (result.problem or "")


def test_rehashed_forgery_of_last_entry_detected(tmp_path: Path) -> None:
    # Editing the last entry and recomputing its hash still disagrees with the head file.
    from callscope.governance.audit import entry_hash

    log = _log(tmp_path)
    lines = _lines(log)
    entry = json.loads(lines[-1])
    entry["actor"] = "someone-else"
    entry["hash"] = entry_hash(entry)
    lines[-1] = json.dumps(entry) + "\n"
    log.path.write_text("".join(lines))
    assert not log.verify().ok


def test_threads_append_without_breaking_chain(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl")

    def work(k: int) -> None:
        for i in range(20):
            AuditLog(log.path).append("login", actor=f"u{k}", target=str(i))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = log.verify()
    assert result.ok and result.entries == 80


def _proc_append(path: str) -> None:
    for i in range(15):
        AuditLog(path).append("export", target=str(i))


def test_processes_append_without_breaking_chain(tmp_path: Path) -> None:
    path = str(tmp_path / "p.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_proc_append, args=(path,)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    result = AuditLog(path).verify()
    assert result.ok and result.entries == 30


def test_cli_audit_verify_exit_codes(tmp_path: Path) -> None:
    from callscope.cli import _load, app

    _load()
    log = _log(tmp_path)
    ok = CliRunner().invoke(app, ["audit", "verify", "--path", str(log.path)])
    assert ok.exit_code == 0, ok.output
    log.path.write_text("".join(_lines(log)[1:]))
    bad = CliRunner().invoke(app, ["audit", "verify", "--path", str(log.path)])
    assert bad.exit_code == 1
    assert "TAMPERED" in bad.output


def _rewrite_unkeyed(path: Path, keep: int) -> None:
    """What an attacker without the key can do: cut the log, recompute a plain chain + head."""

    from callscope.governance.audit import entry_hash

    entries = [json.loads(x) for x in path.read_text().splitlines()][:keep]
    prev = entries[0]["prev_hash"]
    for e in entries:
        e.pop("mac", None)
        e["prev_hash"] = prev
        e["hash"] = entry_hash(e)
        prev = e["hash"]
    path.write_text("".join(json.dumps(e, sort_keys=True) + "\n" for e in entries))
    head = path.with_name(path.name + ".head")
    head.write_text(json.dumps({"seq": entries[-1]["seq"], "hash": prev}))


def test_keyed_chain_refuses_rewrites_without_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLSCOPE_AUDIT_KEY", "kept-outside-the-data-dir")
    log = AuditLog(tmp_path / "audit.jsonl")
    for i in range(5):
        log.append("forget", actor="ops", target=f"sha256:{i}")
    assert log.verify().ok
    assert all(e["mac"] == "hmac-sha256" for e in log.entries())
    _rewrite_unkeyed(log.path, keep=3)  # truncated, head rewritten, chain recomputed
    result = AuditLog(log.path).verify()
    assert not result.ok and "not keyed" in (result.problem or "")
    # A forger guessing a key fares no better.
    log2 = AuditLog(tmp_path / "b.jsonl")
    log2.append("forget", actor="ops", target="x")
    forged = AuditLog(tmp_path / "b.jsonl", key=b"guess")
    forged.append("forget", actor="ops", target="y")
    assert not AuditLog(tmp_path / "b.jsonl").verify().ok
    # Without the key a keyed log cannot be verified at all (not silently passed).
    monkeypatch.delenv("CALLSCOPE_AUDIT_KEY")
    plain = AuditLog(tmp_path / "b.jsonl").verify()
    assert not plain.ok and "CALLSCOPE_AUDIT_KEY" in (plain.problem or "")
