"""Alembic environment: runs on the connection ``PostgresStore.migrate()`` passes in, or on
``sqlalchemy.url`` when invoked from the alembic command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

VERSION_TABLE = "callscope_alembic_version"


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=None,
        version_table=VERSION_TABLE,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    config = context.config
    if context.is_offline_mode():
        context.configure(
            url=config.get_main_option("sqlalchemy.url"),
            literal_binds=True,
            version_table=VERSION_TABLE,
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic: set sqlalchemy.url (a postgresql+psycopg:// URL)")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


_main()
