"""Alembic's environment for the hand-off database.

bot.handoff.migrate hands over a connection already in its transaction (and lock, and after adopting
a database made before the migrations): the revisions run in it. The ``alembic`` command line (a new
revision, see alembic.ini) gets one from ``sqlalchemy.url`` or the setting HANDOFF_DB_URL.
"""

from alembic import context

from bot.handoff import migrate
from bot.handoff.models import Base
from bot.settings import load


def _run(connection) -> None:
    # render_as_batch: SQLite cannot alter most of a table; autogenerate writes batch operations for it.
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def main() -> None:
    """Run the revisions on the given connection, or on one of our own."""
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported: the first revision creates its tables "
                         "from its frozen metadata, on a connection")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url") or load().handoff_db_url
    engine = migrate.migration_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


main()
