"""A Rasa 3.6 tokenizer for Japanese built on fugashi + unidic-lite."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot.language import japanese


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class FugashiTokenizer(Tokenizer):
    """Split Japanese text with MeCab (fugashi) and UniDic; lemma and POS per token."""

    @staticmethod
    def supported_languages() -> Optional[List[str]]:
        """Return the languages this tokenizer is made for."""
        return ["ja"]

    @staticmethod
    def required_packages() -> List[str]:
        """Return the packages that must be installed."""
        return ["fugashi", "unidic_lite"]

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Return the default config."""
        return {
            # Split intent names such as faq/what_is on this symbol (Rasa's default off).
            "intent_tokenization_flag": False,
            # Symbol to split intent names on when the flag above is on.
            "intent_split_symbol": "_",
            # Regex that further filters tokens; None keeps MeCab's tokens as they are.
            "token_pattern": None,
            # Symbol that separates prefixes of tokens; unused for Japanese.
            "prefix_separator_symbol": None,
            # Read at most this many characters: a long message stays fast to parse.
            "max_chars": 1000,
        }

    def __init__(self, config: Dict[str, Any]) -> None:
        """Create the tokenizer."""
        super().__init__(config)
        self._max_chars = config.get("max_chars")

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> FugashiTokenizer:
        """Create a new component (see parent class for full docstring)."""
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> List[Token]:
        """Tokenize the text of the given attribute of the incoming message."""
        text = message.get(attribute) or ""
        tokens = [
            Token(
                t.text,
                t.start,
                end=t.end,
                lemma=t.lemma,
                data={"pos": t.pos, "pos_detail": t.pos_detail, "reading": t.reading},
            )
            for t in japanese.tokenize(text, self._max_chars)
        ]
        return self._apply_token_pattern(tokens)
