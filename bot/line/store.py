"""The LINE adapter's own database (SQLite, one file, owner-only): what it must remember between requests.

- ``events``: every webhook event id it has accepted, so that a redelivered event is processed once.
  While an event waits to be processed its payload (the person's words and LINE id) is kept, encrypted;
  it is emptied when the event is done, and the id itself is forgotten after a week.
- ``people``: for each conversation, the person's LINE user id, encrypted (AES-GCM, a key derived from
  LINE_ID_KEY), because a staff message or a long answer must be pushed to it; deleted when they
  unfollow or block the account, and after the conversations' retention period.
- ``cursor``: the last staff message or notice pushed to that conversation.

The LINE user id is never stored in clear, never sent to the web app, never logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import threading
import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

EVENT_DAYS = 7  # how long an event id is kept to recognise a redelivery

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  event_id TEXT PRIMARY KEY, conversation TEXT NOT NULL, received_at REAL NOT NULL,
  done_at REAL, payload BLOB);
CREATE TABLE IF NOT EXISTS people (
  conversation TEXT PRIMARY KEY, user_id BLOB NOT NULL, last_at REAL NOT NULL, cursor INTEGER NOT NULL DEFAULT 0);
"""


class LineStore:
    """The events seen, and the encrypted LINE ids of the people the adapter may write to."""

    def __init__(self, path: str, id_key: str) -> None:
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, mode=0o700, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(path, 0o600)
        # A key of its own, derived from LINE_ID_KEY: the conversation ids' hash key is never a cipher key.
        self._aead = AESGCM(hmac.new(id_key.encode("utf-8"), b"kamakura line store v1", hashlib.sha256).digest())
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)

    # --- encryption -----------------------------------------------------------------------------

    def _seal(self, conversation: str, value: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, value, conversation.encode("utf-8"))

    def _open(self, conversation: str, sealed: bytes) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], conversation.encode("utf-8"))

    def _run(self, sql: str, args: Tuple = ()) -> sqlite3.Cursor:
        with self._lock:
            return self._db.execute(sql, args)

    # --- events ---------------------------------------------------------------------------------

    def claim(self, event_id: str, conversation: str, payload: Dict[str, Any], now: Optional[float] = None) -> bool:
        """Remember an event before it is processed; False if it was seen before (a redelivery)."""
        sealed = self._seal(conversation, json.dumps(payload, ensure_ascii=False).encode("utf-8"))
        cur = self._run("INSERT OR IGNORE INTO events (event_id, conversation, received_at, payload) VALUES (?, ?, ?, ?)",
                        (event_id, conversation, now or time.time(), sealed))
        return cur.rowcount == 1

    def done(self, event_id: str) -> None:
        """The event was processed: keep its id (redeliveries), forget what it held."""
        self._run("UPDATE events SET done_at = ?, payload = NULL WHERE event_id = ?", (time.time(), event_id))

    def pending(self) -> List[Tuple[str, str, Dict[str, Any]]]:
        """Events accepted but not processed (the adapter stopped in between), oldest first."""
        rows = self._run("SELECT event_id, conversation, payload FROM events WHERE done_at IS NULL ORDER BY received_at").fetchall()
        return [(e, c, json.loads(self._open(c, p))) for e, c, p in rows]

    # --- people ---------------------------------------------------------------------------------

    def remember(self, conversation: str, user_id: str) -> None:
        """Keep the person's LINE id (encrypted) to push to them; refresh when they last wrote."""
        sealed = self._seal(conversation, user_id.encode("utf-8"))
        self._run("INSERT INTO people (conversation, user_id, last_at) VALUES (?, ?, ?) "
                  "ON CONFLICT(conversation) DO UPDATE SET user_id = excluded.user_id, last_at = excluded.last_at",
                  (conversation, sealed, time.time()))

    def user_id(self, conversation: str) -> Optional[str]:
        row = self._run("SELECT user_id FROM people WHERE conversation = ?", (conversation,)).fetchone()
        return self._open(conversation, row[0]).decode("utf-8") if row else None

    def forget(self, conversation: str) -> None:
        """They unfollowed or blocked the account: nothing more is sent, their id is deleted."""
        self._run("DELETE FROM people WHERE conversation = ?", (conversation,))
        self._run("UPDATE events SET payload = NULL, done_at = COALESCE(done_at, ?) WHERE conversation = ?", (time.time(), conversation))

    def cursor(self, conversation: str) -> int:
        row = self._run("SELECT cursor FROM people WHERE conversation = ?", (conversation,)).fetchone()
        return int(row[0]) if row else 0

    def set_cursor(self, conversation: str, cursor: int) -> None:
        self._run("UPDATE people SET cursor = MAX(cursor, ?) WHERE conversation = ?", (cursor, conversation))

    # --- retention ------------------------------------------------------------------------------

    def purge(self, people_days: float, now: Optional[float] = None, keep: Iterable[str] = ()) -> Tuple[int, int]:
        """Delete the LINE ids of people silent for ``people_days`` (but those in ``keep``: subscribed to
        notices) and event ids older than a week."""
        now = now or time.time()
        keep = set(keep)
        old = [c for (c,) in self._run("SELECT conversation FROM people WHERE last_at < ?", (now - people_days * 86400,)).fetchall()]
        people = 0
        for conversation in old:
            if conversation not in keep:
                people += self._run("DELETE FROM people WHERE conversation = ?", (conversation,)).rowcount
        events = self._run("DELETE FROM events WHERE done_at IS NOT NULL AND received_at < ?", (now - EVENT_DAYS * 86400,)).rowcount
        return people, events

    def close(self) -> None:
        with self._lock:
            self._db.close()
