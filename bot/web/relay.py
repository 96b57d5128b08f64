"""The chat widget's server side: /widget.js, a demo page, and an exactly-once relay to Rasa.

The widget posts each message with an id of its own; the relay forwards it to Rasa's
REST channel once and keeps the answer, so a message retried after a network or
server failure is never processed twice, even across a restart of this app.
``create_app`` builds one `Relay` per app and keeps it on ``app.ctx.relay``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
from pathlib import Path
from typing import Awaitable, Callable, Dict, Optional, Tuple

import aiohttp
import sqlalchemy as sa
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import catalog
from bot.channels import channel_of
from bot.handoff.store import Delivery, Store

STATIC = Path(__file__).resolve().parent / "static"
MAX_TEXT = 5000
_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type"}


class Relay:
    """Forward each (sender, message id) to Rasa exactly once."""

    def __init__(self, store: Store, rasa_url: str,
                 held: Optional[Callable[[str, str], Awaitable[Optional[list]]]] = None, line_token: str = "") -> None:
        """``held``: stores a message without the bot while staff hold its conversation (bot.web.live).
        ``line_token``: the LINE adapter's secret (LINE_RELAY_TOKEN); "" refuses every LINE conversation."""
        self.store, self.rasa_url, self.held, self.line_token = store, rasa_url.rstrip("/"), held, line_token
        self.in_flight: Dict[Tuple[str, str], asyncio.Future] = {}
        self.http: Optional[aiohttp.ClientSession] = None

    def _stored(self, sender: str, msg_id: str) -> Optional[list]:
        with self.store.session() as s:
            row = s.query(Delivery).filter_by(sender=sender, msg_id=msg_id).first()
            return json.loads(row.answer) if row else None

    def _keep(self, sender: str, msg_id: str, answer: list) -> None:
        with self.store.session() as s:
            s.add(Delivery(sender=sender, msg_id=msg_id, answer=json.dumps(answer, ensure_ascii=False)))
            try:
                s.commit()
            except sa.exc.IntegrityError:
                s.rollback()

    async def send(self, sender: str, msg_id: str, text: str) -> list:
        """Return Rasa's answer to this message, asking Rasa at most once."""
        known = self._stored(sender, msg_id)
        if known is not None:
            return known
        key = (sender, msg_id)
        if key in self.in_flight:  # the same message retried while the first is on its way
            return await asyncio.shield(self.in_flight[key])
        future = asyncio.get_event_loop().create_future()
        self.in_flight[key] = future
        try:
            answer = await self.held(sender, text) if self.held else None
            if answer is not None:  # staff hold the conversation: stored, not read by the bot
                self._keep(sender, msg_id, answer)
                future.set_result(answer)
                return answer
            if self.http is None:
                # One connection pool for the app's life: no new TCP handshake per message.
                self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            async with self.http.post(f"{self.rasa_url}/webhooks/rest/webhook",
                                      json={"sender": sender, "message": text}) as r:
                if r.status != 200:
                    raise ConnectionError(f"rasa answered {r.status}")
                answer = await r.json()
            self._keep(sender, msg_id, answer)
            future.set_result(answer)
            return answer
        except BaseException as e:
            future.set_exception(e)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waits
            raise
        finally:
            self.in_flight.pop(key, None)


async def widget_js(request: Request) -> HTTPResponse:
    """The widget's script, for the city's pages (another origin: CORS)."""
    return await response.file(str(STATIC / "widget.js"), mime_type="application/javascript; charset=utf-8",
                               headers={**CORS, "Cache-Control": "no-cache"})


async def demo(request: Request) -> HTTPResponse:
    """A page with the widget on it."""
    return await response.file(str(STATIC / "demo.html"), mime_type="text/html; charset=utf-8")


async def neutral(request: Request) -> HTTPResponse:
    """The neutral page the widget's quick exit leads to."""
    return await response.file(str(STATIC / "neutral.html"), mime_type="text/html; charset=utf-8")


async def crisis_lines(request: Request) -> HTTPResponse:
    """The crisis lines from the catalog, for the widget to show without asking Rasa."""
    lines = [{k: line[k] for k in ("name", "phone", "hours", "audience")} for line in catalog.crisis_lines(child=True)]
    return response.json({"lines": lines}, headers=CORS)


async def preflight(request: Request) -> HTTPResponse:
    """The CORS preflight of /chat/send."""
    return response.empty(headers=CORS)


def channel_refused(request: Request, sender: str) -> bool:
    """True when a LINE conversation (``line-...``) is asked for by anyone but the LINE adapter.

    Only the adapter knows LINE_RELAY_TOKEN (``Authorization: Bearer``): a widget cannot pass itself off
    as LINE, and nobody but the adapter reads or writes a LINE conversation.
    """
    if channel_of(sender) != "line":
        return False
    token: str = request.app.ctx.relay.line_token
    given = request.headers.get("authorization", "")
    return not (token and hmac.compare_digest(given.encode("utf-8"), f"Bearer {token}".encode()))


def _refused(body: object) -> Optional[str]:
    """Why a message cannot be relayed (the text the widget shows), or None when it can."""
    if not isinstance(body, dict):
        return "JSON の形で送ってください。"
    sender, msg_id, text = body.get("sender"), body.get("id"), body.get("text")
    if not (isinstance(sender, str) and _ID.match(sender) and isinstance(msg_id, str) and _ID.match(msg_id)):
        return "sender と id が正しくありません。"
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return f"メッセージは1〜{MAX_TEXT}文字でお送りください。"
    return None


async def send(request: Request) -> HTTPResponse:
    """Relay one message of the widget to Rasa (exactly once) and return Rasa's answer."""
    try:
        body = request.json or {}
    except Exception:  # noqa: BLE001 - any unreadable body is the sender's error
        body = None
    error = _refused(body)
    if error is not None:
        return response.json({"error": error}, status=400, headers=CORS)
    if channel_refused(request, body["sender"]):
        return response.json({"error": "sender が正しくありません。"}, status=403, headers=CORS)
    relay: Relay = request.app.ctx.relay
    try:
        answer = await relay.send(body["sender"], body["id"], body["text"])
    except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError, OSError):
        return response.json({"error": "unavailable"}, status=503, headers=CORS)
    return response.json({"id": body["id"], "messages": answer}, headers=CORS)


def blueprint() -> Blueprint:
    """The widget's routes."""
    bp = Blueprint("relay")
    bp.add_route(widget_js, "/widget.js", methods=["GET"])
    bp.add_route(demo, "/demo", methods=["GET"])
    bp.add_route(neutral, "/neutral", methods=["GET"])
    bp.add_route(crisis_lines, "/chat/crisis-lines", methods=["GET"])
    bp.add_route(preflight, "/chat/send", methods=["OPTIONS"])
    bp.add_route(send, "/chat/send", methods=["POST"])
    return bp
