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
import logging
import time
from typing import Any, Awaitable, Callable, Dict, Iterator, Optional, Tuple

import sqlalchemy as sa
import sqlalchemy.exc
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker

from bot.production import private_sqlite
from bot.settings import load

logger = logging.getLogger(__name__)
TRANSIENT = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.DisconnectionError)


class DurableSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose reads and writes survive a short database outage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the store (arguments as SQLTrackerStore)."""
        settings = load()
        url = str(kwargs.get("host") or settings.tracker_db_url)
        if "://" in url:
            private_sqlite(url)  # what people wrote: readable by the owner only
        super().__init__(*args, **kwargs)
        self.retry_seconds = settings.tracker_retry_seconds
        self.cache_size = settings.tracker_cache_size
        # sender_id -> (tracker, its session's row count when saved, the last row id once read)
        self._kept: collections.OrderedDict[str, Tuple[DialogueStateTracker, int, Optional[int]]] = collections.OrderedDict()
        self._stored_before: Dict[str, int] = {}

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

    def _session_rows(self, sender_id: str) -> Tuple[int, int]:
        """Count and last id of the stored events of the sender's latest session."""
        with self.session_scope() as session:
            query = self._event_query(session, sender_id, fetch_events_from_all_sessions=False)
            count, last = query.order_by(None).with_entities(sa.func.count(self.SQLEvent.id),
                                                             sa.func.max(self.SQLEvent.id)).one()
            return int(count), int(last or 0)

    async def _rows_now(self, sender_id: str) -> Tuple[int, int]:
        return self._session_rows(sender_id)

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

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """Rasa's: the events not stored yet (those after the stored session's count); the count is kept."""
        stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
        self._stored_before[tracker.sender_id] = stored
        return itertools.islice(tracker.events, stored, len(tracker.events))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save a tracker, waiting for the database if it is restarting."""
        sender_id = tracker.sender_id
        self._kept.pop(sender_id, None)
        self._stored_before.pop(sender_id, None)
        await self._retry("write", lambda: super(DurableSQLTrackerStore, self).save(tracker))
        stored = self._stored_before.pop(sender_id, None)
        if self.cache_size <= 0 or stored is None or stored > len(tracker.events):
            return
        if any(isinstance(e, SessionStarted) for e in itertools.islice(tracker.events, stored, None)):
            return  # a new session: a read now starts there, not where this tracker starts
        # The session's rows are now exactly this tracker's events: keep it (its last id is pinned at the next read).
        self._kept[sender_id] = (tracker, len(tracker.events), None)
        while len(self._kept) > self.cache_size:
            self._kept.popitem(last=False)
