"""What a turn asks its caller to do, as values: the dialogue itself stores nothing.

The Rasa action (bot.rasa.assess_action) carries these out against the hand-off store; `make eval` and
the dialogue's tests read them without a store. A later channel or a staff take-over carries out the
same values.
"""

from __future__ import annotations

import dataclasses
from typing import List, Optional, Union


@dataclasses.dataclass(frozen=True)
class SaveHandoff:
    """Create this conversation's hand-off (``create``), or bring the existing one up to date.

    Replies that carry `HANDOFF_REF` get the reference once the caller has created the hand-off.
    """

    create: bool
    carer_types: List[str]
    user_role: str
    destinations: List[str]
    crisis: bool
    summary: str


@dataclasses.dataclass(frozen=True)
class StoreContact:
    """Keep the contact the person gave (a phone number or an address) with the hand-off."""

    contact: str


@dataclasses.dataclass(frozen=True)
class RecordDanger:
    """Keep, once per case, what raised the crisis flag: the reader (lexicon, model, or ``answer``: a
    「はい」 to the safety check), the message (``turn``: its index among the conversation's texts;
    None = the latest message), the words matched and the reader's score."""

    reader: str
    turn: Optional[int]
    words: str
    score: Optional[float]


Effect = Union[SaveHandoff, StoreContact, RecordDanger]
