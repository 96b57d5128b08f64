"""A SQL tracker store that waits out a database restart instead of failing open.

Rasa wraps every tracker store in ``FailSafeTrackerStore``: if a read fails, the turn goes
on with an empty conversation, and if a write fails, it is kept in memory only, while the
user already got an answer. After a PostgreSQL restart the pooled connections are dead, so
the first read or write of each fails: acknowledged turns were lost (tests/scale). This
store retries such errors, with backoff, for up to ``TRACKER_RETRY_SECONDS`` (default 30).

It also keeps the trackers it last saved (``TRACKER_CACHE_SIZE`` conversations, default
256). Rebuilding a tracker from SQL replays every event of the session: it took a fifth of
the Rasa server's CPU and grew with the conversation. A read first asks the database for
the count and the last id of the session's events (the query Rasa uses to decide what to
write); only if they still match what this process saved, and the tracker was not changed
since, is the kept tracker returned. Another instance's write (production profile), a
failed turn or a new session all change the answer, and the tracker is read from SQL.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import logging
import time
from typing import Any, Awaitable, Callable, Optional, Tuple

import sqlalchemy as sa
import sqlalchemy.exc
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.production import private_sqlite
from bot.settings import load

logger = logging.getLogger(__name__)
TRANSIENT = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.DisconnectionError)


def _sqlite_wal(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.close()


class DurableSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose reads and writes survive a short database outage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the store (arguments as SQLTrackerStore)."""
        settings = load()
        url = str(kwargs.get("host") or settings.tracker_db_url)
        if "://" in url:
            private_sqlite(url)  # what people wrote: readable by the owner only
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._keep_sqlite_open()
        self.retry_seconds = settings.tracker_retry_seconds
        self.cache_size = settings.tracker_cache_size
        # sender_id -> (tracker, its session's row count when saved, the last row id once read)
        self._kept: collections.OrderedDict[str, Tuple[DialogueStateTracker, int, Optional[int]]] = collections.OrderedDict()
        self._rows = self._rows_statement()

    def _keep_sqlite_open(self) -> None:
        """One SQLite connection kept open, in write-ahead-log mode, instead of Rasa's new connection
        per query (NullPool): opening the file and reading its schema twice a turn, and a rollback
        journal written, synced and deleted at every commit. ``synchronous=FULL``: a committed turn is
        on disk (the WAL is synced at each commit), as before. Every query runs in the event loop's thread."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=sa.pool.SingletonThreadPool)
        sa.event.listen(self.engine, "connect", _sqlite_wal)
        self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def _retry(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        deadline, delay = time.monotonic() + self.retry_seconds, 0.2
        while True:
            try:
                return await call()
            except TRANSIENT as e:
                if time.monotonic() >= deadline:
                    raise
                logger.warning(f"tracker store {what} failed ({type(e).__name__}); retrying in {delay:.1f} s")
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _rows_statement(self) -> Any:
        """count(id), max(id) of the events of a sender's latest session: Rasa's own selection
        (``_event_query``: from the latest SessionStarted's timestamp on, or all), built once as a
        Core statement. Through the ORM it was rebuilt and compiled on every call, twice a turn."""
        events = self.SQLEvent.__table__
        sender = sa.bindparam("sender_id")
        start = (sa.select(sa.func.max(events.c.timestamp))
                 .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name)
                 .scalar_subquery())
        return (sa.select(sa.func.count(events.c.id), sa.func.max(events.c.id))
                .where(events.c.sender_id == sender, sa.or_(events.c.timestamp >= start, start.is_(None))))

    def _session_rows(self, connection: Any, sender_id: str) -> Tuple[int, int]:
        """Count and last id of the stored events of the sender's latest session."""
        count, last = connection.execute(self._rows, {"sender_id": sender_id}).one()
        return int(count), int(last or 0)

    async def _rows_now(self, sender_id: str) -> Tuple[int, int]:
        with self.engine.connect() as connection:
            return self._session_rows(connection, sender_id)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """Retrieve a tracker, waiting for the database if it is restarting."""
        kept = self._kept.pop(sender_id, None)
        if kept is not None:
            tracker, count, last_id = kept
            if len(tracker.events) == count:  # not changed since it was saved
                rows = await self._retry("read", lambda: self._rows_now(sender_id))
                if rows[0] == count and last_id in (None, rows[1]):
                    self._kept[sender_id] = (tracker, count, rows[1])
                    return tracker
        return await self._retry("read", lambda: super(DurableSQLTrackerStore, self).retrieve(sender_id))

    async def retrieve_full_tracker(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """Retrieve a tracker with all sessions, waiting for the database if it is restarting."""
        return await self._retry("read", lambda: super(DurableSQLTrackerStore, self).retrieve_full_tracker(sender_id))

    async def _write(self, tracker: DialogueStateTracker) -> int:
        """Rasa's ``save``: in one transaction, the events after the session's stored ones, as the same
        rows (one multi-row insert instead of an ORM object each); return how many were stored before."""
        table = self.SQLEvent.__table__
        with self.engine.begin() as connection:
            stored, _ = self._session_rows(connection, tracker.sender_id)
            rows = []
            for event in itertools.islice(tracker.events, stored, None):
                data = event.as_dict()
                rows.append({"sender_id": tracker.sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
                             "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                             "action_name": data.get("name"), "data": json.dumps(data)})
            if rows:
                connection.execute(table.insert(), rows)
        return stored

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save a tracker, waiting for the database if it is restarting."""
        sender_id = tracker.sender_id
        self._kept.pop(sender_id, None)
        await self.stream_events(tracker)
        stored = await self._retry("write", lambda: self._write(tracker))
        if self.cache_size <= 0 or stored > len(tracker.events):
            return
        if any(isinstance(e, SessionStarted) for e in itertools.islice(tracker.events, stored, None)):
            return  # a new session: a read now starts there, not where this tracker starts
        # The session's rows are now exactly this tracker's events: keep it (its last id is pinned at the next read).
        self._kept[sender_id] = (tracker, len(tracker.events), None)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)
