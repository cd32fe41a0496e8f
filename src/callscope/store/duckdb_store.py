"""DuckDB warehouse: the default, one file, no server.

Writes go through Arrow tables (one bulk ``INSERT ... SELECT`` per table per batch). DuckDB
allows one writing process per file: run the worker and the dashboard in one process, or open
the dashboard's store with ``read_only=True`` on a copy/snapshot.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from callscope.store.base import Params, StoreError
from callscope.store.schema import SCHEMA_VERSION, Table, ddl
from callscope.store.sql import bind
from callscope.store.sqlbase import SqlStore, Tx

# Arrow's default jemalloc pool keeps freed batch buffers mapped; a long-running worker that
# builds one Arrow table per table per batch then holds ~40 MB it no longer uses.
pa.set_memory_pool(pa.system_memory_pool())

_ARROW: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "ts": pa.timestamp("us", tz="UTC"),
    "json": pa.string(),
}


_CHECKPOINT_WAL = "64MB"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


@lru_cache(maxsize=64)
def arrow_schema(table: Table) -> pa.Schema:
    return pa.schema([pa.field(c.name, _ARROW[c.type]) for c in table.columns])


def arrow_table(table: Table, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    """Rows (column name -> value) as one Arrow table, converted column-wise in C."""
    return pa.Table.from_pylist(list(rows), schema=arrow_schema(table))


def _rows(cur: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    desc = cur.description or []
    names = [d[0] for d in desc]
    json_cols = [i for i, d in enumerate(desc) if str(d[1]) == "JSON"]
    out = []
    for row in cur.fetchall():
        values = list(row)
        for i in json_cols:
            if isinstance(values[i], str):
                values[i] = orjson.loads(values[i])
        out.append(dict(zip(names, values, strict=True)))
    return out


class _DuckTx:
    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._n = 0
        self._staged_ids: tuple[tuple[str, ...], str] | None = None

    def _register(self, data: pa.Table) -> str:
        self._n += 1
        name = f"_cs_stage_{self._n}"
        self.con.register(name, data)
        return name

    def fetch(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        text, values = bind(sql, params, "duckdb")
        return _rows(self.con.execute(text, values))

    def exec(self, sql: str, params: Params = ()) -> int:
        text, values = bind(sql, params, "duckdb")
        result = self.con.execute(text, values).fetchall()
        return int(result[0][0]) if result and result[0] and isinstance(result[0][0], int) else 0

    def lock(self, session_ids: Sequence[str]) -> None:
        return None  # one writer per process: the store's lock serializes writes

    def _ids(self, session_ids: Sequence[str]) -> str:
        # A write stages the same ids for the revision lookup and every delete: register once.
        key = tuple(session_ids)
        if self._staged_ids is None or self._staged_ids[0] != key:
            table = pa.table({"id": pa.array(key, type=pa.string())})
            self._staged_ids = (key, self._register(table))
        return self._staged_ids[1]

    def existing_ids(self, table: str, column: str, values: Sequence[str]) -> set[str]:
        if not values:
            return set()
        ids = self._ids(values)
        got = self.con.execute(
            f"SELECT {column} FROM {table} WHERE {column} IN (SELECT id FROM {ids})"
        ).fetchall()
        return {str(r[0]) for r in got}

    def revisions(self, session_ids: Sequence[str]) -> dict[str, int]:
        ids = self._ids(session_ids)
        got = self.con.execute(
            f"SELECT session_id, revision FROM sessions WHERE session_id IN (SELECT id FROM {ids})"
        ).fetchall()
        return {str(s): int(r) for s, r in got}

    def delete_sessions(self, table: str, session_ids: Sequence[str]) -> int:
        ids = self._ids(session_ids)
        got = self.con.execute(
            f"DELETE FROM {table} WHERE session_id IN (SELECT id FROM {ids})"
        ).fetchall()
        return int(got[0][0]) if got else 0

    def delete_keys(
        self, table: Table, cols: tuple[str, ...], keys: Sequence[tuple[Any, ...]]
    ) -> int:
        if not keys:
            return 0
        types = table.types()
        stage = self._register(
            pa.table(
                {
                    c: pa.array([k[i] for k in keys], type=_ARROW[types[c]])
                    for i, c in enumerate(cols)
                }
            )
        )
        cond = " AND ".join(f"{table.name}.{c} = k.{c}" for c in cols)
        got = self.con.execute(f"DELETE FROM {table.name} USING {stage} k WHERE {cond}").fetchall()
        return int(got[0][0]) if got else 0

    def insert(self, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
        stage = self._register(arrow_table(table, rows))
        cols = ", ".join(table.column_names)
        self.con.execute(f"INSERT INTO {table.name} ({cols}) SELECT {cols} FROM {stage}")

    def unregister_all(self) -> None:
        for i in range(1, self._n + 1):
            self.con.unregister(f"_cs_stage_{i}")


class DuckDBStore(SqlStore):
    """A warehouse in one DuckDB file (``":memory:"`` for a throwaway one)."""

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        tool_kinds: Mapping[str, str] | None = None,
        memory_limit: str = "256MB",
    ) -> None:
        super().__init__(tool_kinds)
        self.path = str(path)
        self.url = f"duckdb:///{self.path}"
        self.read_only = read_only
        if self.path != ":memory:":
            p = Path(self.path)
            if p.is_dir():
                raise StoreError(f"{p}: is a directory, not a DuckDB file")
            if read_only and not p.exists():
                raise StoreError(f"{p}: no such DuckDB file")
            if not read_only:
                p.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(self.path, read_only=read_only)
            self._con.execute("SET TimeZone = 'UTC'")
            # A bounded buffer pool keeps a long-running process's RSS flat; DuckDB spills
            # to disk past it. The batch-appending worker needs far less than the dashboard.
            self._con.execute("SET memory_limit = ?", [memory_limit])
            if not read_only:
                # Each checkpoint rewrites the partly filled row groups that batches append to;
                # at the default 16 MB of WAL that was ~20% of the CPU of a batch write.
                self._con.execute(f"SET checkpoint_threshold = '{_CHECKPOINT_WAL}'")
        except (duckdb.Error, OSError) as exc:
            raise StoreError(f"{self.path}: cannot open DuckDB: {_one_line(exc)}") from None
        self._lock = threading.RLock()

    def migrate(self) -> None:
        with self._lock:
            self._con.execute("CREATE TABLE IF NOT EXISTS callscope_schema (version INTEGER)")
            got = self._con.execute("SELECT MAX(version) FROM callscope_schema").fetchone()
            current = int(got[0]) if got and got[0] is not None else 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path}: warehouse schema v{current} is newer than this callscope "
                    f"(v{SCHEMA_VERSION}); upgrade callscope"
                )
            self._con.execute("BEGIN")
            try:
                for stmt in ddl("duckdb"):
                    self._con.execute(stmt)
                if current < SCHEMA_VERSION:
                    self._con.execute("INSERT INTO callscope_schema VALUES (?)", [SCHEMA_VERSION])
                self._con.execute("COMMIT")
            except duckdb.Error as exc:
                self._con.execute("ROLLBACK")
                raise StoreError(f"{self.path}: migration failed: {_one_line(exc)}") from None

    @contextmanager
    def _tx(self) -> Iterator[Tx]:
        with self._lock:
            tx = _DuckTx(self._con)
            self._con.execute("BEGIN")
            try:
                yield tx
            except BaseException:
                self._con.execute("ROLLBACK")
                tx.unregister_all()
                raise
            self._con.execute("COMMIT")
            tx.unregister_all()

    def fetch(self, sql: str, params: Params = ()) -> list[dict[str, Any]]:
        text, values = bind(sql, params, "duckdb")
        # A cursor per call: DuckDB connections are not shared across threads.
        cur = self._con.cursor()
        try:
            return _rows(cur.execute(text, values))
        except duckdb.Error as exc:
            raise StoreError(f"query failed: {_one_line(exc)}") from None
        finally:
            cur.close()

    def execute(self, sql: str, params: Params = ()) -> int:
        text, values = bind(sql, params, "duckdb")
        with self._lock:
            try:
                result = self._con.execute(text, values).fetchall()
            except duckdb.Error as exc:
                raise StoreError(f"statement failed: {_one_line(exc)}") from None
        if result and len(result[0]) == 1 and isinstance(result[0][0], int):
            return int(result[0][0])
        return 0

    def ping(self) -> bool:
        try:
            cur = self._con.cursor()
            try:
                cur.execute("SELECT 1").fetchall()
            finally:
                cur.close()
            return True
        except duckdb.Error:
            return False

    def close(self) -> None:
        with self._lock:
            self._con.close()
