"""The live conversations' engine (issue 15): what is live now, the holds, Rasa's tracker API.

`LiveHub` runs in every web process (started by create_app): it refreshes the holds from the shared
hand-off database, computes the live list for the open consoles, tells staff of new crises (and a
duty address by e-mail, without personal content), and hands a conversation back to the bot when
the staff page holding it went silent. `RasaEvents` appends events to a tracker through Rasa's HTTP
API, under Rasa's lock, so that the order every Rasa instance sees is the order they were written.
The pages and routes are in bot.web.live.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp

from bot import catalog, channels
from bot.handoff.live import Hold
from bot.handoff.models import Staff
from bot.handoff.store import Store
from bot.handoff.transcripts import Transcripts, live_key
from bot.settings import Settings
from bot.web.console import CARER_LABELS, destination_name, jst

logger = logging.getLogger(__name__)

WAIT = 20.0  # seconds a widget's request for updates waits for something new
TICK = 0.25  # how often a waiting request looks again, and the hub refreshes the holds
LIST_EVERY = 2.0  # how often the live list is computed (once per web process, for every open console)
IDLE = 2.0  # how often the hub looks when nothing is live and nobody looks
LINGER = 600.0  # seconds a handed-back conversation is still watched, for its last notice
MAX_STAFF_TEXT = 2000
CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SENDER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type"}
# The system's own name in the audit log (a hold that lapsed when the staff page went silent).
SYSTEM = "（自動）"
# Server-sent events: not cached, not buffered by nginx.
SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}


class RasaEvents:
    """Append events to a conversation's tracker through Rasa's HTTP API (under Rasa's lock)."""

    def __init__(self, rasa_url: str, token: str) -> None:
        self.rasa_url, self.token = rasa_url.rstrip("/"), token
        self.http: Optional[aiohttp.ClientSession] = None

    async def append(self, conversation_id: str, events: List[Dict[str, Any]]) -> None:
        """Append the events, in order; raise ConnectionError if Rasa did not take them."""
        if self.http is None:
            self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15))
        url = f"{self.rasa_url}/conversations/{quote(conversation_id, safe='')}/tracker/events"
        async with self.http.post(url, params={"include_events": "NONE", "token": self.token}, json=events) as r:
            if r.status != 200:
                raise ConnectionError(f"rasa answered {r.status}")


def bot_event(text: str, live: str, section: str = "", username: str = "") -> Dict[str, Any]:
    """A bot event that the widget shows as a staff message ("staff") or as a notice ("notice")."""
    metadata = {"live": live, "section": section}
    if username:
        metadata["username"] = username
    return {"event": "bot", "text": text, "timestamp": time.time(), "metadata": metadata}


def user_event(text: str) -> Dict[str, Any]:
    """A message the person typed while staff hold the conversation: stored, not read by the bot."""
    return {"event": "user", "text": text, "timestamp": time.time(), "input_channel": "rest",
            "parse_data": {"text": text, "intent": {"name": "share_situation", "confidence": 1.0}, "entities": []},
            "metadata": {"live": "held"}}


def slot_event(section: str) -> Dict[str, Any]:
    return {"event": "slot", "name": "staff", "value": section, "timestamp": time.time()}


def held_by(hold: Optional[Hold]) -> str:
    """Who holds a conversation, as staff read it: 「こども家庭相談課・kodomo1」, or "" (the bot answers)."""
    return f"{destination_name(hold.section)}・{hold.username}" if hold else ""


@dataclass
class LiveConversation:
    """One conversation of the live list."""

    conversation_id: str
    key: str
    last_at: float
    state: Dict[str, Any]
    handoff: Optional[Dict[str, Any]]
    hold: Optional[Hold]

    @property
    def sections(self) -> List[str]:
        return list((self.handoff or {}).get("destinations") or [])

    def visible_to(self, staff: Staff) -> bool:
        """Handed to the staff's section; or any hand-off or danger sign for admins and the coordinating section."""
        if staff.sees_all:
            return bool(self.handoff) or bool(self.state.get("crisis"))
        return staff.section in self.sections

    def as_json(self, now: float) -> Dict[str, Any]:
        state = self.state
        waiting = state.get("last_user_at") and (not state.get("last_bot_at") or state["last_bot_at"] < state["last_user_at"])
        return {
            "key": self.key,
            "ref": (self.handoff or {}).get("ref") or "",
            "channel": channels.label(self.conversation_id),
            "last": (state.get("last_user") or "")[:120],
            "carer_types": [CARER_LABELS.get(t, t) for t in state.get("carer_types") or []],
            "crisis": bool(state.get("crisis")),
            "sections": [destination_name(s) for s in self.sections],
            "waiting_seconds": int(now - state["last_user_at"]) if waiting else 0,
            "held_by": held_by(self.hold),
            "last_at": jst(dt.datetime.utcfromtimestamp(self.last_at), "%H:%M:%S"),
        }


