"""partial index on signal.escalation_id

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LINKED = "escalation_id IS NOT NULL"


def upgrade() -> None:
    """Index only the signals linked to an escalation.

    Nearly half the signals belong to no escalation, and every lookup by
    escalation names one, so their entries only made the index bigger and
    slower to build. An equality on the column implies the condition, so
    both SQLite and PostgreSQL still use the index for those lookups.
    """
    op.drop_index("ix_signal_escalation_id", table_name="signal")
    op.create_index(
        "ix_signal_escalation_id",
        "signal",
        ["escalation_id"],
        sqlite_where=sa.text(_LINKED),
        postgresql_where=sa.text(_LINKED),
    )


def downgrade() -> None:
    """Index every signal again."""
    op.drop_index("ix_signal_escalation_id", table_name="signal")
    op.create_index("ix_signal_escalation_id", "signal", ["escalation_id"])
