"""The web app (port 8000): the chat widget (/widget.js, /demo), /health, and the staff console (/staff).

One blueprint per area: the widget and its relay to Rasa (relay), and the console's login and
sessions (auth), cases, reports, admin pages and static files (console). ``create_app`` is the one
factory: it takes the `Settings` (read from the environment once, by ``main``) and passes each
part what it needs, so that nothing under bot.web reads the environment itself.

Every response carries the security headers (``security_headers``): a Content-Security-Policy
without inline script or style, no MIME sniffing, no referrer, no framing, HSTS over TLS, and
no caching of the console, which shows personal data on what may be a shared PC.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Callable, Coroutine, Optional

import aiohttp
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import supportinfo
from bot.handoff import retention
from bot.handoff.store import Store
from bot.handoff.transcripts import Transcripts
from bot.settings import Settings, load
from bot.web import admin, auth, cases, console, live, notice_sender, notices, relay, reports

STATIC = Path(__file__).resolve().parent / "static"
# Stylesheets are files, not <style>: the policy below allows no inline style.
STYLESHEETS = ("widget.css", "demo.css", "neutral.css")
CSP = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HSTS = "max-age=63072000; includeSubDomains"

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>鎌倉市 ケアラー相談チャット</title></head>
<body><main><h1>鎌倉市 ケアラー相談チャット</h1>
<p>ご家族のお世話や介護について相談できるチャットです。<a href="/demo">デモページ</a>で試せます。</p></main></body></html>
"""


def security_headers(request: Request, resp: HTTPResponse) -> None:
    """Set the security headers on a response of the web app (pages, files, redirects, errors).

    The CORS headers of the widget's routes are left as they are: the widget runs on the
    city's pages, another origin.
    """
    resp.headers["Content-Security-Policy"] = CSP
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Referrer-Policy"] = "no-referrer"
    resp.headers["X-Frame-Options"] = "DENY"  # for browsers that ignore frame-ancestors
    # Only over TLS: a browser ignores HSTS over http, and a local http run must stay reachable.
    # Behind the proxy, sanic takes the scheme from X-Forwarded-Proto (WEB_PROXIES_COUNT).
    if request.scheme == "https":
        resp.headers["Strict-Transport-Security"] = HSTS
    # The console's pages and CSV files hold personal data: never kept in the browser's cache.
    # Its static files (Chart.js, styles) hold none and may be cached.
    if (request.path == "/staff" or request.path.startswith("/staff/")) and not request.path.startswith("/staff/static/"):
        resp.headers["Cache-Control"] = "no-store"


def create_app(settings: Optional[Settings] = None, store: Optional[Store] = None,
               transcripts: Optional[Transcripts] = None, *, name: str = "kamakura_web") -> Sanic:
    """Create the web app: a page, /health, the widget, and the staff console under /staff.

    ``settings`` defaults to the process's (``load()``), the store and the transcripts to the
    databases the settings name; tests pass their own, and a distinct ``name`` per app.
    """
    settings = settings or load()
    store = store or Store(settings.handoff_db_url)
    # The console reads transcripts (a read-only database role in production: TRACKER_READ_DB_URL);
    # retention deletes them (TRACKER_DB_URL), once a day, in every web process (it is idempotent).
    transcripts = transcripts or Transcripts(settings.tracker_reader_url, archived=store.archived_counts)
    app = Sanic(name)
    # How many proxies (nginx: 1) stand in front: only then are X-Forwarded-For and
    # X-Forwarded-Proto believed (the client address of the login limiter, https for HSTS).
    app.config.PROXIES_COUNT = settings.web_proxies_count
    app.ctx.console = console.Console.create(settings, store, transcripts)
    # Live conversations (issue 15): the hub watches what is live; the relay asks it whether staff
    # hold a conversation before the bot may read a message.
    app.ctx.live = live.LiveHub(settings, store, transcripts, live.RasaEvents(settings.rasa_url, settings.rasa_auth_token))
    app.ctx.relay = relay.Relay(store, settings.rasa_url, held=app.ctx.live.relay_held, line_token=settings.line_relay_token)

    # Notices people opted into (issue 17): confirmation e-mails and deliveries, in the background.
    app.ctx.notice_sender = notice_sender.NoticeSender(settings, store)

    @app.after_server_start
    async def start_live(app_: Sanic, _loop: object) -> None:
        app_.add_task(app_.ctx.live.run())
        app_.add_task(app_.ctx.notice_sender.run())
    retention.schedule(app, store, Transcripts(settings.tracker_db_url, archived=store.archived_counts), settings=settings)
    for area in (auth, cases, reports, admin, console, relay, live, notices):
        app.blueprint(area.blueprint())

    @app.middleware("response")
    async def headers(request: Request, resp: HTTPResponse) -> None:
        security_headers(request, resp)

    for sheet in STYLESHEETS:
        app.add_route(_stylesheet(sheet), f"/{sheet}", methods=["GET"], name=sheet.replace(".", "_"))
    app.add_route(health, "/health", methods=["GET"])
    app.ctx.readiness = Readiness(settings)
    app.add_route(ready, "/ready", methods=["GET"])
    app.add_route(index, "/", methods=["GET"])
    return app