class LiveHub:
    """The web process's view of what is live, refreshed in the background (one query for all waiters)."""

    def __init__(self, settings: Settings, store: Store, transcripts: Transcripts, rasa: RasaEvents) -> None:
        self.settings, self.store, self.transcripts, self.rasa = settings, store, transcripts, rasa
        self.watched: Dict[str, Optional[Hold]] = {}  # held now, or handed back in the last LINGER seconds
        self.conversations: List[LiveConversation] = []
        self.crisis_seen: Dict[str, float] = {}
        self.version = 0
        self.touched = 0.0
        self._list_at = 0.0
        self._changed = asyncio.Event()

    async def run(self) -> None:
        """Refresh the holds every TICK while anything is live or looked at (every IDLE otherwise), the
        live list every LIST_EVERY, and release lapsed holds."""
        while True:
            try:
                await self.refresh()
            except Exception as e:  # noqa: BLE001 - the hub must outlive a database hiccup
                logger.warning("live hub: %s", type(e).__name__)
            await asyncio.sleep(TICK if self.busy() else IDLE)

    def touch(self) -> None:
        """Someone looks: a console's live page, a widget waiting for staff."""
        self.touched = time.time()

    def busy(self) -> bool:
        """A console or a widget looked in the last minute, or a conversation is held."""
        return time.time() - self.touched < 60 or any(h is not None for h in self.watched.values())

    async def refresh(self) -> None:
        loop = asyncio.get_running_loop()
        now = time.time()
        self.watched = await loop.run_in_executor(None, self.store.holds, now - LINGER)
        if now - self._list_at >= LIST_EVERY:
            self._list_at = now
            await self.release_lapsed(now)
            # The list is read only while someone may look at it, or an e-mail may have to be sent.
            if self.busy() or (self.settings.smtp_host and self.settings.duty_email):
                self.conversations = await loop.run_in_executor(None, self._compute, now)
                await loop.run_in_executor(None, self._notice_crises, now)
                self.version += 1
                self._changed.set()
                self._changed = asyncio.Event()

    def _compute(self, now: float) -> List[LiveConversation]:
        window = self.settings.live_window_minutes * 60
        active = self.transcripts.active_since(now - window)
        out = []
        for sid, last in sorted(active.items(), key=lambda x: -x[1]):
            state = self.transcripts.live_state(sid)
            handoff = self.store.handoff_for_conversation(sid)
            if not handoff and not state.get("crisis"):
                continue  # nobody may see it: no consent to a hand-off, no danger sign
            out.append(LiveConversation(sid, live_key(sid), last, state, handoff, self.watched.get(sid)))
        return out

    def _notice_crises(self, now: float) -> None:
        for c in self.conversations:
            if c.state.get("crisis") and self.store.notice_crisis(c.conversation_id, now):
                self.mail_crisis(c)
        self.crisis_seen = self.store.crisis_notices(now - self.settings.live_window_minutes * 60)

    def mail_crisis(self, c: LiveConversation) -> None:
        """Tell the duty address that a conversation shows a danger sign: no words, no id, no name."""
        s = self.settings
        if not (s.smtp_host and s.duty_email) or not self.store.claim_mail(c.conversation_id):
            return
        msg = EmailMessage()
        msg["Subject"] = "【ケアラー相談チャット】危険のサインのある相談があります"
        msg["From"] = s.smtp_from or s.duty_email
        msg["To"] = s.duty_email
        sections = "・".join(destination_name(x) for x in c.sections) or "（つなぎ先はまだありません）"
        msg.set_content(
            "ケアラー相談チャットで、危険のサインのある相談がありました。\n"
            f"時刻（日本時間）：{jst(dt.datetime.utcfromtimestamp(c.last_at))}\n"
            f"つなぎ先：{sections}\n\n"
            "内容はこのメールには書いていません。職員コンソールの「いまの相談」で確認してください。\n")
        try:
            with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=10) as smtp:
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as e:
            logger.warning("crisis e-mail not sent: %s", type(e).__name__)

    async def release_lapsed(self, now: float) -> None:
        """Hand back the conversations whose staff page went silent (closed tab, ended session)."""
        away = float(catalog.live_chat().get("away_minutes") or 2) * 60
        loop = asyncio.get_running_loop()
        for hold in await loop.run_in_executor(None, self.store.stale, away, now):
            if not await loop.run_in_executor(None, self.store.release, None, hold.conversation_id, now):
                continue  # another web process released it first
            self.store.audit(Staff(SYSTEM, hold.section), "live_away", None, self.store.audit_key(hold.conversation_id))
            easy = self._easy(hold.conversation_id)
            notice = catalog.live_notice("away", easy, destination_name(hold.section))
            try:
                await self.rasa.append(hold.conversation_id, [slot_event(""), bot_event(notice, "notice", hold.section)])
            except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError, OSError) as e:
                logger.warning("live: the bot could not be resumed after a lapsed hold: %s", type(e).__name__)

    def _easy(self, conversation_id: str) -> bool:
        return self.transcripts.live_state(conversation_id).get("speech_style") == "easy"

    async def changed(self, timeout: float) -> bool:
        """Wait until the live list was computed again (or ``timeout``)."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def find(self, key: str) -> Optional[LiveConversation]:
        """The live conversation of this key: from the last list, or read now (this process may not have
        listed it yet: another web process showed it to the member of staff)."""
        found = next((c for c in self.conversations if c.key == key), None)
        if found is not None:
            return found
        now = time.time()
        for sid, last in self.transcripts.active_since(now - self.settings.live_window_minutes * 60).items():
            if live_key(sid) == key:
                state, handoff = self.transcripts.live_state(sid), self.store.handoff_for_conversation(sid)
                return LiveConversation(sid, key, last, state, handoff, None) if handoff or state.get("crisis") else None
        # A person on LINE who asked to be answered there can be written to later, not only while live.
        for handoff in self.store.line_followups():
            sid = handoff["conversation_id"]
            if live_key(sid) == key:
                last = handoff["updated_at"].replace(tzinfo=dt.timezone.utc).timestamp()
                return LiveConversation(sid, key, last, self.transcripts.live_state(sid), handoff, None)
        return None


    async def relay_held(self, sender: str, text: str) -> Optional[list]:
        """While staff hold the conversation, store the person's message in the tracker without the bot
        and return the (empty) answer; None when the bot answers as usual (bot.web.relay)."""
        # Read now from the database that every web process shares, not from the hub's last look: the
        # bot must answer the first message after a hand-back, and never one while staff hold it.
        if self.store.holder(sender) is None:
            return None
        await self.rasa.append(sender, [user_event(text)])
        return []
