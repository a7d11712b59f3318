"""Channel subscriptions to Quay events: the subscriptions, the notifications made for them, and the
Slack messages that group their events.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("namespace", sa.String(length=255), nullable=False),
        sa.Column("repository", sa.String(length=512), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.UniqueConstraint("channel_id", "namespace", "repository", name="uq_subscription_target"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_subscriptions_namespace", "subscriptions", ["namespace"])
    op.create_table(
        "subscription_hooks",
        sa.Column("subscription_id", sa.Integer(), primary_key=True),
        sa.Column("repository", sa.String(length=512), primary_key=True),
        sa.Column("event", sa.String(length=64), primary_key=True),
        sa.Column("notification_uuid", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_subscription_hooks_notification_uuid", "subscription_hooks", ["notification_uuid"])
    op.create_table(
        "event_messages",
        sa.Column("channel_id", sa.String(length=32), primary_key=True),
        sa.Column("group_key", sa.String(length=600), primary_key=True),
        sa.Column("outbox_item_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    )
    op.create_index("ix_event_messages_updated_at", "event_messages", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_event_messages_updated_at", "event_messages")
    op.drop_table("event_messages")
    op.drop_index("ix_subscription_hooks_notification_uuid", "subscription_hooks")
    op.drop_table("subscription_hooks")
    op.drop_index("ix_subscriptions_namespace", "subscriptions")
    op.drop_table("subscriptions")
