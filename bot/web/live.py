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
import time
from typing import Any, Dict, List, Optional

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import catalog
from bot.channels import LINE_PREFIX, channel_of
from bot.handoff.live import Hold
from bot.handoff.models import Staff
from bot.web.auth import Visit, csrf_checked, logged_in
from bot.web.console import destination_name, jst
from bot.web.live_hub import (
    CLIENT_ID,
    CORS,
    MAX_STAFF_TEXT,
    SENDER_ID,
    SSE_HEADERS,
    TICK,
    WAIT,
    LiveConversation,
    LiveHub,
    RasaEvents,
    bot_event,
    held_by,
    slot_event,
)
from bot.web.relay import channel_refused

__all__ = ["LiveHub", "RasaEvents", "blueprint"]

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
    if t["who"] == "notice" and t["author"]:
        who = f"お知らせ（{destination_name(t['section'])}・{t['author']}）"
    if t["who"] == "staff":
        who = f"職員（{destination_name(t['section'])}・{t['author']}）"
    return {"id": t["id"], "who": t["who"], "label": who, "text": t["text"], "at": jst(t["at"], "%H:%M:%S")}


def _turns_payload(turns: List[Dict[str, Any]], hold: Optional[Hold], staff: Staff) -> Dict[str, Any]:
    """What the conversation page reads, from the stream or its fallback: the new turns, who holds it, and
    whether that is this member of staff."""
    return {"turns": [_turn_json(t) for t in turns], "held_by": held_by(hold),
            "mine": bool(hold and hold.username == staff.username)}


@logged_in
async def conversation_turns(request: Request, visit: Visit, key: str) -> HTTPResponse:
    """The turns after ``after`` as JSON (the page's fallback), with who holds the conversation."""
    hub = hub_of(request)
    c = _visible(visit, hub, key)
    if c is None:
        return visit.not_found()
    turns = hub.transcripts.turns_after(c.conversation_id, _int(request.args.get("after")))
    return response.json(_turns_payload(turns, c.hold, visit.staff))


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
            if turns:
                hold = await loop.run_in_executor(None, hub.store.holder, c.conversation_id)  # now, not the hub's last look
                after = turns[-1]["id"]
                await resp.write("data: " + json.dumps(_turns_payload(turns, hold, visit.staff), ensure_ascii=False) + "\n\n")
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
        events = [slot_event(visit.staff.section),
                  bot_event(catalog.live_notice("joined", easy, name), "notice", visit.staff.section, visit.staff.username)]
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
        if not text or len(text) > MAX_STAFF_TEXT or not CLIENT_ID.match(client_id):
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
        await hub.rasa.append(c.conversation_id, [slot_event(""), bot_event(notice, "notice", visit.staff.section, visit.staff.username)])
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
    if not SENDER_ID.match(sender):
        return response.json({"error": "sender が正しくありません。"}, status=400, headers=CORS)
    if channel_refused(request, sender):
        return response.json({"error": "sender が正しくありません。"}, status=403, headers=CORS)
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


async def line_watched(request: Request) -> HTTPResponse:
    """For the LINE adapter only (LINE_RELAY_TOKEN): the LINE conversations that staff hold now or
    handed back a moment ago. The adapter asks /chat/updates for each and pushes what staff wrote."""
    if channel_refused(request, LINE_PREFIX):
        return response.json({"error": "forbidden"}, status=403)
    hub = hub_of(request)
    hub.touch()  # the adapter looks on behalf of its LINE conversations: keep the hub awake
    return response.json({"conversations": sorted(c for c in hub.watched if channel_of(c) == "line")})


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
    bp.add_route(line_watched, "/chat/line/watched", methods=["GET"])
    return bp

