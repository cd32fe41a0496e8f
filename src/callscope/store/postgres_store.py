"""PostgreSQL warehouse: SQLAlchemy Core for connections and Alembic, psycopg 3 for bulk COPY.

Several workers may write at once: each batch takes transaction-scoped advisory locks on its
session ids (in a fixed order, so two batches never deadlock), then replaces their rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from callscope.store.base import Params, StoreError
from callscope.store.schema import Table
from callscope.store.sql import bind
from callscope.store.sqlbase import SqlStore, Tx

_MIGRATION_LOCK = 0x63616C6C  # any constant: serializes concurrent migrate() calls
MIGRATIONS = Path(__file__).parent / "migrations"


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).strip().splitlines() if ln.strip()]
    return lines[0] if lines else type(orig).__name__


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    # AVG/SUM return NUMERIC in PostgreSQL; DuckDB returns doubles. Same Python types for both.
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in row.items()}


def sqlalchemy_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise StoreError(f"{url}: not a valid PostgreSQL URL") from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise StoreError(f"{url}: not a PostgreSQL URL")
    return parsed.set(drivername="postgresql+psycopg")


class _PgTx:
    def __init__(self, con: psycopg.Connection[Any]) -> None:
        self.con = con

    def fetch(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        q, values = bind(sql, params, "psycopg")
        with self.con.cursor(row_factory=dict_row) as cur:
            cur.execute(q, values)
            return [_plain(r) for r in cur.fetchall()] if cur.description else []

    def exec(self, sql: str, params: Params = ()) -> int:
        q, values = bind(sql, params, "psycopg")
        with self.con.cursor() as cur:
            cur.execute(q, values)
            return max(cur.rowcount, 0)

    def lock(self, session_ids: Sequence[str]) -> None:
        with self.con.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock(k) FROM "
                "(SELECT DISTINCT hashtext(x) AS k FROM unnest(%s::text[]) AS x ORDER BY 1) s",
                [list(session_ids)],
            )

    def revisions(self, session_ids: Sequence[str]) -> dict[str, int]:
        with self.con.cursor() as cur:
            cur.execute(
                "SELECT session_id, revision FROM sessions WHERE session_id = ANY(%s)",
                [list(session_ids)],
            )
            return {str(s): int(r) for s, r in cur.fetchall()}

    def delete_sessions(self, table: str, session_ids: Sequence[str]) -> int:
        with self.con.cursor() as cur:
            cur.execute(f"DELETE FROM {table} WHERE session_id = ANY(%s)", [list(session_ids)])
            return max(cur.rowcount, 0)

    def existing_ids(self, table: str, column: str, values: Sequence[str]) -> set[str]:
        if not values:
            return set()
        with self.con.cursor() as cur:
            cur.execute(f"SELECT {column} FROM {table} WHERE {column} = ANY(%s)", [list(values)])
            return {str(r[0]) for r in cur.fetchall()}

    def delete_keys(
        self, table: Table, cols: tuple[str, ...], keys: Sequence[tuple[Any, ...]]
    ) -> int:
        if not keys:
            return 0
        arrays = [[k[i] for k in keys] for i in range(len(cols))]
        unnest = ", ".join("%s::text[]" for _ in cols)
        alias = ", ".join(f"k{i}" for i in range(len(cols)))
        cond = " AND ".join(f"t.{c} = k.k{i}" for i, c in enumerate(cols))
        with self.con.cursor() as cur:
            cur.execute(
                f"DELETE FROM {table.name} t USING unnest({unnest}) AS k({alias}) WHERE {cond}",
                arrays,
            )
            return max(cur.rowcount, 0)

    def insert(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        names = table.column_names
        cols = ", ".join(names)
        with self.con.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row.get(c) for c in names])


class PostgresStore(SqlStore):
    """A warehouse in PostgreSQL (``postgresql://user:pass@host:port/db``)."""

    def __init__(
        self,
        url: str,
        *,
        tool_kinds: Mapping[str, str] | None = None,
        pool_size: int = 5,
        connect_timeout: int = 5,
    ) -> None:
        super().__init__(tool_kinds)
        self._sa_url = sqlalchemy_url(url)
        self.url = self._sa_url.set(drivername="postgresql").render_as_string(hide_password=True)
        try:
            self._engine = create_engine(
                self._sa_url,
                pool_size=pool_size,
                pool_pre_ping=True,
                connect_args={"options": "-c timezone=UTC", "connect_timeout": connect_timeout},
            )
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except (SQLAlchemyError, psycopg.Error, OSError) as exc:
            raise StoreError(f"{self.url}: cannot connect: {_one_line(exc)}") from None

    def migrate(self) -> None:
        """Bring the schema to the newest Alembic revision (safe to call from every worker)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self._engine.begin() as conn:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except SQLAlchemyError as exc:
            raise StoreError(f"{self.url}: migration failed: {_one_line(exc)}") from None

    def migration_revision(self) -> str | None:
        rows = (
            self.fetch("SELECT version_num FROM callscope_alembic_version")
            if self._has_table("callscope_alembic_version")
            else []
        )
        return str(rows[0]["version_num"]) if rows else None

    def _has_table(self, name: str) -> bool:
        rows = self.fetch("SELECT to_regclass(?) IS NOT NULL AS present", [name])
        return bool(rows and rows[0]["present"])

    @contextmanager
    def _tx(self) -> Iterator[Tx]:
        try:
            with self._engine.begin() as conn:
                driver = conn.connection.driver_connection
                assert isinstance(driver, psycopg.Connection)
                yield _PgTx(driver)
        except (SQLAlchemyError, psycopg.Error) as exc:
            raise StoreError(f"{self.url}: write failed: {_one_line(exc)}") from None

    def fetch(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        try:
            with self._tx() as tx:
                return tx.fetch(sql, params)
        except StoreError as exc:
            raise StoreError(str(exc).replace("write failed", "query failed")) from None

    def execute(self, sql: str, params: Params = ()) -> int:
        try:
            with self._tx() as tx:
                return tx.exec(sql, params)
        except StoreError as exc:
            raise StoreError(str(exc).replace("write failed", "statement failed")) from None

    def ping(self) -> bool:
        try:
            with self._engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def close(self) -> None:
        self._engine.dispose()
