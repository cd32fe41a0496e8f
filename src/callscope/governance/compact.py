"""After a deletion, make the deleted bytes really go: embedded databases keep them otherwise.

A DELETE in DuckDB or SQLite marks pages free; the old row bytes stay in the file (and in
the WAL) until the space is reused. Redis keeps every command it ever ran in its AOF until
the file is rewritten. So after ``forget`` or retention:

- DuckDB: ``CHECKPOINT``, then the database is copied into a fresh file
  (``COPY FROM DATABASE``) that replaces the old one: only live rows are in the new file;
- SQLite (the embedded queue): ``VACUUM`` rebuilds the file, then
  ``wal_checkpoint(TRUNCATE)`` empties the WAL;
- Redis: ``BGREWRITEAOF`` when AOF is on (and ``BGSAVE`` when RDB snapshots are), waited for.

PostgreSQL is the operator's: ``VACUUM FULL`` on the touched tables, and backups age out on
their own schedule (docs/governance.md).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any


def compact_duckdb(path: str | Path) -> bool:
    """Rewrite a DuckDB file so deleted rows leave no bytes. The file must not be open."""
    import duckdb

    src = Path(path)
    if not src.exists():
        return False
    fresh = src.with_name(src.name + ".compact")
    for stale in (fresh, Path(str(fresh) + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(src))
    try:
        con.execute("CHECKPOINT")
        con.execute(f"ATTACH '{_sql_path(fresh)}' AS fresh")
        # The source catalog is named after the file's stem.
        name = con.execute("SELECT current_database()").fetchone()
        assert name is not None
        con.execute(f'COPY FROM DATABASE "{name[0]}" TO fresh')
        con.execute("DETACH fresh")
    finally:
        con.close()
    os.replace(fresh, src)
    Path(str(src) + ".wal").unlink(missing_ok=True)
    return True


def _sql_path(p: Path) -> str:
    return str(p).replace("'", "''")


def compact_sqlite(path: str | Path) -> bool:
    """``VACUUM`` and truncate the WAL of a SQLite file (the embedded queue)."""
    if not Path(path).exists():
        return False
    con = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        con.execute("VACUUM")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return True


def compact_redis(client: Any, timeout_s: float = 60.0) -> list[str]:
    """Rewrite Redis persistence so removed entries are gone from disk; what was done."""
    done: list[str] = []
    aof = client.config_get("appendonly").get("appendonly") == "yes"
    if aof:
        client.bgrewriteaof()
        done.append("BGREWRITEAOF")
    if client.config_get("save").get("save"):
        _wait(client, "aof_rewrite_in_progress", timeout_s)
        client.bgsave()
        done.append("BGSAVE")
    _wait(client, "aof_rewrite_in_progress", timeout_s)
    _wait(client, "rdb_bgsave_in_progress", timeout_s)
    return done


def _wait(client: Any, flag: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        info = client.info("persistence")
        if not int(info.get(flag, 0)) and not int(info.get("aof_rewrite_scheduled", 0)):
            return
        time.sleep(0.05)
    raise TimeoutError(f"redis: {flag} still running after {timeout_s:.0f}s")


def compact_queue(queue: Any) -> list[str]:
    """Compact whichever queue backend ``queue`` is; SQS keeps nothing on our disks."""
    from callscope.queue.sqlite import SqliteQueue

    if isinstance(queue, SqliteQueue):
        return ["VACUUM"] if compact_sqlite(queue.path) else []
    client = getattr(queue, "_r", None)
    if client is not None and hasattr(client, "bgrewriteaof"):
        return compact_redis(client)
    return []
