"""Live conversations (issue 15): staff see who is writing now, join, talk in their own words, hand back.

Where things live, so that every web process and every Rasa instance agrees:

- **The hold** (who holds which conversation) is in the hand-off database (bot.handoff.live), which
  every web process shares, and in the conversation's tracker (the slot ``staff``), which every Rasa
  instance reads: while it is set the turn function answers nothing (bot.dialogue.turn).
- **What is said** is in the tracker only, in the order Rasa's lock wrote it: a staff message or a
  notice is a bot event with ``metadata.live`` ("staff" or "notice"), appended through Rasa's HTTP
  API; a message the person types while staff hold the conversation is appended as a user event
  there too (``relay_held``), so it is stored but never goes to the bot.
- **Delivery** to the widget: ``/chat/updates`` returns the live events after the last id the widget
  has (it keeps it in sessionStorage). Ids only grow, so nothing is lost or shown twice across a
  dropped connection, a reload, a restart of this app or a second web process. The request waits up
  to ``WAIT`` seconds for something new (long polling: plain HTTP, through any proxy).
- **Staff pages** update by server-sent events, and fall back to polling the same data as JSON.

A conversation is shown to a section's staff when it was handed to that section; a conversation with
a danger sign is shown to the coordinating section and to admins (as the case pages decide). Anyone
else gets the console's 404, for the list's entries, the pages, the streams and every action.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import re
import smtplib
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Dict, List, Optional
from urllib.parse import quote

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import catalog
from bot.handoff.live import Hold
from bot.handoff.models import Staff
from bot.handoff.store import Store
from bot.handoff.transcripts import Transcripts, live_key
from bot.settings import Settings
from bot.web.auth import Visit, csrf_checked, logged_in
from bot.web.console import CARER_LABELS, destination_name, jst

logger = logging.getLogger(__name__)

WAIT = 20.0  # seconds a widget's request for updates waits for something new
TICK = 0.25  # how often a waiting request looks again, and the hub refreshes the holds
LIST_EVERY = 2.0  # how often the live list is computed (once per web process, for every open console)
IDLE = 2.0  # how often the hub looks when nothing is live and nobody looks
LINGER = 600.0  # seconds a handed-back conversation is still watched, for its last notice
MAX_STAFF_TEXT = 2000
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_SENDER = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
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
            "last": (state.get("last_user") or "")[:120],
            "carer_types": [CARER_LABELS.get(t, t) for t in state.get("carer_types") or []],
            "crisis": bool(state.get("crisis")),
            "sections": [destination_name(s) for s in self.sections],
            "waiting_seconds": int(now - state["last_user_at"]) if waiting else 0,
            "held_by": destination_name(self.hold.section) + "・" + self.hold.username if self.hold else "",
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
        return next((c for c in self.conversations if c.key == key), None)


    async def relay_held(self, sender: str, text: str) -> Optional[list]:
        """While staff hold the conversation, store the person's message in the tracker without the bot
        and return the (empty) answer; None when the bot answers as usual (bot.web.relay)."""
        # Read now from the database that every web process shares, not from the hub's last look: the
        # bot must answer the first message after a hand-back, and never one while staff hold it.
        if self.store.holder(sender) is None:
            return None
        await self.rasa.append(sender, [user_event(text)])
        return []

def hub_of(request: Request) -> LiveHub:
    hub: LiveHub = request.app.ctx.live
    hub.touch()
    return hub


def _visible(visit: Visit, hub: LiveHub, key: str) -> Optional[LiveConversation]:
    c = hub.find(key)
    if c is None or not c.visible_to(visit.staff):
        return None
    # Who holds it, read now (not the hub's last look): a take-over must stop the one taken from at once.
    return dataclasses.replace(c, hold=hub.store.holder(c.conversation_id))


def _open_now(staff: Staff) -> Dict[str, Any]:
    now = dt.datetime.now(catalog.JST)
    hours = catalog.live_hours(staff.section)
    return {"open": catalog.live_open(staff.section, now), "hours": (hours or {}).get("text", ""),
            "now": now.strftime("%Y-%m-%d %H:%M")}


def _list_json(visit: Visit, hub: LiveHub) -> Dict[str, Any]:
    now = time.time()
    rows = [c.as_json(now) for c in hub.conversations if c.visible_to(visit.staff)]
    return {"conversations": rows, "version": hub.version, **_open_now(visit.staff)}


# --- staff pages ----------------------------------------------------------------------------------

@logged_in
async def live_list(request: Request, visit: Visit) -> HTTPResponse:
    """The conversations happening now that concern this member of staff."""
    return visit.render("staff/live_list.html", live=_list_json(visit, hub_of(request)),
                        live_window=visit.console.settings.live_window_minutes)


@logged_in
async def live_list_json(request: Request, visit: Visit) -> HTTPResponse:
    """The same list as JSON: the page's fallback when server-sent events do not get through."""
    return response.json(_list_json(visit, hub_of(request)))


