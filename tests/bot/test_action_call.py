"""The lean action call (bot.rasa.server): the action gets the same facts as from Rasa's whole tracker.

Conversations of the held-out set are played on the real stack; each tracker Rasa keeps is turned into
Rasa's own action call and into the lean one, and what the action reads is compared.
"""

import ast
import json
import os
import uuid
from pathlib import Path
from unittest import mock

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity
from rasa.utils.endpoints import read_endpoint_config
from rasa_sdk import Tracker

from bot.rasa.assess_action import message_of, user_messages
from bot.rasa.server import _action_call_format
from tools.evaluate import load

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))
pytestmark = pytest.mark.server


def _action() -> RemoteAction:
    """The action as Rasa builds it from endpoints.yml (its variables as `make` exports them)."""
    env = {"ACTION_ENDPOINT_URL": "http://localhost:5055/webhook", "ACTION_SERVER_TOKEN": "test", "TRACKER_DB_URL": "sqlite://"}
    with mock.patch.dict(os.environ, {k: os.environ.get(k, v) for k, v in env.items()}):
        return RemoteAction("action_assess_carer", read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint"))


def test_the_action_reads_only_what_the_lean_call_carries():
    """If the action starts reading something else of the tracker, the lean call must carry it too."""
    tree = ast.parse((ROOT / "bot" / "rasa" / "assess_action.py").read_text(encoding="utf-8"))
    read = {node.attr for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "tracker"}
    assert read == {"slots", "events", "latest_message", "sender_id"}


def test_no_domain_is_sent():
    tracker = DialogueStateTracker.from_events("d", [], DOMAIN.slots)
    assert "domain" not in _action_call_format(_action(), tracker, DOMAIN)


def test_the_lean_call_gives_the_action_the_same_facts(live_stack):
    conversations = load(ROOT / "tests" / "eval" / "blind.yml")[:12]
    sizes = []
    for conv in conversations:
        sender = f"call-{uuid.uuid4().hex[:8]}"
        for text in conv["turns"]:
            live_stack.say(sender, text)
        state = live_stack.tracker(sender)
        tracker = DialogueStateTracker.from_dict(sender, state["events"], DOMAIN.slots)
        full = tracker.current_state(EventVerbosity.ALL)  # what Rasa sends
        lean = _action_call_format(_action(), tracker, DOMAIN)["tracker"]
        a, b = Tracker.from_dict(full), Tracker.from_dict(json.loads(json.dumps(lean)))
        assert user_messages(b) == user_messages(a)
        assert message_of(b) == message_of(a)
        assert b.slots == a.slots and b.sender_id == a.sender_id == sender
        assert user_messages(a)[0] == [t for t in conv["turns"] if not t.startswith("/")]
        assert {e["event"] for e in lean["events"]} <= {"user", "action"}  # nothing of the bot's replies
        sizes.append((len(json.dumps(full)), len(json.dumps(lean))))
    full_bytes, lean_bytes = map(sum, zip(*sizes))
    assert lean_bytes * 3 < full_bytes, sizes
