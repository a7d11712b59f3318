"""Watch hints and a resumable rotation; outbox rows claimed before they are sent.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inventory") as table:
        table.add_column(sa.Column("last_modified", sa.Integer(), nullable=True))
        table.add_column(sa.Column("next_check_at", sa.Float(), nullable=True))
        table.add_column(sa.Column("pushed_at", sa.Float(), nullable=True))
        table.create_index("ix_inventory_next_check_at", ["next_check_at"])
    with op.batch_alter_table("namespace_watch") as table:
        table.add_column(sa.Column("rotation_cursor", sa.String(length=512), nullable=True))
        table.add_column(sa.Column("first_pass_done_at", sa.Float(), nullable=True))
    with op.batch_alter_table("outbox") as table:
        table.add_column(sa.Column("claimed_by", sa.String(length=128), nullable=True))
        table.add_column(sa.Column("claim_expires_at", sa.Float(), nullable=True))
    # Inventories listed before this revision hold no `last_modified`: the first listing after the
    # upgrade records it without taking every repository for a fresh push.


def downgrade() -> None:
    with op.batch_alter_table("outbox") as table:
        table.drop_column("claim_expires_at")
        table.drop_column("claimed_by")
    with op.batch_alter_table("namespace_watch") as table:
        table.drop_column("first_pass_done_at")
        table.drop_column("rotation_cursor")
    with op.batch_alter_table("inventory") as table:
        table.drop_index("ix_inventory_next_check_at")
        table.drop_column("pushed_at")
        table.drop_column("next_check_at")
        table.drop_column("last_modified")
