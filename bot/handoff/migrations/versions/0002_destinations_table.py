"""A hand-off's sections in their own table, one row each, in order.

Revision ID: 0002_destinations_table
Revises: 0001_initial
Create Date: 2026-12-02

``handoffs.destinations`` held ",shoko,koreisha_ikiiki," so that a section's cases were a LIKE over
every row. ``handoff_destinations`` has a row per section (position 0 is the primary) and an index
on the section. The upgrade copies every list, in order, and drops the column; the downgrade writes
the column back from the rows, the way the code of revision 0001 wrote it. SQLite cannot drop or
alter a column in place: batch operations rebuild the table there (in the migration's transaction).
"""

from collections import defaultdict
from typing import Dict, List

import sqlalchemy as sa
from alembic import op

revision = "0002_destinations_table"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

CHUNK = 1000  # rows per INSERT or UPDATE batch

handoffs = sa.table("handoffs", sa.column("id", sa.Integer), sa.column("destinations", sa.Text))
destinations = sa.table("handoff_destinations", sa.column("handoff_id", sa.Integer), sa.column("position", sa.Integer),
                        sa.column("section", sa.String))


def upgrade() -> None:
    op.create_table(
        "handoff_destinations",
        sa.Column("handoff_id", sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("section", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("handoff_id", "position"),
    )
    op.create_index("ix_handoff_destinations_section", "handoff_destinations", ["section"])
    rows = [
        {"handoff_id": handoff_id, "position": position, "section": section}
        for handoff_id, joined in op.get_bind().execute(sa.select(handoffs.c.id, handoffs.c.destinations))
        for position, section in enumerate(d for d in (joined or "").split(",") if d)
    ]
    for start in range(0, len(rows), CHUNK):
        op.bulk_insert(destinations, rows[start:start + CHUNK])
    with op.batch_alter_table("handoffs") as batch:
        batch.drop_column("destinations")


def downgrade() -> None:
    with op.batch_alter_table("handoffs") as batch:
        batch.add_column(sa.Column("destinations", sa.Text, nullable=True))
    bind = op.get_bind()
    sections: Dict[int, List[str]] = defaultdict(list)
    ordered = sa.select(destinations.c.handoff_id, destinations.c.section).order_by(destinations.c.handoff_id,
                                                                                   destinations.c.position)
    for handoff_id, section in bind.execute(ordered):
        sections[handoff_id].append(section)
    # As revision 0001's code wrote it: "," + ",".join(sections) + ",".
    values = [{"i": handoff_id, "d": "," + ",".join(sections[handoff_id]) + ","}
              for (handoff_id,) in bind.execute(sa.select(handoffs.c.id))]
    update = sa.text("UPDATE handoffs SET destinations = :d WHERE id = :i")
    for start in range(0, len(values), CHUNK):
        bind.execute(update, values[start:start + CHUNK])
    with op.batch_alter_table("handoffs") as batch:
        batch.alter_column("destinations", existing_type=sa.Text, nullable=False)
    op.drop_index("ix_handoff_destinations_section", table_name="handoff_destinations")
    op.drop_table("handoff_destinations")
