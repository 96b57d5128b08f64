"""The schema as the code before the migrations made it (commit 7d3d6d4, bot/handoffs.py).

Revision ID: 0001_initial
Revises:
Create Date: 2026-12-02

The tables are written out here, frozen, instead of taken from bot.handoff.models: the models
follow the newest revision, this revision must not move. They are created the way that code
created them (``MetaData.create_all``), so that a database made by that code and one made by this
revision are the same; bot.handoff.migrate also uses ``META`` to adopt such a database (it creates
the tables that are missing, adds ``staff_users.disabled`` if needed, and stamps this revision).
Column defaults were set by the ORM, not by the database: there are none here.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

META = sa.MetaData()

sa.Table(
    "handoffs", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ref", sa.String(16), unique=True, nullable=False, index=True),
    sa.Column("conversation_id", sa.String(255), nullable=False, index=True),
    sa.Column("created_at", sa.DateTime, nullable=False, index=True),
    sa.Column("updated_at", sa.DateTime, nullable=False),
    sa.Column("first_action_at", sa.DateTime),
    sa.Column("carer_types", sa.Text, nullable=False),
    sa.Column("user_role", sa.String(32), nullable=False),
    # ",shoko,koreisha_ikiiki,": the sections in order, searched with LIKE (revision 0002 replaces it)
    sa.Column("destinations", sa.Text, nullable=False),
    sa.Column("crisis", sa.Boolean, nullable=False, index=True),
    sa.Column("summary", sa.Text, nullable=False),
    sa.Column("contact", sa.String(255)),
    sa.Column("status", sa.String(16), nullable=False, index=True),
)
sa.Table(
    "notes", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("author", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)
sa.Table(
    "audit_log", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("ref", sa.String(16)),
    sa.Column("detail", sa.Text, nullable=False),
)
sa.Table(
    "staff_users", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), unique=True, nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("section", sa.String(64), nullable=False),
    sa.Column("is_admin", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.DateTime, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False),
)
sa.Table(
    "login_failures", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(255), nullable=False, index=True),
    sa.Column("at", sa.Float, nullable=False),
)
sa.Table(
    "staff_sessions", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("token_hash", sa.String(64), unique=True, nullable=False),
    sa.Column("username", sa.String(64), nullable=False, index=True),
    sa.Column("csrf", sa.String(64), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen", sa.Float, nullable=False),
)
sa.Table(
    "chat_deliveries", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender", sa.String(64), nullable=False),
    sa.Column("msg_id", sa.String(64), nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
    sa.UniqueConstraint("sender", "msg_id"),
)
sa.Table(
    "consultation_counts", META,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("conversations", sa.Integer, nullable=False),
)
sa.Table(
    "retention_runs", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime, nullable=False, index=True),
    sa.Column("detail", sa.Text, nullable=False),
)
sa.Table(
    "danger_signals", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, unique=True),
    sa.Column("reader", sa.String(16), nullable=False),
    sa.Column("turn", sa.Integer, nullable=False),
    sa.Column("words", sa.Text, nullable=False),
    sa.Column("score", sa.Float),
    sa.Column("at", sa.DateTime, nullable=False),
)
sa.Table(
    "danger_marks", META,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime, nullable=False),
)


def upgrade() -> None:
    META.create_all(op.get_bind(), checkfirst=False)


def downgrade() -> None:
    META.drop_all(op.get_bind(), checkfirst=False)
