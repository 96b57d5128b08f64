"""bot.rasa.server: the action server's answer is validated as Rasa does, with a validator built once."""

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot.rasa import server

GOOD = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "carer_types", "value": ["young_carer"], "timestamp": None}],
     "responses": [{"text": "こんにちは", "buttons": [{"title": "はい", "payload": "/affirm"}]}]},
    {"responses": [{"response": "utter_greet"}]},
]
BAD = [
    {"events": [{"name": "x"}]},  # an event without its type
    {"events": {"event": "slot"}},  # not a list
    {"responses": ["just text"]},  # a response must be an object
    {"events": [{"event": "user", "text": 5}]},
]


@pytest.fixture
def action(monkeypatch):
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    server.install()
    return RemoteAction("action_assess_carer", EndpointConfig("http://127.0.0.1:1/webhook"))


@pytest.mark.parametrize("answer", GOOD)
def test_valid_answers_pass(action, answer):
    jsonschema.validate(answer, RemoteAction.action_response_format_spec())  # Rasa's own check agrees
    assert action._validate_action_result(answer) is True


@pytest.mark.parametrize("answer", BAD)
def test_invalid_answers_fail_with_rasas_error(action, answer):
    with pytest.raises(jsonschema.ValidationError) as rasa_way:
        jsonschema.validate(answer, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        action._validate_action_result(answer)
    assert ours.value.message.startswith(rasa_way.value.message)
    assert "Failed to validate Action server response" in ours.value.message
    assert list(ours.value.path) == list(rasa_way.value.path)


def test_the_schema_is_checked_once(action, monkeypatch):
    server._action_response_validator.cache_clear()
    checks = []
    original = jsonschema.validators.Draft202012Validator.check_schema
    monkeypatch.setattr(jsonschema.validators.Draft202012Validator, "check_schema",
                        classmethod(lambda cls, schema, **kw: checks.append(1) or original(schema, **kw)))
    for _ in range(5):
        action._validate_action_result(GOOD[1])
    assert checks == [1]
