"""The Rasa graph components, alone and inside the trained pipeline."""

import asyncio

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa.extractor import CarerFactExtractor
from bot.rasa.tokenizer import FugashiTokenizer


def create_tokenizer(config=None):
    return FugashiTokenizer({**FugashiTokenizer.get_default_config(), **(config or {})})


@pytest.mark.parametrize(
    "text, expected_tokens, expected_offsets",
    [
        ("ﾊﾞｱﾁｬﾝの介護", ["ﾊﾞｱ", "ﾁｬﾝ", "の", "介護"], [(0, 3), (3, 6), (6, 7), (7, 9)]),
        ("おとうとのおせわ😢", ["おとうと", "の", "お", "せわ", "😢"], [(0, 4), (4, 5), (5, 6), (6, 8), (8, 9)]),
    ],
)
def test_tokenizer_component(text, expected_tokens, expected_offsets):
    message = Message.build(text=text)
    create_tokenizer().process([message])
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.text for t in tokens] == expected_tokens
    assert [(t.start, t.end) for t in tokens] == expected_offsets
    assert all(t.get("pos") for t in tokens)


def test_tokenizer_component_bounds_long_input():
    message = Message.build(text="母" * 5000)
    create_tokenizer({"max_chars": 100}).process([message])
    assert message.get(TOKENS_NAMES[TEXT])[-1].end <= 100


def test_fact_extractor_offsets_point_into_the_original_text():
    text = "ｵﾚ高2、ﾊﾞｱﾁｬﾝのｶｲｺﾞしてる"
    message = Message.build(text=text)
    CarerFactExtractor(CarerFactExtractor.get_default_config()).process([message])
    found = {(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in message.get("entities")}
    assert ("grade", "child", "高2") in found
    assert ("relation", "grandparent", "ﾊﾞｱﾁｬﾝ") in found
    assert ("care_task", "care", "ｶｲｺﾞ") in found
    assert ("writer_style", "easy", text) in found


@pytest.fixture(scope="module")
def agent(trained_model):
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


def _parse(agent, text):
    return asyncio.run(agent.parse_message(text))


@pytest.mark.parametrize(
    "text, intent",
    [
        ("こんにちは！", "greet"),
        ("あなたは人間ですか", "bot_challenge"),
        ("部下が親の介護で休みがちで、会社として何ができるか知りたいです", "employer_question"),
    ],
)
def test_trained_pipeline_intents(agent, text, intent):
    assert _parse(agent, text)["intent"]["name"] == intent


def test_trained_pipeline_is_width_insensitive(agent):
    full, half = _parse(agent, "バアチャンノカイゴ、ツライ"), _parse(agent, "ﾊﾞｱﾁｬﾝﾉｶｲｺﾞ､ﾂﾗｲ")
    assert full["intent"]["name"] == half["intent"]["name"]
    assert {e["value"] for e in full["entities"]} == {e["value"] for e in half["entities"]}
    assert all(half["text"][e["start"] : e["end"]] == e["text"] for e in half["entities"])


def test_trained_pipeline_entities_on_original_offsets(agent):
    text = "ｵﾚ、中３。ﾏﾏが入院してて弟のせわしてる"
    result = _parse(agent, text)
    spans = {(e["entity"], text[e["start"] : e["end"]]) for e in result["entities"]}
    assert ("grade", "中３") in spans
    assert ("relation", "ﾏﾏ") in spans
    assert ("relation", "弟") in spans
