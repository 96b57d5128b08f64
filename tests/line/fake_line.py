"""A local fake of the LINE Messaging API for the LINE channel's tests (issue 16).

``FakeLine`` is a real HTTP server on 127.0.0.1 (aiohttp, in its own thread and event loop) that answers
``POST /v2/bot/message/reply`` and ``POST /v2/bot/message/push`` as LINE documents them: bearer token,
reply tokens that are used once and expire, ``X-Line-Retry-Key``, the limits on messages and quick replies,
and injected failures. It records what the bot sent. The webhook helpers below build the events LINE sends
to a bot and sign them (``X-Line-Signature``) with the channel secret, so a test can post them to the bot.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import itertools
import json
import secrets
import socket
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

import requests
from aiohttp import web

AUTH_FAILED = "Authentication failed. Confirm that the access token in the authorization header is valid."
MESSAGE_TYPES_WITH_QUOTE_TOKEN = {"text", "sticker", "image", "video"}
DESTINATION = "U" + "0" * 32  # the bot's own user id in a webhook body


class FakeLine:
    """``with FakeLine(token) as fake:`` point the bot's LINE API base URL at ``fake.url``."""

    def __init__(self, access_token: str, reply_ttl: float = 30.0):
        self.access_token = access_token
        self.reply_ttl = reply_ttl
        self.url = ""
        self._lock = threading.Lock()
        self._calls: List[dict] = []
        self._requests: List[dict] = []
        self._tokens: Dict[str, tuple] = {}  # reply token -> (issued at, monotonic; user id or None)
        self._used: set = set()
        self._retry_keys: Dict[str, str] = {}  # accepted retry key -> the request id that accepted it
        self._failures: List[int] = []
        self._ids = itertools.count(int(time.time()) * 1000)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None

    # -- life -------------------------------------------------------------------------------------

    def start(self) -> FakeLine:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-line", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._open(sock), self._loop).result(10)
        return self

    async def _open(self, sock: socket.socket) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_post("/v2/bot/message/reply", self._reply)
        app.router.add_post("/v2/bot/message/push", self._push)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()
        self._loop = None

    def __enter__(self) -> FakeLine:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- what a test sets up ----------------------------------------------------------------------

    def issue_reply_token(self, user_id: Optional[str] = None) -> str:
        """A new reply token, as LINE puts in a webhook event; the reply made with it is recorded as to ``user_id``."""
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = (time.monotonic(), user_id)
        return token

    def fail_next(self, n: int, status: int = 500) -> None:
        """The next ``n`` reply or push requests (with a good token) answer ``status`` and are not recorded."""
        with self._lock:
            self._failures.extend([status] * n)

    # -- what a test reads ------------------------------------------------------------------------

    def calls(self, kind: Optional[str] = None) -> List[dict]:
        with self._lock:
            return [dict(c) for c in self._calls if kind is None or c["kind"] == kind]

    @property
    def requests(self) -> List[dict]:
        """``{"path", "status"}`` of every request, rejected ones included."""
        with self._lock:
            return [dict(r) for r in self._requests]

    def texts(self, to: Optional[str] = None) -> List[str]:
        return [m["text"] for c in self.calls() if to is None or c["to"] == to
                for m in c["messages"] if isinstance(m, dict) and m.get("type") == "text"]

    def wait_for(self, predicate: Callable[[List[dict]], Any], timeout: float = 20.0) -> List[dict]:
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls()
            if predicate(calls):
                return calls
            if time.monotonic() > deadline:
                raise AssertionError(f"FakeLine: condition not met in {timeout}s; recorded calls: {calls!r}")
            time.sleep(0.05)

    def reset(self) -> None:
        """Forget the recorded calls and requests (tokens, retry keys and pending failures stay)."""
        with self._lock:
            self._calls.clear()
            self._requests.clear()

    # -- the server -------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            response = web.json_response({"message": AUTH_FAILED}, status=401)
        else:
            try:
                response = await handler(request)
            except web.HTTPException as e:
                response = web.json_response({"message": e.reason}, status=e.status)
        response.headers.setdefault("x-line-request-id", str(uuid.uuid4()))
        with self._lock:
            self._requests.append({"path": request.path, "status": response.status})
        return response

    async def _body(self, request: web.Request):
        """(the body as received, or None; a 400/5xx response, or None)."""
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return None, web.json_response({"message": "An error occurred (injected by FakeLine)"}, status=failure)
        try:
            body = json.loads(await request.read())
        except ValueError:
            return None, web.json_response({"message": "The request body could not be parsed as JSON"}, status=400)
        errors = validate(body, "replyToken" if request.path.endswith("/reply") else "to")
        if errors:
            return None, _bad(errors)
        return body, None

    async def _reply(self, request: web.Request) -> web.Response:
        body, error = await self._body(request)
        if error is not None:
            return error
        token = body["replyToken"]
        with self._lock:
            issued = self._tokens.get(token)
            if issued is None or token in self._used or time.monotonic() - issued[0] > self.reply_ttl:
                return web.json_response({"message": "Invalid reply token"}, status=400)
            self._used.add(token)
            self._record("reply", issued[1], token, body["messages"], None)
        return web.json_response({"sentMessages": self._sent(body["messages"])})

    async def _push(self, request: web.Request) -> web.Response:
        body, error = await self._body(request)
        if error is not None:
            return error
        key = request.headers.get("X-Line-Retry-Key")
        if key is not None and not _is_uuid(key):
            return _bad([{"message": "Must be a UUID", "property": "X-Line-Retry-Key"}])
        request_id = str(uuid.uuid4())
        with self._lock:
            if key is not None and key in self._retry_keys:
                return web.json_response({"message": "The retry key is already accepted"}, status=409,
                                         headers={"x-line-accepted-request-id": self._retry_keys[key]})
            if key is not None:
                self._retry_keys[key] = request_id
            self._record("push", body["to"], None, body["messages"], key)
        return web.json_response({"sentMessages": self._sent(body["messages"])}, headers={"x-line-request-id": request_id})

    def _record(self, kind: str, to, reply_token, messages, retry_key) -> None:
        """Called with the lock held."""
        self._calls.append({"kind": kind, "to": to, "reply_token": reply_token, "messages": messages,
                            "retry_key": retry_key, "at": time.time()})

    def _sent(self, messages: list) -> List[dict]:
        return [{"id": str(next(self._ids)), "quoteToken": secrets.token_urlsafe(24)} for _ in messages]


