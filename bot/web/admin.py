"""The console's admin pages: the audit log with the live sessions and the last retention run, and
ending every session at once (after a suspected leak).

Only for admin accounts: to any other account these pages do not exist (a 404, `admin_only`).
"""

from __future__ import annotations

import time

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.web.auth import Visit, admin_only, csrf_checked, to_login_page


@admin_only
async def audit(request: Request, visit: Visit) -> HTTPResponse:
    """Who did what, which sessions are live, and when retention last ran."""
    store, settings = visit.console.store, visit.console.settings
    return visit.render("staff/audit.html", entries=store.audit_log(),
                        live_sessions=store.live_sessions(time.time(), settings.staff_idle_seconds, settings.staff_session_seconds),
                        last_retention=store.last_retention())


@admin_only
@csrf_checked
async def end_all_sessions(request: Request, visit: Visit) -> HTTPResponse:
    """End every session, the admin's own too: after a suspected leak nobody should stay logged in."""
    ended = visit.console.store.end_sessions()
    visit.console.store.audit(visit.staff, "end_sessions", detail=f"{ended} sessions")
    return to_login_page(request)


def blueprint() -> Blueprint:
    """The admin's pages under /staff."""
    bp = Blueprint("admin", url_prefix="/staff")
    bp.add_route(audit, "/audit", methods=["GET"])
    bp.add_route(end_all_sessions, "/sessions/end", methods=["POST"])
    return bp
