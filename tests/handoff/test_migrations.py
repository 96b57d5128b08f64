"""The hand-off database's migrations (issue 13), on real SQLite and, where installed, PostgreSQL.

* an empty database upgraded to head is exactly the models (alembic's compare_metadata);
* revision 0001 is exactly what the code before the migrations made (commit 7d3d6d4, read from
  git and run as it was): a database made and filled by that code is adopted, every row survives
  and the sections of each case come back as the same ordered lists;
* down to 0001 gives back the comma-joined column, value for value, and that code reads it again;
  down to base and up again works; two processes upgrading one SQLite file at once both succeed;
* on PostgreSQL a ``Store`` never changes the schema: it refuses a database that is not at head.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import types
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.handoff import migrate
from bot.handoff.models import Base
from bot.handoff.store import SchemaError, Staff, Store

ROOT = Path(__file__).resolve().parents[2]
MAIN = "7d3d6d4"  # the last commit before the migrations
HEAD = migrate.head()
ADMIN = Staff("admin", "fukushi_somu", True)
PASSWORD = "correct-horse-42"
CASES = {  # conversation: sections, in order (the primary first)
    "conv-a": ["shoko", "koreisha_ikiiki", "kodomo_katei_soudan"],
    "conv-b": ["fukushi_somu"],
    "conv-c": ["shogai_fukushi", "shoko"],
    "conv-d": [],
}


# --- the code before the migrations, and the databases ------------------------------------------

@pytest.fixture(scope="module")
def main_code() -> Iterator[types.ModuleType]:
    """bot/handoffs.py as commit 7d3d6d4 had it, loaded as a module of its own."""
    shown = subprocess.run(["git", "-C", str(ROOT), "show", f"{MAIN}:bot/handoffs.py"], capture_output=True, text=True)
    if shown.returncode != 0:
        pytest.skip(f"needs the git history (commit {MAIN}): {shown.stderr.strip()}")
    module = types.ModuleType("handoffs_before_migrations")
    sys.modules[module.__name__] = module  # dataclasses look their module up there
    try:
        exec(compile(shown.stdout, f"{MAIN}:bot/handoffs.py", "exec"), module.__dict__)
        yield module
    finally:
        del sys.modules[module.__name__]


def _postgres_binaries() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb")) and (os.geteuid() != 0 or bool(shutil.which("runuser")))


@pytest.fixture(scope="module")
def postgres() -> Iterator[object]:
    """A throw-away PostgreSQL server (tools.scale), with the hand-off role of the production profile."""
    if not _postgres_binaries():
        pytest.skip("PostgreSQL is not installed (make scale-deps)")
    from tools import scale

    folder = Path(tempfile.mkdtemp(prefix="kc-migrations-"))
    os.chmod(folder, 0o777)  # the postgres user writes its data and socket here
    if os.geteuid() == 0:
        os.chown(folder, pwd.getpwnam("postgres").pw_uid, -1)
    server = scale.Postgres(folder)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path) -> str:
    """A new, empty database: a SQLite file, or a PostgreSQL database owned by the hand-off role."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/handoff.db"
    server = request.getfixturevalue("postgres")
    name = f"h_{uuid.uuid4().hex[:12]}"
    server.psql(f"CREATE DATABASE {name} OWNER kc_handoff")
    return server.role_url("kc_handoff", name)


def _differences(url: str, metadata: sa.MetaData) -> list:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        found = compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), metadata)
    engine.dispose()
    return found


def _rows(url: str) -> Dict[str, List[dict]]:
    """Every row of every table of revision 0001, in primary-key order, without ``handoffs.destinations``."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    rows = {}
    with engine.connect() as c:
        for name, frozen in migrate.first_schema().tables.items():
            table = sa.Table(name, sa.MetaData(), autoload_with=c)
            order = [table.c[col.name] for col in frozen.primary_key.columns]
            rows[name] = [{k: v for k, v in r._mapping.items() if k != "destinations"}
                          for r in c.execute(sa.select(table).order_by(*order))]
    engine.dispose()
    return rows


def _joined(url: str) -> Dict[str, str]:
    """{reference: handoffs.destinations} of a database at revision 0001."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as c:
        found = dict(c.execute(sa.text("SELECT ref, destinations FROM handoffs")).fetchall())
    engine.dispose()
    return found


