"""The web app in this process: ``create_app`` with its own settings and real SQLite databases, driven
by sanic-testing's ASGI client, with no server and no port. A test that needs a real server (a
listening socket, ``python -m bot.web`` reading the environment, another process) says why."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Dict, Optional

import httpx
import pytest
from sanic_testing.testing import SanicASGITestClient

from bot.handoff.store import Store
from bot.handoff.transcripts import Transcripts
from bot.settings import Settings
from bot.web import create_app

_apps = itertools.count()


class Client:
    """One browser: its own cookies and headers; each call runs the app in this process.

    ``get``/``post``/``options`` wait for the answer (a synchronous test reads like the requests
    it replaced); ``arequest`` is the same call for a test that sends many at once.
    """

    def __init__(self, site: Site, headers: Optional[Dict[str, str]] = None, cookies: Optional[Dict[str, str]] = None) -> None:
        self.site = site
        self.asgi = SanicASGITestClient(site.app)  # an httpx.AsyncClient: it keeps the cookies
        self.asgi.headers.update(headers or {})
        for name, value in (cookies or {}).items():
            self.asgi.cookies.set(name, value, path="/staff")
        self.last_status, self.last_text = 0, ""  # of the last login (tests/web/test_staff.py)

    @property
    def cookies(self) -> httpx.Cookies:
        return self.asgi.cookies

    async def arequest(self, method: str, path: str, **kwargs) -> httpx.Response:
        _, response = await self.asgi.request(method, path, **kwargs)
        return response

    def request(self, method: str, path: str, **kwargs) -> httpx.Response:
        return asyncio.get_event_loop().run_until_complete(self.arequest(method, path, **kwargs))

    def get(self, path: str, **kwargs) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def options(self, path: str, **kwargs) -> httpx.Response:
        return self.request("OPTIONS", path, **kwargs)


class Site:
    """The web app as create_app builds it, on a hand-off and a tracker database in ``folder``.

    ``env`` is read as the environment would be (``Settings.from_env``). A second Site on the same
    folder is a second web process on the same databases: it shares nothing with the first but them.
    """

    def __init__(self, folder: Path, env: Optional[Dict[str, str]] = None) -> None:
        env = {"HANDOFF_DB_URL": f"sqlite:///{folder}/handoff.db", "TRACKER_DB_URL": f"sqlite:///{folder}/tracker.db", **(env or {})}
        self.settings = Settings.from_env(env)
        self.store = Store(self.settings.handoff_db_url)
        transcripts = Transcripts(self.settings.tracker_reader_url, archived=self.store.archived_counts)
        # A name of its own: sanic keeps a registry of apps by name.
        self.app = create_app(self.settings, store=self.store, transcripts=transcripts, name=f"web_test_{next(_apps)}")

    def client(self, headers: Optional[Dict[str, str]] = None, cookies: Optional[Dict[str, str]] = None) -> Client:
        """A new browser on this app."""
        return Client(self, headers, cookies)


@pytest.fixture(scope="session")
def make_site():
    """``Site``: build the web app in this process on the databases of a folder."""
    return Site


@pytest.fixture(autouse=True)
def app_event_loop():
    """An event loop for the test's requests, and afterwards none of the app's tasks left running.

    The ASGI client runs the app's start-up for every request, and with it the retention loop's
    start: those tasks are cancelled here, before they wake up.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_default_executor())
    loop.close()
    asyncio.set_event_loop(None)
