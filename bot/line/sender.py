"""Sending to LINE with the official SDK (line-bot-sdk v3, async): reply while the reply token is fresh,
push otherwise, in calls of at most five messages.

A push carries an ``X-Line-Retry-Key`` made from what it delivers (the event and the call's position,
or the staff message's id): a push retried after a timeout or a restart is accepted by LINE once.
Errors are logged by status only: LINE's answer may echo what was sent.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, Dict, List, Optional

import aiohttp
from linebot.v3.messaging import (
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
    Message,
    PushMessageRequest,
    ReplyMessageRequest,
)
from linebot.v3.messaging.exceptions import ApiException

from bot.line.messages import batches

logger = logging.getLogger(__name__)

RETRY_NAMESPACE = uuid.UUID("5b0c7f1e-4c55-4d0a-9a53-6b616d616b75")  # this adapter's retry keys
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0)  # seconds between tries of one call (429, 5xx, network)


def retry_key(*parts: Any) -> str:
    """The same key for the same delivery, wherever and whenever it is retried."""
    return str(uuid.uuid5(RETRY_NAMESPACE, ":".join(str(p) for p in parts)))


class Undeliverable(Exception):
    """LINE refused the call for good (a bad request, a blocked account) or stayed unreachable."""


class LineSender:
    """One SDK client for the process; ``deliver`` and ``push`` do the retries."""

    def __init__(self, access_token: str, api_base: str, reply_seconds: float) -> None:
        self._client = AsyncApiClient(Configuration(access_token=access_token, host=api_base))
        self._api = AsyncMessagingApi(self._client)
        # The generated client builds each URL from its own line_base_path, not from the configuration's
        # host: set it too, so that LINE_API_BASE (a local fake in the tests) is where calls go.
        self._api.line_base_path = api_base.rstrip("/")
        self.reply_seconds = reply_seconds

    async def close(self) -> None:
        await self._client.close()

    async def deliver(self, user_id: str, reply_token: Optional[str], received_ms: int, messages: List[Dict[str, Any]],
                      key: str) -> None:
        """Send ``messages``: the first five as a reply while the token is fresh (a refused token: pushed
        instead), the rest as pushes. ``key`` names this delivery (the webhook event's id)."""
        calls = batches(messages)
        fresh = reply_token and time.time() - received_ms / 1000.0 < self.reply_seconds
        for n, batch in enumerate(calls):
            if n == 0 and fresh and await self._reply(reply_token, batch):
                continue
            await self.push(user_id, batch, retry_key(key, n))

    async def _reply(self, reply_token: str, batch: List[Dict[str, Any]]) -> bool:
        """True if LINE took the reply; False if the token was refused (stale, used): push instead."""
        request = ReplyMessageRequest(reply_token=reply_token, messages=[Message.from_dict(m) for m in batch])
        try:
            await self._call(lambda: self._api.reply_message(request))
            return True
        except Undeliverable as e:
            logger.info("line: reply not taken (%s), pushing instead", e)
            return False

    async def push_all(self, user_id: str, messages: List[Dict[str, Any]], *key: Any) -> None:
        """Push any number of messages, five per call; each call's retry key is ``key`` and its position."""
        for n, batch in enumerate(batches(messages)):
            await self.push(user_id, batch, retry_key(*key, n))

    async def push(self, user_id: str, batch: List[Dict[str, Any]], key: str) -> None:
        """Push up to five messages; a push LINE already accepted under this key counts as sent."""
        request = PushMessageRequest(to=user_id, messages=[Message.from_dict(m) for m in batch])
        await self._call(lambda: self._api.push_message(request, x_line_retry_key=key), accepted=(409,))

    async def _call(self, call, accepted: tuple = ()) -> None:
        for attempt, pause in enumerate((0.0, *BACKOFF)):
            await asyncio.sleep(pause)
            try:
                await call()
                return
            except ApiException as e:
                if e.status in accepted:
                    return
                if e.status != 429 and not 500 <= (e.status or 0) < 600:
                    raise Undeliverable(f"status {e.status}") from None
                logger.warning("line: call failed with status %s (try %d)", e.status, attempt + 1)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
                logger.warning("line: call failed: %s (try %d)", type(e).__name__, attempt + 1)
        raise Undeliverable("no answer after retries")
