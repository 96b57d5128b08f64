"""The staff console (/staff): hand-offs by section, transcripts, notes, status, CSV, outcomes.

Security: argon2 password hashes checked off the event loop (bot.handoff.store); sessions kept
in the hand-off database, so that logout, a password change, a disabled account or an
admin ends them at once on every web process, with an idle timeout and an absolute
lifetime; the cookie (HttpOnly, SameSite=Strict, path /staff) holds only a random token;
a CSRF token on every form; failed logins block an address and slow an account down;
a 404 for any case the account may not see; CSV cells that a spreadsheet would run as
a formula are neutralised. The headers of every response are set in bot.web.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hmac
import io
import math
import os
import secrets
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Dict, List, Optional
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Blueprint, response
from sanic.request import Request

from bot import catalog
from bot.handoff.store import STATUS_LABELS, STATUSES, Staff, Store
from bot.handoff.transcripts import Transcripts

SESSION_COOKIE = "kc_staff"
LOGIN_CSRF_COOKIE = "kc_login_csrf"
TEMPLATES = Path(__file__).resolve().parent / "templates"
CHART_JS = Path(__file__).resolve().parents[2] / "node_modules" / "chart.js" / "dist" / "chart.umd.js"
CARER_LABELS = {"young_carer": "ヤングケアラー", "youth_carer": "若者ケアラー", "business_carer": "ビジネスケアラー", "carer": "ケアラー"}
ROLE_LABELS = {"carer": "本人", "employer": "事業者", "supporter": "支援者", "other": "その他"}
# A cell starting with one of these is a formula to Excel or LibreOffice (OWASP, "CSV Injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Settings:
    """Console settings from the environment."""

    def __init__(self) -> None:
        self.session_seconds = int(os.environ.get("STAFF_SESSION_SECONDS", str(8 * 3600)))
        self.idle_seconds = int(os.environ.get("STAFF_IDLE_SECONDS", "1800"))
        self.max_failures = int(os.environ.get("STAFF_MAX_LOGIN_FAILURES", "5"))
        self.lockout_seconds = int(os.environ.get("STAFF_LOCKOUT_SECONDS", str(15 * 60)))
        self.max_delay = int(os.environ.get("STAFF_MAX_LOGIN_DELAY_SECONDS", "60"))
        self.secure_cookie = os.environ.get("STAFF_COOKIE_SECURE", "false").lower() == "true"


class LoginLimiter:
    """Failed logins per client address and per account, kept in the hand-off database.

    Every web process behind the load balancer sees the same count, and a restart does not
    reset it. An address is blocked after ``max_failures`` failures within ``window`` seconds.
    An account is only slowed down, never locked out for long, or anyone could keep a member
    of staff out of the console by failing on purpose: after ``max_failures`` failures the next
    attempt waits 2^(n - max_failures) seconds after the last one, at most ``max_delay``.
    """

    def __init__(self, store: Store, max_failures: int, window: int, max_delay: int) -> None:
        self.store, self.max_failures, self.window, self.max_delay = store, max_failures, window, max_delay

    def address_blocked(self, address: str, at: float) -> bool:
        """Return True when this address had too many failures within the window."""
        return self.store.login_failures(f"ip:{address}", at - self.window) >= self.max_failures

    def account_delay(self, username: str, at: float) -> float:
        """Return how many seconds this account must still wait before the next attempt (0: none)."""
        count, last = self.store.login_failure_stats(f"user:{username}", at - self.window)
        if count < self.max_failures or last is None:
            return 0.0
        return max(0.0, min(2.0 ** (count - self.max_failures), self.max_delay) - (at - last))

    def fail(self, address: str, username: str, at: float) -> None:
        """Record a failure."""
        self.store.add_login_failure(f"ip:{address}", f"user:{username}", at=at)

    def reset(self, address: str, username: str) -> None:
        """Forget the failures after a success."""
        self.store.clear_login_failures(f"ip:{address}", f"user:{username}")


def client_address(request: Request) -> str:
    """Return the client's address: from X-Forwarded-For only behind a configured proxy.

    Sanic fills ``remote_addr`` from the forwarding headers only when ``PROXIES_COUNT``
    (WEB_PROXIES_COUNT) says how many proxies to trust; otherwise anyone could send the
    header and pick a new address for each guess.
    """
    return request.remote_addr or request.ip


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # The leading quote makes the spreadsheet show the text instead of running it.
    return "'" + text if text.startswith(FORMULA_START) else text


def _sections() -> Dict[str, str]:
    return {k: v["name"] for k, v in catalog.load()["destinations"].items() if v["kind"] == "section"}


def _parse_date(value: Optional[str]) -> Optional[dt.date]:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def create_blueprint(store: Optional[Store] = None, transcripts: Optional[Transcripts] = None) -> Blueprint:
    """Return the /staff blueprint over a hand-off store and the tracker store."""
    bp = Blueprint("staff", url_prefix="/staff")
    settings = Settings()
    store = store or Store()
    transcripts = transcripts or Transcripts()
    limiter = LoginLimiter(store, settings.max_failures, settings.lockout_seconds, settings.max_delay)
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))
    env.globals.update(
        sections=_sections(),
        status_labels=STATUS_LABELS,
        statuses=STATUSES,
        carer_labels=CARER_LABELS,
        role_labels=ROLE_LABELS,
        destination_name=lambda d: catalog.load()["destinations"].get(d, {}).get("name", d),
    )

    def render(name: str, status: int = 200, **context: Any):
        # No-store, no framing and the CSP are set for every console response in bot.web.
        return response.html(env.get_template(name).render(**context), status=status)

    def set_cookie(resp, request: Request, name: str, value: str, max_age: int) -> None:
        resp.cookies[name] = value
        cookie = resp.cookies[name]
        cookie["httponly"] = True
        cookie["samesite"] = "Strict"
        cookie["path"] = "/staff"
        cookie["max-age"] = max_age
        if settings.secure_cookie or request.scheme == "https":
            cookie["secure"] = True

    def drop_cookie(resp, request: Request, name: str) -> None:
        # The same path and attributes as when it was set: a browser keeps a cookie whose deletion
        # names another path (sanic's `del resp.cookies[name]` says path /).
        set_cookie(resp, request, name, "", 0)
        resp.cookies[name]["expires"] = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)

    def session(request: Request) -> Optional[Dict[str, Any]]:
        found = store.session_staff(request.cookies.get(SESSION_COOKIE) or "", time.time(),
                                    settings.idle_seconds, settings.session_seconds)
        return {"staff": found[0], "csrf": found[1]} if found else None

    def login_redirect():
        return response.redirect("/staff/login")

    def csrf_ok(request: Request, sess: Dict[str, Any]) -> bool:
        sent = request.form.get("csrf_token") or ""
        return bool(sent) and hmac.compare_digest(sent, sess["csrf"])

    @bp.get("/login")
    async def login_form(request: Request):
        token = secrets.token_urlsafe(24)
        resp = render("staff/login.html", csrf=token, error=None)
        set_cookie(resp, request, LOGIN_CSRF_COOKIE, token, 600)
        return resp

    @bp.post("/login")
    async def login(request: Request):
        username = (request.form.get("username") or "").strip()[:64]  # no account has a longer name
        password = request.form.get("password") or ""
        sent, expected = request.form.get("csrf_token") or "", request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not sent or not hmac.compare_digest(sent, expected):
            return response.text("CSRF token missing or invalid", status=403)
        address, at = client_address(request), time.time()
        if limiter.address_blocked(address, at):
            return render("staff/login.html", status=429, csrf=sent,
                          error="ログインの失敗が続いたため、しばらく時間をおいてからお試しください。")
        wait = limiter.account_delay(username, at)
        if wait > 0:
            return render("staff/login.html", status=429, csrf=sent,
                          error=f"このユーザー名でのログインの失敗が続いています。{math.ceil(wait)}秒ほど待ってから、もう一度お試しください。")
        # Counted before the password is checked, so that guesses sent in parallel already see it;
        # a success forgets it below.
        limiter.fail(address, username, at)
        # argon2 takes about 0.1 s of CPU: in a thread, so that a burst of logins does not stall the chat relay.
        staff = await asyncio.to_thread(store.authenticate, username, password)
        if staff is None:
            return render("staff/login.html", status=401, csrf=sent, error="ユーザー名またはパスワードが違います。")
        limiter.reset(address, username)
        store.audit(staff, "login")
        token, _ = store.start_session(staff.username, time.time(), settings.session_seconds)
        resp = response.redirect("/staff/")
        set_cookie(resp, request, SESSION_COOKIE, token, settings.session_seconds)
        drop_cookie(resp, request, LOGIN_CSRF_COOKIE)
        return resp

    @bp.post("/logout")
    async def logout(request: Request):
        sess = session(request)
        if sess and csrf_ok(request, sess):
            store.audit(sess["staff"], "logout")
        # Ended even without a valid form: the browser drops the cookie anyway, and a session that
        # nobody holds any more should not stay usable.
        store.end_session(request.cookies.get(SESSION_COOKIE) or "")
        resp = response.redirect("/staff/login")
        drop_cookie(resp, request, SESSION_COOKIE)
        return resp

    def filters(request: Request) -> Dict[str, Any]:
        return {
            "section": request.args.get("section", ""),
            "status": request.args.get("status", ""),
            "carer_type": request.args.get("carer_type", ""),
            "crisis": request.args.get("crisis", ""),
            "date_from": _parse_date(request.args.get("date_from")),
            "date_to": _parse_date(request.args.get("date_to")),
            "q": request.args.get("q", "").strip(),
        }

    @bp.get("/")
    async def index(request: Request):
        sess = session(request)
        if not sess:
            return login_redirect()
        f = filters(request)
        rows = store.list_handoffs(sess["staff"], **f)
        query = urlencode({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in f.items() if v})
        return render("staff/list.html", staff=sess["staff"], csrf=sess["csrf"], rows=rows, f=f, query=query)

    @bp.get("/h/<ref:str>")
    async def detail(request: Request, ref: str):
        sess = session(request)
        if not sess:
            return login_redirect()
        record = store.get(sess["staff"], ref)
        if record is None:
            return render("staff/not_found.html", status=404, staff=sess["staff"], csrf=sess["csrf"])
        store.audit(sess["staff"], "view", ref)
        turns = transcripts.turns(record["conversation_id"])
        n = 0
        for t in turns:  # the n-th user turn (0-based), as a danger signal names it
            if t["who"] == "user":
                t["n"], n = n, n + 1
        signal = store.danger_signal(ref)
        return render("staff/detail.html", staff=sess["staff"], csrf=sess["csrf"], h=record, turns=turns,
                      signal=signal, raised_shown=bool(signal) and signal["turn"] < n, danger_marks=store.danger_marks(ref))

    async def change(request: Request, ref: str, apply):
        sess = session(request)
        if not sess:
            return login_redirect()
        if not csrf_ok(request, sess):
            return response.text("CSRF token missing or invalid", status=403)
        if store.get(sess["staff"], ref) is None:
            return render("staff/not_found.html", status=404, staff=sess["staff"], csrf=sess["csrf"])
        if not apply(sess["staff"]):
            return response.text("入力を確認してください。", status=400)
        return response.redirect(f"/staff/h/{ref}")

    @bp.post("/h/<ref:str>/status")
    async def status(request: Request, ref: str):
        return await change(request, ref, lambda s: store.set_status(s, ref, request.form.get("status", "")))

    @bp.post("/h/<ref:str>/note")
    async def note(request: Request, ref: str):
        return await change(request, ref, lambda s: store.add_note(s, ref, request.form.get("text", "")))

    @bp.post("/h/<ref:str>/danger-mark")
    async def danger_mark(request: Request, ref: str):
        # The note is optional; the kind must be one of the two (else 400).
        return await change(request, ref, lambda s: store.mark_danger(s, ref, request.form.get("kind", ""),
                                                                      request.form.get("note", "")))

    @bp.post("/h/<ref:str>/transfer")
    async def transfer(request: Request, ref: str):
        to = request.form.get("to_section", "")
        if to not in _sections():
            return response.text("入力を確認してください。", status=400)
        return await change(request, ref, lambda s: store.transfer(s, ref, to, request.form.get("reason", "")))

    def csv_response(name: str, header: List[str], rows: List[List[Any]]):
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

    @bp.get("/export.csv")
    async def export(request: Request):
        sess = session(request)
        if not sess:
            return login_redirect()
        rows = store.list_handoffs(sess["staff"], **filters(request))
        store.audit(sess["staff"], "export", detail=f"{len(rows)} rows")
        return csv_response(
            "handoffs.csv",
            ["受付番号", "受付日時(UTC)", "状態", "危険のサイン", "ケアラーの種類", "相談者", "つなぎ先", "要約", "連絡先"],
            [
                [r["ref"], r["created_at"].isoformat(sep=" "), STATUS_LABELS[r["status"]], "あり" if r["crisis"] else "",
                 "・".join(CARER_LABELS.get(t, t) for t in r["carer_types"]), ROLE_LABELS.get(r["user_role"], r["user_role"]),
                 "・".join(env.globals["destination_name"](d) for d in r["destinations"]), r["summary"], r["contact"] or ""]
                for r in rows
            ],
        )

    def outcomes(staff: Staff) -> Dict[str, Any]:
        rows = store.list_handoffs(staff)
        months: Dict[str, Dict[str, Any]] = defaultdict(lambda: {"handoffs": 0, "crisis": 0, "kinds": Counter(), "hours": []})
        sections: Counter = Counter()
        statuses: Counter = Counter()
        for r in rows:
            m = months[r["created_at"].strftime("%Y-%m")]
            m["handoffs"] += 1
            m["crisis"] += r["crisis"]
            m["kinds"].update(r["carer_types"])
            if r["first_action_at"]:
                m["hours"].append((r["first_action_at"] - r["created_at"]).total_seconds() / 3600)
            sections.update(r["destinations"][:1])
            statuses[r["status"]] += 1
        consultations = transcripts.conversations_by_month() if staff.sees_all else {}
        table = []
        for month in sorted(set(months) | set(consultations)):
            m = months[month]
            table.append({
                "month": month, "consultations": consultations.get(month, ""), "handoffs": m["handoffs"],
                "crisis": m["crisis"], **{k: m["kinds"][k] for k in CARER_LABELS},
                "median_hours": round(statistics.median(m["hours"]), 1) if m["hours"] else "",
            })
        chart = {
            "months": [t["month"] for t in table],
            "handoffs": [t["handoffs"] for t in table],
            "crisis": [t["crisis"] for t in table],
            "section_names": [env.globals["destination_name"](s) for s in sections],
            "section_counts": list(sections.values()),
        }
        return {"table": table, "sections": sections, "statuses": statuses, "chart": chart}

    @bp.get("/outcomes")
    async def outcomes_page(request: Request):
        sess = session(request)
        if not sess:
            return login_redirect()
        return render("staff/outcomes.html", staff=sess["staff"], csrf=sess["csrf"], o=outcomes(sess["staff"]))

    @bp.get("/outcomes.csv")
    async def outcomes_csv(request: Request):
        sess = session(request)
        if not sess:
            return login_redirect()
        o = outcomes(sess["staff"])
        header = ["月", "相談件数", "つなぎ件数", "危険のサイン", *CARER_LABELS.values(), "初動までの時間(中央値・時間)"]
        return csv_response("outcomes.csv", header, [
            [t["month"], t["consultations"], t["handoffs"], t["crisis"], *[t[k] for k in CARER_LABELS], t["median_hours"]]
            for t in o["table"]
        ])

    @bp.get("/audit")
    async def audit(request: Request):
        sess = session(request)
        if not sess:
            return login_redirect()
        if not sess["staff"].is_admin:
            return render("staff/not_found.html", status=404, staff=sess["staff"], csrf=sess["csrf"])
        return render("staff/audit.html", staff=sess["staff"], csrf=sess["csrf"], entries=store.audit_log(),
                      live_sessions=store.live_sessions(time.time(), settings.idle_seconds, settings.session_seconds),
                      last_retention=store.last_retention())

    @bp.post("/sessions/end")
    async def end_all_sessions(request: Request):
        sess = session(request)
        if not sess:
            return login_redirect()
        if not sess["staff"].is_admin:
            return render("staff/not_found.html", status=404, staff=sess["staff"], csrf=sess["csrf"])
        if not csrf_ok(request, sess):
            return response.text("CSRF token missing or invalid", status=403)
        # Every session, the admin's own too: after a suspected leak nobody should stay logged in.
        ended = store.end_sessions()
        store.audit(sess["staff"], "end_sessions", detail=f"{ended} sessions")
        resp = response.redirect("/staff/login")
        drop_cookie(resp, request, SESSION_COOKIE)
        return resp

    @bp.get("/static/chart.js")
    async def chart_js(request: Request):
        if not CHART_JS.exists():
            return response.text("chart.js is not installed (make install runs npm ci)", status=404)
        return await response.file(str(CHART_JS), headers={"Cache-Control": "max-age=86400"})

    @bp.get("/static/outcomes.js")
    async def outcomes_js(request: Request):
        return await response.file(str(TEMPLATES / "staff" / "outcomes.js"))

    @bp.get("/static/console.css")
    async def console_css(request: Request):
        # A file, not a <style> in the page: the Content-Security-Policy allows no inline style.
        return await response.file(str(TEMPLATES / "staff" / "console.css"), mime_type="text/css; charset=utf-8")

    return bp
