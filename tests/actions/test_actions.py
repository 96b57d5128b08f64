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
    events, messages = _run(_tracker("tracker_child_grade.json"))
    assert events == [
        SlotSet("carer_types", ["young_carer"]),
        SlotSet("user_role", "carer"),
        SlotSet("handoff_destinations", ["kodomo_katei_soudan"]),
        SlotSet("crisis", False),
        SlotSet("asked", ["thanked", "age", "utter_about_young_carer"]),
        SlotSet("crisis_lines_given", False),
        SlotSet("destinations_given", ["kodomo_katei_soudan"]),
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
    ]
    assert messages[2]["name"] == "こども家庭相談課"


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
    assert SlotSet("crisis", True) in events
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
