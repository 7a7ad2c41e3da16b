"""history version

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 11:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add a second counter that only writes to the escalation history bump."""
    # Adding columns to a one-row table: SQLite's batch copy of it is instant.
    with op.batch_alter_table("data_version", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "history_version", sa.Integer(), nullable=False, server_default="0"
            )
        )
        batch_op.add_column(
            sa.Column(
                "history_changed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True
            )
        )
    # Start the history where the data stands, so that no copy or cache made
    # before the upgrade can be mistaken for a newer one.
    op.execute(
        "UPDATE data_version SET history_version = version, "
        "history_changed_at = changed_at"
    )


def downgrade() -> None:
    """Drop the history counter; the data version alone keys every cache again."""
    with op.batch_alter_table("data_version", schema=None) as batch_op:
        batch_op.drop_column("history_changed_at")
        batch_op.drop_column("history_version")
