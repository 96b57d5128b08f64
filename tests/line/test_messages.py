"""The LINE adapter's pure parts: Rasa's answer as LINE messages, and its own store (issue 16)."""

from __future__ import annotations

import sqlite3

import pytest

from bot.channels import channel_of, label, line_conversation_id
from bot.line.messages import MAX_LABEL, batches, split_text, to_line
from bot.line.store import LineStore

LONG = ("おかあさんが びょうきで、まいにち ごはんを つくって いるんだね。" * 40 + "それは たいへんだったね！「ありがとう。」と いいたいよ。"
        + "あ" * 130 + "。さいご")


@pytest.mark.parametrize("limit", [20, 50, 120, 5000])
def test_a_long_text_is_cut_within_the_limit_and_nothing_is_lost(limit):
    pieces = split_text(LONG, limit)
    assert all(0 < len(p) <= limit for p in pieces)
    assert "".join(pieces).replace(" ", "") == LONG.replace(" ", "")  # only the spaces at a cut may go


def test_cuts_fall_after_a_sentence_end_and_keep_a_closing_bracket():
    pieces = split_text("きょうは つかれたね。ゆっくり やすんでね！「だいじょうぶ。」って いってね。", 16)
    assert pieces[0].endswith("。") and all(not p.startswith("」") for p in pieces)


def test_a_six_thousand_character_reply_becomes_two_messages_of_lines_limit():
    text = ("介護と仕事の両立について、商工課が事業者向けの情報を用意しています。" * 200)[:6000]
    assert len(text) == 6000
    pieces = split_text(text, 5000)
    assert len(pieces) == 2 and all(len(p) <= 5000 for p in pieces) and "".join(pieces) == text


def test_buttons_become_quick_replies_on_the_last_message_only():
    answer = [{"text": "よんで いて しんぱいに なったよ。"},
              {"text": "いま あぶない？", "buttons": [{"title": "はい", "payload": "/affirm"}, {"title": "いいえ", "payload": "/deny"}]},
              {"text": "https://www.city.kamakura.kanagawa.jp/ を みてね"}]
    out = to_line(answer, 5000)
    assert [m["text"] for m in out][2].startswith("https://")  # a link stays a plain URL
    assert "quickReply" not in out[0] and "quickReply" not in out[1]
    items = out[-1]["quickReply"]["items"]
    assert [(i["action"]["label"], i["action"]["data"], i["action"]["type"]) for i in items] == [("はい", "/affirm", "postback"),
                                                                                               ("いいえ", "/deny", "postback")]


def test_a_long_button_title_is_shortened_for_its_label_and_kept_as_what_is_shown():
    title = "家族の介護と仕事の両立について相談したい"  # 20 characters or more
    out = to_line([{"text": "どれですか", "buttons": [{"title": title + "です", "payload": "/x"}]}], 5000)
    action = out[0]["quickReply"]["items"][0]["action"]
    assert len(action["label"]) <= MAX_LABEL and action["displayText"] == title + "です"


def test_five_messages_per_call():
    messages = [{"type": "text", "text": str(i)} for i in range(12)]
    assert [len(b) for b in batches(messages)] == [5, 5, 2]


def test_a_line_conversation_id_is_a_keyed_hash_in_the_widgets_id_rule():
    user = "U" + "0123456789abcdef" * 2
    a, b = line_conversation_id(user, "k" * 32), line_conversation_id(user, "j" * 32)
    assert a != b and a == line_conversation_id(user, "k" * 32)
    assert user not in a and user[1:] not in a and len(a) <= 64 and a.startswith("line-")
    assert channel_of(a) == "line" and label(a) == "LINE" and channel_of("w" + "0" * 31) == "web"
    with pytest.raises(ValueError):
        line_conversation_id(user, "")


def test_the_store_keeps_the_line_id_encrypted_and_forgets_it(tmp_path):
    path, user = str(tmp_path / "line.db"), "U" + "fedcba9876543210" * 2
    store = LineStore(path, "x" * 40)
    conversation = line_conversation_id(user, "x" * 40)
    assert store.claim("EV1", conversation, {"user_id": user, "text": "ひみつ"})
    assert not store.claim("EV1", conversation, {"user_id": user, "text": "ひみつ"})  # a redelivery
    store.remember(conversation, user)
    assert store.user_id(conversation) == user
    assert [e for e, _, p in store.pending()] == ["EV1"]
    store.done("EV1")
    assert store.pending() == []
    store.close()
    raw = open(path, "rb").read() + (open(path + "-wal", "rb").read() if (tmp_path / "line.db-wal").exists() else b"")
    assert user.encode() not in raw and "ひみつ".encode() not in raw
    store = LineStore(path, "x" * 40)
    store.forget(conversation)
    assert store.user_id(conversation) is None
    assert oct((tmp_path / "line.db").stat().st_mode & 0o777) == "0o600"
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1  # the id stays: a late redelivery is still dropped
    assert store.purge(0, now=10**12) == (0, 1)
