"""Hand-off with consent, turn by turn through action_assess_carer and a real SQLite store."""

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import actions
from bot import dialogue
from bot.handoff.store import Staff, Store
from bot.rasa import assess_action


class Conversation:
    """Run the action turn after turn, carrying the slots as the Rasa server would."""

    def __init__(self, sender: str):
        self.sender, self.slots, self.events = sender, {}, [{"event": "action", "name": "action_session_start"}]

    def say(self, text: str, intent: str = "share_situation"):
        self.events.append({"event": "user", "text": text, "parse_data": {}})
        tracker = Tracker.from_dict(
            {
                "sender_id": self.sender,
                "slots": dict(self.slots),
                "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.9}},
                "events": list(self.events),
                "paused": False,
                "followup_action": None,
                "active_loop": {},
                "latest_action_name": "action_listen",
            }
        )
        dispatcher = CollectingDispatcher()
        for event in asyncio.run(actions.ActionAssessCarer().run(dispatcher, tracker, {})):
            self.slots[event["name"]] = event["value"]
        return dispatcher.messages


@pytest.fixture()
def store(tmp_path, monkeypatch):
    the_store = Store(f"sqlite:///{tmp_path}/handoff.db")
    monkeypatch.setattr(assess_action, "store", lambda: the_store)
    yield the_store


ADMIN = Staff("admin", "fukushi_somu", True)


def test_consent_creates_a_record_with_a_reference_and_an_optional_contact(store):
    c = Conversation("conv-yes")
    messages = c.say("認知症の母を介護しています。52歳の会社員です")
    assert [m["response"] for m in messages][-1] == "utter_ask_consent"
    done = c.say("はい", "affirm")
    assert done[0]["response"] == "utter_handoff_done"
    ref = done[0]["ref"]
    assert ref.startswith("KC-") and c.slots["handoff_ref"] == ref
    record = store.get(ADMIN, ref)
    assert record["conversation_id"] == "conv-yes"
    assert record["destinations"][0] == "koreisha_ikiiki"
    assert record["carer_types"] == ["business_carer"]
    assert "認知症" in record["summary"] and record["contact"] is None

    assert c.say("0467-12-3456", "inform")[0]["response"] == "utter_contact_saved"
    assert store.get(ADMIN, ref)["contact"] == "0467123456"


def test_an_invalid_contact_is_asked_again_once_then_none_is_accepted(store):
    c = Conversation("conv-contact")
    c.say("高2です。弟に障害があって毎日世話をしています")
    ref = c.say("はい", "affirm")[0]["ref"]
    assert c.say("abc@", "inform")[0]["response"] == "utter_contact_invalid"
    assert c.say("なしで", "inform")[0]["response"] == "utter_contact_none"
    assert store.get(ADMIN, ref)["contact"] is None


def test_no_means_no_record_and_only_the_contact_information(store):
    c = Conversation("conv-no")
    c.say("認知症の父を介護しています。60代で仕事はしていません")
    messages = c.say("いいえ", "deny")
    assert messages[0]["response"] == "utter_handoff_declined"
    assert {m["response"] for m in messages[1:]} == {"utter_contact_info"}
    assert store.list_handoffs(ADMIN) == []
    assert c.slots["consent"] == "no"


def test_a_crisis_asks_consent_at_once_and_stands_first(store):
    Conversation("conv-calm").say("高1です。母が病気で家事をしています")
    calm = Conversation("conv-calm2")
    calm.say("高1です。母が病気で家事をしています")
    calm.say("はい", "affirm")
    c = Conversation("conv-crisis")
    messages = c.say("もう死にたい")
    assert [m["response"] for m in messages] == ["utter_crisis", "utter_ask_consent_crisis"]
    ref = c.say("うん", "affirm")[0]["ref"]
    listed = store.list_handoffs(ADMIN)
    assert listed[0]["ref"] == ref and listed[0]["crisis"] is True
    assert len(listed) == 2


def test_an_english_writer_is_told_once_that_the_replies_are_japanese(store):
    c = Conversation("english")
    first = [m["response"] for m in c.say("Hi, I'm 16 and I look after my little sister because my mum is ill")]
    assert first[0] == "utter_english_note"
    assert "utter_ask_consent" in first  # the story was read: a destination is offered as usual
    assert "utter_english_note" not in [m["response"] for m in c.say("yes please")]
    # Japanese, or Japanese mixed with English, gets no note; a crisis keeps the lines first.
    assert "utter_english_note" not in [m["response"] for m in Conversation("ja").say("ママが病気で so tired")]
    crisis = [m["response"] for m in Conversation("en-crisis").say("my dad hits me and I want to die")]
    assert crisis[:2] == ["utter_crisis", "utter_english_note"]
    assert "utter_english_note" not in [m["response"] for m in Conversation("hi").say("hello")]


