"""Alembic migrations of the PostgreSQL warehouse (run by ``PostgresStore.migrate()``)."""