@logged_in
async def live_list_stream(request: Request, visit: Visit) -> Any:
    """The list as server-sent events: a new list whenever it changes."""
    hub = hub_of(request)

    async def events(resp: Any) -> None:
        last = None
        started = time.time()
        while time.time() - started < visit.console.settings.staff_idle_seconds:
            body = _list_json(visit, hub)
            crises = sorted(c.key for c in hub.conversations if c.visible_to(visit.staff) and c.state.get("crisis"))
            payload = json.dumps({**body, "crises": crises}, ensure_ascii=False)
            await resp.write(f"data: {payload}\n\n" if payload != last else ": keep-alive\n\n")
            last = payload
            if request.args.get("once"):
                return  # one event and close: for a client that cannot keep a stream open (and the tests)
            await hub.changed(15.0)

    return response.stream(events, content_type="text/event-stream", headers=SSE_HEADERS)


@logged_in
async def conversation(request: Request, visit: Visit, key: str) -> HTTPResponse:
    """One live conversation: its transcript, who holds it, and the join, send and hand-back forms."""
    hub = hub_of(request)
    c = _visible(visit, hub, key)
    if c is None:
        return visit.not_found()
    turns = hub.transcripts.turns_after(c.conversation_id, 0)
    easy = c.state.get("speech_style") == "easy"
    return visit.render("staff/live_conversation.html", c=c, key=key, turns=turns, mine=_mine(c, visit.staff),
                        last_id=max([t["id"] for t in turns] or [0]), phrases=catalog.staff_phrases(), easy=easy,
                        hours=_open_now(visit.staff), row=c.as_json(time.time()))


def _mine(c: LiveConversation, staff: Staff) -> bool:
    return bool(c.hold and c.hold.username == staff.username)


def _turn_json(t: Dict[str, Any]) -> Dict[str, Any]:
    who = {"user": "相談者", "bot": "チャットボット", "notice": "お知らせ"}.get(t["who"], "")
    if t["who"] == "staff":
        who = f"職員（{destination_name(t['section'])}・{t['author']}）"
    return {"id": t["id"], "who": t["who"], "label": who, "text": t["text"], "at": jst(t["at"], "%H:%M:%S")}


@logged_in
async def conversation_turns(request: Request, visit: Visit, key: str) -> HTTPResponse:
    """The turns after ``after`` as JSON (the page's fallback), with who holds the conversation."""
    hub = hub_of(request)
    c = _visible(visit, hub, key)
    if c is None:
        return visit.not_found()
    after = _int(request.args.get("after"))
    turns = [_turn_json(t) for t in hub.transcripts.turns_after(c.conversation_id, after)]
    return response.json({"turns": turns, "held_by": c.as_json(time.time())["held_by"], "mine": _mine(c, visit.staff)})