def test_a_medical_emergency_is_told_to_call_119_first_once(store):
    c = Conversation("emergency")
    first = c.say("ばあちゃんが おふろで しずんでた。ひきあげたけど いきしてるか わからない")
    assert [m["response"] for m in first][:2] == ["utter_emergency", "utter_crisis"]
    # 119 alone first, in its own short message; then at most one line, not the whole list (issue 14).
    assert "119" in first[0]["line"] and len(first[1]["lines"].splitlines()) == 1 and "119" not in first[1]["lines"]
    assert "utter_emergency" not in [m["response"] for m in c.say("はい")]
    # A danger sign that is not a medical emergency keeps the crisis lines first, without the 119 advice.
    assert [m["response"] for m in Conversation("no-119").say("もう全部終わりにしたい")][0] == "utter_crisis"


def test_heavy_distress_without_danger_gets_a_listening_line_once(store):
    c = Conversation("distress")
    first = c.say("仕事と母の介護で、毎日しんどいです。眠れない日もあります")
    names = [m["response"] for m in first]
    assert names[:2] == ["utter_thanks_for_sharing", "utter_distress_line"]
    assert "よりそいホットライン" in first[1]["line"]
    assert "utter_distress_line" not in [m["response"] for m in c.say("48歳です。会社員です。つらいです")]
    child = Conversation("distress-child").say("ママが びょうきで まいにち おとうとの おせわ してる。つらい")
    assert "子供SOS" in next(m["line"] for m in child if m["response"] == "utter_distress_line")
    # Danger gets the crisis lines instead; plain telling gets neither.
    assert "utter_distress_line" not in [m["response"] for m in Conversation("d-crisis").say("もう限界。死にたい")]
    assert "utter_distress_line" not in [m["response"] for m in Conversation("d-plain").say("母の介護をしています")]


def _between_thresholds() -> str:
    """A carer's first message, not read by the danger reader in training, that it puts between its
    thresholds (so the bot asks): found, not written here, since the thresholds are learned."""
    return next(_candidates())


def _candidates():
    from pathlib import Path

    import yaml

    from bot import triage
    from bot.triage import danger_model

    r = danger_model.reader()
    tests = Path(__file__).resolve().parents[1]
    for path in [tests / "crisis" / "probe3.yml", *sorted((tests / "eval").glob("*.yml"))]:
        for conv in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            text = conv["turns"][0]
            if r.low <= danger_model.score([text]) < r.high:
                a = triage.assess([text])
                if not a.crisis and a.user_role == "carer" and not dialogue.easy_japanese(a):
                    yield text
    raise AssertionError("no carer's message between the thresholds")


def test_yes_to_the_safety_check_is_a_crisis_and_no_goes_on(store):
    text = _between_thresholds()
    c = Conversation("check-yes")
    first = [m["response"] for m in c.say(text)]
    assert first[-1] == "utter_danger_check" and c.slots["awaiting"] == "danger_check" and not c.slots["crisis"]
    assert [m["response"] for m in c.say("はい", intent="affirm")] == ["utter_ask_consent_crisis"]
    assert c.slots["crisis"] is True
    assert "utter_handoff_created" in [m["response"] for m in c.say("はい", intent="affirm")] or c.slots["handoff_ref"]
    assert store.handoff_for_conversation("check-yes")["crisis"] is True
    n = Conversation("check-no")
    n.say(text)
    later = [m["response"] for m in n.say("いいえ、大丈夫です。45歳の会社員です", intent="deny")]
    assert not n.slots["crisis"] and "utter_ask_consent_crisis" not in later


def test_staff_see_that_the_safety_check_was_asked(store):
    # The first of the found messages whose conversation comes to the consent question.
    for i, text in enumerate(_candidates()):
        n = Conversation(f"check-summary-{i}")
        n.say(text)
        assert n.slots["awaiting"] == "danger_check"
        n.say("いいえ、大丈夫です。45歳の会社員です", intent="deny")
        if n.slots["awaiting"] != "consent":
            n.say("父は認知症です", intent="inform")
        if n.slots["awaiting"] == "consent":
            break
    assert n.slots["awaiting"] == "consent" and not n.slots["crisis"]
    n.say("はい", intent="affirm")
    record = store.handoff_for_conversation(n.sender)
    assert record is not None and not record["crisis"]
    assert record["summary"].startswith("【要確認: 危険の可能性")
