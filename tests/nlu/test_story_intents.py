"""The user texts of the end-to-end stories get the intents the stories say.

`rasa test core` replays a story's intents without reading its texts; this parses
every text with the trained model, so the stories test the NLU end to end too.
"""

import asyncio
from pathlib import Path

import pytest
import yaml

STORIES = Path(__file__).resolve().parent.parent / "test_stories.yml"


def _turns():
    for story in yaml.safe_load(STORIES.read_text(encoding="utf-8"))["stories"]:
        for step in story["steps"]:
            if "user" in step:
                yield pytest.param(step["user"].strip(), step["intent"], id=f"{story['story']}: {step['user'].strip()[:20]}")


@pytest.fixture(scope="module")
def agent(trained_model):
    from rasa.core.agent import Agent

    return Agent.load(str(trained_model))


@pytest.mark.parametrize("text, intent", list(_turns()))
def test_story_text_gets_its_intent(agent, text, intent):
    assert asyncio.run(agent.parse_message(text))["intent"]["name"] == intent
