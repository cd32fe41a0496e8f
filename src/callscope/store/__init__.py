"""The warehouse: DuckDB by default, PostgreSQL for production; raw and archive object stores."""

from __future__ import annotations

from collections.abc import Mapping

from callscope.store.base import Deletion, ProcessedSession, Store, StoreError

__all__ = ["Deletion", "ProcessedSession", "Store", "StoreError", "open_store"]


def open_store(
    url: str,
    *,
    migrate: bool = True,
    read_only: bool = False,
    tool_kinds: Mapping[str, str] | None = None,
    duckdb_memory_limit: str = "256MB",
) -> Store:
    """Open the warehouse at ``url`` and bring its schema up to date.

    ``duckdb:///relative.duckdb``, ``duckdb:////absolute.duckdb`` or a plain path (DuckDB),
    ``duckdb:///:memory:``,
    ``postgresql://user:pass@host:port/db`` (also ``postgres://``, ``postgresql+psycopg://``).
    Raises :class:`StoreError` with one line when the URL is wrong or the database unreachable.
    """
    text = url.strip()
    if not text:
        raise StoreError("store URL is empty")
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "duckdb", "/" + text  # a plain path, taken as is
    scheme = scheme.lower()
    store: Store
    if scheme == "duckdb":
        from callscope.store.duckdb_store import DuckDBStore

        # SQLAlchemy's convention: duckdb:///rel/path, duckdb:////abs/path.
        path = rest[1:] if rest.startswith("/") else rest
        if not path:
            raise StoreError(f"{url}: duckdb URL needs a path (duckdb:///path/warehouse.duckdb)")
        store = DuckDBStore(
            path, read_only=read_only, tool_kinds=tool_kinds, memory_limit=duckdb_memory_limit
        )
    elif scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        from callscope.extras import needs

        with needs("a PostgreSQL warehouse"):
            from callscope.store.postgres_store import PostgresStore

        store = PostgresStore(text, tool_kinds=tool_kinds)
    else:
        raise StoreError(
            f"{url}: unsupported store URL scheme {scheme!r} (use duckdb:///path or postgresql://)"
        )
    if migrate and not read_only:
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
    return store
