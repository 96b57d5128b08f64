"""Read a conversation's transcript from Rasa's SQL tracker store (read-only)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any, Callable, Dict, List, Optional

import sqlalchemy as sa

from bot.catalog import JST
from bot.settings import load


def jst_month(timestamp: float) -> str:
    """The month ("YYYY-MM") of a time in Japan, as the plan's figures count (not UTC's)."""
    return dt.datetime.fromtimestamp(timestamp, JST).strftime("%Y-%m")


def live_key(conversation_id: str) -> str:
    """The console's name of a conversation (its URL, the audit log): a hash of the widget's id, which
    is the person's key to their chat and is never shown to staff."""
    return hashlib.sha256(("live:" + conversation_id).encode("utf-8")).hexdigest()[:24]


def _turn(type_name: str, timestamp: Optional[float], data: Optional[str]) -> Dict[str, Any]:
    """One user or bot event as the console shows it: who wrote it (the person, the bot, a member of
    staff of a section, or the system's notice), the text and the time."""
    event = json.loads(data or "{}")
    text = event.get("text") or ""
    if type_name == "user" and text.startswith("/"):
        text = {"/affirm": "はい", "/deny": "いいえ"}.get(text, text)  # a button
    live = (event.get("metadata") or {}).get("live") if type_name == "bot" else None
    who = {"staff": "staff", "notice": "notice"}.get(live or "", type_name)
    meta = event.get("metadata") or {}
    return {"who": who, "text": text, "at": dt.datetime.utcfromtimestamp(timestamp) if timestamp else None,
            "section": meta.get("section", "") if live else "", "author": meta.get("username", "") if live else ""}


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
        return [_turn(type_name, timestamp, data) for type_name, timestamp, data in rows]

    def turns_after(self, conversation_id: str, after: int = 0) -> List[Dict[str, Any]]:
        """The turns after the event ``after`` (its id in the tracker store), each with its ``id``: the
        order every Rasa instance wrote them in, so that a reader that keeps the last id misses none and
        sees none twice."""
        query = sa.text(
            "SELECT id, type_name, timestamp, data FROM events WHERE sender_id = :sid AND id > :after "
            "AND type_name IN ('user', 'bot') ORDER BY id"
        )
        try:
            with self.engine.connect() as c:
                rows = c.execute(query, {"sid": conversation_id, "after": after}).fetchall()
        except sa.exc.OperationalError:
            return []
        return [{"id": i, **_turn(type_name, timestamp, data)} for i, type_name, timestamp, data in rows]

    def active_since(self, since: float) -> Dict[str, float]:
        """{conversation id: time of its last event} of the conversations with an event after ``since``."""
        query = sa.text("SELECT sender_id, MAX(timestamp) FROM events WHERE timestamp > :t GROUP BY sender_id")
        try:
            with self.engine.connect() as c:
                return {sid: last for sid, last in c.execute(query, {"t": since}).fetchall()}
        except sa.exc.OperationalError:
            return {}

    def live_state(self, conversation_id: str) -> Dict[str, Any]:
        """What the live list shows of a conversation: its last slots (crisis, carer types, the hand-off's
        reference, who holds it) and its last user message with the time it was written."""
        query = sa.text("SELECT type_name, timestamp, data FROM events WHERE sender_id = :sid "
                        "AND type_name IN ('user', 'bot', 'slot') ORDER BY id")
        state: Dict[str, Any] = {"crisis": False, "carer_types": [], "handoff_ref": "", "staff": "", "speech_style": "",
                                 "last_user": "", "last_user_at": None, "last_bot_at": None}
        try:
            with self.engine.connect() as c:
                rows = c.execute(query, {"sid": conversation_id}).fetchall()
        except sa.exc.OperationalError:
            return state
        for type_name, timestamp, data in rows:
            event = json.loads(data or "{}")
            if type_name == "slot" and event.get("name") in ("crisis", "carer_types", "handoff_ref", "staff", "speech_style"):
                state[event["name"]] = event.get("value") or state[event["name"]].__class__()
            elif type_name == "user":
                state["last_user"], state["last_user_at"] = _turn(type_name, timestamp, data)["text"], timestamp
            elif type_name == "bot":
                state["last_bot_at"] = timestamp
        return state

    def conversations_by_month(self) -> Dict[str, int]:
        """Return the number of conversations that started in each month (in Japan)."""
        query = sa.text("SELECT sender_id, MIN(timestamp) FROM events GROUP BY sender_id")
        try:
            with self.engine.connect() as c:
                rows = c.execute(query).fetchall()
        except sa.exc.OperationalError:
            return {}
        counts: Dict[str, int] = dict(self.archived() if self.archived else {})  # deleted by retention
        for _, first in rows:
            if first:
                month = jst_month(first)
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