@logged_in
async def conversation_stream(request: Request, visit: Visit, key: str) -> Any:
    """The turns as server-sent events, as soon as the tracker has them."""
    hub = hub_of(request)
    c = _visible(visit, hub, key)
    if c is None:
        return visit.not_found()
    start_after = _int(request.args.get("after"))

    async def events(resp: Any) -> None:
        after = start_after
        started = last_beat = time.time()
        loop = asyncio.get_running_loop()
        while time.time() - started < visit.console.settings.staff_idle_seconds:
            turns = await loop.run_in_executor(None, hub.transcripts.turns_after, c.conversation_id, after)
            hold = hub.watched.get(c.conversation_id)
            if turns:
                after = turns[-1]["id"]
                held_by = (destination_name(hold.section) + "・" + hold.username) if hold else ""
                await resp.write("data: " + json.dumps({"turns": [_turn_json(t) for t in turns], "held_by": held_by,
                                                         "mine": bool(hold and hold.username == visit.staff.username)},
                                                        ensure_ascii=False) + "\n\n")
            elif time.time() - last_beat > 15 or request.args.get("once"):
                await resp.write(": keep-alive\n\n")
                last_beat = time.time()
            if request.args.get("once"):
                return  # one event and close: for a client that cannot keep a stream open (and the tests)
            await asyncio.sleep(TICK)

    return response.stream(events, content_type="text/event-stream", headers=SSE_HEADERS)


async def _after_action(request: Request, visit: Visit, key: str, action) -> HTTPResponse:
    hub = hub_of(request)
    c = _visible(visit, hub, key)
    if c is None:
        return visit.not_found()
    try:
        result = await action(hub, c)
    except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError, OSError):
        result = {"ok": False, "error": "チャットボットのサーバーにつながりませんでした。少し待ってもう一度お試しください。"}
    if request.headers.get("accept", "").startswith("application/json"):
        return response.json(result, status=200 if result.get("ok") else 409)
    return response.redirect(f"/staff/live/c/{key}")


@logged_in
@csrf_checked
async def join(request: Request, visit: Visit, key: str) -> HTTPResponse:
    """「参加する」: hold the conversation (「引き継いで参加する」 takes it from another member of staff)."""
    take_over = request.form.get("take_over") == "1"

    async def act(hub: LiveHub, c: LiveConversation) -> Dict[str, Any]:
        hold = hub.store.join(visit.staff, c.conversation_id, take_over=take_over)
        if hold is not None and hold.username != visit.staff.username:
            return {"ok": False, "error": f"{destination_name(hold.section)}の{hold.username}さんが対応中です。"}
        easy = c.state.get("speech_style") == "easy"
        name = destination_name(visit.staff.section)
        if catalog.live_chat().get("show_staff_name"):
            name = f"{name}（{visit.staff.username}）"
        events = [slot_event(visit.staff.section), bot_event(catalog.live_notice("joined", easy, name), "notice", visit.staff.section)]
        await hub.rasa.append(c.conversation_id, events)
        return {"ok": True}

    return await _after_action(request, visit, key, act)


@logged_in
@csrf_checked
async def send(request: Request, visit: Visit, key: str) -> HTTPResponse:
    """A staff message to the person: once per page id, only by the member of staff who holds it."""
    text = (request.form.get("text") or "").strip()
    client_id = request.form.get("client_id") or ""

    async def act(hub: LiveHub, c: LiveConversation) -> Dict[str, Any]:
        if not text or len(text) > MAX_STAFF_TEXT or not _CLIENT_ID.match(client_id):
            return {"ok": False, "error": f"メッセージは1〜{MAX_STAFF_TEXT}文字で入力してください。"}
        if not _mine(c, visit.staff):
            return {"ok": False, "error": "この相談に参加していません。先に「参加する」を押してください。"}
        if not hub.store.first_send(visit.staff, c.conversation_id, client_id):
            return {"ok": True, "repeat": True}  # the same message posted again: sent once already
        await hub.rasa.append(c.conversation_id, [bot_event(text, "staff", visit.staff.section, visit.staff.username)])
        hub.store.heartbeat(visit.staff, c.conversation_id)
        return {"ok": True}

    return await _after_action(request, visit, key, act)


