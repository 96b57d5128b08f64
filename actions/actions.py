"""Custom actions. Thin: each calls into ``bot``."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue, japanese, triage


def _user_texts(tracker: Tracker) -> List[str]:
    """Return the user's messages of the current session, oldest first."""
    texts: List[str] = []
    for event in tracker.events:
        if event.get("event") == "action" and event.get("name") == "action_session_start":
            texts = []
        elif event.get("event") == "user" and event.get("text"):
            texts.append(event["text"])
    return texts


class ActionAssessCarer(Action):
    """Assess who is writing and where to go; set the four slots; ask or guide."""

    def name(self) -> str:
        return "action_assess_carer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]
    ) -> List[Dict[str, Any]]:
        intent = tracker.latest_message.get("intent") or {}
        state = dialogue.State(
            asked=list(tracker.get_slot("asked") or []),
            crisis_lines_given=bool(tracker.get_slot("crisis_lines_given")),
            destinations_given=list(tracker.get_slot("destinations_given") or []),
            awaiting=tracker.get_slot("awaiting") or "",
        )
        # Danger is read from the words (bot.lexicon), not from the crisis intent: DIET is
        # sure of 「もう疲れた」 as a crisis, and the lexicon is measured at recall 1.00.
        assessment = triage.assess(_user_texts(tracker), asked=state.asked)
        # Once in danger, a conversation stays flagged: later turns never clear it.
        crisis = assessment.crisis or bool(tracker.get_slot("crisis"))
        assessment.crisis = crisis
        if len(tracker.latest_message.get("text") or "") > japanese.MAX_CHARS:
            dispatcher.utter_message(response="utter_too_long")
        latest = tracker.latest_message.get("text") or ""
        faq = ((tracker.latest_message.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        for response, values in dialogue.plan(
            assessment, intent.get("name") or "", state, latest, faq.get("utter_action") or ""
        ):
            dispatcher.utter_message(response=response, **values)
        return [
            SlotSet("carer_types", assessment.carer_types),
            SlotSet("user_role", assessment.user_role),
            SlotSet("handoff_destinations", assessment.handoff_destinations),
            SlotSet("crisis", crisis),
            SlotSet("asked", state.asked),
            SlotSet("crisis_lines_given", state.crisis_lines_given),
            SlotSet("destinations_given", state.destinations_given),
            SlotSet("awaiting", state.awaiting),
            SlotSet("speech_style", "easy" if dialogue.easy_japanese(assessment) else "standard"),
            SlotSet("facts", assessment.facts.as_dict()),
        ]
