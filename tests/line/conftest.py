"""The LINE channel's stack for its tests: real Rasa and action servers, the real web app, the real
adapter (``python -m bot.line`` in .venv-line) and a local fake of LINE's API that records what is sent.

`LinePerson` plays one LINE user: signed webhook events in, what the fake received out. An event is
finished when the adapter marked it done in its own database: only then are its messages counted.
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any, Dict, List

import pytest

from bot.channels import line_conversation_id
from bot.handoff.store import Store
from tests.line.fake_line import FakeLine, post_webhook, random_user_id, text_event
from tools import stack
from tools.live_client import PASSWORD

SECRET = "9f2c41d7a0b84e6f8c3d5e7a1b2c4d6e"  # the channel secret's shape: 32 hex digits
ACCESS_TOKEN = "fake-channel-access-token-" + "a" * 40
ID_KEY = "3b8e5f7a9c1d2e4f6a8b0c2d4e6f8a0b3b8e5f7a9c1d2e4f"
RELAY_TOKEN = "7c1e9a3b5d7f9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e"
TEXT_LIMIT = 120  # lower than LINE's 5,000: the bot's longer replies are split, as a 6,000-character one would be


class LinePerson:
    """One LINE user talking to the bot through the adapter."""

    def __init__(self, line: Dict[str, Any]) -> None:
        self.line, self.fake = line, line["fake"]
        self.user = random_user_id()
        self.conversation = line_conversation_id(self.user, ID_KEY)

    def post(self, events: List[Dict[str, Any]], signature: Any = "auto"):
        return post_webhook(self.line["webhook"], SECRET, events, signature=signature)

    def token(self) -> str:
        return self.fake.issue_reply_token(self.user)

    def calls(self) -> List[Dict[str, Any]]:
        return [c for c in self.fake.calls() if c["to"] == self.user]

    def send(self, event: Dict[str, Any], timeout: float = 90.0) -> List[Dict[str, Any]]:
        """Post one event; wait until the adapter finished it; return the calls it made for this person."""
        before = len(self.calls())
        r = self.post([event])
        assert r.status_code == 200, r.text
        wait_done(self.line, event["webhookEventId"], timeout)
        return self.calls()[before:]

    def say(self, text: str) -> List[str]:
        """Write a message; return the texts the bot sent back (reply and pushes), in order."""
        return texts(self.send(text_event(self.user, text, self.token())))


def texts(calls: List[Dict[str, Any]]) -> List[str]:
    return [m["text"] for c in calls for m in c["messages"] if m.get("type") == "text"]


def wait_done(line: Dict[str, Any], event_id: str, timeout: float = 90.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with sqlite3.connect(line["db"]) as db:
            row = db.execute("SELECT done_at FROM events WHERE event_id = ?", (event_id,)).fetchone()
        if row and row[0]:
            return
        time.sleep(0.1)
    raise AssertionError(f"event not done within {timeout}s")


def adapter_env(line_db: str, web_url: str, fake_url: str) -> Dict[str, str]:
    return {"LINE_CHANNEL_SECRET": SECRET, "LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN, "LINE_API_BASE": fake_url,
            "LINE_ID_KEY": ID_KEY, "LINE_RELAY_TOKEN": RELAY_TOKEN, "LINE_DB_PATH": line_db, "WEB_URL": web_url,
            "LINE_TEXT_LIMIT": str(TEXT_LIMIT), "LOG_LEVEL": "INFO"}


class Inbox:
    """A local SMTP server's mailbox (aiosmtpd): what the web app sent, by recipient."""

    def __init__(self) -> None:
        self.messages: List[tuple] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"

    def to(self, address: str) -> List[str]:
        return [raw for rcpt, raw in self.messages if address in rcpt]

    def wait_for(self, address: str, n: int = 1, timeout: float = 30.0) -> List[str]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if len(self.to(address)) >= n:
                return self.to(address)
            time.sleep(0.2)
        raise AssertionError(f"{n} mail(s) to {address} not received within {timeout}s: {len(self.to(address))}")


@pytest.fixture(scope="module")
def line(tmp_path_factory, trained_model):
    from aiosmtpd.controller import Controller

    tmp = tmp_path_factory.mktemp("line")
    handoff, tracker = f"sqlite:///{tmp}/handoff.db", f"sqlite:///{tmp}/tracker.db"
    store = Store(handoff)
    for user, section in (("kodomo1", "kodomo_katei_soudan"), ("shoko1", "shoko"), ("somu1", "fukushi_somu"),
                          ("shogai1", "shogai_fukushi")):
        store.add_user(user, PASSWORD, section)
    env = {"HANDOFF_DB_URL": handoff, "CATALOG_PATH": str(stack.catalog_with_live_hours(tmp, away_minutes=5))}
    logs = tmp / "logs"
    inbox, smtp_port = Inbox(), stack.free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    web_port, line_port = stack.free_port(), stack.free_port()
    url, adapter_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{line_port}"
    try:
        with stack.running(tracker, model=str(trained_model), log_dir=logs, extra_env=env) as s:
            web_env = {**env, "TRACKER_DB_URL": tracker, "RASA_URL": s.rasa_url, "RASA_AUTH_TOKEN": s.token,
                       "LINE_RELAY_TOKEN": RELAY_TOKEN, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port),
                       "SMTP_FROM": "carer-chat@example.jp", "PUBLIC_URL": url, "LINE_ADAPTER_URL": adapter_url}
            with stack.web_app(web_env, log=logs / "web.log", port=web_port), FakeLine(ACCESS_TOKEN) as fake:
                db = str(tmp / "line" / "line.db")
                with stack.line_adapter(adapter_env(db, url, fake.url), log=logs / "line.log", port=line_port) as adapter:
                    yield {"url": url, "adapter": adapter, "webhook": f"{adapter}/webhooks/line/webhook", "fake": fake,
                           "db": db, "store": store, "stack": s, "tmp": tmp, "logs": logs, "web_env": web_env, "inbox": inbox}
    finally:
        smtp.stop()
