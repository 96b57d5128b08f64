"""The action server (``python -m bot.rasa.action_server``): rasa_sdk's app, answering only Rasa.

``rasa run actions`` listens on every interface, runs any caller's made-up tracker, inflates
a deflated body without a bound and echoes the request in its 500 answers. Here the same
rasa_sdk app is started with, before anything is read or run:

* a shared secret: Rasa sends ``Authorization: Bearer $ACTION_SERVER_TOKEN`` with every call
  (``endpoints.yml``); anything else gets 401, compared in constant time;
* bodies bounded (``ACTION_SERVER_MAX_BODY``, default 8 MiB: Rasa sends the whole tracker)
  and compressed bodies refused (Rasa sends them plain unless told otherwise);
* errors that name the failure's type only, never the request or what a person wrote;
* loopback only by default (``ACTIONS_HOST``, ``ACTIONS_PORT``).
"""

from __future__ import annotations

import gc
import hmac
import logging
import secrets
import sys
from typing import Optional

from sanic import Sanic, exceptions, response
from sanic.request import Request

from bot import production, supportinfo
from bot.settings import Settings, load

logger = logging.getLogger(__name__)


def authorized(request: Request, token: str) -> bool:
    """Return True when the request carries the shared secret."""
    sent = request.headers.get("authorization", "")
    expected = f"Bearer {token}"
    return hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8"))


def _well_formed(request: Request) -> bool:
    """Whether the body is an action call. Read once: rasa_sdk's handler gets the same parsed body
    (``request.json`` keeps it), where parsing it twice was a fifth of this server's CPU (make bench)."""
    try:
        request.body.decode("utf-8")
        call = request.json
    except (UnicodeDecodeError, ValueError, exceptions.InvalidUsage):
        return False
    return (isinstance(call, dict) and isinstance(call.get("next_action"), str)
            and isinstance(call.get("tracker"), dict) and isinstance(call.get("domain", {}), dict))


def create_app(token: Optional[str] = None, actions: str = "actions", settings: Optional[Settings] = None) -> Sanic:
    """Return rasa_sdk's action server app, guarded by ``token`` (default: the setting ``ACTION_SERVER_TOKEN``)."""
    from rasa_sdk.endpoint import create_app as sdk_app

    settings = settings or load()
    token = token or settings.action_server_token
    if not token:
        raise ValueError("ACTION_SERVER_TOKEN is not set: Rasa and the action server need the same secret")
    app = sdk_app(actions, cors_origins=None)  # no browser calls this server: no CORS
    app.config.REQUEST_MAX_SIZE = settings.action_server_max_body

    @app.on_request
    async def guard(request: Request):
        if request.path == "/health":
            return None  # liveness only: says nothing, reads nothing
        if not authorized(request, token):
            return response.json({"error": "unauthorized"}, status=401)
        if int(request.headers.get("content-length") or 0) > app.config.REQUEST_MAX_SIZE:
            return response.json({"error": "body too large"}, status=413)
        if request.headers.get("content-encoding", "identity").lower() != "identity":
            return response.json({"error": "compressed bodies are not accepted"}, status=415)
        if request.method == "POST" and not _well_formed(request):
            return response.json({"error": "body must be an action call: next_action and tracker"}, status=400)
        return None

    async def failed(request: Request, exception: Exception):
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:
            logger.error("action call failed: %s", type(exception).__name__)
        return response.json({"error": type(exception).__name__ if status >= 500 else "bad request"}, status=status)

    # rasa_sdk's own handler answers with the request body: replace it for every exception.
    app.error_handler.handlers.clear() if hasattr(app.error_handler, "handlers") else None
    app.error_handler.add(Exception, failed)
    return app


def main() -> None:
    """Run the action server in the foreground."""
    # spaCy's thinc imports TensorFlow when it is installed (Rasa installs it), which this process
    # never uses: 450 of its 750 MB (make bench). Blocking the import keeps it at about 250 MB.
    sys.modules.setdefault("tensorflow", None)  # type: ignore[arg-type]
    settings = production.start("actions", ["ACTION_SERVER_TOKEN"], ["HANDOFF_DB_URL"])
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    supportinfo.load_or_exit("actions")  # issue 17: a broken data/support_info.yml stops the start, with why
    token = settings.action_server_token
    if not token:
        token = secrets.token_hex(32)
        logger.warning("ACTION_SERVER_TOKEN is not set: a random one for this run, so Rasa cannot call this server")
    app = create_app(token, settings=settings)
    # The learned reader and the lexicon stay for the life of the process: out of the garbage collector's walks.
    gc.collect()
    gc.freeze()
    app.run(host=settings.actions_host, port=settings.actions_port, access_log=False, motd=False)


if __name__ == "__main__":
    main()
