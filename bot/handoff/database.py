"""The connection to the hand-off database, checked against the migrations, and the audit log.

Every part of the store (cases, danger marks, accounts, retention) is a ``Database``: one engine,
one session factory, and ``audit`` to record who did what.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from bot.handoff import migrate
from bot.handoff.models import Audit, Staff
from bot.production import private_sqlite
from bot.settings import load


class Database:
    """An engine on the hand-off database at the newest revision of the schema."""

    def __init__(self, url: Optional[str] = None) -> None:
        """Open the database at ``url`` (default: the setting HANDOFF_DB_URL).

        SQLite (one machine: development, tests) is upgraded here if it is behind. Any other
        database must already be at the newest revision: production migrates as its own step, as
        the database's owner (``python -m bot.handoff.migrate``), before the processes start.

        Raises:
            migrate.SchemaError: a PostgreSQL database that is not at the newest revision.
        """
        url = url or load().handoff_db_url
        private_sqlite(url)  # folder 0700, file 0600: contacts and notes are personal data
        kwargs: Dict[str, Any] = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
        self.engine = sa.create_engine(url, **kwargs)
        migrate.ensure(self.engine)
        self.session = sessionmaker(bind=self.engine, expire_on_commit=False)

    def audit(self, staff: Staff, action: str, ref: Optional[str] = None, detail: str = "") -> bool:
        """Record who did what."""
        with self.session() as s:
            s.add(Audit(username=staff.username, action=action, ref=ref, detail=detail))
            s.commit()
        return True

    def audit_log(self, limit: int = 500) -> List[Dict[str, Any]]:
        """Return the latest audit entries."""
        with self.session() as s:
            return [
                {"at": a.at, "username": a.username, "action": a.action, "ref": a.ref, "detail": a.detail}
                for a in s.query(Audit).order_by(Audit.id.desc()).limit(limit)
            ]
