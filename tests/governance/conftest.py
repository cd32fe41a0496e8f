"""Governance tests: dev records in a real DuckDB (and PostgreSQL when the fixture exists)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from callscope.store import Store, open_store

DEV = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "evals" / "dev"


@pytest.fixture(params=["duckdb", "postgres"])
def gov_store(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Store]:
    if request.param == "duckdb":
        s = open_store(f"duckdb:///{tmp_path / 'w.duckdb'}")
    else:
        try:
            url = request.getfixturevalue("postgres_url")
        except pytest.FixtureLookupError:
            pytest.skip("no postgres fixture (tests/fixtures/postgres_server.py)")
        s = open_store(url)
        from callscope.store.schema import TABLES

        s.execute("TRUNCATE " + ", ".join(t.name for t in TABLES))
        s.execute("DROP TABLE IF EXISTS metrics_daily")
    try:
        yield s
    finally:
        s.close()