# -- validation, as LINE documents its limits ----------------------------------------------------------


def _bad(details: List[dict]) -> web.Response:
    return web.json_response({"message": f"The request body has {len(details)} error(s)", "details": details}, status=400)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _drop_none(value):
    """The official SDK sends unset optional fields as null: LINE ignores them, and so does the fake."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _length(value, prop: str, low: int, high: int, errors: List[dict]) -> None:
    if not isinstance(value, str) or not value:
        errors.append({"message": "Must be specified", "property": prop})
    elif not low <= len(value) <= high:
        errors.append({"message": f"Length must be between {low} and {high}", "property": prop})


def validate(body, recipient: str) -> List[dict]:
    """The ``details`` LINE would answer for this reply (recipient "replyToken") or push ("to") body; [] if good."""
    if not isinstance(body, dict):
        return [{"message": "Must be an object", "property": ""}]
    body, errors = _drop_none(body), []
    if not isinstance(body.get(recipient), str) or not body[recipient]:
        errors.append({"message": "Must be specified", "property": recipient})
    if "notificationDisabled" in body and not isinstance(body["notificationDisabled"], bool):
        errors.append({"message": "Must be a boolean", "property": "notificationDisabled"})
    messages = body.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return errors + [{"message": "Size must be between 1 and 5", "property": "messages"}]
    for i, message in enumerate(messages):
        _message(message, f"messages[{i}]", errors)
    return errors


def _message(message, prop: str, errors: List[dict]) -> None:
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        errors.append({"message": "Must be specified", "property": f"{prop}.type"})
        return
    if message["type"] == "text":
        _length(message.get("text"), f"{prop}.text", 1, 5000, errors)
    if "quickReply" not in message:
        return
    items = message["quickReply"].get("items") if isinstance(message["quickReply"], dict) else None
    if not isinstance(items, list) or len(items) > 13:
        errors.append({"message": "Size must be between 0 and 13", "property": f"{prop}.quickReply.items"})
        return
    for j, item in enumerate(items):
        _quick_reply_item(item, f"{prop}.quickReply.items[{j}]", errors)


def _quick_reply_item(item, prop: str, errors: List[dict]) -> None:
    item = item if isinstance(item, dict) else {}
    action = item.get("action")
    if item.get("type") != "action":
        errors.append({"message": "Must be 'action'", "property": f"{prop}.type"})
    if not isinstance(action, dict) or action.get("type") not in ("message", "postback"):
        errors.append({"message": "Must be a message or postback action (the fake knows no other)", "property": f"{prop}.action.type"})
        return
    _length(action.get("label"), f"{prop}.action.label", 1, 20, errors)
    if action["type"] == "message":
        _length(action.get("text"), f"{prop}.action.text", 1, 300, errors)
        return
    _length(action.get("data"), f"{prop}.action.data", 1, 300, errors)
    if "displayText" in action:
        _length(action["displayText"], f"{prop}.action.displayText", 1, 300, errors)


# -- webhooks: what LINE sends to the bot --------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def sign(channel_secret: str, body: bytes) -> str:
    """LINE's ``X-Line-Signature``: base64 of the HMAC-SHA256 of the raw body, keyed with the channel secret."""
    return base64.b64encode(hmac.new(channel_secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


def random_user_id() -> str:
    return "U" + secrets.token_hex(16)


def _event_id() -> str:
    """26 characters in Crockford base32, a ULID: 10 of milliseconds, 16 random."""
    ms = int(time.time() * 1000)
    head = "".join(_CROCKFORD[(ms >> (5 * i)) & 31] for i in reversed(range(10)))
    return head + "".join(secrets.choice(_CROCKFORD) for _ in range(16))


def _message_id() -> str:
    return str(secrets.randbelow(9 * 10**17) + 10**17)


def _event(kind: str, user_id: str, reply_token: Optional[str], event_id=None, redelivery=False, timestamp_ms=None, **fields) -> dict:
    event = {"type": kind, **fields, "webhookEventId": event_id or _event_id(),
             "deliveryContext": {"isRedelivery": redelivery},
             "timestamp": timestamp_ms if timestamp_ms is not None else int(time.time() * 1000),
             "source": {"type": "user", "userId": user_id}, "mode": "active"}
    if reply_token is not None:
        event["replyToken"] = reply_token
    return event


def _message_event(user_id: str, reply_token: str, message: dict, **common) -> dict:
    message = {"id": _message_id(), **message}
    if message["type"] in MESSAGE_TYPES_WITH_QUOTE_TOKEN:
        message["quoteToken"] = secrets.token_urlsafe(48)
    return _event("message", user_id, reply_token, message=message, **common)


def text_event(user_id: str, text: str, reply_token: str, event_id=None, redelivery=False, timestamp_ms=None) -> dict:
    return _message_event(user_id, reply_token, {"type": "text", "text": text},
                          event_id=event_id, redelivery=redelivery, timestamp_ms=timestamp_ms)


def sticker_event(user_id: str, reply_token: str, package_id: str = "446", sticker_id: str = "1988", **common) -> dict:
    return _message_event(user_id, reply_token, {"type": "sticker", "packageId": package_id, "stickerId": sticker_id,
                                                 "stickerResourceType": "STATIC"}, **common)


_MEDIA = {
    "image": {"contentProvider": {"type": "line"}},
    "video": {"duration": 12000, "contentProvider": {"type": "line"}},
    "audio": {"duration": 8000, "contentProvider": {"type": "line"}},
    "file": {"fileName": "memo.pdf", "fileSize": 20480},
    "location": {"title": "鎌倉駅", "address": "神奈川県鎌倉市小町1丁目1", "latitude": 35.3191, "longitude": 139.5505},
}


def media_event(user_id: str, reply_token: str, kind: str, **common) -> dict:
    """A message event of type image, video, audio, file or location."""
    return _message_event(user_id, reply_token, {"type": kind, **copy.deepcopy(_MEDIA[kind])}, **common)


def postback_event(user_id: str, data: str, reply_token: str, **common) -> dict:
    return _event("postback", user_id, reply_token, postback={"data": data}, **common)


def follow_event(user_id: str, reply_token: str, **common) -> dict:
    return _event("follow", user_id, reply_token, follow={"isUnblocked": False}, **common)


def unfollow_event(user_id: str, **common) -> dict:
    return _event("unfollow", user_id, None, **common)


def webhook_body(events: list, destination: str = DESTINATION) -> bytes:
    return json.dumps({"destination": destination, "events": events}, ensure_ascii=False).encode("utf-8")


def post_webhook(url: str, channel_secret: str, events, signature: Optional[str] = "auto", timeout: float = 10) -> requests.Response:
    """POST these events (a list, or a raw body as bytes) to the bot's webhook, signed unless ``signature`` is None
    (a str other than "auto" is sent as the signature as it is)."""
    body = events if isinstance(events, bytes) else webhook_body(events)
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Line-Signature"] = sign(channel_secret, body) if signature == "auto" else signature
    return requests.post(url, data=body, headers=headers, timeout=timeout)
