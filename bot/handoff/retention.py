"""Personal data kept only as long as it must be: one run over every store that holds it.

What goes, and when (each a setting; the README says why these defaults):

* a hand-off, its notes, its contact and its audit entries: ``HANDOFF_RETENTION_DAYS``
  (default 365) after it was made, and with it every stored event of its conversation;
* a conversation without a hand-off (also of everyone who said 「いいえ」): all its events,
  ``CONVERSATION_RETENTION_DAYS`` (default 30) after its last message; it is still counted
  in the monthly consultations of the outcomes page;
* the widget relay's kept answers: ``DELIVERY_RETENTION_HOURS`` (default 24) after the turn;
* failed-login records once the lockout window is over; the audit log after the hand-off
  period (it keeps ids and actions, never the text of notes).

``python -m bot.handoff.staff retention`` runs it once; the web app runs it once a day by itself
(``schedule``), and the console shows when it last ran.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any, Dict, Optional

from bot.handoff.store import Store, now
from bot.handoff.transcripts import Transcripts, jst_month
from bot.settings import Settings, load

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periods:
    """How long each kind of record is kept."""

    handoff_days: int = 365
    conversation_days: int = 30
    delivery_hours: int = 24
    login_seconds: int = 15 * 60

    @classmethod
    def from_settings(cls, settings: Optional[Settings] = None) -> Periods:
        """The periods that ``settings`` (default: the process's) give; refuse a period under one unit.

        Raises:
            ValueError: a period is 0 (the settings allow it; deleting everything at once is not meant).
        """
        settings = settings or load()
        p = cls(
            handoff_days=settings.handoff_retention_days,
            conversation_days=settings.conversation_retention_days,
            delivery_hours=settings.delivery_retention_hours,
            login_seconds=settings.staff_lockout_seconds,
        )
        if min(p.handoff_days, p.conversation_days, p.delivery_hours, p.login_seconds) < 1:
            raise ValueError("every retention period must be at least 1")
        return p


def run(store: Store, transcripts: Transcripts, periods: Optional[Periods] = None) -> Dict[str, Any]:
    """Delete everything past its period, once; return the counts (no personal data)."""
    periods = periods or Periods.from_settings()
    summary = store.purge(periods.handoff_days, periods.delivery_hours, periods.login_seconds)
    deleted_cases = summary.pop("conversations")
    store.forget_live(list(deleted_cases))
    events = transcripts.delete(deleted_cases)
    # Conversations with no hand-off left: counted per month of their start, then deleted.
    idle = transcripts.idle_conversations(now() - dt.timedelta(days=periods.conversation_days))
    kept = store.handoff_conversations()
    gone = {sid: first for sid, first in idle.items() if sid not in kept}
    store.archive_counts(Counter(jst_month(first) for first in gone.values() if first))
    store.forget_live(list(gone))  # holds, sent ids and crisis notices of the conversations deleted
    events += transcripts.delete(list(gone))
    # An e-mail address whose confirmation link was never opened (issue 17): deleted after a week.
    summary.update(conversations=len(gone), events=events, unconfirmed_addresses=store.forget_unconfirmed())
    store.record_retention(summary)
    logger.info("retention: %s", summary)  # counts only
    return summary


def schedule(app: Any, store: Store, transcripts: Transcripts, every_seconds: Optional[float] = None,
             settings: Optional[Settings] = None) -> None:
    """Run retention in the web app soon after start, then every ``every_seconds``.

    The interval (default RETENTION_INTERVAL_SECONDS: once a day) and the periods come from the
    app's ``settings`` (default: the process's), read here, at start: a period of 0 stops the app
    now, not at its first run a day later.
    """
    settings = settings or load()
    every = settings.retention_interval_seconds if every_seconds is None else every_seconds
    periods = Periods.from_settings(settings)

    async def loop() -> None:
        await asyncio.sleep(min(60.0, every))  # let the app start serving first
        while True:
            try:
                await asyncio.get_running_loop().run_in_executor(None, run, store, transcripts, periods)
            except Exception as e:  # noqa: BLE001 - a failed run is retried tomorrow, the app goes on
                logger.error("retention failed: %s", type(e).__name__)
            await asyncio.sleep(every)

    @app.after_server_start
    async def start_retention(app_: Any, _loop: Any) -> None:
        app_.add_task(loop())
