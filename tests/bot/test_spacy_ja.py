"""The spaCy pipeline sees the same tokens as the Rasa tokenizer."""

import pytest
import spacy

from bot.language import japanese
from bot.language.spacy_ja import japanese_nlp


@pytest.fixture(scope="module")
def nlp():
    return japanese_nlp()


def test_spacy_version_is_the_one_rasa_accepts():
    assert spacy.__version__.startswith("3.4.")


@pytest.mark.parametrize(
    "text",
    ["お母さんが病気で毎日ごはん作ってる", "ｵﾚ  高2、ﾊﾞｲﾄしてる😢", " 母\x00が入院 ", "", "( ̄^ ̄)ゞ"],
)
def test_tokens_match_the_rasa_tokenizer(nlp, text):
    doc = nlp(text)
    assert doc.text == text
    words = [(t.text, t.idx) for t in doc if not t.text.isspace() and t.tag_ != "空白"]
    assert words == [(t.text, t.start) for t in japanese.tokenize(text)]


def test_lemmas_and_tags(nlp):
    doc = nlp("祖母を介護してる")
    assert [t.lemma_ for t in doc] == ["祖母", "を", "介護", "為る", "てる"]
    assert doc[0].tag_ == "名詞"


def test_matcher_works_on_the_tokens(nlp):
    from spacy.matcher import Matcher

    matcher = Matcher(nlp.vocab)
    matcher.add("CARE", [[{"LEMMA": "介護"}]])
    doc = nlp("祖母を介護してる")
    assert [doc[s:e].text for _, s, e in matcher(doc)] == ["介護"]