def _fill_with_main(main_code: types.ModuleType, url: str) -> Dict[str, List[str]]:
    """Make and fill the database with the code before the migrations; return {reference: sections}."""
    old = main_code.Store(url)
    old_admin = main_code.Staff("admin", "fukushi_somu", True)
    refs = {}
    for cid, sections in CASES.items():
        ref = old.create_handoff(cid, ["dementia"], "carer", sections, cid == "conv-a", f"summary {cid}", "0467-00-0000")["ref"]
        refs[ref] = sections
        assert old.add_note(old_admin, ref, f"note on {cid}")
    first = next(iter(refs))
    assert old.record_danger(first, "conv-a", "lexicon", 1, words="消えたい")
    assert old.mark_danger(old_admin, first, "wrong_flag", "ドラマの話")
    assert old.transfer(old_admin, first, "koreisha_ikiiki", "担当の変更")  # the primary changes: order matters
    refs[first] = ["koreisha_ikiiki", "shoko", "kodomo_katei_soudan"]
    old.add_user("tanaka", PASSWORD, "koreisha_ikiiki")
    old.add_user("sato", PASSWORD, "fukushi_somu", True)
    assert old.set_disabled("tanaka", True)
    old.start_session("sato", 1000.0, 3600)
    old.add_login_failure("127.0.0.1", "tanaka", at=1000.0)
    old.archive_counts({"2026-01": 3})
    old.record_retention({"handoffs": 0})
    with old.session() as s:
        s.add(main_code.Delivery(sender="web-1", msg_id="m1", answer="[]"))
        s.commit()
    old.engine.dispose()
    return refs


def _open(url: str) -> Store:
    """Open the database as the processes do: on PostgreSQL, after the migration step of production."""
    if not url.startswith("sqlite"):
        migrate.upgrade(url)
    return Store(url)


# --- the tests --------------------------------------------------------------------------------------

def test_an_empty_database_upgrades_to_exactly_the_models(url):
    assert migrate.upgrade(url) == (None, HEAD)
    assert _differences(url, Base.metadata) == []
    assert migrate.upgrade(url) == (HEAD, HEAD)  # nothing to do the second time


def test_revision_0001_is_the_schema_that_the_code_before_the_migrations_made(url, main_code):
    migrate.upgrade(url, migrate.FIRST)  # 0001 from nothing is what that code expects
    assert _differences(url, main_code.Base.metadata) == []
    main_code.Store(url).engine.dispose()  # and that code finds nothing to add


def test_a_database_made_by_that_code_is_revision_0001(url, main_code):
    main_code.Store(url).engine.dispose()
    assert _differences(url, migrate.first_schema()) == []


def test_a_database_from_before_the_migrations_is_adopted_and_keeps_every_row(url, main_code):
    refs = _fill_with_main(main_code, url)
    before = _rows(url)
    assert sum(len(r) for r in before.values()) > 20

    store = _open(url)
    assert _differences(url, Base.metadata) == []
    assert _rows(url) == before  # every row of every table, value for value
    for ref, sections in refs.items():
        assert store.get(ADMIN, ref)["destinations"] == sections
    assert [h["conversation_id"] for h in store.list_handoffs(ADMIN, section="shoko")] == ["conv-a", "conv-c"]
    shoko = Staff("shoko1", "shoko")
    assert sorted(h["conversation_id"] for h in store.list_handoffs(shoko)) == ["conv-a", "conv-c"]
    assert store.get(Staff("x", "kodomo_katei_soudan"), next(iter(refs)))["notes"][0]["text"] == "note on conv-a"
    assert store.authenticate("sato", PASSWORD) == Staff("sato", "fukushi_somu", True)
    assert store.authenticate("tanaka", PASSWORD) is None  # still disabled
    assert store.danger_signal(next(iter(refs)))["words"] == "消えたい"


