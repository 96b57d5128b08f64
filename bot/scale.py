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

from bot import stack

ENDPOINTS = "deploy/endpoints.scale.yml"


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: make test-scale installs it with apt")
    return found[-1]


def _as_postgres(*cmd: str) -> List[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else list(cmd)


@dataclass
class Postgres:
    """A throw-away PostgreSQL server."""

    folder: Path
    port: int = field(default_factory=stack.free_port)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/rasa"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(_as_postgres(_pg_bin("pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "pg.log"),
                                    "-o", f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "-w", *args),
                       check=True, stdout=subprocess.DEVNULL)

    def start(self) -> None:
        subprocess.run(_as_postgres(_pg_bin("initdb"), "-D", str(self.folder / "data"), "-A", "trust", "-U", "postgres"),
                       check=True, stdout=subprocess.DEVNULL)
        self.pg_ctl("start")
        subprocess.run(_as_postgres(_pg_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "rasa"),
                       check=True)

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
        with redis(folder) as redis_port:
            env = {"TRACKER_DB_URL": pg.url, "HANDOFF_DB_URL": pg.url, "REDIS_HOST": "127.0.0.1",
                   "REDIS_PORT": str(redis_port), "REDIS_DB": "1", "ACTION_SERVER_TOKEN": secrets.token_hex(32)}
            with stack.running(pg.url, model=model, endpoints=ENDPOINTS, extra_env=env) as a:
                with stack.running(pg.url, model=model, endpoints=ENDPOINTS, extra_env=env, actions_url=a.actions_url) as b:
                    yield Cluster(a=a, b=b, postgres=pg, env=env)
    finally:
        pg.stop()
        shutil.rmtree(folder, ignore_errors=True)
