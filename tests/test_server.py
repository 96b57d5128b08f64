"""The real stack over REST: a Japanese greeting, kept conversations, gentle answers to bad input."""

import uuid

import pytest

from tools import stack

pytestmark = pytest.mark.server


def _texts(replies):
    return [r.get("text") or "" for r in replies]


def test_greeting_in_japanese(live_stack):
    replies = live_stack.say(f"t-{uuid.uuid4().hex}", "こんにちは")
    assert replies, "no answer"
    assert "こんにちは" in replies[0]["text"]
    assert "ケアラー相談チャット" in replies[0]["text"]


def test_a_child_is_answered_in_easy_japanese_and_asked_her_grade(live_stack):
    sender = f"t-{uuid.uuid4().hex}"
    texts = _texts(live_stack.say(sender, "ままがびょうきで、まいにちごはんつくってる。つかれちゃった"))
    assert any("おしえて くれる" in t for t in texts), texts  # the easy question for age / grade
    assert not any("ヤングケアラーです" in t for t in texts)  # never a blunt label
    texts = _texts(live_stack.say(sender, "中1"))
    assert any("こども家庭相談課" in t for t in texts), texts
    slots = live_stack.slots(sender)
    assert slots["carer_types"] == ["young_carer"]
    assert slots["user_role"] == "carer"
    assert slots["handoff_destinations"][0] == "kodomo_katei_soudan"
    assert slots["crisis"] is False


def test_crisis_lines_come_first(live_stack):
    sender = f"t-{uuid.uuid4().hex}"
    texts = _texts(live_stack.say(sender, "かいごにつかれて、もう消えてしまいたい"))
    # The writer's age is not known: a line for everyone, the children's line among at most three (issue 14).
    assert "0120-0-78310" in texts[0] and len([t for t in texts[0].splitlines() if t.startswith("・")]) <= 3, texts
    assert live_stack.slots(sender)["crisis"] is True


@pytest.mark.parametrize(
    "message",
    ["", "   ", "\x00\x01\x02", "🙂" * 50, "<script>alert(1)</script>", "あ" * 5000, "ｶｲｺﾞ" * 600],
)
def test_bad_input_gets_an_answer_and_keeps_what_was_stored(live_stack, message):
    sender = f"t-{uuid.uuid4().hex}"
    live_stack.say(sender, "父の介護をしています")
    before = [e for e in live_stack.tracker(sender)["events"] if e["event"] == "user"]
    replies = live_stack.say(sender, message)
    assert isinstance(replies, list)
    if message.strip("\x00\x01\x02 "):
        assert replies and all(r.get("text") for r in replies)
    after = [e for e in live_stack.tracker(sender)["events"] if e["event"] == "user"]
    assert after[: len(before)] == before


def test_long_message_is_read_gently(live_stack):
    sender = f"t-{uuid.uuid4().hex}"
    texts = _texts(live_stack.say(sender, "母の介護をしています。" * 200))
    assert "はじめの部分" in texts[0]


def test_conversation_survives_a_restart(tmp_path, trained_model):
    db = f"sqlite:///{tmp_path / 'tracker.db'}"
    sender = f"t-{uuid.uuid4().hex}"
    with stack.running(db, model=str(trained_model)) as s:
        s.say(sender, "こんにちは")
        s.say(sender, "祖母の介護をしている高校2年です")
        before = s.tracker(sender)
    with stack.running(db, model=str(trained_model)) as s:
        after = s.tracker(sender)
        user_texts = [e["text"] for e in after["events"] if e["event"] == "user"]
        assert user_texts == ["こんにちは", "祖母の介護をしている高校2年です"]
        assert after["slots"]["carer_types"] == before["slots"]["carer_types"] == ["young_carer"]
        # and the conversation goes on with its history
        s.say(sender, "ありがとう")
        assert len([e for e in s.tracker(sender)["events"] if e["event"] == "user"]) == 3
