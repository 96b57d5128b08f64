"""On LINE, the person may ask the city to answer in the same LINE talk (issue 16); on the web, not."""

from __future__ import annotations

import pytest

from bot.channels import LINE_CONTACT
from bot.dialogue import Conversation, Message, StoreContact, take_turn

STORY = "小5です。ママが入院してて、弟のごはんとかせんたく、ぜんぶわたしがやってる"


def _asked_for_contact(channel: str):
    first = take_turn(Conversation(), [STORY], Message(STORY, "share_situation"), channel=channel)
    yes = take_turn(first.conversation, [STORY, "うん、つたえて"], Message("うん、つたえて", "affirm"), channel=channel)
    conv = yes.conversation
    conv.handoff_ref = "KC-TEST22"
    return conv, [name for name, _ in yes.replies]


def test_the_contact_question_offers_the_line_talk_only_on_line():
    _, on_line = _asked_for_contact("line")
    _, on_web = _asked_for_contact("web")
    assert "utter_ask_contact_line" in on_line and "utter_ask_contact" not in on_line
    assert "utter_ask_contact" in on_web and "utter_ask_contact_line" not in on_web


@pytest.mark.parametrize("answer", ["LINE", "ﾗｲﾝで", "らいんでおねがい", "このトークでいいです", "ここで"])
def test_line_as_a_contact_is_kept_as_such(answer):
    conv, _ = _asked_for_contact("line")
    turn = take_turn(conv, [STORY, "うん、つたえて", answer], Message(answer, "share_situation"), channel="line")
    assert [name for name, _ in turn.replies] == ["utter_contact_line"]
    assert [e.contact for e in turn.effects if isinstance(e, StoreContact)] == [LINE_CONTACT]


def test_a_phone_number_or_none_still_work_on_line_and_line_means_nothing_on_the_web():
    conv, _ = _asked_for_contact("line")
    phone = take_turn(conv, [STORY, "うん、つたえて", "090-1234-5678"], Message("090-1234-5678", "share_situation"), channel="line")
    assert [e.contact for e in phone.effects if isinstance(e, StoreContact)] == ["09012345678"]
    none = take_turn(conv, [STORY, "うん、つたえて", "ラインはいらない"], Message("ラインはいらない", "share_situation"), channel="line")
    assert [n for n, _ in none.replies] == ["utter_contact_none"]
    web_conv, _ = _asked_for_contact("web")
    web = take_turn(web_conv, [STORY, "うん、つたえて", "LINE"], Message("LINE", "share_situation"), channel="web")
    assert not [e for e in web.effects if isinstance(e, StoreContact)]
