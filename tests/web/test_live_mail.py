"""The crisis e-mail to a duty address (issue 15), through a local SMTP server that the test starts."""

import email
import email.policy
import time

import pytest
from aiosmtpd.controller import Controller

from bot.handoff.store import Store
from bot.handoff.transcripts import Transcripts
from bot.settings import Settings
from bot.web.live_hub import LiveConversation, LiveHub, RasaEvents
from tools.stack import free_port


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_a_new_crisis_is_mailed_once_without_personal_content(tmp_path, smtp):
    inbox, port = smtp
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, duty_email="duty@example.jp", smtp_from="bot@example.jp",
                        handoff_db_url=f"sqlite:///{tmp_path}/h.db", tracker_db_url=f"sqlite:///{tmp_path}/t.db")
    store = Store(settings.handoff_db_url)
    hub = LiveHub(settings, store, Transcripts(settings.tracker_db_url), RasaEvents("http://127.0.0.1:9", "x"))
    state = {"crisis": True, "last_user": "もう きえたい。ママには いえない", "carer_types": ["young_carer"]}
    c = LiveConversation("w0123456789abcdef", "k", time.time(), state, {"destinations": ["kodomo_katei_soudan"]}, None)
    assert store.notice_crisis(c.conversation_id)
    hub.mail_crisis(c)
    hub.mail_crisis(c)  # a second process, or the next tick: not sent again
    assert len(inbox.messages) == 1
    to, raw = inbox.messages[0]
    assert to == ["duty@example.jp"]
    mail = email.message_from_string(raw, policy=email.policy.default)
    body = mail.get_content()
    assert "危険のサイン" in mail["Subject"] and "こども家庭相談課" in body and "コンソール" in body
    for private in ("きえたい", "ママ", "w0123456789abcdef", "young_carer"):
        assert private not in body and private not in raw


def test_without_smtp_settings_nothing_is_sent_and_nothing_fails(tmp_path, smtp):
    inbox, _ = smtp
    settings = Settings(handoff_db_url=f"sqlite:///{tmp_path}/h.db", tracker_db_url=f"sqlite:///{tmp_path}/t.db")
    store = Store(settings.handoff_db_url)
    hub = LiveHub(settings, store, Transcripts(settings.tracker_db_url), RasaEvents("http://127.0.0.1:9", "x"))
    c = LiveConversation("w1", "k", time.time(), {"crisis": True}, None, None)
    store.notice_crisis("w1")
    hub.mail_crisis(c)
    assert inbox.messages == []
