"""The FAQ's response selector, run only on messages that the intent classifier read as an FAQ.

The dialogue reads the selector's answer only for the `faq` intent (bot.dialogue.turn); Rasa's
ResponseSelector ran on every message, a third of the parse of a long first message (make bench).
Trained and loaded exactly as ResponseSelector (config.yml).
"""

from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqResponseSelector(ResponseSelector):
    """ResponseSelector that leaves a message alone unless its intent is the retrieval intent."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Select the answer for the messages read as the retrieval intent; leave the others as they are."""
        asked = [m for m in messages if (m.get(INTENT) or {}).get(INTENT_NAME_KEY) == self.retrieval_intent]
        if asked:
            super().process(asked)
        return messages
