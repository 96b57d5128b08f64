"""LastTurnPolicy: trained on the project's rules and stories, it chooses what RulePolicy chooses."""

from pathlib import Path

import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.generator import TrainingDataGenerator
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
from rasa.shared.core.training_data.structures import StoryGraph
from rasa.shared.importers.importer import TrainingDataImporter

from bot.rasa.policy import AmbiguousLastTurn, LastTurnPolicy

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def project():
    importer = TrainingDataImporter.load_from_config(str(ROOT / "config.yml"), str(ROOT / "domain.yml"), [str(ROOT / "data")])
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0).generate()
    return domain, trackers


def _trained(cls, tmp_path, domain, trackers, **config):
    (tmp_path / cls.__name__).mkdir(exist_ok=True)
    storage = LocalModelStorage(tmp_path / cls.__name__)
    context = ExecutionContext(GraphSchema({}), "test")
    policy = cls.create({**cls.get_default_config(), **config}, storage, Resource(cls.__name__), context)
    policy.train(trackers, domain)
    return policy, storage, context


def _predicted(policy, tracker, domain, **kwargs) -> str:
    prediction = policy.predict_action_probabilities(tracker, domain, **kwargs)
    return domain.action_names_or_texts[prediction.max_confidence_index]


def _test_story_prefixes(domain):
    """Every point of the end-to-end test stories where the bot acts, as (tracker so far, action taken)."""
    steps = YAMLStoryReader(domain).read_from_file(str(ROOT / "tests" / "test_stories.yml"))
    for story in TrainingDataGenerator(StoryGraph(steps), domain, augmentation_factor=0).generate_story_trackers():
        events = list(story.events)
        for i, event in enumerate(events):
            if isinstance(event, ActionExecuted) and i > 0:
                yield DialogueStateTracker.from_events("t", events[:i], domain.slots), event.action_name


def test_same_choices_as_rule_policy_on_every_step_of_the_test_stories(project, tmp_path):
    domain, trackers = project
    last_turn, storage, context = _trained(LastTurnPolicy, tmp_path, domain, trackers)
    rules, _, _ = _trained(RulePolicy, tmp_path, domain, trackers)
    # Read back from the model storage, as the server does.
    loaded = LastTurnPolicy.load(last_turn.config, storage, Resource(LastTurnPolicy.__name__), context)
    steps = list(_test_story_prefixes(domain))
    assert len(steps) > 50
    for tracker, taken in steps:
        expected = _predicted(rules, tracker, domain, rule_only_data=rules._get_rule_only_data())
        assert expected == taken
        assert _predicted(loaded, tracker, domain) == taken


def test_rasa_default_rules_and_the_core_fallback(project, tmp_path):
    domain, trackers = project
    policy, _, _ = _trained(LastTurnPolicy, tmp_path, domain, trackers)

    def after(intent):
        return DialogueStateTracker.from_events("t", [ActionExecuted("action_listen"), UserUttered("x", {"name": intent})],
                                                domain.slots)

    assert _predicted(policy, after("restart"), domain) == "action_restart"
    assert _predicted(policy, after("session_start"), domain) == "action_session_start"
    unknown = policy.predict_action_probabilities(after("never_trained"), domain)
    assert domain.action_names_or_texts[unknown.max_confidence_index] == "action_default_fallback"
    assert unknown.max_confidence == pytest.approx(0.3)
    # After the bot acted, it listens; slots do not matter.
    done = after("greet")
    done.update(ActionExecuted("action_assess_carer"))
    done.update(SlotSet("crisis", True))
    assert _predicted(policy, done, domain) == "action_listen"


def test_data_needing_more_than_the_last_turn_is_refused(project, tmp_path):
    domain, trackers = project
    clash = DialogueStateTracker.from_events(
        "clash", [ActionExecuted("action_listen"), UserUttered("x", {"name": "greet"}), ActionExecuted("utter_greet")],
        domain.slots)
    with pytest.raises(AmbiguousLastTurn, match="after intent:greet: .*action_assess_carer.*utter_greet"):
        _trained(LastTurnPolicy, tmp_path, domain, list(trackers) + [clash])


def test_a_turn_costs_the_same_at_turn_1_and_turn_300(project, tmp_path):
    """Not a timing: the policy reads a fixed number of events, however long the conversation."""
    domain, trackers = project
    policy, _, _ = _trained(LastTurnPolicy, tmp_path, domain, trackers)
    events = []
    for _ in range(300):
        events += [ActionExecuted("action_listen"), UserUttered("x", {"name": "share_situation"}), ActionExecuted("action_assess_carer")]
    long = DialogueStateTracker.from_events("t", events[:-1], domain.slots)
    read = []
    original = DialogueStateTracker.applied_events
    DialogueStateTracker.applied_events = lambda self, *a, **k: read.append(1) or original(self, *a, **k)
    try:
        assert _predicted(policy, long, domain) == "action_assess_carer"
    finally:
        DialogueStateTracker.applied_events = original
    assert read == []  # RulePolicy replays all 900 events here
