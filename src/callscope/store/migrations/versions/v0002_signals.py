"""The long-form signals table (one row per profile field value) and its BI view.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from callscope.store.schema import SIGNALS, VIEWS, index_name

revision = "0002"
down_revision: str | None = "0001"
branch_labels: tuple[str, ...] | None = None
depends_on: tuple[str, ...] | None = None

# Frozen here (0001 renders the live schema, which already holds this table on a new
# warehouse: hence IF NOT EXISTS).
_TABLE = """CREATE TABLE IF NOT EXISTS signals (
  session_id TEXT NOT NULL,
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  value_num DOUBLE PRECISION,
  evidence TEXT,
  turn INT,
  profile TEXT,
  started_at TIMESTAMPTZ,
  PRIMARY KEY (session_id, field, value)
)"""


def upgrade() -> None:
    op.execute(_TABLE)
    for cols in SIGNALS.indexes:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS {index_name(SIGNALS, cols)} ON signals ({', '.join(cols)})"
        )
    op.execute(f"CREATE OR REPLACE VIEW v_signal_values AS {VIEWS['v_signal_values'].strip()}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_signal_values")
    op.execute("DROP TABLE IF EXISTS signals")
