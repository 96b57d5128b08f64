"""The Rasa graph components, alone and inside the trained pipeline."""

import asyncio

import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

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
    assert full["intent"]["confidence"] == pytest.approx(half["intent"]["confidence"], abs=0.05)


def test_trained_pipeline_reads_no_entities(agent):
    """The triage reads the facts from the whole conversation (bot.triage); an entity per message
    was read by nothing, and cost the whole triage on every parse (issue 13)."""
    assert _parse(agent, "ｵﾚ、中３。ﾏﾏが入院してて弟のせわしてる")["entities"] == []
