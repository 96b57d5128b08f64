"""No cold turn (issue 18): each process pays its first-call costs before it says it is ready.

Rasa's first parse builds TensorFlow's functions (0.1-0.2 s), the action server's first turn compiles
the lexicon and reads with the learned reader for the first time: together the first person after a
restart waited about 0.4 s more than the tenth (make bench). The action server runs ``actions`` before
it listens (actions/actions.py). Rasa runs ``rasa_agent`` while it loads the model, before its port
opens (bot.rasa.server), and waits there for the action server: once Rasa answers, both are warm. The
web app's ``/ready`` answers 200 only then (bot.web), and the widget waits for it.

The texts are the bot's own, not anyone's: nothing is stored, nothing is sent anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

logger = logging.getLogger(__name__)

# A greeting, an FAQ question, and a long story that reaches every part of the triage (age, work,
# the person cared for, tiredness): short and long inputs, the FAQ selector and the danger reader.
TEXTS = (
    "こんにちは",
    "ヤングケアラーってなんですか？",
    "中学2年です。お母さんが病気で、毎日ごはんを作って弟の世話をしています。部活にも行けなくて、"
    "夜は宿題ができないまま寝てしまいます。父は仕事で帰りが遅いです。最近ずっとつかれていて、"
    "だれに相談したらいいのかわかりません。",
)


async def rasa_agent(agent: Any, wait_for_actions: float = 60.0) -> None:
    """Wait (up to ``wait_for_actions`` seconds) until the action server answers, which listens once it
    is warm; then take a whole turn on each text as a new conversation, NLU, policies, the action call
    and the replies, in a tracker store kept in memory for the purpose: nothing is written to the real
    one. Its first connection is opened by a read of a conversation that does not exist."""
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.tracker_store import InMemoryTrackerStore

    if agent is None or not agent.is_ready():
        return  # no model: Rasa says so itself, there is nothing to warm
    endpoint = getattr(agent, "action_endpoint", None)
    if endpoint is not None and endpoint.url:
        await _action_server_up(endpoint.url.rsplit("/", 1)[0] + "/health", wait_for_actions)
    processor = agent.processor
    real = processor.tracker_store
    processor.tracker_store = InMemoryTrackerStore(agent.domain)
    try:
        for n, text in enumerate(TEXTS):
            await processor.handle_message(UserMessage(text, CollectingOutputChannel(), f"warm-up-{n}"))
    except Exception as e:  # noqa: BLE001 - a failed warm-up only means a slower first turn
        logger.warning("warm-up turn failed (%s)", type(e).__name__)
    finally:
        processor.tracker_store = real
    await real.retrieve("warm-up-0")


async def _action_server_up(url: str, seconds: float) -> None:
    import aiohttp

    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while True:
            try:
                async with http.get(url) as r:
                    if r.status == 200:
                        return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                pass
            if time.monotonic() >= deadline:
                logger.warning("the action server did not answer within %.0f s: Rasa starts without waiting longer", seconds)
                return
            await asyncio.sleep(0.2)


def actions() -> None:
    """Take a turn on each text as a new conversation would, without carrying out its effects."""
    from bot.dialogue import Conversation, Message, take_turn

    for text in TEXTS:
        take_turn(Conversation(), [text], Message(text, "share_situation", ""))
