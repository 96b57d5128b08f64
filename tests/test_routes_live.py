"""Each route of the plan and each register, over the real stack (REST, the trained model, the actions).

A route (bot/triage/routing.py ROUTES) is checked in the slots (``handoff_destinations``) and in the
text of the reply, which must name the place. A register (bot/dialogue/style.py) is checked in the
text: a child gets やさしい日本語 (readings, no measure numbers, no keigo), a known adult polite standard
Japanese with no child wording, a writer not known yet the plain register (no 「40代」 offered to a
possible child). The assertions are on properties of the replies, not on copies of the responses.
"""

import re
import uuid

import pytest

from bot.triage.routing import ROUTES

pytestmark = pytest.mark.server

# The Japanese names of the destinations (data/catalog.yml, ``name``).
NAMES = {
    "shogai_fukushi": "障害福祉課",
    "family_support": "ファミリーサポートセンター",
    "seikatsu_fukushi": "生活福祉課",
    "chiiki_kyosei": "地域共生課",
    "fukushi_somu": "福祉総務課",
    "kyoiku_center": "教育センター",
    "kodomo_katei_soudan": "こども家庭相談課",
    "koreisha_ikiiki": "高齢者いきいき課",
    "shoko": "商工課",
}
# The measure of the plan behind a route, cited to an adult next to the place (routing.py's comments).
MEASURES = {
    "transport": "6-3-6-7",
    "wheelchair": "6-3-6-5",
    "child_minding": "6-3-5-5",
    "work_ready": "6-3-5-6",
    "helping": "6-3-5-1",
    "school_staff": "6-3-3-1",
}
MEASURE_NUMBER = re.compile(r"\d+-\d+-\d+")
AGE_QUESTION = re.compile(r"年齢|なんさい")
# A kanji name followed by its reading in hiragana, as the children's names are written: 「…課（…か）」.
READING = re.compile(r"[\u4e00-\u9fff]（[\u3041-\u3096ー・ ]+[\u3041-\u3096]）")
KEIGO = ("いただけますか", "いただけ", "ございます", "いらっしゃ", "差し支え", "お伝えして", "されて")
CHILD_WORDS = ("なんねんせい", "なんさい", "しょうがく", "ちゅうがく", "おしえて くれる", "だよ。")


def _say(stack, sender: str, text: str) -> str:
    """Send one message; return the bot's replies as one text."""
    return "\n".join(r.get("text") or "" for r in stack.say(sender, text))


def _sender() -> str:
    return f"t-{uuid.uuid4().hex}"


# (route, the first message, the answer to the age question or None when the bot should not ask it)
ROUTE_CASES = [
    pytest.param("transport", "母が人工透析を受けていて、通院の足がなくて困っています。福祉タクシーのようなものはありますか",
                 "58歳、会社員です", id="transport"),
    pytest.param("wheelchair", "夫が退院してきますが、家で使う車椅子をレンタルできるところはありますか",
                 "70歳で、仕事はしていません", id="wheelchair"),
    pytest.param("child_minding", "父の入院の手続きに行くあいだ、子どもを一時的に預けられるところを探しています",
                 "34歳のパートです", id="child_minding"),
    pytest.param("work_ready", "父の介護が終わって、これから働く準備をしたいのですが、どこに相談すればいいですか",
                 "35歳、いまは仕事をしていません", id="work_ready"),
    pytest.param("helping", "ヤングケアラーの子どもたちを応援するボランティアをしたいです", None, id="helping"),
    pytest.param("school_staff", "小学校の担任をしています。弟の送り迎えで遅刻が続く児童がいて、学校としてどう支えればいいか知りたいです",
                 None, id="school_staff"),
    pytest.param("training", "ケアマネジャーとして、ヤングケアラーに気づくための研修を受けたいです", None, id="training"),
    pytest.param("many_problems", "母の認知症と息子の不登校が重なって、悩みがいくつもあって整理できません",
                 "50歳、自営業です", id="many_problems"),
    # Realistic wordings the bot once got wrong (issue 14's live tests found them).
    pytest.param("work_ready", "母の看病で大学をやめてから家にいます。働く準備をどこで手伝ってもらえますか", None,
                 id="work_ready-after-nursing-a-parent"),
    pytest.param("helping", "退職して時間ができたので、介護している人を地域で支えたいと思っています", None,
                 id="helping-a-retired-volunteer"),
    pytest.param("helping", "ボランティアとして、家族を介護している人を手伝う活動に参加したいです", None,
                 id="helping-as-a-volunteer"),
    pytest.param("training", "町内会で、家族を介護している人への理解を深める研修会を企画しています", None,
                 id="training-for-a-neighbourhood"),
]


