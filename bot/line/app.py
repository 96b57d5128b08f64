"""The LINE adapter's web service: LINE's webhook in, the web app's relay and LINE's API out.

- ``POST /webhooks/line/webhook``: the signature (X-Line-Signature) is checked by the SDK before
  the body is read as JSON; a missing or wrong one gets 401 and nothing is stored. Each event is
  recorded by its ``webhookEventId`` (a redelivery is dropped), 200 is answered at once, and the
  events are then processed in order per person.
- A message (or a tapped quick reply) goes to the web app's ``/chat/send`` with the event id as the
  message id: the relay asks Rasa once per id and respects staff holds, as for the widget.
- Staff messages and notices of a live conversation (issue 15): the watcher asks the web app which
  LINE conversations staff hold, follows each on ``/chat/updates`` and pushes what appears.
- ``GET /health``: for start scripts.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from typing import Any, Dict, Optional, Set

import aiohttp
from aiohttp import web
from linebot.v3 import WebhookParser

from bot import catalog
from bot.channels import line_conversation_id
from bot.line.messages import text_messages, to_line
from bot.line.sender import LineSender, Undeliverable, retry_key
from bot.line.store import LineStore
from bot.settings import Settings

logger = logging.getLogger("bot.line")

WEBHOOK = "/webhooks/line/webhook"
RELAY_BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # the web app or Rasa is down: tries of one message
RESUME_EVERY = 30.0  # seconds between looks for events left unprocessed (the web app was down)
WATCH_EVERY = 1.0  # seconds between looks for LINE conversations that staff hold
PURGE_EVERY = 3600.0
NOT_TEXT = {"image", "video", "audio", "file", "location", "sticker"}
SECRETS = ("LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_ID_KEY", "LINE_RELAY_TOKEN")


def _payload(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """What the adapter keeps of a webhook event until it is processed; None for events it ignores
    (groups and rooms, unsend, read receipts, ...): the consultation is one to one."""
    source = event.get("source") or {}
    if source.get("type") != "user" or not source.get("userId"):
        return None
    kind = event.get("type")
    payload = {"user_id": source["userId"], "reply_token": event.get("replyToken"), "timestamp": int(event.get("timestamp") or 0)}
    if kind == "message":
        message = event.get("message") or {}
        if message.get("type") == "text":
            return {**payload, "kind": "text", "text": str(message.get("text") or "")}
        return {**payload, "kind": "not_text"}
    if kind == "postback":
        return {**payload, "kind": "text", "text": str((event.get("postback") or {}).get("data") or "")}
    if kind in ("follow", "unfollow"):
        return {**payload, "kind": kind}
    return None


class Adapter:
    """The adapter's state: settings, its store, the SDK sender, the HTTP session to the web app."""

    def __init__(self, settings: Settings, store: LineStore, sender: LineSender) -> None:
        self.settings, self.store, self.sender = settings, store, sender
        self.parser = WebhookParser(settings.line_channel_secret)
        self.web: Optional[aiohttp.ClientSession] = None
        self.locks: Dict[str, asyncio.Lock] = {}
        self.watched: Set[str] = set()
        self.followers: Dict[str, asyncio.Task] = {}
        self.tasks: Set[asyncio.Task] = set()
        self.auth = {"Authorization": f"Bearer {settings.line_relay_token}"}

    # --- the webhook --------------------------------------------------------------------------

    async def webhook(self, request: web.Request) -> web.Response:
        signature = request.headers.get("X-Line-Signature")
        body = await request.text()
        if not signature:
            return web.json_response({"error": "signature missing"}, status=401)
        try:
            events = json.loads(body)["events"] if self._signed(body, signature) else None
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "bad body"}, status=400)
        if events is None:
            return web.json_response({"error": "signature invalid"}, status=401)
        accepted = []
        for event in events if isinstance(events, list) else []:
            payload = _payload(event) if isinstance(event, dict) else None
            if payload is None:
                continue
            conversation = line_conversation_id(payload["user_id"], self.settings.line_id_key)
            event_id = str(event.get("webhookEventId") or hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()[:26])
            if self.store.claim(event_id, conversation, payload):
                accepted.append((event_id, conversation, payload))
            else:  # LINE sent it again (deliveryContext.isRedelivery): it was processed, or is being
                logger.info("line: a redelivered event was dropped")
        for item in accepted:  # in the order LINE sent them; each person's in turn (their lock)
            self._spawn(self.process(*item))
        return web.json_response({"accepted": len(accepted)})

    def _signed(self, body: str, signature: str) -> bool:
        """The SDK's check (HMAC-SHA256 of the raw body with the channel secret, compared in constant
        time), before the body is read as JSON."""
        return bool(self.parser.signature_validator.validate(body, signature))

    def _spawn(self, coro) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # --- one event ----------------------------------------------------------------------------

    async def process(self, event_id: str, conversation: str, payload: Dict[str, Any]) -> None:
        """Answer one event; mark it done only once answered (else it is resumed later)."""
        lock = self.locks.setdefault(conversation, asyncio.Lock())
        async with lock:
            try:
                finished = await self._answer(event_id, conversation, payload)
            except Undeliverable as e:
                logger.warning("line: an answer could not be delivered: %s", e)
                finished = True  # LINE refused it for good (e.g. blocked): retrying cannot help
            except Exception as e:  # noqa: BLE001 - one event must never stop the adapter
                logger.error("line: event failed: %s", type(e).__name__)
                finished = False
            if finished:
                self.store.done(event_id)

    async def _answer(self, event_id: str, conversation: str, payload: Dict[str, Any]) -> bool:
        kind, user = payload["kind"], payload["user_id"]
        if kind == "unfollow":
            self.store.forget(conversation)
            return True
        self.store.remember(conversation, user)
        if kind == "follow":
            days = self.settings.conversation_retention_days
            messages = text_messages(catalog.line_text("follow", days=days), self._limit)
        elif kind == "not_text":
            messages = [{"type": "text", "text": catalog.line_text("non_text")}]
        elif not payload["text"].strip():
            return True
        else:
            answer = await self._relay(event_id, conversation, payload)
            if answer is None:
                return False
            messages = to_line(answer, self._limit)
        if messages:
            await self.sender.deliver(user, payload.get("reply_token"), payload["timestamp"], messages, event_id)
        return True

    @property
    def _limit(self) -> int:
        return self.settings.line_text_limit

    async def _relay(self, event_id: str, conversation: str, payload: Dict[str, Any]) -> Optional[list]:
        """The bot's answer from the web app's relay (exactly once per event id); None if it stayed down."""
        body = {"sender": conversation, "id": event_id, "text": payload["text"][:5000]}
        told = False
        for attempt, pause in enumerate((0.0, *RELAY_BACKOFF)):
            await asyncio.sleep(pause)
            try:
                async with self._web().post(f"{self._web_url}/chat/send", json=body, headers=self.auth) as r:
                    if r.status == 200:
                        return (await r.json()).get("messages") or []
                    if r.status in (400, 403):
                        logger.error("line: the relay refused a message (%s)", r.status)
                        return []
                    logger.warning("line: the relay answered %s (try %d)", r.status, attempt + 1)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                logger.warning("line: the relay is unreachable: %s (try %d)", type(e).__name__, attempt + 1)
            if attempt == 1 and not told:  # a few seconds without the bot: say so once, gently
                told = True
                await self.sender.push(payload["user_id"], [{"type": "text", "text": catalog.line_text("unavailable")}],
                                       retry_key(event_id, "unavailable"))
        return None

    @property
    def _web_url(self) -> str:
        return self.settings.web_url.rstrip("/")

    def _web(self) -> aiohttp.ClientSession:
        if self.web is None:
            self.web = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=40))
        return self.web

    # --- background: resume, live chats, retention ----------------------------------------------

    async def resume(self) -> None:
        """Process the events accepted but never finished (the adapter stopped, the web app was down)."""
        while True:
            busy = {c for c, lock in self.locks.items() if lock.locked()}
            for event_id, conversation, payload in self.store.pending():
                if conversation not in busy and time.time() - payload["timestamp"] / 1000.0 > 5:
                    await self.process(event_id, conversation, payload)
            await asyncio.sleep(RESUME_EVERY)

    async def watch(self) -> None:
        """Follow each LINE conversation that staff hold (or handed back a moment ago)."""
        while True:
            try:
                async with self._web().get(f"{self._web_url}/chat/line/watched", headers=self.auth) as r:
                    if r.status == 200:
                        self.watched = set((await r.json()).get("conversations") or [])
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError):
                pass
            for conversation in self.watched - set(self.followers):
                self.followers[conversation] = asyncio.get_running_loop().create_task(self.follow(conversation))
            await asyncio.sleep(WATCH_EVERY)

    async def follow(self, conversation: str) -> None:
        """Push each staff message and notice of one conversation, once, in order (long polling)."""
        try:
            while True:
                user = self.store.user_id(conversation)
                if user is None:  # unfollowed, or never seen here: nothing may be sent
                    await asyncio.sleep(5)
                    return
                after = self.store.cursor(conversation)
                url = f"{self._web_url}/chat/updates"
                async with self._web().get(url, params={"sender": conversation, "after": str(after)}, headers=self.auth) as r:
                    if r.status != 200:
                        await asyncio.sleep(2)
                        continue
                    data = await r.json()
                for m in data.get("messages") or []:
                    user = self.store.user_id(conversation)  # read again: they may have left while we waited
                    if user is None:
                        return
                    await self._push_live(user, conversation, m)
                    self.store.set_cursor(conversation, int(m["id"]))
                self.store.set_cursor(conversation, int(data.get("last") or after))
                if conversation not in self.watched and not data.get("messages"):
                    return
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError, Undeliverable) as e:
            logger.warning("line: a live conversation could not be followed: %s", type(e).__name__)
            await asyncio.sleep(2)
        finally:
            self.followers.pop(conversation, None)

    async def _push_live(self, user: str, conversation: str, m: Dict[str, Any]) -> None:
        text = m["text"] if m.get("who") == "notice" else f"{catalog.line_text('staff', section=m.get('section') or '市')}\n{m['text']}"
        await self.sender.push_all(user, text_messages(text, self._limit), conversation, m["id"])

    async def purge(self) -> None:
        """Retention: forget the LINE ids of people silent too long, but not of those subscribed to notices
        (asked of the web app each time; if it cannot be asked, nothing is deleted this time)."""
        while True:
            try:
                async with self._web().get(f"{self._web_url}/chat/line/subscribers", headers=self.auth) as r:
                    keep = (await r.json())["conversations"] if r.status == 200 else None
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError, KeyError):
                keep = None
            if keep is not None:
                people, events = self.store.purge(self.settings.conversation_retention_days, keep=keep)
                if people or events:
                    logger.info("line: retention deleted %d LINE ids and %d event ids", people, events)
            await asyncio.sleep(PURGE_EVERY)

    async def push_for_web(self, request: web.Request) -> web.Response:
        """``POST /internal/push`` (the web app's notices, LINE_RELAY_TOKEN; not routed by nginx): push a
        text to a conversation's person, under the caller's key (a retried call is delivered once)."""
        if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), self.auth["Authorization"].encode()):
            return web.json_response({"error": "forbidden"}, status=403)
        try:
            body = await request.json()
            conversation, text, key = str(body["conversation"]), str(body["text"]), str(body["key"])
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "bad body"}, status=400)
        user = self.store.user_id(conversation)
        if user is None:
            return web.json_response({"gone": True}, status=410)  # unfollowed, or forgotten
        try:
            await self.sender.push_all(user, text_messages(text, self._limit), key)
        except Undeliverable:
            return web.json_response({"error": "undeliverable"}, status=502)
        return web.json_response({"sent": True})


