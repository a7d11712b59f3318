"""Which repositories have a notification on an event the usage logs do not show: where the watch
reads the logs, only those are read again every inventory interval.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: rows from before are unknown, and read again as they always were.
    with op.batch_alter_table("inventory") as batch:
        batch.add_column(sa.Column("unlogged", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inventory") as batch:
        batch.drop_column("unlogged")
