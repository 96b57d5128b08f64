"""action_assess_carer on trackers built from JSON fixtures: exact events and messages."""

import asyncio
import json
from pathlib import Path

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.actions import ActionAssessCarer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _run(tracker: Tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAssessCarer().run(dispatcher, tracker, {}))
    return events, dispatcher.messages


def _tracker(name: str) -> Tracker:
    return Tracker.from_dict(json.loads((FIXTURES / name).read_text(encoding="utf-8")))


def test_a_child_gives_her_grade():
    # Only the slots that change are set (crisis stays False, so it is not set again).
    events, messages = _run(_tracker("tracker_child_grade.json"))
    assert events == [
        SlotSet("carer_types", ["young_carer"]),
        SlotSet("user_role", "carer"),
        SlotSet("handoff_destinations", ["kodomo_katei_soudan"]),
        # The fixture was stored before issue 13, with the one-time steps in "asked": they move to "done".
        SlotSet("asked", ["age"]),
        SlotSet("done", ["thanked", "utter_about_young_carer"]),
        SlotSet("destinations_given", ["kodomo_katei_soudan"]),
        SlotSet("awaiting", "consent"),
        SlotSet("consent", "asked"),
        SlotSet("handoff_ref", ""),
        SlotSet("contact_tries", 0),
        SlotSet("danger_recorded", False),
        SlotSet("speech_style", "easy"),
        SlotSet(
            "facts",
            {
                "care": True,
                "relations": ["sibling"],
                "conditions": [],
                "needs": [],
                "role": "carer",
                "carer_age": None,
                "stage": "child",
                "working": None,
                "crisis": False,
            },
        ),
    ]
    assert [m["response"] for m in messages] == [
        "utter_about_young_carer",
        "utter_destinations_intro",
        "utter_destination",
        "utter_ask_consent",
    ]
    # A child sees the section's name with its reading, and no measure numbers (issue 14).
    assert messages[2]["name"].startswith("こども家庭相談課（") and messages[2]["measures"] == ""
    assert messages[3]["name"] == messages[2]["name"]


def test_crisis_is_flagged_and_lines_given_once():
    state = json.loads((FIXTURES / "tracker_child_grade.json").read_text(encoding="utf-8"))
    state["events"].append({"event": "action", "name": "action_listen"})
    state["events"].append({"event": "user", "text": "もうきえたい", "parse_data": {}})
    state["latest_message"] = {"text": "もうきえたい", "intent": {"name": "crisis", "confidence": 0.99}}
    events, messages = _run(Tracker.from_dict(state))
    assert SlotSet("crisis", True) in events
    assert SlotSet("crisis_lines_given", True) in events
    assert messages[0]["response"] == "utter_crisis"
    assert "0120-0-78310" in messages[0]["lines"]

    # the next turn does not repeat the lines, and the flag stays on
    state["slots"].update(crisis=True, crisis_lines_given=True)
    state["events"].append({"event": "user", "text": "ありがとう", "parse_data": {}})
    state["latest_message"] = {"text": "ありがとう", "intent": {"name": "thank", "confidence": 0.99}}
    events, messages = _run(Tracker.from_dict(state))
    assert not [e for e in events if e["name"] in ("crisis", "crisis_lines_given")]  # unchanged: still on
    assert all(m["response"] != "utter_crisis" for m in messages)


def test_a_new_session_forgets_the_old_messages():
    state = json.loads((FIXTURES / "tracker_child_grade.json").read_text(encoding="utf-8"))
    state["events"] += [
        {"event": "action", "name": "action_session_start"},
        {"event": "session_started"},
        {"event": "user", "text": "こんにちは", "parse_data": {}},
    ]
    state["slots"] = {}
    state["latest_message"] = {"text": "こんにちは", "intent": {"name": "greet", "confidence": 0.99}}
    events, messages = _run(Tracker.from_dict(state))
    assert SlotSet("carer_types", []) in events
    assert [m["response"] for m in messages] == ["utter_greet"]


