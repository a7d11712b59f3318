"""The watch reads Quay's usage logs: how far it has read each namespace's, and which source it uses.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_feeds",
        sa.Column("namespace", sa.String(length=255), primary_key=True),
        sa.Column("newest_at", sa.Float(), nullable=True),
        sa.Column("seen", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("why", sa.Text(), nullable=True),
        sa.Column("retry_at", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("log_feeds")
