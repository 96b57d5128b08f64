"""What the areas of the staff console (/staff) share: their dependencies, the templates, CSV files.

The console is split by area, one blueprint each: auth (login, sessions and the guards), cases,
reports and admin, plus its own static files here. ``create_app`` builds one `Console` per app and
keeps it on ``app.ctx.console``: the handlers are module functions, so that no blueprint is one
long closure, and they reach the store and the settings through ``console_of(request)`` or, behind
a guard, through the `Visit` the guard hands them (bot.web.auth).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import catalog, channels
from bot.catalog import JST
from bot.handoff.notices import may_write_notices
from bot.handoff.store import STATUS_LABELS, STATUSES, Store
from bot.handoff.transcripts import Transcripts, live_key
from bot.settings import Settings

TEMPLATES = Path(__file__).resolve().parent / "templates"
CHART_JS = Path(__file__).resolve().parents[2] / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
CARER_LABELS = {"young_carer": "ヤングケアラー", "youth_carer": "若者ケアラー", "business_carer": "ビジネスケアラー", "carer": "ケアラー"}
ROLE_LABELS = {"carer": "本人", "employer": "事業者", "supporter": "支援者", "other": "その他"}
# A cell starting with one of these is a formula to Excel or LibreOffice (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def sections() -> Dict[str, str]:
    """The city's sections that can receive a case: {id: name}, from the catalog."""
    return {k: v["name"] for k, v in catalog.load()["destinations"].items() if v["kind"] == "section"}


def destination_name(destination: str) -> str:
    """The name staff know a destination by (its id when the catalog no longer has it)."""
    return catalog.load()["destinations"].get(destination, {}).get("name", destination)


def jst(when: Optional[dt.datetime], fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time of the stores (UTC, naive or aware) as Japan time for staff (issue 15: the console said UTC)."""
    if when is None:
        return ""
    aware = when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)
    return aware.astimezone(JST).strftime(fmt)


@dataclass(frozen=True)
class Console:
    """The console's dependencies, built once per app: every handler of every area reads the same."""

    settings: Settings
    store: Store
    transcripts: Transcripts
    templates: Environment

    @classmethod
    def create(cls, settings: Settings, store: Store, transcripts: Transcripts) -> Console:
        """Build the console over a hand-off store and the tracker store, with its templates."""
        templates = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
        templates.filters["jst"] = jst
        templates.globals.update(
            sections=sections(),
            status_labels=STATUS_LABELS,
            statuses=STATUSES,
            carer_labels=CARER_LABELS,
            role_labels=ROLE_LABELS,
            destination_name=destination_name,
            channel_label=channels.label,
            line_contact=channels.LINE_CONTACT,
            live_key=live_key,
            may_write_notices=may_write_notices,
        )
        return cls(settings, store, transcripts, templates)

    def render(self, name: str, status: int = 200, **context: Any) -> HTTPResponse:
        """A page of the console from its template."""
        # No-store, no framing and the CSP are set for every console response in bot.web.
        return response.html(self.templates.get_template(name).render(**context), status=status)


def console_of(request: Request) -> Console:
    """The console of the app that serves this request (``create_app`` puts it on ``app.ctx``)."""
    return request.app.ctx.console


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # The leading quote makes the spreadsheet show the text instead of running it.
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_response(name: str, header: List[str], rows: Sequence[Sequence[Any]]) -> HTTPResponse:
    """A CSV download that Excel opens as it is, with every formula-like cell neutralised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([[_cell(v) for v in row] for row in rows])
    # UTF-8 with BOM, so that Excel opens the Japanese correctly.
    return response.raw(
        "\ufeff".encode() + out.getvalue().encode("utf-8"),
        content_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )


# --- the console's static files: no personal data, no session needed -------------------------------


async def chart_js(request: Request) -> HTTPResponse:
    """Chart.js from node_modules: the outcomes page loads nothing from another site."""
    if not CHART_JS.exists():
        return response.text("chart.js is not installed (make install runs npm ci)", status=404)
    return await response.file(str(CHART_JS), headers={"Cache-Control": "max-age=86400"})


async def outcomes_js(request: Request) -> HTTPResponse:
    """The outcomes page's script: a file, as the Content-Security-Policy allows no inline script."""
    return await response.file(str(TEMPLATES / "staff" / "outcomes.js"))


async def live_js(request: Request) -> HTTPResponse:
    """The live pages' script (issue 15)."""
    return await response.file(str(TEMPLATES / "staff" / "live.js"), mime_type="application/javascript; charset=utf-8")


async def console_css(request: Request) -> HTTPResponse:
    """The console's stylesheet."""
    # A file, not a <style> in the page: the Content-Security-Policy allows no inline style.
    return await response.file(str(TEMPLATES / "staff" / "console.css"), mime_type="text/css; charset=utf-8")


def blueprint() -> Blueprint:
    """The console's static files under /staff/static."""
    bp = Blueprint("console_files", url_prefix="/staff/static")
    bp.add_route(chart_js, "/chart.js", methods=["GET"])
    bp.add_route(outcomes_js, "/outcomes.js", methods=["GET"])
    bp.add_route(live_js, "/live.js", methods=["GET"])
    bp.add_route(console_css, "/console.css", methods=["GET"])
    return bp
