"""Issue 16: the widget's conversations, played through LINE, give the same answers, slots and hand-offs.

Every conversation of a held-out set (tests/eval/blind.yml) is played twice on the same stack: once
over the widget's relay, once as LINE events through the adapter and the fake LINE API. Where the bot
asks for consent, both say 「はい」. The replies are compared as text (LINE splits long ones; the
reference numbers differ), then the slots and the hand-offs' destinations.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import requests
import yaml

from tests.line.conftest import LinePerson, texts
from tests.line.fake_line import text_event

pytestmark = pytest.mark.server

SET = Path(__file__).resolve().parents[1] / "eval" / "blind.yml"
DOMAIN = Path(__file__).resolve().parents[2] / "domain.yml"
SLOTS = ("carer_types", "user_role", "handoff_destinations", "crisis", "speech_style", "consent", "awaiting", "crisis_lines_given")


def _flat(text: str) -> str:
    return re.sub(r"KC-[0-9A-Z]{6}", "KC-", re.sub(r"\s+", "", text))


def _as_on_line(web_text: str) -> str:
    """The one difference by design: after a consent, LINE's contact question also offers this LINE talk."""
    responses = yaml.safe_load(DOMAIN.read_text(encoding="utf-8"))["responses"]
    for on_web, on_line in zip(responses["utter_ask_contact"], responses["utter_ask_contact_line"]):
        web_text = web_text.replace(_flat(on_web["text"]), _flat(on_line["text"]))
    return web_text


def test_every_conversation_of_a_held_out_set_is_the_same_on_line_as_on_the_web(line):
    conversations = yaml.safe_load(SET.read_text(encoding="utf-8"))["conversations"]
    different = []
    handoffs = crises = 0
    for conv in conversations:
        sender, person = "w" + uuid.uuid4().hex, LinePerson(line)
        turns = list(conv["turns"])
        asked = False
        for n, text in enumerate(turns + ["はい"]):
            if n == len(turns) and not asked:
                break
            web = requests.post(f"{line['url']}/chat/send", json={"sender": sender, "id": uuid.uuid4().hex, "text": text},
                                timeout=60).json()["messages"]
            calls = person.send(text_event(person.user, text, person.token()))
            if _as_on_line(_flat("".join(m.get("text") or "" for m in web))) != _flat("".join(texts(calls))):
                different.append((conv["id"], n, "replies"))
            buttons = next(([b["title"] for b in m["buttons"]] for m in reversed(web) if m.get("buttons")), [])
            quick = [i["action"]["label"] for i in ((calls[-1]["messages"][-1].get("quickReply") or {}).get("items") or [])] if calls else []
            if buttons != quick:
                different.append((conv["id"], n, "buttons", buttons, quick))
            asked = "はい" in buttons
        slots_web, slots_line = line["stack"].slots(sender), line["stack"].slots(person.conversation)
        for name in SLOTS:
            if slots_web.get(name) != slots_line.get(name):
                different.append((conv["id"], name, slots_web.get(name), slots_line.get(name)))
        h_web = line["store"].handoff_for_conversation(sender)
        h_line = line["store"].handoff_for_conversation(person.conversation)
        if (h_web or {}).get("destinations") != (h_line or {}).get("destinations"):
            different.append((conv["id"], "hand-off", h_web, h_line))
        handoffs += bool(h_web)
        crises += bool(slots_web.get("crisis"))
    assert not different, different
    assert handoffs >= 5 and crises >= 5, (handoffs, crises)  # the set exercises hand-offs and crises
