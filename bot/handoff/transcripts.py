"""Read a conversation's transcript from Rasa's SQL tracker store (read-only)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable, Dict, List, Optional

import sqlalchemy as sa

from bot.settings import load


class Transcripts:
    """User and bot turns of a conversation, with their times."""

    def __init__(self, url: str = "", archived: Optional[Callable[[], Dict[str, int]]] = None) -> None:
        """Read the tracker store at ``url`` (default: the setting TRACKER_DB_URL).

        ``archived`` gives the monthly counts of conversations that retention deleted.
        """
        self.engine = sa.create_engine(url or load().tracker_db_url, pool_pre_ping=True)
        self.archived = archived

    def turns(self, conversation_id: str) -> List[Dict[str, Any]]:
        """Return the turns in order: {"who": "user"|"bot", "text", "at"}."""
        query = sa.text(
            "SELECT type_name, timestamp, data FROM events WHERE sender_id = :sid "
            "AND type_name IN ('user', 'bot') ORDER BY id"
        )
        try:
            with self.engine.connect() as c:
                rows = c.execute(query, {"sid": conversation_id}).fetchall()
        except sa.exc.OperationalError:  # no tracker store yet
            return []
        turns = []
        for type_name, timestamp, data in rows:
            event = json.loads(data or "{}")
            text = event.get("text") or ""
            if type_name == "user" and text.startswith("/"):
                text = {"/affirm": "はい", "/deny": "いいえ"}.get(text, text)  # a button
            turns.append(
                {
                    "who": type_name,
                    "text": text,
                    "at": dt.datetime.utcfromtimestamp(timestamp) if timestamp else None,
                }
            )
        return turns

    def conversations_by_month(self) -> Dict[str, int]:
        """Return the number of conversations that started in each month (UTC)."""
        query = sa.text("SELECT sender_id, MIN(timestamp) FROM events GROUP BY sender_id")
        try:
            with self.engine.connect() as c:
                rows = c.execute(query).fetchall()
        except sa.exc.OperationalError:
            return {}
        counts: Dict[str, int] = dict(self.archived() if self.archived else {})  # deleted by retention
        for _, first in rows:
            if first:
                month = dt.datetime.utcfromtimestamp(first).strftime("%Y-%m")
                counts[month] = counts.get(month, 0) + 1
        return counts

    def idle_conversations(self, before: dt.datetime) -> Dict[str, float]:
        """Return {conversation id: time of its first event} for conversations silent since ``before``."""
        query = sa.text("SELECT sender_id, MIN(timestamp) FROM events GROUP BY sender_id HAVING MAX(timestamp) < :t")
        try:
            with self.engine.connect() as c:
                return {sid: first or 0.0 for sid, first in c.execute(query, {"t": before.timestamp()}).fetchall()}
        except sa.exc.OperationalError:  # no tracker store yet
            return {}

    def delete(self, conversation_ids: List[str]) -> int:
        """Delete every event of these conversations; return how many events went."""
        n = 0
        try:
            with self.engine.begin() as c:
                for sid in conversation_ids:
                    n += c.execute(sa.text("DELETE FROM events WHERE sender_id = :sid"), {"sid": sid}).rowcount or 0
        except sa.exc.OperationalError:  # no tracker store yet
            return 0
        return n
