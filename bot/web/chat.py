"""The chat widget's server side: /widget.js, a demo page, and an exactly-once relay to Rasa.

The widget posts each message with an id of its own; the relay forwards it to Rasa's
REST channel once and keeps the answer, so a message retried after a network or
server failure is never processed twice, even across a restart of this app.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Dict, Optional, Tuple

import aiohttp
import sqlalchemy as sa
from sanic import Blueprint, response
from sanic.request import Request

from bot import catalog
from bot.handoff.store import Base, Delivery, Store

STATIC = Path(__file__).resolve().parent / "static"
MAX_TEXT = 5000
_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type"}


class Relay:
    """Forward each (sender, message id) to Rasa exactly once."""

    def __init__(self, store: Store, rasa_url: str) -> None:
        Base.metadata.create_all(store.engine)  # the table lives beside the hand-offs
        self.store, self.rasa_url = store, rasa_url.rstrip("/")
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


def create_blueprint(store: Optional[Store] = None) -> Blueprint:
    """Return the widget blueprint."""
    bp = Blueprint("chat")
    relay = Relay(store or Store(), os.environ.get("RASA_URL", "http://localhost:5005"))

    @bp.get("/widget.js")
    async def widget_js(request: Request):
        return await response.file(str(STATIC / "widget.js"), mime_type="application/javascript; charset=utf-8",
                                   headers={**CORS, "Cache-Control": "no-cache"})

    @bp.get("/demo")
    async def demo(request: Request):
        return await response.file(str(STATIC / "demo.html"), mime_type="text/html; charset=utf-8")

    @bp.get("/neutral")
    async def neutral(request: Request):
        return await response.file(str(STATIC / "neutral.html"), mime_type="text/html; charset=utf-8")

    @bp.get("/chat/crisis-lines")
    async def crisis_lines(request: Request):
        lines = [{k: line[k] for k in ("name", "phone", "hours", "audience")} for line in catalog.crisis_lines(child=True)]
        return response.json({"lines": lines}, headers=CORS)

    @bp.route("/chat/send", methods=["OPTIONS"])
    async def preflight(request: Request):
        return response.empty(headers=CORS)

    @bp.post("/chat/send")
    async def send(request: Request):
        try:
            body = request.json or {}
        except Exception:  # noqa: BLE001 - any unreadable body is the sender's error
            body = None
        if not isinstance(body, dict):
            return response.json({"error": "JSON の形で送ってください。"}, status=400, headers=CORS)
        sender, msg_id, text = body.get("sender"), body.get("id"), body.get("text")
        if not (isinstance(sender, str) and _ID.match(sender) and isinstance(msg_id, str) and _ID.match(msg_id)):
            return response.json({"error": "sender と id が正しくありません。"}, status=400, headers=CORS)
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            return response.json({"error": f"メッセージは1〜{MAX_TEXT}文字でお送りください。"}, status=400, headers=CORS)
        try:
            answer = await relay.send(sender, msg_id, text)
        except (aiohttp.ClientError, ConnectionError, asyncio.TimeoutError, OSError):
            return response.json({"error": "unavailable"}, status=503, headers=CORS)
        return response.json({"id": msg_id, "messages": answer}, headers=CORS)

    return bp
