"""DuckDB memory per role: a share of the machine, bounded, overridable by environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from callscope.store import open_store
from callscope.store.memory import memory_limit_for


def test_roles_get_their_share_within_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    for role in ("worker", "dashboard", "bulk"):
        monkeypatch.delenv(f"CALLSCOPE_DUCKDB_MEMORY_{role.upper()}", raising=False)
    assert memory_limit_for("worker", total_mb=1024) == "64MB"  # the floor
    assert memory_limit_for("worker", total_mb=64_000) == "256MB"  # the ceiling
    assert memory_limit_for("dashboard", total_mb=8192) == "1228MB"
    assert memory_limit_for("bulk", total_mb=8192) == "819MB"


def test_environment_wins_and_duckdb_applies_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CALLSCOPE_DUCKDB_MEMORY_WORKER", "80MB")
    limit = memory_limit_for("worker")
    assert limit == "80MB"
    store = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}", duckdb_memory_limit=limit)
    try:
        got = store.fetch("SELECT current_setting('memory_limit') AS m")[0]["m"]
        assert got.replace(" ", "").upper().startswith(("76.2MIB", "80.0MB", "76.2MB", "80MB"))
    finally:
        store.close()