async def health(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def create_app(settings: Settings) -> web.Application:
    """The adapter's aiohttp application, with its background tasks started and stopped with it
    (built in the running loop: the SDK's client opens its connection pool at once)."""
    adapter = Adapter(settings, LineStore(settings.line_db_path, settings.line_id_key),
                      LineSender(settings.line_channel_access_token, settings.line_api_base, settings.line_reply_seconds))
    app = web.Application(client_max_size=1024 * 1024)
    app["adapter"] = adapter
    app.router.add_post(WEBHOOK, adapter.webhook)
    app.router.add_get("/health", health)
    app.router.add_post("/internal/push", adapter.push_for_web)

    async def background(app_: web.Application):
        loops = [asyncio.get_running_loop().create_task(c) for c in (adapter.resume(), adapter.watch(), adapter.purge())]
        yield
        for task in loops + list(adapter.followers.values()) + list(adapter.tasks):
            task.cancel()
        await asyncio.gather(*loops, *adapter.followers.values(), *adapter.tasks, return_exceptions=True)
        if adapter.web is not None:
            await adapter.web.close()
        await adapter.sender.close()
        adapter.store.close()

    app.cleanup_ctx.append(background)
    return app


def main() -> None:
    """Run the adapter on LINE_HOST:LINE_PORT (default 127.0.0.1:8010; nginx routes LINE's webhook to it)."""
    from bot import production

    settings = production.start("line", SECRETS)
    missing = [name for name in SECRETS if not getattr(settings, name.lower())]
    if missing:
        raise SystemExit(f"line: refusing to start: {', '.join(missing)} not set (see the README: LINE)")
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)  # no addresses or paths in the log
    web.run_app(create_app(settings), host=settings.line_host, port=settings.line_port, access_log=None, print=None)
