"""Measure 6-3-3-3 (issue 17): the support tool's monthly figures, subscriptions, notices, deliveries.

Revision ID: 0004_notices
Revises: 0003_live
Create Date: 2026-12-01

Four new tables, nothing else changes. Subscriptions are kept apart from conversations and hand-offs.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_notices"
down_revision = "0003_live"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "support_counts",
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("token", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("confirm_sent_at", sa.Float, nullable=True),
        sa.Column("confirmed_at", sa.Float, nullable=True),
        sa.UniqueConstraint("channel", "address"),
    )
    op.create_index("ix_subscriptions_confirmed_at", "subscriptions", ["confirmed_at"])
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("topics", sa.Text, nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("sent_at", sa.Float, nullable=True),
    )
    op.create_table(
        "notice_deliveries",
        sa.Column("notice_id", sa.Integer, sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("subscription_id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("claimed_at", sa.Float, nullable=True),
        sa.Column("done_at", sa.Float, nullable=True),
    )
    op.create_index("ix_notice_deliveries_state", "notice_deliveries", ["state"])


def downgrade() -> None:
    op.drop_index("ix_notice_deliveries_state", "notice_deliveries")
    op.drop_table("notice_deliveries")
    op.drop_table("notices")
    op.drop_index("ix_subscriptions_confirmed_at", "subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("support_counts")
