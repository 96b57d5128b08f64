"""The web app (port 8000): the chat widget (/widget.js, /demo), /health, and the staff console (/staff)."""

from __future__ import annotations

import os

from sanic import Sanic, response
from sanic.request import Request

PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>鎌倉市 ケアラー相談チャット</title></head>
<body><main><h1>鎌倉市 ケアラー相談チャット</h1>
<p>ご家族のお世話や介護について相談できるチャットです。<a href="/demo">デモページ</a>で試せます。</p></main></body></html>
"""


def create_app(name: str = "kamakura_web", store=None, transcripts=None) -> Sanic:
    """Create the web app: a page, /health, and the staff console under /staff."""
    from bot.handoffs import Store
    from bot.web import chat, staff

    app = Sanic(name)
    store = store or Store()
    app.blueprint(staff.create_blueprint(store, transcripts))
    app.blueprint(chat.create_blueprint(store))

    @app.get("/health")
    async def health(_: Request):
        return response.json({"status": "ok"})

    @app.get("/")
    async def index(_: Request):
        return response.html(PAGE)

    return app


def main() -> None:
    """Run the web app in the foreground on ``WEB_PORT`` (default 8000)."""
    app = create_app()
    app.run(
        host=os.environ.get("WEB_HOST", "0.0.0.0"),
        port=int(os.environ.get("WEB_PORT", "8000")),
        access_log=False,
    )