def test_a_greeting_with_a_story_is_greeted_then_heard():
    state = json.loads((FIXTURES / "tracker_child_grade.json").read_text(encoding="utf-8"))
    text = "こんにちは。祖父が認知症で、毎日見守りをしています"
    state["events"] = [{"event": "action", "name": "action_session_start"}, {"event": "user", "text": text, "parse_data": {}}]
    state["slots"] = {}
    state["latest_message"] = {"text": text, "intent": {"name": "greet", "confidence": 0.7}}
    events, messages = _run(Tracker.from_dict(state))
    assert [m["response"] for m in messages] == ["utter_greet", "utter_thanks_for_sharing", "utter_ask_age"]
    assert SlotSet("user_role", "carer") in events


def _faq_tracker(text: str) -> Tracker:
    state = json.loads((FIXTURES / "tracker_child_grade.json").read_text(encoding="utf-8"))
    state["events"] = [{"event": "action", "name": "action_session_start"}, {"event": "user", "text": text, "parse_data": {}}]
    state["slots"] = {}
    state["latest_message"] = {
        "text": text,
        "intent": {"name": "faq", "confidence": 0.9},
        "response_selector": {"faq": {"response": {"utter_action": "utter_faq/ordinance", "confidence": 0.9}}},
    }
    return Tracker.from_dict(state)


def test_faq_answer_is_the_one_the_selector_chose():
    events, messages = _run(_faq_tracker("鎌倉市のケアラー条例って何ですか"))
    assert [m["response"] for m in messages] == ["utter_faq/ordinance"]
    assert SlotSet("carer_types", []) in events


def test_a_story_asked_as_a_question_is_heard_not_answered_with_an_faq():
    events, messages = _run(_faq_tracker("認知症の母を介護していますが、条例で何か支援はありますか"))
    responses = [m["response"] for m in messages]
    assert "utter_faq/ordinance" not in responses
    assert responses[-1] == "utter_ask_age"
    assert SlotSet("user_role", "carer") in events


def test_an_answer_that_looks_like_a_question_is_read_as_an_answer():
    state = json.loads((FIXTURES / "tracker_child_grade.json").read_text(encoding="utf-8"))
    state["slots"] = {"asked": ["thanked", "age", "who", "work"], "awaiting": "work"}
    state["events"] = [
        {"event": "user", "text": "父の介護をしています。35歳です", "parse_data": {}},
        {"event": "user", "text": "平日は会社で働いてます", "parse_data": {}},
    ]
    state["latest_message"] = {
        "text": "平日は会社で働いてます",
        "intent": {"name": "faq", "confidence": 0.6},
        "response_selector": {"faq": {"response": {"utter_action": "utter_faq/what_is_business_carer"}}},
    }
    events, messages = _run(Tracker.from_dict(state))
    assert "utter_faq/what_is_business_carer" not in [m["response"] for m in messages]
    assert SlotSet("carer_types", ["youth_carer", "business_carer"]) in events


def test_a_turn_that_cannot_be_read_gets_the_safety_check_and_changes_nothing(monkeypatch, caplog):
    # A fault in the reading (once, a regular expression with two groups) must not leave a person
    # without an answer: the safety check with the general lines, nothing stored, no text logged.
    import bot.rasa.assess_action as action

    def broken(*args, **kwargs):
        raise TypeError("お母さんが病気で")  # an error message may carry the person's words

    monkeypatch.setattr(action, "take_turn", broken)
    events, messages = _run(_tracker("tracker_child_grade.json"))
    assert events == []
    assert [m["response"] for m in messages] == ["utter_danger_check"]
    assert "0120-279-338" in messages[0]["lines"]  # よりそいホットライン, for anyone, from the catalog
    assert "TypeError" in caplog.text and "お母さん" not in caplog.text
