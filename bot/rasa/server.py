"""`rasa` with its per-turn costs removed at their cause: ``python -m bot.rasa.server run ...`` (as ``rasa run``).

Each was found with py-spy on this server under load (make bench); the turn does what it did before:

* Rasa 3.6 checks every action server answer with ``jsonschema.validate(answer, schema)``, which first
  re-checks the constant schema against its meta-schema (13.8 ms a turn): here the validator is built
  once, with the same schema, errors and message (0.4 ms).
* The action call carries what the action reads, not the whole conversation (``_action_call_format``).
* The graph of each prediction is built once per set of targets (``_run_graph``).
* The model is warmed before the port opens (bot.rasa.warmup) and frozen out of the garbage collector.

The API token comes from the environment and the address defaults to loopback (``_arguments``).
Everything else is Rasa's own ``main``.
"""

from __future__ import annotations

import functools
import gc
import secrets
import sys
from typing import Any, Dict, List, Optional

import dask
import rasa
from jsonschema import exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.engine.exceptions import GraphRunError
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from bot import production
from bot.rasa import warmup
from bot.settings import Settings


@functools.lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """RemoteAction._validate_action_result with a validator built once."""
    error = exceptions.best_match(_action_response_validator().iter_errors(result))
    if error is not None:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error
    return True


def _action_call_format(self: RemoteAction, tracker: DialogueStateTracker, domain: Domain) -> Dict[str, Any]:
    """RemoteAction._action_call_format sending only what the action reads (bot.rasa.assess_action).

    Rasa sends every event of the conversation with its whole NLU result (token offsets, the ranking of
    every intent) and the bot's replies: 427 KB of JSON at the 60th long message, written by Rasa and
    read by the action server on every turn, growing with the conversation (make bench). The action
    reads the slots, the latest message with its NLU result, and the texts of the user's messages of
    this session: that is what is sent (the person's words and nothing of the bot's). The domain is not
    sent either (``enable_selective_domain`` in the endpoints).
    """
    state = tracker.current_state(EventVerbosity.NONE)
    state["events"] = [
        {"event": "user", "text": e.text, "timestamp": e.timestamp} if isinstance(e, UserUttered)
        else {"event": "action", "name": e.action_name, "timestamp": e.timestamp}
        for e in tracker.events
        if isinstance(e, UserUttered) or (isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME)
    ]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": state, "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


def _run_graph(self: DaskGraphRunner, inputs: Optional[Dict[str, Any]] = None,
               targets: Optional[List[str]] = None) -> Dict[str, Any]:
    """DaskGraphRunner.run with the graph for each set of targets built once. Rasa prunes the schema to
    the targets' ancestors on every run (a recursion that visits shared ancestors again and again) and
    rebuilds the dask graph from it: 4 % of the server's CPU, three times a turn (py-spy). The schema
    and the nodes do not change once loaded; each run gets its own copy to add its inputs to."""
    run_targets = targets if targets else self._graph_schema.target_names
    key = tuple(run_targets)
    graphs = self.__dict__.setdefault("_kamakura_graphs", {})
    if key not in graphs:
        graphs[key] = self._build_dask_graph(self._graph_schema.minimal_graph_schema(run_targets))
    run_graph = dict(graphs[key])
    if inputs:
        self._add_inputs_to_graph(inputs, run_graph)
    try:
        return dict(dask.get(run_graph, run_targets))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e


def install() -> None:
    """Use the reusable validator and the lean action call in this process; warm the loaded model and
    freeze it out of the garbage collector."""
    RemoteAction._validate_action_result = _validate_action_result
    RemoteAction._action_call_format = _action_call_format
    DaskGraphRunner.run = _run_graph
    import rasa.core.run

    load = rasa.core.run.load_agent_on_start

    async def load_then_freeze(*args: Any, **kwargs: Any) -> Any:
        # The model, TensorFlow and the domain are a million long-lived objects: a full collection that
        # walked them all paused a turn for a tenth of a second or more (make bench). Frozen, they are
        # left out of every collection; what turns create is collected as before.
        agent = await load(*args, **kwargs)
        # Issue 18: the first person after a restart waits no longer than the tenth. This runs before
        # Rasa's port opens, so /status (and the web app's /ready) answer only once the model is warm.
        await warmup.rasa_agent(agent)
        gc.collect()
        gc.freeze()
        return agent

    rasa.core.run.load_agent_on_start = load_then_freeze


def _arguments(argv: List[str], settings: Settings) -> List[str]:
    """Return ``rasa run`` arguments with the address and the API token from the environment.

    The token is read from ``RASA_AUTH_TOKEN`` here, inside the process, so that it never
    appears on a command line (which every local user can read with ``ps``). Rasa listens on
    ``RASA_HOST`` (default 127.0.0.1): only the web app and the tests talk to it.
    """
    if not argv or argv[0] != "run" or (len(argv) > 1 and argv[1] == "actions"):
        return argv
    if any(a.startswith("--auth-token") for a in argv):
        raise SystemExit("pass the HTTP API token in RASA_AUTH_TOKEN, not on the command line")
    args = list(argv)
    if "--enable-api" in args:
        token = settings.rasa_auth_token or secrets.token_hex(32)  # unset: nobody can use the API
        args.append(f"--auth-token={token}")
    if not any(a in ("-i", "--interface") or a.startswith("--interface=") for a in args):
        args += ["--interface", settings.rasa_host]
    return args


def main() -> None:
    """Run Rasa's command line with the fix installed."""
    settings = production.start("rasa", ["RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN"], ["TRACKER_DB_URL"])
    install()
    from rasa.__main__ import main as rasa_main

    sys.argv[1:] = _arguments(sys.argv[1:], settings)
    rasa_main()


if __name__ == "__main__":
    main()
