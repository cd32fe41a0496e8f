"""Initial warehouse schema: the six strategy tables, tool_calls, lead_signals, BI views.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

from alembic import op

from callscope.store.schema import TABLES, VIEWS, ddl

revision = "0001"
down_revision: str | None = None
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None


def upgrade() -> None:
    # Rendered from callscope.store.schema (v1). Before the schema first changes, freeze this
    # DDL here and put the change in a new revision of explicit ALTERs.
    for statement in ddl("postgres"):
        op.execute(statement)


def downgrade() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {table.name}")