@logged_in
@csrf_checked
async def leave(request: Request, visit: Visit, key: str) -> HTTPResponse:
    """「ボットに戻す」: the bot answers again, where the conversation stands."""

    async def act(hub: LiveHub, c: LiveConversation) -> Dict[str, Any]:
        if not hub.store.release(visit.staff, c.conversation_id):
            return {"ok": False, "error": "この相談に参加していません。"}
        easy = c.state.get("speech_style") == "easy"
        notice = catalog.live_notice("left", easy, destination_name(visit.staff.section))
        await hub.rasa.append(c.conversation_id, [slot_event(""), bot_event(notice, "notice", visit.staff.section)])
        return {"ok": True}

    return await _after_action(request, visit, key, act)


@logged_in
@csrf_checked
async def heartbeat(request: Request, visit: Visit, key: str) -> HTTPResponse:
    """The staff page is open: keeps the hold (and the session) alive."""
    hub = hub_of(request)
    c = _visible(visit, hub, key)
    if c is None:
        return visit.not_found()
    return response.json({"held": hub.store.heartbeat(visit.staff, c.conversation_id)})


# --- the widget -----------------------------------------------------------------------------------

async def updates(request: Request) -> HTTPResponse:
    """The staff messages and notices of a conversation after the id the widget has (long polling).

    ``sender`` is the widget's own random id: the key to its conversation, as for /chat/send.
    """
    sender, after = request.args.get("sender") or "", _int(request.args.get("after"))
    if not _SENDER.match(sender):
        return response.json({"error": "sender が正しくありません。"}, status=400, headers=CORS)
    hub = hub_of(request)
    loop = asyncio.get_running_loop()
    deadline = time.time() + (0 if request.args.get("wait") == "0" else WAIT)
    while True:
        watched = sender in hub.watched
        if watched or after == 0:
            turns = await loop.run_in_executor(None, hub.transcripts.turns_after, sender, after)
            live = [t for t in turns if t["who"] in ("staff", "notice")]
            last = turns[-1]["id"] if turns else after
            if live or after == 0 or time.time() >= deadline:
                return _updates(live, last, hub.watched.get(sender))
            after = last  # nothing to show yet: wait for what comes after the bot's own replies
        if time.time() >= deadline:
            return _updates([], after, hub.watched.get(sender))
        await asyncio.sleep(TICK)


def _updates(live: List[Dict[str, Any]], last: int, hold: Optional[Hold]) -> HTTPResponse:
    messages = [{"id": t["id"], "who": t["who"], "text": t["text"], "section": destination_name(t["section"]) if t["section"] else ""}
                for t in live]
    return response.json({"messages": messages, "last": last, "staff": destination_name(hold.section) if hold else ""},
                         headers=CORS)




def _int(value: Optional[str]) -> int:
    try:
        return max(int(value or 0), 0)
    except ValueError:
        return 0


async def preflight(request: Request) -> HTTPResponse:
    return response.empty(headers=CORS)


def blueprint() -> Blueprint:
    """The live list, a live conversation's page and actions, and the widget's updates."""
    bp = Blueprint("live")
    bp.add_route(live_list, "/staff/live", methods=["GET"])
    bp.add_route(live_list_json, "/staff/live.json", methods=["GET"])
    bp.add_route(live_list_stream, "/staff/live/stream", methods=["GET"])
    bp.add_route(conversation, "/staff/live/c/<key:str>", methods=["GET"])
    bp.add_route(conversation_turns, "/staff/live/c/<key:str>/turns.json", methods=["GET"])
    bp.add_route(conversation_stream, "/staff/live/c/<key:str>/stream", methods=["GET"])
    bp.add_route(join, "/staff/live/c/<key:str>/join", methods=["POST"])
    bp.add_route(send, "/staff/live/c/<key:str>/send", methods=["POST"])
    bp.add_route(leave, "/staff/live/c/<key:str>/leave", methods=["POST"])
    bp.add_route(heartbeat, "/staff/live/c/<key:str>/heartbeat", methods=["POST"])
    bp.add_route(updates, "/chat/updates", methods=["GET"])
    bp.add_route(preflight, "/chat/updates", methods=["OPTIONS"])
    return bp