def test_down_to_0001_gives_back_the_joined_column_and_base_and_up_again_work(url, main_code):
    refs = _fill_with_main(main_code, url)
    joined = _joined(url)
    assert joined[next(iter(refs))] == ",koreisha_ikiiki,shoko,kodomo_katei_soudan,"
    before = _rows(url)
    migrate.upgrade(url)

    assert migrate.downgrade(url, migrate.FIRST) == (HEAD, migrate.FIRST)
    assert _joined(url) == joined
    assert _rows(url) == before
    assert _differences(url, migrate.first_schema()) == []
    old = main_code.Store(url)  # the code before the migrations reads it as it wrote it
    assert [old.get(main_code.Staff("a", "x", True), ref)["destinations"] for ref in refs] == list(refs.values())
    old.engine.dispose()

    assert migrate.upgrade(url) == (migrate.FIRST, HEAD)  # stamped already: no adoption this time
    assert _rows(url) == before
    assert migrate.downgrade(url, "base") == (HEAD, None)
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    assert migrate.upgrade(url) == (None, HEAD)
    assert _differences(url, Base.metadata) == []
    store = Store(url)
    record = store.create_handoff("conv-new", [], "carer", ["shoko", "fukushi_somu"], False, "")
    assert store.get(ADMIN, record["ref"])["destinations"] == ["shoko", "fukushi_somu"]


def test_a_staff_table_without_the_disabled_column_gets_it(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    with sa.create_engine(url).begin() as c:  # staff_users as the release before accounts could be disabled made it
        c.execute(sa.text("CREATE TABLE staff_users (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL UNIQUE, "
                          "password_hash VARCHAR(255) NOT NULL, section VARCHAR(64) NOT NULL, is_admin BOOLEAN NOT NULL, "
                          "created_at DATETIME NOT NULL)"))
    store = Store(url)
    store.add_user("old1", PASSWORD, "shoko")
    assert store.set_disabled("old1", True) and store.authenticate("old1", PASSWORD) is None
    # The other tables are made as the code of that time made them (this one stays as written above).
    assert set(sa.inspect(store.engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}


def test_postgresql_is_checked_never_changed_by_a_store(postgres, main_code):
    name = f"h_{uuid.uuid4().hex[:12]}"
    postgres.psql(f"CREATE DATABASE {name} OWNER kc_handoff")
    url = postgres.role_url("kc_handoff", name)
    with pytest.raises(SchemaError, match="python -m bot.handoff.migrate"):
        Store(url)
    main_code.Store(url).engine.dispose()  # made before the migrations: still refused
    with pytest.raises(SchemaError, match="none"):
        Store(url)
    migrate.upgrade(url, migrate.FIRST)
    with pytest.raises(SchemaError, match=migrate.FIRST):
        Store(url)
    migrate.upgrade(url)
    assert Store(url).list_handoffs(ADMIN) == []


def test_the_command_and_two_processes_starting_together(tmp_path):
    url = f"sqlite:///{tmp_path}/db/handoff.db"
    command = [sys.executable, "-m", "bot.handoff.migrate", "--url", url]
    together = [subprocess.Popen(command, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in together]
    assert [p.returncode for p in together] == [0, 0], outputs
    # One made the tables; the other waited for it (BEGIN IMMEDIATE), then found nothing to do.
    assert sorted(out for out, _ in outputs) == sorted([f"hand-off database: revision none -> {HEAD} (head: {HEAD})\n",
                                                        f"hand-off database: revision {HEAD} -> {HEAD} (head: {HEAD})\n"])
    assert oct(os.stat(tmp_path / "db" / "handoff.db").st_mode & 0o777) == "0o600"
    assert _differences(url, Base.metadata) == []


def test_a_revision_that_this_code_does_not_know_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/handoff.db"
    migrate.upgrade(url)
    with sa.create_engine(url).begin() as c:  # as if newer code had migrated it further
        c.execute(sa.text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    with pytest.raises(SchemaError, match="0099_from_the_future"):
        Store(url)
