"""A dialogue policy that reads only the last turn: what the user just said, or what the bot just did.

Every rule and story of this bot is "after this intent, run this action" (data/rules,
data/stories): the dialogue itself lives in ``action_assess_carer``. RulePolicy answers the
same, but it first rebuilds the state of every earlier turn of the conversation, twice per
turn: 13 % of the Rasa server's CPU under load, growing with the conversation's length
(py-spy, `make bench`). This policy learns the same mapping from the same rules and
stories and looks at the last turn only, so a turn costs the same at turn 1 and turn 100.

Training fails with a clear message if the data ever needs more than the last turn (two
examples that disagree on the next action after the same last turn): use RulePolicy then.
Like RulePolicy it keeps Rasa's default rules (/restart, /back, /session_start) and predicts
the core fallback action, at ``core_fallback_threshold``, for an intent no rule covers.
"""

from __future__ import annotations

import collections
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from rasa.core.constants import RULE_POLICY_PRIORITY
from rasa.core.policies.policy import Policy, PolicyPrediction, SupportedData
from rasa.core.policies.rule_policy import DEFAULT_ACTION_MAPPINGS
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME, RULE_SNIPPET_ACTION_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.exceptions import RasaException

logger = logging.getLogger(__name__)
LOOKUP_FILE = "last_turn_lookup.json"


class AmbiguousLastTurn(RasaException):
    """The training data needs more history than the last turn."""


def _key(kind: str, name: str) -> str:
    return f"{kind}:{name}"


def last_turn_examples(trackers: List[TrackerWithCachedStates]) -> List[Tuple[str, str, str]]:
    """(last turn, next action, source) for every action of every rule and story."""
    examples = []
    for tracker in trackers:
        last: Optional[str] = None
        for event in tracker.events:
            if isinstance(event, UserUttered):
                intent = event.intent_name
                last = _key("intent", intent) if intent else None
            elif isinstance(event, ActionExecuted) and event.action_name:
                name = event.action_name
                if name == RULE_SNIPPET_ACTION_NAME:
                    last = None
                    continue
                if last is not None and name != ACTION_LISTEN_NAME:
                    examples.append((last, name, tracker.sender_id))
                last = _key("action", name)
    return examples


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True)
class LastTurnPolicy(Policy):
    """Predicts the next action from the last turn alone, learnt from rules and stories."""

    @staticmethod
    def supported_data() -> SupportedData:
        """Rules and stories both say what follows a turn."""
        return SupportedData.ML_AND_RULE_DATA

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        """Same priority and fallback settings as RulePolicy."""
        return {
            "priority": RULE_POLICY_PRIORITY,
            "core_fallback_threshold": 0.3,
            "core_fallback_action_name": "action_default_fallback",
            "enable_fallback_prediction": True,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        lookup: Optional[Dict[str, str]] = None,
    ) -> None:
        """Create the policy with what it learnt (``lookup``: last turn -> next action)."""
        super().__init__(config, model_storage, resource, execution_context)
        self.lookup: Dict[str, str] = dict(lookup or {})

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        """Learn, for each last turn seen in the data, the one action that follows it."""
        seen: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        where: Dict[Tuple[str, str], str] = {}
        for last, action, source in last_turn_examples(training_trackers):
            seen[last][action] += 1
            where.setdefault((last, action), source)
        conflicts = {last: actions for last, actions in seen.items() if len(actions) > 1}
        if conflicts:
            lines = [f"after {last}: " + ", ".join(f"{a} ({where[(last, a)]})" for a in actions)
                     for last, actions in sorted(conflicts.items())]
            raise AmbiguousLastTurn(
                "LastTurnPolicy: these rules or stories need more than the last turn to choose the next action; "
                "use RulePolicy instead.\n" + "\n".join(lines))
        self.lookup = {last: next(iter(actions)) for last, actions in sorted(seen.items())}
        self.persist()
        return self._resource

    def _next_action(self, tracker: DialogueStateTracker) -> Optional[str]:
        latest_action = tracker.latest_action_name
        if latest_action != ACTION_LISTEN_NAME:
            return self.lookup.get(_key("action", latest_action or ""), ACTION_LISTEN_NAME)
        intent = (tracker.latest_message.intent or {}).get("name") if tracker.latest_message else None
        if not intent:
            return None
        return DEFAULT_ACTION_MAPPINGS.get(intent) or self.lookup.get(_key("intent", intent))

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[str, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Predict from the last turn; the core fallback action if nothing was learnt for it."""
        probabilities = self._default_predictions(domain)
        action = self._next_action(tracker)
        if action is not None and action in domain.action_names_or_texts:
            probabilities[domain.index_for_action(action)] = 1.0
        elif self.config.get("enable_fallback_prediction", True):
            fallback = self.config["core_fallback_action_name"]
            probabilities[domain.index_for_action(fallback)] = self.config["core_fallback_threshold"]
        return self._prediction(probabilities)

    def persist(self) -> None:
        """Write what was learnt."""
        with self._model_storage.write_to(self._resource) as path:
            (Path(path) / LOOKUP_FILE).write_text(json.dumps(self.lookup, ensure_ascii=False, indent=1), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> LastTurnPolicy:
        """Read what was learnt."""
        with model_storage.read_from(resource) as path:
            lookup = json.loads((Path(path) / LOOKUP_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, execution_context, lookup=lookup)
