"""Custom actions. Thin: each calls into ``bot``."""

from __future__ import annotations

import functools
import logging
from typing import Any, Dict, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue, triage
from bot.handoff.store import Store
from bot.language import japanese
from bot.triage import danger_model

logger = logging.getLogger(__name__)
# Learn the second reader of danger now (half a second), not during the first person's turn.
danger_model.warm_up()


@functools.lru_cache(maxsize=1)
def store() -> Store:
    """Open the hand-off store once, on first use (not at import)."""
    return Store()


def _user_messages(tracker: Tracker) -> Tuple[List[str], List[int], int]:
    """(texts of this session without buttons, the position of each among all the conversation's
    user messages, the position of the latest one): the console numbers messages that way."""
    texts: List[str] = []
    positions: List[int] = []
    n = -1
    for event in tracker.events:
        if event.get("event") == "action" and event.get("name") == "action_session_start":
            texts, positions = [], []
        elif event.get("event") == "user":
            n += 1
            if event.get("text") and not event["text"].startswith("/"):
                texts.append(event["text"])
                positions.append(n)
    return texts, positions, n


class ActionAssessCarer(Action):
    """Assess who is writing and where to go; set the four slots; ask, guide, hand off."""

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
            consent=tracker.get_slot("consent") or "",
            handoff_ref=tracker.get_slot("handoff_ref") or "",
            contact_tries=int(tracker.get_slot("contact_tries") or 0),
        )
        # Danger is read from the words (bot.triage.lexicon), not from the crisis intent: DIET is
        # sure of 「もう疲れた」 as a crisis, and the lexicon is measured at recall 1.00.
        texts, positions, latest_position = _user_messages(tracker)
        assessment = triage.assess(texts, asked=state.asked)
        # Once in danger, a conversation stays flagged: later turns never clear it.
        assessment.crisis = assessment.crisis or bool(tracker.get_slot("crisis"))
        if state.handoff_ref and not store().owns(state.handoff_ref, tracker.sender_id):
            # Only a forged or damaged tracker carries another conversation's reference: change
            # nothing of that case, say so gently, and go on as a conversation without one.
            logger.warning("a tracker carried a hand-off reference that is not its own: ignored")
            dispatcher.utter_message(response="utter_handoff_unknown")
            state.handoff_ref, state.consent = "", ""
            state.awaiting = "" if state.awaiting == "contact" else state.awaiting
        latest = tracker.latest_message.get("text") or ""
        if len(latest) > japanese.MAX_CHARS:
            dispatcher.utter_message(response="utter_too_long")
        faq = ((tracker.latest_message.get("response_selector") or {}).get("faq") or {}).get("response") or {}
        replies = dialogue.plan(assessment, intent.get("name") or "", state, latest, faq.get("utter_action") or "")
        self._hand_off(tracker.sender_id, assessment, state, texts, positions + [latest_position])
        for response, values in replies:
            values = {k: (state.handoff_ref if v == dialogue.REF else v) for k, v in values.items()}
            dispatcher.utter_message(response=response, **values)
        values = {
            "carer_types": assessment.carer_types,
            "user_role": assessment.user_role,
            "handoff_destinations": assessment.handoff_destinations,
            "crisis": assessment.crisis,  # a 「はい」 to the safety check made it one
            "asked": state.asked,
            "crisis_lines_given": state.crisis_lines_given,
            "destinations_given": state.destinations_given,
            "awaiting": state.awaiting,
            "consent": state.consent,
            "handoff_ref": state.handoff_ref,
            "contact_tries": state.contact_tries,
            "speech_style": "easy" if dialogue.easy_japanese(assessment) else "standard",
            "facts": assessment.facts.as_dict(),
        }
        # Only what changed: every event is replayed on every later turn, so fewer events
        # keep a long conversation as fast as a short one (make bench).
        return [SlotSet(name, value) for name, value in values.items() if tracker.slots.get(name) != value]

    @staticmethod
    def _hand_off(sender_id: str, a: triage.Assessment, state: dialogue.State, texts: List[str],
                  positions: List[int]) -> None:
        """Create, refresh or complete the hand-off record, as the plan decided; say why it is a crisis."""
        if not state.create_handoff and not state.handoff_ref:
            return  # no hand-off in this conversation: no database work on this turn
        destinations = dialogue.handoff_destinations(a)
        summary = dialogue.summarize(a)
        if state.create_handoff and not state.handoff_ref:
            record = store().create_handoff(sender_id, a.carer_types, a.user_role, destinations, a.crisis, summary)
            state.handoff_ref = record["ref"]
            logger.info("hand-off %s created for %s", state.handoff_ref, destinations)
        elif state.handoff_ref:
            store().update_from_conversation(state.handoff_ref, sender_id, a.carer_types, a.user_role, destinations,
                                             a.crisis, summary)
        if state.handoff_ref and state.contact:
            store().set_contact(state.handoff_ref, sender_id, state.contact)
        if state.handoff_ref and a.crisis and store().danger_signal(state.handoff_ref) is None:
            # Kept once per case: the reader and the message that first raised the flag. No reader
            # means the person answered 「はい」 to the safety check.
            why = triage.danger_evidence(texts, a.facts.danger_reader)
            # The console numbers every user message of the conversation (buttons too); an "answer"
            # is the latest message, the 「はい」 to the safety check.
            turn = positions[-1] if why["reader"] == "answer" else positions[min(why["turn"], len(positions) - 2)]
            store().record_danger(state.handoff_ref, sender_id, why["reader"], turn, why["words"], why["score"])