def test_every_route_has_a_live_case():
    assert {p.values[0] for p in ROUTE_CASES} == set(ROUTES)
    assert all(dest in NAMES for ids in ROUTES.values() for dest in ids)


@pytest.mark.parametrize("route, first, answer", ROUTE_CASES)
def test_each_route_names_its_place(live_stack, route, first, answer):
    sender = _sender()
    reply = _say(live_stack, sender, first)
    if answer is not None:
        assert AGE_QUESTION.search(reply), reply  # the bot asks the carer's age before it guides
        reply = _say(live_stack, sender, answer)
    destinations = live_stack.slots(sender)["handoff_destinations"] or []
    for dest in ROUTES[route]:
        assert dest in destinations, destinations
        assert NAMES[dest] in reply, reply
    if route in MEASURES:  # an adult is shown the plan's measure next to the place
        assert MEASURES[route] in reply, reply


def test_an_employer_asking_only_about_training_gets_the_sections_for_employers(live_stack):
    sender = _sender()
    reply = _say(live_stack, sender, "人事課の担当です。親の介護をしている従業員向けに、社内研修を企画しています")
    slots = live_stack.slots(sender)
    assert slots["user_role"] == "employer"
    assert slots["handoff_destinations"][0] == "shoko", slots["handoff_destinations"]
    assert "fukushi_somu" in slots["handoff_destinations"]  # the training route
    assert "商工課" in reply and "福祉総務課" in reply, reply
    assert not AGE_QUESTION.search(reply), reply  # an employer is not asked their age
    assert slots["speech_style"] == "standard"


# --- registers ------------------------------------------------------------------------------------


def test_a_child_gets_easy_japanese(live_stack):
    sender = _sender()
    reply = _say(live_stack, sender, "小5。ママが入院してて弟のごはんつくってる")
    slots = live_stack.slots(sender)
    assert slots["speech_style"] == "easy"
    assert "kodomo_katei_soudan" in slots["handoff_destinations"]
    assert "こども家庭相談課（こどもかていそうだんか）" in reply, reply  # the child-facing name, with its reading
    assert not MEASURE_NUMBER.search(reply) and "取組" not in reply, reply  # no measure numbers for a child
    assert not [k for k in KEIGO if k in reply], reply
    assert not AGE_QUESTION.search(reply), reply  # the grade was given


def test_a_known_adult_gets_standard_polite_japanese(live_stack):
    sender = _sender()
    reply = _say(live_stack, sender, "52歳で、夫の母を家で介護しています")
    assert live_stack.slots(sender)["speech_style"] == "standard"
    assert [k for k in KEIGO if k in reply], reply  # polite: 「されていますか」「いらっしゃる」…
    assert not [w for w in CHILD_WORDS if w in reply], reply
    assert not AGE_QUESTION.search(reply), reply  # the age was given
    reply = _say(live_stack, sender, "週4日、スーパーでパートをしています")
    slots = live_stack.slots(sender)
    assert slots["speech_style"] == "standard"
    assert "koreisha_ikiiki" in slots["handoff_destinations"]
    assert "高齢者いきいき課" in reply and not READING.search(reply), reply  # the name without a reading
    assert MEASURE_NUMBER.search(reply), reply  # an adult is shown the plan's measures
    assert not [w for w in CHILD_WORDS if w in reply], reply


