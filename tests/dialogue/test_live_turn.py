"""The turn while a member of staff holds the conversation, and the live chat offered by the hours (issue 15)."""

import datetime as dt

import yaml

from bot import catalog
from bot.dialogue import Conversation, Message, take_turn

NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=catalog.JST)  # a Tuesday
NIGHT = dt.datetime(2026, 12, 1, 22, 0, tzinfo=catalog.JST)


def test_while_staff_hold_it_the_bot_says_nothing_but_still_reads():
    conv = Conversation(staff="kodomo_katei_soudan", awaiting="age")
    turn = take_turn(conv, ["ママがびょうきで、まいにちごはんつくってる", "もう きえたい"], Message("もう きえたい", "share_situation"))
    assert turn.replies == []
    assert turn.conversation.crisis is True  # the danger is read and kept for staff
    assert turn.conversation.awaiting == "age"  # the bot resumes where it stood
    assert turn.conversation.staff == "kodomo_katei_soudan"
    back = take_turn(Conversation(), ["ママがびょうきで、まいにちごはんつくってる"], Message("", "share_situation"))
    assert back.replies  # without staff, the bot answers


def test_a_hold_survives_the_slots_and_bad_values_read_as_none():
    conv = Conversation.from_slots({"staff": "shoko"})
    assert conv.to_slots()["staff"] == "shoko"
    assert Conversation.from_slots({"staff": ["forged"]}).staff == ""


def _with_hours(tmp_path, monkeypatch, hours):
    data = yaml.safe_load(open(catalog.DEFAULT_PATH, encoding="utf-8"))
    data["live_chat"]["hours"] = hours
    path = tmp_path / "catalog.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("CATALOG_PATH", str(path))
    catalog.load.cache_clear()


def _consent(now):
    conv = Conversation(consent="asked", awaiting="consent")
    texts = ["中2です。おばあちゃんの介護をしてる", "はい"]
    return [name for name, _ in take_turn(conv, texts, Message("はい", "affirm"), now=now).replies]


def test_a_person_is_offered_only_within_the_hours_and_told_them_outside(tmp_path, monkeypatch):
    _with_hours(tmp_path, monkeypatch, {"kodomo_katei_soudan": {"text": "平日 9時〜17時", "open": [
        {"days": "weekdays", "from": "09:00", "to": "17:00"}]}})
    try:
        assert "utter_live_offer" in _consent(NOON)
        night = _consent(NIGHT)
        assert "utter_live_hours" in night and "utter_live_offer" not in night
    finally:
        catalog.load.cache_clear()


def test_no_hours_set_nothing_is_offered(tmp_path, monkeypatch):
    _with_hours(tmp_path, monkeypatch, {})
    try:
        replies = _consent(NOON)
        assert "utter_handoff_done" in replies
        assert not {"utter_live_offer", "utter_live_hours"} & set(replies)
    finally:
        catalog.load.cache_clear()
