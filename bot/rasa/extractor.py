"""A Rasa 3.6 entity extractor that reads carer facts with the triage lexicon."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa import facts


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class CarerFactExtractor(GraphComponent, EntityExtractorMixin):
    """Extract age, grade, work, relation, condition, care task and need entities."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Return the default config."""
        return {
            # Read at most this many characters of a message.
            "max_chars": 1000,
        }

    @staticmethod
    def supported_languages() -> List[str]:
        """Return the languages this extractor is made for."""
        return ["ja"]

    def __init__(self, config: Dict[str, Any]) -> None:
        """Create the extractor."""
        self._max_chars = config["max_chars"]

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CarerFactExtractor:
        """Create a new component (see parent class for full docstring)."""
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        """Add the extracted entities to each message."""
        for message in messages:
            found = facts.extract(message.get(TEXT) or "", self._max_chars)
            for entity in found:
                entity["extractor"] = self.__class__.__name__
                entity["confidence_entity"] = 1.0
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