def test_an_adult_known_by_work_is_asked_age_in_standard_japanese(live_stack):
    sender = _sender()
    reply = _say(live_stack, sender, "会社勤めをしながら、母の介護を続けています")
    assert live_stack.slots(sender)["speech_style"] == "standard"
    assert AGE_QUESTION.search(reply), reply
    assert [k for k in KEIGO if k in reply], reply
    assert not [w for w in CHILD_WORDS if w in reply], reply


def test_a_writer_not_known_yet_gets_the_plain_register(live_stack):
    sender = _sender()
    reply = _say(live_stack, sender, "おじいちゃんの世話をしていて、最近ちょっと疲れています")
    assert live_stack.slots(sender)["speech_style"] == "plain"
    assert AGE_QUESTION.search(reply), reply
    assert "40代" not in reply, reply  # no adult's example offered to a possible child
    assert re.search(r"中学|高校", reply), reply  # a school grade is among the examples
    assert not [k for k in ("差し支え", "いただけますか", "いらっしゃ") if k in reply], reply
    assert not [w for w in CHILD_WORDS if w in reply], reply


def test_a_grandparent_writing_in_hiragana_is_not_answered_as_a_child(live_stack):
    sender = _sender()
    reply = _say(live_stack, sender, "まごが わたしの かいごを して くれて いるけど、がっこうに いけて いないみたいで しんぱい")
    slots = live_stack.slots(sender)
    assert slots["speech_style"] != "easy"
    assert not READING.search(reply) and "（こどもかていそうだんか）" not in reply, reply
    assert not [w for w in CHILD_WORDS if w in reply], reply
    assert "young_carer" in slots["carer_types"]  # the grandchild is the young carer
    assert "こども家庭相談課" in reply, reply


def test_a_grandchild_who_looks_after_her_grandmother_is_a_young_carer(live_stack):
    sender = _sender()
    reply = _say(live_stack, sender, "まごが わたしの せわを してくれて いて、がっこうを やすみがちに なって しんぱいです")
    slots = live_stack.slots(sender)
    assert slots["speech_style"] != "easy"
    assert "young_carer" in slots["carer_types"], slots["carer_types"]
    assert "kodomo_katei_soudan" in slots["handoff_destinations"], slots["handoff_destinations"]
    assert "こども家庭相談課" in reply, reply


def test_a_carer_who_has_never_worked_is_not_a_working_carer(live_stack):
    sender = _sender()
    reply = _say(live_stack, sender, "兄の世話をずっと続けてきて仕事をしたことがありません。働く準備をどう始めればいいか分からないです")
    slots = live_stack.slots(sender)
    assert "business_carer" not in slots["carer_types"], slots["carer_types"]
    assert slots["speech_style"] == "plain"  # neither age nor work is known
    assert "40代" not in reply, reply


def test_a_carer_who_works_as_a_nurse_stays_a_carer(live_stack):
    sender = _sender()
    _say(live_stack, sender, "親の介護と小さい子の育児が重なって、もう手が回りません")
    _say(live_stack, sender, "42歳、看護師をしています")
    slots = live_stack.slots(sender)
    assert slots["user_role"] == "carer"
    assert "fukushi_somu" in slots["handoff_destinations"]


def test_a_neighbourhood_association_planning_training_is_not_an_employer(live_stack):
    sender = _sender()
    reply = _say(live_stack, sender, "自治会の役員です。ケアラーのことを住民に知ってもらう啓発の研修をしたいです")
    slots = live_stack.slots(sender)
    assert slots["user_role"] != "employer"
    assert "shoko" not in slots["handoff_destinations"], slots["handoff_destinations"]
    assert "fukushi_somu" in slots["handoff_destinations"]
    assert "福祉総務課" in reply and "商工課" not in reply, reply