async def health(_: Request) -> HTTPResponse:
    """For the load balancer and the start-up scripts: the app answers."""
    return response.json({"status": "ok"})


class Readiness:
    """Whether Rasa answers. Rasa opens its port only once its model is loaded and warmed and the action
    server (itself warmed before it listens) answers (bot.rasa.warmup): so the first person after a
    restart waits no longer than the tenth. It asks the REST channel the relay uses (no token needed),
    at most every ``ttl`` seconds however often /ready is called (it is public: the widget asks)."""

    def __init__(self, settings: Settings, ttl: float = 2.0) -> None:
        self.url = f"{settings.rasa_url.rstrip('/')}/webhooks/rest/"
        self.ttl, self._at, self._ready = ttl, -1e9, False
        self._lock = asyncio.Lock()

    async def ready(self) -> bool:
        async with self._lock:
            if time.monotonic() - self._at >= self.ttl:
                self._ready = await self._ask()
                self._at = time.monotonic()
            return self._ready

    async def _ask(self) -> bool:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
                async with http.get(self.url) as r:
                    return r.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False


async def ready(request: Request) -> HTTPResponse:
    """For the widget and the load balancer: 200 when a message would be answered at full speed, else 503."""
    ok = await request.app.ctx.readiness.ready()
    # CORS as the widget's other routes (bot.web.relay): the widget may be on the city's own site.
    return response.json({"ready": ok}, status=200 if ok else 503, headers={**relay.CORS, "Cache-Control": "no-store"})


async def index(_: Request) -> HTTPResponse:
    """A short page that says what this is."""
    return response.html(PAGE)


def _stylesheet(filename: str) -> Callable[[Request], Coroutine[None, None, HTTPResponse]]:
    async def serve(_: Request) -> HTTPResponse:
        # no-cache as /widget.js: the city's pages pick up a new version at once.
        return await response.file(str(STATIC / filename), mime_type="text/css; charset=utf-8",
                                   headers={"Cache-Control": "no-cache"})

    return serve


def main() -> None:
    """Run the web app in the foreground on ``WEB_HOST``:``WEB_PORT`` (default 127.0.0.1:8000)."""
    from bot import production

    # The web app writes to trackers through Rasa's API (live conversations, issue 15): it needs the token.
    # With the LINE channel (issue 16), its relay token must be as strong as the others.
    line = ["LINE_RELAY_TOKEN"] if os.environ.get("LINE_RELAY_TOKEN") else []
    production.start("web", ["RASA_AUTH_TOKEN", *line], ["HANDOFF_DB_URL", "TRACKER_DB_URL", "TRACKER_READ_DB_URL"])
    settings = load()
    supportinfo.load_or_exit("web")  # issue 17: a broken data/support_info.yml stops the start, with why
    app = create_app(settings)
    # Behind nginx in production; set WEB_HOST=0.0.0.0 only on purpose.
    app.run(host=settings.web_host, port=settings.web_port, access_log=False)
