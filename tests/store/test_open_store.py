"""open_store: every wrong URL or unreachable database fails at start with one clear line."""

from __future__ import annotations

import pathlib
import socket
import time

import pytest

from callscope.store import StoreError, open_store
from callscope.store.duckdb_store import DuckDBStore


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_line(exc: pytest.ExceptionInfo[StoreError]) -> str:
    text = str(exc.value)
    assert "\n" not in text and text
    return text


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("", "empty"),
        ("mysql://u@localhost/db", "unsupported store URL scheme 'mysql'"),
        ("duckdb://", "needs a path"),
        ("postgresql://u@localhost:notaport/db", "not a valid PostgreSQL URL"),
    ],
)
def test_bad_urls(url: str, needle: str) -> None:
    with pytest.raises(StoreError) as exc:
        open_store(url)
    assert needle in one_line(exc)


def test_unreachable_postgres_fails_fast_without_password_in_message() -> None:
    start = time.monotonic()
    with pytest.raises(StoreError) as exc:
        open_store(f"postgresql://u:s3cret@127.0.0.1:{_closed_port()}/db")
    msg = one_line(exc)
    assert "cannot connect" in msg and "s3cret" not in msg
    assert time.monotonic() - start < 10


def test_missing_postgres_database(postgres_url: str) -> None:
    base = postgres_url.rsplit("/", 1)[0]
    with pytest.raises(StoreError) as exc:
        open_store(f"{base}/no_such_db")
    assert "no_such_db" in one_line(exc)


def test_postgres_alembic_revision(postgres_url: str) -> None:
    from callscope.store.postgres_store import PostgresStore

    store = open_store(postgres_url)
    try:
        assert isinstance(store, PostgresStore)
        assert store.migration_revision() == "0002"
    finally:
        store.close()


def test_duckdb_path_forms(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for url, path in [
        ("duckdb:///rel.duckdb", tmp_path / "rel.duckdb"),
        (f"duckdb:///{tmp_path}/abs.duckdb", tmp_path / "abs.duckdb"),
        (str(tmp_path / "sub" / "plain.duckdb"), tmp_path / "sub" / "plain.duckdb"),
    ]:
        store = open_store(url)
        store.close()
        assert path.is_file(), url
    mem = open_store("duckdb:///:memory:")
    assert mem.count("sessions") == 0
    mem.close()


def test_duckdb_not_a_database_is_left_untouched(tmp_path: pathlib.Path) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_bytes(b"these are my notes, not a database\n" * 200)
    before = bogus.read_bytes()
    with pytest.raises(StoreError) as exc:
        open_store(str(bogus))
    assert str(bogus) in one_line(exc)
    assert bogus.read_bytes() == before
    with pytest.raises(StoreError, match="is a directory"):
        open_store(str(tmp_path))


def test_duckdb_read_only(tmp_path: pathlib.Path) -> None:
    with pytest.raises(StoreError, match="no such DuckDB file"):
        DuckDBStore(tmp_path / "absent.duckdb", read_only=True)
    path = tmp_path / "w.duckdb"
    open_store(str(path)).close()
    ro = open_store(str(path), read_only=True)
    try:
        assert ro.count("sessions") == 0
        with pytest.raises(StoreError):
            ro.execute("DELETE FROM sessions")
    finally:
        ro.close()


def test_duckdb_newer_schema_is_refused(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "w.duckdb"
    store = open_store(str(path))
    store.execute("INSERT INTO callscope_schema VALUES (99)")
    store.close()
    with pytest.raises(StoreError, match="newer than this callscope"):
        open_store(str(path))
