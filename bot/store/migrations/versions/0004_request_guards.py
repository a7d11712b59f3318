"""Request guards: the Slack requests already taken (replays and retries are not run twice) and the
modals the bot opened (submissions of any other view are refused).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "seen_requests",
        sa.Column("key", sa.String(length=80), primary_key=True),
        sa.Column("seen_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_seen_requests_seen_at", "seen_requests", ["seen_at"])
    op.create_table(
        "opened_views",
        sa.Column("view_id", sa.String(length=64), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("callback_id", sa.String(length=255), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_opened_views_opened_at", "opened_views", ["opened_at"])


def downgrade() -> None:
    op.drop_index("ix_opened_views_opened_at", "opened_views")
    op.drop_table("opened_views")
    op.drop_index("ix_seen_requests_seen_at", "seen_requests")
    op.drop_table("seen_requests")
