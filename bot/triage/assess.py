"""Triage: from what a person wrote, who is writing, what they carry, where to go.

Pure functions over text; imports neither Rasa nor sanic. ``assess(messages)``
reads every user message of a conversation and returns the four slots of the
contract (``carer_types``, ``user_role``, ``handoff_destinations``, ``crisis``)
plus the facts behind them, so that the bot can ask for what is still missing.
The lexicon reads danger first; the learned reader (``bot.triage.danger_model``) only
where the lexicon saw none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, List, Optional, Sequence

from bot.triage.combine import Facts, read_facts
from bot.triage.routing import carer_types, destinations


@dataclass
class Assessment:
    """The four slots of the contract, plus the facts they come from."""

    carer_types: List[str]
    user_role: str
    handoff_destinations: List[str]
    crisis: bool
    facts: Facts

    @property
    def primary(self) -> Optional[str]:
        """Return the primary destination, or None."""
        return self.handoff_destinations[0] if self.handoff_destinations else None


def assess(messages: Sequence[str], asked: Iterable[str] = ()) -> Assessment:
    """Assess a conversation from the user's messages (oldest first).

    Args:
        messages: the user's texts.
        asked: questions the bot has asked so far (``age``, ``work``, ``who``).
    """
    facts = read_facts(messages, asked)
    if facts.crisis:
        facts.danger_reader = "lexicon"
    elif facts.role != "employer":
        from bot.triage import danger_model  # spaCy and scikit-learn, loaded by the action server at start

        level = danger_model.level(messages)
        # Above the high threshold the learned reader raises the flag itself; between the two
        # thresholds the bot asks once, plainly (bot.dialogue).
        facts.crisis = level == "crisis"
        facts.danger_reader = "model" if facts.crisis else ""
        facts.possible_danger = level == "ask"
    types = carer_types(facts)
    return Assessment(
        carer_types=types,
        user_role=facts.role,
        handoff_destinations=destinations(facts, types),
        crisis=facts.crisis,
        facts=facts,
    )
