"""A SQL tracker store that waits out a database restart instead of failing open.

Rasa wraps every tracker store in ``FailSafeTrackerStore``: if a read fails, the turn goes
on with an empty conversation, and if a write fails, it is kept in memory only, while the
user already got an answer. After a PostgreSQL restart the pooled connections are dead, so
the first read or write of each fails: acknowledged turns were lost (tests/scale). This
store retries such errors, with backoff, for up to ``TRACKER_RETRY_SECONDS`` (default 30).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any, Awaitable, Callable, Optional

import sqlalchemy.exc
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)
TRANSIENT = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, sqlalchemy.exc.DisconnectionError)


class DurableSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose reads and writes survive a short database outage."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Create the store (arguments as SQLTrackerStore)."""
        super().__init__(*args, **kwargs)
        self.retry_seconds = float(os.environ.get("TRACKER_RETRY_SECONDS", "30"))

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

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """Retrieve a tracker, waiting for the database if it is restarting."""
        return await self._retry("read", lambda: super(DurableSQLTrackerStore, self).retrieve(sender_id))

    async def retrieve_full_tracker(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """Retrieve a tracker with all sessions, waiting for the database if it is restarting."""
        return await self._retry("read", lambda: super(DurableSQLTrackerStore, self).retrieve_full_tracker(sender_id))

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Save a tracker, waiting for the database if it is restarting."""
        await self._retry("write", lambda: super(DurableSQLTrackerStore, self).save(tracker))
