"""``callscope warehouse``: DDL for any warehouse, migrations, table counts.

Exit codes: 0 ok; 1 the warehouse is unreachable or a step failed; 2 usage or configuration
error.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from callscope.store.schema import DIALECTS, ddl, index_ddl, table_ddl, view_ddl

out = Console()
err = Console(stderr=True)

warehouse_app = typer.Typer(
    name="warehouse",
    help="Warehouse schema (DuckDB, PostgreSQL, BigQuery, Snowflake), migrations, counts.",
    no_args_is_help=True,
)


def _fail(message: str, code: int) -> typer.Exit:
    from callscope.cli.context import exit_error

    return exit_error(message, code)


def _store_url(url: str | None) -> str:
    if url:
        return url
    from callscope.cli.context import settings

    return settings().resolved_store_url()


@warehouse_app.command("ddl")
def ddl_cmd(
    dialect: Annotated[
        str, typer.Option("--dialect", "-d", help=f"One of: {', '.join(DIALECTS)}.")
    ] = "postgres",
    part: Annotated[str, typer.Option("--only", help="tables, indexes, views or all.")] = "all",
) -> None:
    """Print the warehouse DDL for a SQL dialect (rendered with sqlglot)."""
    if dialect not in DIALECTS:
        raise _fail(f"unknown dialect {dialect!r} (one of {', '.join(DIALECTS)})", 2)
    parts = {"tables": table_ddl, "indexes": index_ddl, "views": view_ddl, "all": ddl}
    if part not in parts:
        raise _fail(f"unknown --only {part!r} (tables, indexes, views or all)", 2)
    for statement in parts[part](dialect):
        typer.echo(statement.rstrip() + ";\n")


@warehouse_app.command("migrate")
def migrate_cmd(
    url: Annotated[str | None, typer.Option("--url", help="Store URL (default: config).")] = None,
) -> None:
    """Create or upgrade the warehouse schema (Alembic on PostgreSQL)."""
    from callscope.store import StoreError, open_store

    target = _store_url(url)
    try:
        store = open_store(target)
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    store.close()
    out.print(f"warehouse schema up to date: {store.url}", highlight=False)


@warehouse_app.command("stats")
def stats_cmd(
    url: Annotated[str | None, typer.Option("--url", help="Store URL (default: config).")] = None,
) -> None:
    """Row count of every warehouse table."""
    from callscope.store import StoreError, open_store
    from callscope.store.schema import TABLES

    try:
        store = open_store(_store_url(url))
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    try:
        table = Table("table", "rows", title=store.url)
        for t in TABLES:
            table.add_row(t.name, str(store.count(t.name)))
    except StoreError as exc:
        raise _fail(str(exc), 1) from None
    finally:
        store.close()
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(warehouse_app)
