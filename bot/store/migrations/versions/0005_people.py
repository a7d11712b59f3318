"""People acting as themselves: linked Quay accounts (tokens encrypted), logins in progress, and
approvals waiting for a second member.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "linked_accounts",
        sa.Column("team_id", sa.String(length=32), primary_key=True),
        sa.Column("user_id", sa.String(length=32), primary_key=True),
        sa.Column("quay_username", sa.String(length=255), nullable=False),
        sa.Column("token_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("linked_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "login_starts",
        sa.Column("state", sa.String(length=64), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=True, unique=True),
        sa.Column("used_at", sa.Float(), nullable=True),
    )
    op.create_index("ix_login_starts_expires_at", "login_starts", ["expires_at"])
    op.create_table(
        "approvals",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", sa.Float(), nullable=True),
        sa.Column("result", sa.Text(), nullable=True),
    )
    op.create_index("ix_approvals_state", "approvals", ["state"])


def downgrade() -> None:
    op.drop_index("ix_approvals_state", "approvals")
    op.drop_table("approvals")
    op.drop_index("ix_login_starts_expires_at", "login_starts")
    op.drop_table("login_starts")
    op.drop_table("linked_accounts")
