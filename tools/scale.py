"""The production profile on one machine, for `make test-scale`: PostgreSQL and Redis on
loopback in a temporary folder, one action server and two Rasa instances sharing them.

Everything is stopped on exit, also on failure. PostgreSQL runs as the ``postgres``
system user (initdb refuses root), from Debian's packages.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, List

from bot.handoff import migrate
from tools import stack

ENDPOINTS = "deploy/endpoints.scale.yml"


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: make test-scale installs it with apt")
    return found[-1]


def _as_postgres(*cmd: str) -> List[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


ROLES = ("kc_tracker", "kc_handoff", "kc_console", "kc_retention")


@dataclass
class Postgres:
    """A throw-away PostgreSQL server."""

    folder: Path
    port: int = field(default_factory=stack.free_port)

    @property
    def url(self) -> str:
        """Rasa's tracker store, as its own role (it owns the tracker database)."""
        return self.role_url("kc_tracker", "tracker")

    def role_url(self, role: str, db: str) -> str:
        """URL of ``db`` as ``role`` (trust on loopback here; a password and sslmode in production)."""
        return f"postgresql://{role}@127.0.0.1:{self.port}/{db}"

    def psql(self, sql: str, db: str = "postgres") -> None:
        subprocess.run(_as_postgres(_pg_bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", db,
                                    "-v", "ON_ERROR_STOP=1", "-q", "-c", sql), check=True, stdout=subprocess.DEVNULL)

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres(_pg_bin("pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "pg.log"),
                                    "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "-w", *args),
                       check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        subprocess.run(_as_postgres(_pg_bin("initdb"), "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres"),
                       check=True, stdout=subprocess.DEVNULL)
        self.pg_ctl("start")
        # One role per duty (README, threat model): Rasa owns the tracker database, the hand-off
        # store owns its own; the console reads transcripts only; retention may read and delete them.
        for role in ROLES:
            self.psql(f"CREATE ROLE {role} LOGIN")
        self.psql("CREATE DATABASE tracker OWNER kc_tracker")
        self.psql("CREATE DATABASE handoff OWNER kc_handoff")
        for db in ("tracker", "handoff"):
            self.psql(f"REVOKE ALL ON DATABASE {db} FROM PUBLIC")
        self.psql("GRANT CONNECT ON DATABASE tracker TO kc_console, kc_retention")
        self.psql("GRANT USAGE ON SCHEMA public TO kc_console, kc_retention;"
                  "ALTER DEFAULT PRIVILEGES FOR ROLE kc_tracker IN SCHEMA public GRANT SELECT ON TABLES TO kc_console;"
                  "ALTER DEFAULT PRIVILEGES FOR ROLE kc_tracker IN SCHEMA public GRANT SELECT, DELETE ON TABLES TO kc_retention",
                  db="tracker")

    def restart(self) -> None:
        """Stop fast (open connections are cut) and start again."""
        self.pg_ctl("-m", "fast", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            self.pg_ctl("-m", "immediate", "stop")


@contextlib.contextmanager
def redis(folder: Path) -> Iterator[int]:
    """Run a throw-away Redis server; yield its port."""
    port = stack.free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG":
                break
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@dataclass
class Cluster:
    """Two Rasa instances, one action server, PostgreSQL and Redis."""

    a: stack.Stack
    b: stack.Stack
    postgres: Postgres
    env: dict
    web_env: dict


@contextlib.contextmanager
def cluster(model: str = "models") -> Iterator[Cluster]:
    """Start the production profile; stop all of it afterwards."""
    for tool in ("redis-server", "redis-cli", "runuser"):
        if not shutil.which(tool):
            raise RuntimeError(f"{tool} is missing: make test-scale installs Debian's packages")
    folder = Path(tempfile.mkdtemp(prefix="kc-scale-"))
    os.chmod(folder, 0o777)  # the postgres user writes its data and socket here
    with contextlib.suppress(KeyError):
        os.chown(folder, pwd.getpwnam("postgres").pw_uid, -1)
    pg = Postgres(folder)
    try:
        pg.start()
        # As in production: the schema is migrated as its own step, by the role that owns the
        # database, before any process starts (the processes only check that it is at head).
        migrate.upgrade(pg.role_url("kc_handoff", "handoff"))
        with redis(folder) as redis_port:
            env = {"TRACKER_DB_URL": pg.url, "HANDOFF_DB_URL": pg.role_url("kc_handoff", "handoff"), "REDIS_HOST": "127.0.0.1",
                   "REDIS_PORT": str(redis_port), "REDIS_DB": "1", "ACTION_SERVER_TOKEN": secrets.token_hex(32)}
            with stack.running(pg.url, model=model, endpoints=ENDPOINTS, extra_env=env) as a:
                with stack.running(pg.url, model=model, endpoints=ENDPOINTS, extra_env=env, actions_url=a.actions_url) as b:
                    # What the web app uses: the console reads, retention deletes, neither writes.
                    web_env = {"HANDOFF_DB_URL": env["HANDOFF_DB_URL"],
                               "TRACKER_READ_DB_URL": pg.role_url("kc_console", "tracker"),
                               "TRACKER_DB_URL": pg.role_url("kc_retention", "tracker")}
                    yield Cluster(a=a, b=b, postgres=pg, env=env, web_env=web_env)
    finally:
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)
