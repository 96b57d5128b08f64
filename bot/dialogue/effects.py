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



@dataclasses.dataclass(frozen=True)
class CountSupport:
    """The support-information tool was used and showed these items (issue 17): counted per month, no person."""

    items: List[str]


@dataclasses.dataclass(frozen=True)
class Subscribe:
    """The person asked for notices on these topics: on LINE (this conversation) or by e-mail (to be
    confirmed by a link first). Kept apart from the conversation and any hand-off."""

    channel: str  # "line" or "email"
    topics: List[str]
    email: Optional[str] = None


@dataclasses.dataclass(frozen=True)
class Unsubscribe:
    """The person on LINE sent 「配信停止」: every notice to this conversation stops."""


Effect = Union[SaveHandoff, StoreContact, RecordDanger, CountSupport, Subscribe, Unsubscribe]
