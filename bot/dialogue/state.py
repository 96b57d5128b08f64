"""The state of one conversation: what the bot asked, said and is waiting for.

It is kept in Rasa slots between turns, and loaded and saved in one place (`from_slots`,
`to_slots`), so that a turn is a function of this state and the new message (bot.dialogue.turn).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Mapping

# The profile questions the bot may ask, once each. The triage reads them: an answer to the age
# question may be a bare number (「15」).
QUESTIONS = ("age", "who", "work")

# What the bot may be waiting for: a profile question, the consent to hand off, a contact, or the
# answer to the safety check.
AWAITING = ("", *QUESTIONS, "consent", "contact", "danger_check",
            # the support-information check and the notices (issue 17, bot.dialogue.support)
            "support_offer", "support_cared_age", "support_certificate", "support_living",
            "notice_offer", "notice_topics", "notice_email")
CONSENT = ("", "asked", "yes", "no")


@dataclasses.dataclass
class Conversation:
    """What the bot already did in this conversation.

    asked: profile questions asked (QUESTIONS).
    done: one-time steps already taken: ``thanked``, ``emergency`` (119 shown), ``danger_check`` (asked
      whether the person is safe), ``distress_line``, ``english_note`` and the ``utter_about_*``
      explanation given for a kind of carer.
    crisis: the conversation read as danger once; it stays on for the rest of the conversation.
    crisis_lines_given: the crisis lines were shown (with the crisis, or with the safety check).
    destinations_given: destinations already introduced, in order.
    awaiting: the question of the last turn, if any (AWAITING).
    consent: "", "asked", "yes" or "no" (CONSENT).
    handoff_ref: the reference of this conversation's hand-off, once created.
    contact_tries: unreadable contacts so far (the bot asks again once).
    danger_recorded: why the conversation is a crisis was given to the hand-off store.
    support: the answers of the support-information check and the topics of notices asked for (issue 17):
      kept in this conversation only.
    staff: the section whose member of staff holds the conversation (issue 15); while set, the bot is
      silent: the messages are read and stored, and staff answer. "" when the bot answers.
    """

    asked: List[str] = dataclasses.field(default_factory=list)
    done: List[str] = dataclasses.field(default_factory=list)
    crisis: bool = False
    crisis_lines_given: bool = False
    destinations_given: List[str] = dataclasses.field(default_factory=list)
    awaiting: str = ""
    consent: str = ""
    handoff_ref: str = ""
    contact_tries: int = 0
    danger_recorded: bool = False
    staff: str = ""
    support: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_slots(cls, slots: Mapping[str, Any]) -> Conversation:
        """Load the state from the tracker's slots.

        Conversations stored before issue 13 kept the one-time steps in ``asked`` too: they are
        moved to ``done`` here, so that a conversation going on across the upgrade is not asked again.
        A value that is not one this code writes (a damaged or forged tracker) reads as empty.
        """
        legacy = [x for x in slots.get("asked") or [] if isinstance(x, str)]
        awaiting = slots.get("awaiting") or ""
        consent = slots.get("consent") or ""
        return cls(
            asked=[x for x in legacy if x in QUESTIONS],
            done=[x for x in slots.get("done") or [] if isinstance(x, str)] + [x for x in legacy if x not in QUESTIONS],
            crisis=bool(slots.get("crisis")),
            crisis_lines_given=bool(slots.get("crisis_lines_given")),
            destinations_given=[x for x in slots.get("destinations_given") or [] if isinstance(x, str)],
            awaiting=awaiting if awaiting in AWAITING else "",
            consent=consent if consent in CONSENT else "",
            handoff_ref=str(slots.get("handoff_ref") or ""),
            contact_tries=int(slots.get("contact_tries") or 0),
            danger_recorded=bool(slots.get("danger_recorded")),
            staff=slots.get("staff") if isinstance(slots.get("staff"), str) else "",
            support=dict(slots.get("support")) if isinstance(slots.get("support"), dict) else {},
        )

    def to_slots(self) -> Dict[str, Any]:
        """The slots that hold this state (Rasa's domain.yml declares each)."""
        return {field.name: getattr(self, field.name) for field in dataclasses.fields(self)}

    def copy(self) -> Conversation:
        """A copy to change, so that a turn never changes the state it was given."""
        return dataclasses.replace(self, asked=list(self.asked), done=list(self.done),
                                   destinations_given=list(self.destinations_given), support=dict(self.support))

    def once(self, step: str) -> bool:
        """True the first time ``step`` is taken in this conversation (and remember it)."""
        if step in self.done:
            return False
        self.done.append(step)
        return True

    def forget_handoff(self) -> None:
        """Go on as a conversation without a hand-off (its reference was not this conversation's own)."""
        self.handoff_ref, self.consent = "", ""
        if self.awaiting == "contact":
            self.awaiting = ""
