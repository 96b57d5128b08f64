"""Issue 17: the support-information check as turns: each kind of person, skipped questions, the offer
after a hand-off, the notices, and no wording of an entitlement in any reply the tool can give."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List

import pytest
import yaml

from bot import supportinfo
from bot.dialogue import Conversation, Message, take_turn
from bot.dialogue.effects import CountSupport, Subscribe, Unsubscribe

ROOT = Path(__file__).resolve().parents[2]
ENTITLEMENT = re.compile(r"もらえます|もらえるよ|受けられます|うけられるよ|受給できます|対象です|対象になります|資格があります|支給されます")


class Chat:
    def __init__(self, channel: str = "web") -> None:
        self.conv, self.texts, self.channel, self.effects = Conversation(), [], channel, []

    def say(self, text: str, intent: str = "share_situation") -> List[str]:
        self.texts.append(text)
        turn = take_turn(self.conv, self.texts, Message(text, intent), channel=self.channel)
        self.conv, self.last = turn.conversation, turn
        self.effects += turn.effects
        return [name for name, _ in turn.replies]

    def shown(self) -> List[str]:
        return [values["name"] for name, values in self.last.replies if name == "utter_support_item"]


def _names(ids):
    return [supportinfo.item(i)["name"] for i in ids]


def test_a_parent_of_a_child_with_a_ryoiku_techo():
    c = Chat()
    first = c.say("5歳の息子に知的障害があって療育手帳をもっています。なにか使える手当はありますか")
    assert first[-2:] == ["utter_support_start", "utter_support_ask_cared_age"]
    assert c.say("5歳") == ["utter_support_ask_certificate"]
    assert c.say("療育手帳") == ["utter_support_ask_living"]
    replies = c.say("自宅で暮らしている")
    assert replies[0] == "utter_support_results" and "utter_support_end" in replies and replies[-1] == "utter_notice_offer"
    assert _names(["tokubetsu_jido_fuyo_teate", "shogaiji_tsusho_shien"])[0] in c.shown()
    assert "特別障害者手当" not in c.shown()  # 20歳以上の手当: the answer rules it out
    assert c.conv.support == {"cared_age": "under_18", "certificate": "ryoiku", "living": "home"}
    assert [e.items for e in c.effects if isinstance(e, CountSupport)][0][:1] == ["tokubetsu_jido_fuyo_teate"]


def test_an_adult_caring_for_a_spouse_with_a_physical_certificate():
    c = Chat()
    c.say("夫が脳梗塞で身体障害者手帳の2級になりました。介護しながら使えるサービスを知りたいです")
    c.say("60歳")
    c.say("身体障害者手帳 1・2級")
    c.say("自宅で暮らしている")
    shown = c.shown()
    assert shown[0] == "特別障害者手当" and "特別児童扶養手当" not in shown and "障害児福祉手当" not in shown
    assert c.last.style == "standard" if hasattr(c.last, "style") else True


def test_a_child_caring_for_a_sibling_in_easy_japanese_with_every_question_skipped():
    c = Chat()
    first = c.say("おとうとに しょうがいが あって まいにち おせわ してる。なにか つかえる サービス ある？")
    assert "utter_support_ask_cared_age" in first
    assert c.last.style == "easy"
    for _ in range(3):
        replies = c.say("スキップ")
    assert replies[0] == "utter_support_results" and len(c.shown()) == 5
    assert c.conv.support == {"cared_age": None, "certificate": None, "living": None}


def test_the_offer_comes_after_a_hand_off_to_a_carer_of_a_disabled_person_once():
    c = Chat()
    c.say("障害のある娘の介護をしています。毎日くたくたです。仕事はしていません。50代です")
    while c.conv.awaiting in ("age", "who", "work"):
        c.say("50代です")
    c.say("はい", "affirm")  # the consent
    offer = c.say("なし")  # no contact
    assert offer[-1] == "utter_support_offer" and c.conv.awaiting == "support_offer"
    assert c.say("はい", "affirm")[-1] == "utter_support_ask_cared_age"


def test_a_story_instead_of_an_answer_is_heard_and_the_check_stops():
    c = Chat()
    c.say("障害のある兄のことで使える制度を教えてください")
    replies = c.say("じつは母も入院していて、わたしが兄の送り迎えも家のこともぜんぶしています。もう学校にも行けていません")
    assert not any(r.startswith("utter_support_ask") for r in replies)


def test_notices_on_line_and_by_e_mail_and_stopping():
    line = Chat("line")
    line.say("障害のある息子に使える手当はある？")
    for answer in ("12歳", "療育手帳", "自宅"):
        replies = line.say(answer)
    assert replies[-1] == "utter_notice_offer_line"
    assert line.say("受け取る") == ["utter_notice_topics"]
    assert line.say("ぜんぶ") == ["utter_notice_line_done"]
    assert [e for e in line.effects if isinstance(e, Subscribe)] == [Subscribe("line", ["allowances", "places", "carer_meetups"])]
    assert line.say("配信停止") == ["utter_notice_stopped"] and any(isinstance(e, Unsubscribe) for e in line.effects)

    web = Chat("web")
    web.say("お知らせを受け取りたいです")
    assert web.conv.awaiting == "notice_topics"
    assert web.say("手当・サービス") == ["utter_notice_ask_email"]
    assert web.say("tanaka@example.jp です") == ["utter_notice_email_sent"]
    assert [e for e in web.effects if isinstance(e, Subscribe)] == [Subscribe("email", ["allowances"], "tanaka@example.jp")]
    assert web.say("配信停止") == ["utter_notice_stop_by_link"]


def test_no_reply_the_tool_can_give_promises_an_entitlement():
    """Every variant of every response of the tool, filled with every item of the file."""
    responses = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))["responses"]
    names = [n for n in responses if n.startswith(("utter_support_", "utter_notice_"))]
    assert len(names) >= 15
    checked = 0
    for item in supportinfo.items():
        values = {"name": item["name"], "reading": item["reading"], "what": item["what"], "what_easy": item["what_easy"],
                  "note": item.get("note", ""), "prepare": "、".join(item["prepare"]), "source": item["source"],
                  "section": "障害福祉課", "n": 5}
        for name in names:
            for variant in responses[name]:
                text = variant["text"].format(**values)
                assert not ENTITLEMENT.search(text), (name, text)
                checked += 1
    assert checked > 300


@pytest.mark.parametrize("broken, words", [
    ({"checked": "2026-13-40"}, "checked"),
    ({"items": [{"id": "x"}]}, "items/0"),
    ({"version": 2}, "version"),
])
def test_a_broken_file_is_refused_with_where_and_what(tmp_path, broken, words):
    data = yaml.safe_load((ROOT / "data" / "support_info.yml").read_text(encoding="utf-8"))
    data.update(broken)
    problems = supportinfo.check(data, sections=["shogai_fukushi"])
    assert problems and any(words in p for p in problems), problems


def test_an_amount_a_phone_number_or_a_promise_in_the_file_is_refused(tmp_path):
    data = yaml.safe_load((ROOT / "data" / "support_info.yml").read_text(encoding="utf-8"))
    data["items"][0]["what"] = "月額 56,800円 が支給されます。"
    data["items"][1]["note"] = "問い合わせは 0467-23-3000 へ。"
    data["items"][2]["what_easy"] = "あなたは対象です。"
    problems = supportinfo.check(data, sections=["shogai_fukushi"])
    assert len(problems) == 3, problems
    path = tmp_path / "support_info.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(supportinfo.SupportInfoError) as e:
        supportinfo.load(str(path))
    assert "refused" in str(e.value) and "円" in str(e.value)
