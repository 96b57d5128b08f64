"""The triage: who is writing, for whom they care, where to go, and whether they are in danger.

By job: ``ages`` (ages, grades, stages), ``subject`` (whom a message is about, role words), ``work``,
``danger`` (the lexicon's danger signs and the evidence for staff), ``message`` (one message),
``combine`` (a conversation's facts), ``routing`` (carer types, destinations), ``assess`` (the four
slots); ``lexicon`` loads the words (data/lexicon/); ``danger_model`` is the learned reader of danger.
"""

from bot.triage.ages import find_ages, kanji_number
from bot.triage.assess import Assessment, assess  # the name `assess` is the function, not the module
from bot.triage.combine import Facts, read_facts
from bot.triage.danger import danger_evidence, danger_kind, danger_words
from bot.triage.message import MessageFacts, read_message
from bot.triage.routing import CARER_TYPE_ORDER, MAX_DESTINATIONS, OLDER_RELATIVES, carer_types, destinations

__all__ = [
    "CARER_TYPE_ORDER",
    "MAX_DESTINATIONS",
    "OLDER_RELATIVES",
    "Assessment",
    "Facts",
    "MessageFacts",
    "assess",
    "carer_types",
    "danger_evidence",
    "danger_kind",
    "danger_words",
    "destinations",
    "find_ages",
    "kanji_number",
    "read_facts",
    "read_message",
]
