"""Start-up checks shared by the three services: private files, and secrets in production.

``KAMAKURA_PROFILE=production`` (set by the production profile, ``deploy/scale.env.example``)
makes every service refuse to start with a missing, short or placeholder secret, with a
message that says which one; in development a missing token is drawn at random per run.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from typing import Iterable, List, Optional
from urllib.parse import urlsplit

from bot.settings import Settings, load

MIN_SECRET_BYTES = 32
_PLACEHOLDER = re.compile(r"change.?me|placeholder|secret|password|example|dummy|test|xxx|todo|^(.)\1*$", re.I)


def _value(settings: Settings, name: str) -> str:
    return str(getattr(settings, name.lower()))


def secret_problems(names: Iterable[str], settings: Optional[Settings] = None) -> List[str]:
    """Return one line for each secret that is missing, shorter than 32 bytes or a placeholder."""
    settings = settings or load()
    problems = []
    for name in names:
        value = _value(settings, name)
        if not value:
            problems.append(f"{name} is not set")
        elif len(value.encode("utf-8")) < MIN_SECRET_BYTES:
            problems.append(f"{name} is shorter than {MIN_SECRET_BYTES} bytes")
        elif _PLACEHOLDER.search(value):
            problems.append(f"{name} looks like a placeholder (e.g. CHANGE_ME): draw one with `openssl rand -hex 32`")
    return problems


def password_problems(url_names: Iterable[str], settings: Optional[Settings] = None) -> List[str]:
    """Return one line for each database URL whose password is a placeholder or short.

    A URL without a password (peer or certificate authentication over a socket) is fine.
    """
    settings = settings or load()
    problems = []
    for name in url_names:
        password = urlsplit(_value(settings, name)).password
        if password is not None and (len(password) < 16 or _PLACEHOLDER.search(password)):
            problems.append(f"{name} has a short or placeholder password")
    return problems


def start(service: str, secrets: Iterable[str], database_urls: Iterable[str] = (), settings: Optional[Settings] = None) -> Settings:
    """Make new files private (owner only); read the settings (exit with a message if one is wrong);
    in production, exit with a message on a weak secret. Return the settings for the service."""
    os.umask(0o077)  # databases, their journals and logs: readable by their owner only
    try:
        settings = settings or load()
    except ValueError as e:
        print(f"{service}: refusing to start: {e}", file=sys.stderr)
        sys.exit(2)
    if not settings.production:
        return settings
    problems = secret_problems(secrets, settings) + password_problems(database_urls, settings)
    if problems:
        print(f"{service}: refusing to start in the production profile:\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(2)
    return settings


def private_sqlite(url: str) -> None:
    """For a SQLite URL, make its folder (0700) and file (0600) readable by their owner only.

    Earlier versions created both readable by every local user; this also corrects them.
    Other databases (PostgreSQL) keep their own access rules: see the README's threat model.
    """
    if not url.startswith("sqlite:///") or url in ("sqlite://", "sqlite:///:memory:"):
        return
    path = os.path.abspath(url[len("sqlite:///"):].split("?")[0])
    folder = os.path.dirname(path)
    os.makedirs(folder, mode=0o700, exist_ok=True)
    info = os.stat(folder)
    # A folder of our own is closed to others; a shared one (/tmp: sticky), the project folder
    # or / are left as they are, and only the file is made private.
    if folder not in (os.getcwd(), "/") and not info.st_mode & stat.S_ISVTX and info.st_uid == os.geteuid():
        os.chmod(folder, 0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)
    for suffix in ("-journal", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.chmod(path + suffix, 0o600)
