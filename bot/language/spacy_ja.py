"""A Japanese spaCy pipeline whose tokens are the fugashi tokenizer's.

``spacy.blank("ja")`` needs SudachiPy; this plugs ``bot.language.japanese.tokenize`` in
instead, so spaCy sees exactly the tokens that Rasa sees. The learned reader of
danger (``bot.triage.danger_model``) trains spaCy's text classifier on this pipeline.
"""

from __future__ import annotations

import functools

from bot.language import japanese

TOKENIZER_NAME = "kamakura.fugashi_tokenizer.v1"


class FugashiSpacyTokenizer:
    """spaCy tokenizer: fugashi tokens, with the gaps between them kept as whitespace."""

    def __init__(self, vocab):
        self.vocab = vocab

    # Nothing to save: the tokens come from fugashi and unidic-lite. spaCy calls these when a
    # pipeline (the danger reader's text classifier) is written to or read from disk.
    def to_disk(self, path, **kwargs) -> None:
        """Save nothing (stateless)."""

    def from_disk(self, path, **kwargs) -> FugashiSpacyTokenizer:
        """Load nothing (stateless)."""
        return self

    def to_bytes(self, **kwargs) -> bytes:
        """Serialise nothing (stateless)."""
        return b""

    def from_bytes(self, data: bytes, **kwargs) -> FugashiSpacyTokenizer:
        """Read nothing (stateless)."""
        return self

    def __call__(self, text: str):
        from spacy.tokens import Doc

        words, spaces, lemmas, tags = [], [], [], []
        cursor = 0
        for tok in japanese.tokenize(text):
            gap = text[cursor : tok.start]
            if gap == " " and words:
                spaces[-1] = True
            elif gap:
                # Anything that is not a single space becomes a whitespace token, as in spaCy.
                words.append(gap)
                spaces.append(False)
                lemmas.append(gap)
                tags.append("空白")
            words.append(tok.text)
            spaces.append(False)
            lemmas.append(tok.lemma)
            tags.append(tok.pos)
            cursor = tok.end
        if cursor < len(text):
            words.append(text[cursor:])
            spaces.append(False)
            lemmas.append(text[cursor:])
            tags.append("空白")
        return Doc(self.vocab, words=words, spaces=spaces, lemmas=lemmas, tags=tags)


@functools.lru_cache(maxsize=1)
def _register() -> None:
    import spacy

    @spacy.registry.tokenizers(TOKENIZER_NAME)
    def _create_tokenizer():
        return lambda nlp: FugashiSpacyTokenizer(nlp.vocab)


def japanese_nlp():
    """Return a blank Japanese spaCy ``Language`` that tokenizes with fugashi."""
    import spacy

    _register()
    return spacy.blank("ja", config={"nlp": {"tokenizer": {"@tokenizers": TOKENIZER_NAME}}})
