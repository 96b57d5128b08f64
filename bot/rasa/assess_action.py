"""action_assess_carer: the Rasa side of a turn.

It loads the conversation's state from the slots, takes the turn (bot.dialogue.take_turn), carries out
the turn's effects against the hand-off store, fills the new hand-off's reference into the replies,
utters them, and saves the state back into the slots that changed. Runs in the action server.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from typing import Any, Dict, List, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import catalog
from bot.channels import channel_of
from bot.dialogue import Conversation, Message, RecordDanger, SaveHandoff, StoreContact, Turn, fill_ref, take_turn
from bot.dialogue.effects import CountSupport, Subscribe, Unsubscribe
from bot.dialogue.replies import crisis_lines
from bot.handoff.store import Store
from bot.triage import danger_model

logger = logging.getLogger(__name__)


@functools.lru_cache(maxsize=1)
def store() -> Store:
    """Open the hand-off store once, on first use (not at import)."""
    return Store()


def warm_up() -> None:
    """Load the learned reader of danger now (half a second) and take a few turns in memory
    (bot.rasa.warmup), not during the first person's turn: the server listens after this."""
    from bot.rasa import warmup

    danger_model.warm_up()
    warmup.actions()


def user_messages(tracker: Tracker) -> Tuple[List[str], List[int]]:
    """(texts of this session without buttons, the position of each among all the conversation's user
    messages, the latest one last even if it is a button): the console numbers messages that way."""
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
    return texts, positions + [n]


def message_of(tracker: Tracker) -> Message:
    """The latest message, with the intent and the FAQ answer that the NLU chose."""
    latest = tracker.latest_message or {}
    faq = ((latest.get("response_selector") or {}).get("faq") or {}).get("response") or {}
    return Message(latest.get("text") or "", (latest.get("intent") or {}).get("name") or "", faq.get("utter_action") or "")


def carry_out(sender_id: str, turn: Turn, positions: List[int]) -> str:
    """Carry out the turn's effects in order; return the hand-off's reference ("" if none)."""
    conv = turn.conversation
    for effect in turn.effects:
        if isinstance(effect, SaveHandoff) and effect.create:
            conv.handoff_ref = store().create_handoff(sender_id, effect.carer_types, effect.user_role, effect.destinations,
                                                      effect.crisis, effect.summary)["ref"]
            logger.info("hand-off %s created for %s", conv.handoff_ref, effect.destinations)
        elif isinstance(effect, SaveHandoff):
            store().update_from_conversation(conv.handoff_ref, sender_id, effect.carer_types, effect.user_role,
                                             effect.destinations, effect.crisis, effect.summary)
        elif isinstance(effect, StoreContact):
            store().set_contact(conv.handoff_ref, sender_id, effect.contact)
        elif isinstance(effect, CountSupport):
            store().count_support(effect.items)
        elif isinstance(effect, Subscribe):
            # Kept apart from the conversation: a LINE subscriber by the conversation's hashed id (the
            # adapter alone reaches the person), an e-mail one by the address, once confirmed by its link.
            store().subscribe(effect.channel, sender_id if effect.channel == "line" else str(effect.email), effect.topics)
        elif isinstance(effect, Unsubscribe):
            store().leave_line(sender_id)
        elif isinstance(effect, RecordDanger):
            # The console numbers every user message of the conversation (buttons too); no turn means
            # the latest message, the 「はい」 to the safety check.
            at = positions[-1] if effect.turn is None else positions[min(effect.turn, len(positions) - 2)]
            store().record_danger(conv.handoff_ref, sender_id, effect.reader, at, effect.words, effect.score)
    return conv.handoff_ref


def conv_style(tracker: Tracker) -> str:
    """The register the conversation was last answered in ("plain" before any)."""
    return tracker.slots.get("speech_style") or "plain"


class ActionAssessCarer(Action):
    """Assess who is writing and where to go; set the four slots; ask, guide, hand off."""

    def name(self) -> str:
        return "action_assess_carer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        conv = Conversation.from_slots(tracker.slots)
        if conv.handoff_ref and not store().owns(conv.handoff_ref, tracker.sender_id):
            # Only a forged or damaged tracker carries another conversation's reference: change
            # nothing of that case, say so gently, and go on as a conversation without one.
            logger.warning("a tracker carried a hand-off reference that is not its own: ignored")
            dispatcher.utter_message(response="utter_handoff_unknown")
            conv.forget_handoff()
        texts, positions = user_messages(tracker)
        try:
            turn = take_turn(conv, texts, message_of(tracker), channel=channel_of(tracker.sender_id))
        except Exception as e:  # noqa: BLE001 - a person must never be left without an answer
            # Nothing is stored or changed; the type only is logged (a message may hold personal data).
            logger.error("the turn could not be read (%s): answered with the safety check", type(e).__name__)
            lines = crisis_lines("unknown", "unsure", dt.datetime.now(catalog.JST))
            dispatcher.utter_message(response="utter_danger_check", speech_style=conv_style(tracker), lines=lines)
            return []
        ref = carry_out(tracker.sender_id, turn, positions)
        style = turn.style
        for response, values in fill_ref(turn.replies, ref):
            # The style goes with each reply: the slot is set after the replies are rendered (bot.rasa.nlg).
            dispatcher.utter_message(response=response, speech_style=style, **values)
        a = turn.assessment
        slots = {
            "carer_types": a.carer_types,
            "user_role": a.user_role,
            "handoff_destinations": a.handoff_destinations,
            # ``staff`` is written by the web app only (bot.web.live, through Rasa's API): never here.
            **{k: v for k, v in turn.conversation.to_slots().items() if k != "staff"},
            "speech_style": style,
            "facts": a.facts.as_dict(),
        }
        # Only what changed: every event is replayed on every later turn, so fewer events
        # keep a long conversation as fast as a short one (make bench).
        return [SlotSet(name, value) for name, value in slots.items()
                if tracker.slots.get(name) != value and not (value == {} and not tracker.slots.get(name))]
