"""Rasa's REST channel with every body checked first (``credentials.yml``: ``bot.rasa.channels.CheckedRestInput``).

Rasa 3.6's ``RestInput`` reads ``request.json.get(...)`` directly, so a JSON array, ``null``,
a string or a body that is not JSON answers HTTP 500, and a failed turn logs the text the
person wrote. This channel keeps the same URL (``/webhooks/rest/webhook``) and answers, but
refuses a malformed body with 400 and a JSON error that never echoes the body, and logs no
text. Streaming (``?stream=true``) is not offered: nothing here uses it.
"""

from __future__ import annotations

import json
import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Tuple

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024  # a message is at most a few thousand characters (the widget sends ≤ 5,000)
MAX_SENDER = 128
MAX_MESSAGE = 10_000  # longer messages are refused here; the bot itself gently trims shorter long ones


def check_body(raw: bytes) -> Tuple[Optional[Dict[str, Any]], str]:
    """Return (the parsed body, "") or (None, the reason it is refused)."""
    if len(raw) > MAX_BODY_BYTES:
        return None, f"body larger than {MAX_BODY_BYTES} bytes"
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, "body is not JSON"
    if not isinstance(body, dict):
        return None, "body must be a JSON object"
    sender, message, metadata = body.get("sender"), body.get("message"), body.get("metadata")
    if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER:
        return None, f"sender must be a string of 1 to {MAX_SENDER} characters"
    if not isinstance(message, str) or len(message) > MAX_MESSAGE:
        return None, f"message must be a string of at most {MAX_MESSAGE} characters"
    if metadata is not None and not isinstance(metadata, dict):
        return None, "metadata must be an object"
    if not isinstance(body.get("input_channel", ""), str):
        return None, "input_channel must be a string"
    return body, ""


class CheckedRestInput(RestInput):
    """The REST channel (same name and URL), with the body checked before Rasa reads it."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        """Return the channel's routes: GET / (health) and POST /webhook."""
        bp = Blueprint("checked_rest_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request):
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request):
            body, error = check_body(request.body or b"")
            if body is None:
                return response.json({"error": error}, status=400)
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(body["message"], collector, body["sender"],
                                                 input_channel=body.get("input_channel") or self.name(),
                                                 metadata=body.get("metadata")))
            except CancelledError:
                logger.error("rest channel: a turn timed out")  # never the text: it is personal
            except Exception as e:  # noqa: BLE001 - Rasa's own channel answers what it collected, so do we
                logger.error("rest channel: a turn failed (%s)", type(e).__name__)
            return response.json(collector.messages)

        return bp
