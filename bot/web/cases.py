"""The console's cases: the list with its filters, a case's page, its status, notes, transfer and
danger marks, and the CSV export of the list.

A section sees its own cases; a case it may not see is a 404, the same as one that does not exist
(``Store.get`` decides, for the page and for every change).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Dict, Optional
from urllib.parse import urlencode

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import channels
from bot.handoff.store import STATUS_LABELS
from bot.web.auth import Visit, csrf_checked, logged_in
from bot.web.console import CARER_LABELS, ROLE_LABELS, csv_response, destination_name, jst, sections

EXPORT_HEADER = ["受付番号", "受付日時(日本時間)", "状態", "危険のサイン", "ケアラーの種類", "相談者", "つなぎ先", "要約", "連絡先", "窓口"]


def _parse_date(value: Optional[str]) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def filters(request: Request) -> Dict[str, Any]:
    """The list's filters from the query string (the same for the page and its CSV)."""
    return {
        "section": request.args.get("section", ""),
        "status": request.args.get("status", ""),
        "carer_type": request.args.get("carer_type", ""),
        "crisis": request.args.get("crisis", ""),
        "date_from": _parse_date(request.args.get("date_from")),
        "date_to": _parse_date(request.args.get("date_to")),
        "q": request.args.get("q", "").strip(),
    }


def bad_input() -> HTTPResponse:
    """The answer to a form whose values the store refuses."""
    return response.text("入力を確認してください。", status=400)


@logged_in
async def index(request: Request, visit: Visit) -> HTTPResponse:
    """The cases this account may see, crisis first, filtered."""
    f = filters(request)
    rows = visit.console.store.list_handoffs(visit.staff, **f)
    query = urlencode({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in f.items() if v})
    return visit.render("staff/list.html", rows=rows, f=f, query=query)


def _number_user_turns(turns: list) -> int:
    """Give each user turn its number (0-based), as a danger signal names it; return how many there are."""
    n = 0
    for t in turns:
        if t["who"] == "user":
            t["n"], n = n, n + 1
    return n


@logged_in
async def detail(request: Request, visit: Visit, ref: str) -> HTTPResponse:
    """A case: its record, its transcript, why it was flagged, and the forms that change it (viewing is audited)."""
    store = visit.console.store
    record = store.get(visit.staff, ref)
    if record is None:
        return visit.not_found()
    store.audit(visit.staff, "view", ref)
    turns = visit.console.transcripts.turns(record["conversation_id"])
    n = _number_user_turns(turns)
    signal = store.danger_signal(ref)
    return visit.render("staff/detail.html", h=record, turns=turns, signal=signal,
                        raised_shown=bool(signal) and signal["turn"] < n, danger_marks=store.danger_marks(ref))


def change(visit: Visit, ref: str, apply: Callable[[], bool]) -> HTTPResponse:
    """Apply a change to a case this account may see (else 404), then back to its page (400 when refused)."""
    if visit.console.store.get(visit.staff, ref) is None:
        return visit.not_found()
    if not apply():
        return bad_input()
    return response.redirect(f"/staff/h/{ref}")


@logged_in
@csrf_checked
async def status(request: Request, visit: Visit, ref: str) -> HTTPResponse:
    """Set the case's status."""
    return change(visit, ref, lambda: visit.console.store.set_status(visit.staff, ref, request.form.get("status", "")))


@logged_in
@csrf_checked
async def note(request: Request, visit: Visit, ref: str) -> HTTPResponse:
    """Add a note to the case."""
    return change(visit, ref, lambda: visit.console.store.add_note(visit.staff, ref, request.form.get("text", "")))


@logged_in
@csrf_checked
async def danger_mark(request: Request, visit: Visit, ref: str) -> HTTPResponse:
    """Mark a wrong danger flag or a missed danger."""
    # The note is optional; the kind must be one of the two (else 400).
    return change(visit, ref, lambda: visit.console.store.mark_danger(visit.staff, ref, request.form.get("kind", ""),
                                                                      request.form.get("note", "")))


async def transfer(request: Request, ref: str) -> HTTPResponse:
    """Hand the case to another section, with a reason.

    The section is checked before the session, as the console always did: an unknown one is a 400
    even without a session. The rest goes through the guards as every other form.
    """
    to = request.form.get("to_section", "")
    if to not in sections():
        return bad_input()
    return await _transfer(request, ref=ref, to=to)


@logged_in
@csrf_checked
async def _transfer(request: Request, visit: Visit, ref: str, to: str) -> HTTPResponse:
    return change(visit, ref, lambda: visit.console.store.transfer(visit.staff, ref, to, request.form.get("reason", "")))


def _export_row(r: Dict[str, Any]) -> list:
    return [r["ref"], jst(r["created_at"], "%Y-%m-%d %H:%M:%S"), STATUS_LABELS[r["status"]], "あり" if r["crisis"] else "",
            "・".join(CARER_LABELS.get(t, t) for t in r["carer_types"]), ROLE_LABELS.get(r["user_role"], r["user_role"]),
            "・".join(destination_name(d) for d in r["destinations"]), r["summary"], r["contact"] or "",
            channels.label(r["conversation_id"])]


@logged_in
async def export(request: Request, visit: Visit) -> HTTPResponse:
    """The list as it is filtered, as CSV (audited with the number of rows)."""
    rows = visit.console.store.list_handoffs(visit.staff, **filters(request))
    visit.console.store.audit(visit.staff, "export", detail=f"{len(rows)} rows")
    return csv_response("handoffs.csv", EXPORT_HEADER, [_export_row(r) for r in rows])


def blueprint() -> Blueprint:
    """The cases under /staff."""
    bp = Blueprint("cases", url_prefix="/staff")
    bp.add_route(index, "/", methods=["GET"])
    bp.add_route(detail, "/h/<ref:str>", methods=["GET"])
    bp.add_route(status, "/h/<ref:str>/status", methods=["POST"])
    bp.add_route(note, "/h/<ref:str>/note", methods=["POST"])
    bp.add_route(danger_mark, "/h/<ref:str>/danger-mark", methods=["POST"])
    bp.add_route(transfer, "/h/<ref:str>/transfer", methods=["POST"])
    bp.add_route(export, "/export.csv", methods=["GET"])
    return bp
