"""Live conversations (issue 15): who holds a conversation, the staff messages sent, the crisis notices.

Revision ID: 0003_live
Revises: 0002_destinations_table
Create Date: 2026-12-01

Three new tables, nothing else changes: ``live_holds`` (one row per conversation a member of staff
joined, its heartbeat and when it was handed back), ``live_sent`` (the id each staff message's page
gave it, so that a message posted twice is sent once) and ``crisis_notices`` (a conversation with a
danger sign that staff were told of, once; ``mailed`` when the duty address was written to).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_live"
down_revision = "0002_destinations_table"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "live_holds",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("since", sa.Float, nullable=False),
        sa.Column("last_seen", sa.Float, nullable=False),
        sa.Column("released_at", sa.Float, nullable=True),
    )
    op.create_index("ix_live_holds_released_at", "live_holds", ["released_at"])
    op.create_table(
        "live_sent",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(255), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.UniqueConstraint("conversation_id", "client_id"),
    )
    op.create_table(
        "crisis_notices",
        sa.Column("conversation_id", sa.String(255), primary_key=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("mailed", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("crisis_notices")
    op.drop_table("live_sent")
    op.drop_index("ix_live_holds_released_at", "live_holds")
    op.drop_table("live_holds")
