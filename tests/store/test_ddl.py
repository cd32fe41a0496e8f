"""The one schema renders for every warehouse dialect, and the CLI prints it."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from typer.testing import CliRunner

from callscope.cli.store_cmds import warehouse_app
from callscope.store.schema import DIALECTS, TABLES, VIEWS, ddl


@pytest.mark.parametrize("dialect", DIALECTS)
def test_ddl_parses_back_in_its_dialect(dialect: str) -> None:
    created = set()
    for stmt in ddl(dialect):
        tree = sqlglot.parse_one(stmt, read=dialect)
        assert tree.key == "create", stmt
        if tree.args.get("kind") in ("TABLE", "VIEW"):
            table = tree.find(sqlglot.exp.Table)
            assert table is not None
            created.add(table.name)
    assert created == {t.name for t in TABLES} | set(VIEWS)


def test_dialect_specific_types() -> None:
    assert "JSONB" in ddl("postgres")[0]
    assert "VARIANT" in ddl("snowflake")[0]
    bq = ddl("bigquery")
    assert "STRING" in bq[0] and "PRIMARY KEY" not in bq[0]
    assert "APPROX_QUANTILES" in "\n".join(bq)
    assert not [s for s in bq if s.startswith("CREATE INDEX")]


def test_duckdb_ddl_runs_in_a_fresh_database() -> None:
    con = duckdb.connect()
    for stmt in ddl("duckdb"):
        con.execute(stmt)
    assert con.execute("SELECT COUNT(*) FROM v_daily_sessions").fetchone() == (0,)


def test_cli_prints_ddl_and_refuses_unknown_dialects() -> None:
    runner = CliRunner()
    ok = runner.invoke(warehouse_app, ["ddl", "--dialect", "snowflake", "--only", "tables"])
    assert ok.exit_code == 0
    assert ok.stdout.count("CREATE TABLE") == len(TABLES)
    bad = runner.invoke(warehouse_app, ["ddl", "--dialect", "oracle"])
    assert bad.exit_code == 2
    assert "unknown dialect 'oracle'" in bad.stderr
