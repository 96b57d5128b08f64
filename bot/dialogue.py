"""What the bot says after the triage: one gentle step at a time.

Pure logic: given an assessment and what was already said, return the responses
to utter (names of domain responses with their template values) and the new
bookkeeping. The action server turns these into dispatcher calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

from bot import catalog, triage
from bot.triage import Assessment

# Intents with a fixed reply, uttered here so that 「こんにちは、母の介護で…」 is greeted
# and then heard. The FAQ answer is the one the response selector chose.
FIXED_REPLIES = {
    "greet": "utter_greet",
    "goodbye": "utter_goodbye",
    "thank": "utter_you_are_welcome",
    "bot_challenge": "utter_iamabot",
}

Reply = Tuple[str, Dict[str, Any]]


@dataclass
class State:
    """What the bot already did in this conversation (kept in slots)."""

    asked: List[str] = field(default_factory=list)
    crisis_lines_given: bool = False
    destinations_given: List[str] = field(default_factory=list)
    awaiting: str = ""  # the question asked last turn, if any


# An answer to the bot's question is short and often looks like a question to the NLU
# (「平日はフルタイムで働いてます」 -> faq): read these intents as an answer then.
ANSWER_LOOKALIKES = {"faq", "out_of_scope", "nlu_fallback"}


def easy_japanese(a: Assessment) -> bool:
    """Return True when the bot should speak やさしい日本語 (a child is writing)."""
    if a.user_role not in ("carer", "other"):
        return False
    return a.facts.stage == "child" or (a.facts.stage is None and a.facts.childlike)


def _destination_replies(a: Assessment, state: State, easy: bool) -> List[Reply]:
    new = [d for d in a.handoff_destinations if d not in state.destinations_given]
    if not new:
        return []
    replies: List[Reply] = [("utter_destinations_intro", {})]
    for dest_id in new:
        d = catalog.destination(dest_id)
        what = d.get("what_easy") if easy and d.get("what_easy") else d["what"]
        contact = catalog.contact_text(dest_id)
        replies.append(
            (
                "utter_destination",
                {
                    "name": d["name"],
                    "what": what + (f"（{contact}）" if contact else ""),
                    "measures": "・".join(_support_measures(d.get("measures") or [])),
                },
            )
        )
    state.destinations_given.extend(new)
    return replies


def _support_measures(measures: List[str]) -> List[str]:
    # Measures of (3) "施策の推進" are what a person can use; (1) publicity and (2) the
    # system behind them are shown only when a destination has nothing else.
    direct = [m for m in measures if m.startswith("6-3-") and not m.startswith(("6-3-1-", "6-3-2-"))]
    return direct or measures[:1] or ["-"]


def _about_kind(a: Assessment) -> str:
    if a.user_role == "employer":
        return "utter_about_employer"
    for kind in ("young_carer", "youth_carer", "business_carer", "carer"):
        if kind in a.carer_types:
            return f"utter_about_{kind}"
    return "utter_about_carer"


def plan(a: Assessment, intent: str, state: State, latest_text: str = "", faq_response: str = "") -> List[Reply]:
    """Return the replies for this turn and update ``state`` in place.

    Args:
        a: the assessment of the whole conversation so far.
        intent: the intent of the latest message.
        state: what the bot already did; updated.
        latest_text: the latest message, to tell a bare greeting from one with a story.
        faq_response: for the faq intent, the response the response selector chose.
    """
    easy = easy_japanese(a)
    replies: List[Reply] = []
    if state.awaiting and intent in ANSWER_LOOKALIKES:
        intent = "inform"
    state.awaiting = ""
    if a.crisis and not state.crisis_lines_given:
        # The children's line is shown unless the person is known to be an adult.
        adult = a.facts.stage in ("youth", "adult") or a.user_role in ("employer",)
        replies.append(("utter_crisis", {"lines": catalog.format_crisis_lines(child=not adult)}))
        state.crisis_lines_given = True
    fixed = FIXED_REPLIES.get(intent) or (faq_response if intent == "faq" else None)
    if fixed:
        said = triage.read_facts([latest_text]) if latest_text else None
        story = bool(said and (said.care or said.relations or said.conditions))
        if intent == "faq" and story:
            fixed = None  # a story asked as a question: listen to the story first
        if fixed:
            replies.append((fixed, {}))
        if not story:
            return replies
    if intent == "decline_to_say":
        replies.append(("utter_ok_not_to_say", {}))

    f = a.facts
    if not a.carer_types:
        if a.handoff_destinations:
            replies += _destination_replies(a, state, easy)
        elif intent == "out_of_scope" and not a.crisis:
            replies.append(("utter_out_of_scope", {}))
        elif not replies or replies[-1][0] == "utter_ok_not_to_say":
            replies.append(("utter_ask_situation", {}))
        return replies

    if "thanked" not in state.asked and a.user_role == "carer":
        state.asked.append("thanked")
        if not a.crisis:
            replies.append(("utter_thanks_for_sharing", {}))
    if a.user_role == "carer" and not f.declined:
        for question, missing in (
            ("age", f.stage is None),
            ("who", not f.relations and not f.conditions),
            ("work", f.stage in ("youth", "adult") and f.working is None and not f.student),
        ):
            if missing and question not in state.asked:
                state.asked.append(question)
                state.awaiting = question
                return replies + [(f"utter_ask_{question}", {})]
    dest_replies = _destination_replies(a, state, easy)
    if dest_replies:
        kind = _about_kind(a)
        if kind not in state.asked:
            state.asked.append(kind)
            replies.append((kind, {}))
        replies += dest_replies
    elif not replies:
        replies.append(("utter_thanks_for_sharing", {}))
    return replies
