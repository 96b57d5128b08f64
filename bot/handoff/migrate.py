"""Bring the hand-off database to the schema this code expects (Alembic, ``bot/handoff/migrations``).

    python -m bot.handoff.migrate [--url URL]                  upgrade to the newest revision
    python -m bot.handoff.migrate [--url URL] --downgrade REV  back to REV (``base``: no table at all)

``--url`` defaults to the setting HANDOFF_DB_URL; the revision before and after is printed.

Production (PostgreSQL) runs this as its own step, as the role that owns the database, before the
processes start (``make run``, tools/scale.py): the processes only check the revision (``ensure``)
and refuse to start on another, since they should not hold the rights to change the schema and
several of them start at once. On SQLite (one machine: development, tests) ``Store`` upgrades by
itself; a lock (BEGIN IMMEDIATE) keeps two processes that start together from both doing it.

A database made before the migrations (tables but no ``alembic_version``) is adopted: what the code
of that time would still have added at start is added (missing tables, ``staff_users.disabled``),
then it is stamped at the first revision, which is exactly that schema, and upgraded from there.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from bot.production import private_sqlite
from bot.settings import load

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST = "0001_initial"
# Any constant: PostgreSQL's advisory lock that one migration at a time holds.
_PG_LOCK = 0x6B635F68616E64  # "kc_hand"

Step = Callable[[Config], None]


class SchemaError(RuntimeError):
    """The database is not at the revision this code needs (run ``python -m bot.handoff.migrate``)."""


def config(connection: Optional[sa.engine.Connection] = None) -> Config:
    """Alembic's configuration, from any working folder; ``connection`` is where env.py migrates."""
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.attributes["connection"] = connection
    return cfg


@functools.lru_cache(maxsize=1)
def _scripts() -> ScriptDirectory:
    # Read once per process: every Store checks the revision against it.
    return ScriptDirectory.from_config(config())


def first_schema() -> sa.MetaData:
    """The tables of revision 0001, frozen: the schema of the code before the migrations."""
    return _scripts().get_revision(FIRST).module.META


def head() -> str:
    """The newest revision."""
    return _scripts().get_current_head()


def current(connection: sa.engine.Connection) -> Optional[str]:
    """The revision the database is at, or None (empty, or made before the migrations)."""
    return MigrationContext.configure(connection).get_current_revision()


def _is_memory(url: sa.engine.URL) -> bool:
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def migration_engine(url: str) -> sa.engine.Engine:
    """An engine for one migration: on SQLite, really transactional and serialised between processes.

    pysqlite leaves DDL outside transactions and begins them lazily; here every transaction starts
    with BEGIN IMMEDIATE, so that a table rebuilt by a batch migration is rebuilt all or nothing, and
    a second process that starts at the same moment waits, then finds the database at head.
    """
    private_sqlite(url)
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _adopt(connection: sa.engine.Connection) -> None:
    """Stamp a database made before the migrations at the first revision, after adding what it lacks."""
    names = set(sa.inspect(connection).get_table_names())
    if "alembic_version" in names:
        return
    first = first_schema()
    if not names & set(first.tables):
        return  # empty (or another application's tables only): the migrations make everything
    # What the code before the migrations did at every start (create_all, then _add_staff_columns).
    first.create_all(connection)
    if "disabled" not in {c["name"] for c in sa.inspect(connection).get_columns("staff_users")}:
        connection.execute(sa.text("ALTER TABLE staff_users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE"))
    MigrationContext.configure(connection).stamp(_scripts(), FIRST)


def run(connection: sa.engine.Connection, step: Step) -> Tuple[Optional[str], Optional[str]]:
    """Adopt the database if needed, then run ``step`` on it; return the revision before and after.

    ``connection`` must be in a transaction: everything happens in it (env.py joins it).
    """
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
    before = current(connection)
    _adopt(connection)
    step(config(connection))
    return before, current(connection)


def _migrate(url: str, step: Step) -> Tuple[Optional[str], Optional[str]]:
    engine = migration_engine(url)
    try:
        with engine.begin() as connection:
            return run(connection, step)
    finally:
        engine.dispose()


def upgrade(url: str, revision: str = "head") -> Tuple[Optional[str], Optional[str]]:
    """Upgrade the database at ``url`` to the newest revision (or ``revision``); return the revision before and after."""
    return _migrate(url, lambda cfg: command.upgrade(cfg, revision))


def downgrade(url: str, revision: str) -> Tuple[Optional[str], Optional[str]]:
    """Take the database at ``url`` back to ``revision`` (``base``: drop every table)."""
    return _migrate(url, lambda cfg: command.downgrade(cfg, revision))


def ensure(engine: sa.engine.Engine) -> None:
    """Make sure that the database of ``engine`` is at the newest revision (``Store`` calls this).

    Quick when it is: one read of ``alembic_version``. Else SQLite is upgraded (an in-memory
    database on ``engine`` itself, since another engine would see another database) and any other
    database raises SchemaError.
    """
    with engine.connect() as connection:
        at = current(connection)
    if at == head():
        return
    if at is not None and at not in {script.revision for script in _scripts().walk_revisions()}:
        raise SchemaError(f"the hand-off database is at revision {at}, which this code does not know (newer code "
                          f"migrated it); this code needs {head()}")
    if engine.dialect.name != "sqlite":
        raise SchemaError(
            f"the hand-off database is at revision {at or 'none (empty, or made before the migrations)'}, "
            f"this code needs {head()}: run `python -m bot.handoff.migrate` as the database's owner before "
            "starting the processes (make run does)"
        )
    if _is_memory(engine.url):
        with engine.begin() as connection:
            run(connection, lambda cfg: command.upgrade(cfg, "head"))
    else:
        upgrade(engine.url.render_as_string(hide_password=False))


def main(argv: Optional[List[str]] = None) -> int:
    """Command line: upgrade (or ``--downgrade REV``) and print the revision before and after."""
    p = argparse.ArgumentParser(prog="python -m bot.handoff.migrate", description=__doc__.splitlines()[0])
    p.add_argument("--url", help="SQLAlchemy URL of the hand-off database (default: HANDOFF_DB_URL)")
    p.add_argument("--downgrade", metavar="REV", help="go back to this revision instead (base: no tables)")
    args = p.parse_args(argv)
    os.umask(0o077)  # a SQLite file made here, and its journal, are private
    try:
        url = args.url or load().handoff_db_url
    except ValueError as e:  # a setting that does not parse
        print(e, file=sys.stderr)
        return 2
    try:
        before, after = downgrade(url, args.downgrade) if args.downgrade else upgrade(url)
    except CommandError as e:  # an unknown revision, or one that is not below the database's
        print(f"hand-off database: {e}", file=sys.stderr)
        return 2
    print(f"hand-off database: revision {before or 'none'} -> {after or 'none'} (head: {head()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
