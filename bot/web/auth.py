"""The console's doors: login, logout, the session cookie, CSRF, and the guards every other page uses.

Security: argon2 password hashes checked off the event loop (bot.handoff.store); sessions kept
in the hand-off database, so that logout, a password change, a disabled account or an
admin ends them at once on every web process, with an idle timeout and an absolute
lifetime; the cookie (HttpOnly, SameSite=Strict, path /staff) holds only a random token;
a CSRF token on every form; failed logins block an address and slow an account down.

A page of another area does not look the session up itself: it is wrapped in `logged_in` (or
`admin_only`), which hands it the `Visit`, and a form in `csrf_checked` as well, so that no page can
forget a check or make it differently.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.handoff.store import Staff, Store
from bot.web.console import Console, console_of

SESSION_COOKIE = "kc_staff"
LOGIN_CSRF_COOKIE = "kc_login_csrf"
LOGIN_PAGE = "/staff/login"

Handler = Callable[..., Awaitable[HTTPResponse]]


@dataclass(frozen=True)
class Visit:
    """A request in a live session: the console, who is logged in, and the session's CSRF token."""

    console: Console
    staff: Staff
    csrf: str

    @classmethod
    def of(cls, request: Request) -> Optional[Visit]:
        """The live session of the request's cookie (and mark it used), or None."""
        console = console_of(request)
        found = console.store.session_staff(request.cookies.get(SESSION_COOKIE) or "", time.time(),
                                            console.settings.staff_idle_seconds, console.settings.staff_session_seconds)
        return cls(console, *found) if found else None

    def csrf_ok(self, request: Request) -> bool:
        """True when the form carries this session's CSRF token."""
        sent = request.form.get("csrf_token") or ""
        return bool(sent) and hmac.compare_digest(sent, self.csrf)

    def render(self, name: str, status: int = 200, **context: Any) -> HTTPResponse:
        """A console page for this member of staff (the menu and the logout form need both)."""
        return self.console.render(name, status, staff=self.staff, csrf=self.csrf, **context)

    def not_found(self) -> HTTPResponse:
        """The 404 of a case or page this account may not see: the same as for one that does not exist."""
        return self.render("staff/not_found.html", status=404)


def csrf_refused() -> HTTPResponse:
    """The answer to a form without the right CSRF token."""
    return response.text("CSRF token missing or invalid", status=403)


def logged_in(handler: Handler) -> Handler:
    """The guard of every console page: a live session, or a redirect to the login page.

    The handler is called as ``handler(request, visit, **route_parameters)``.
    """

    @functools.wraps(handler)
    async def guarded(request: Request, **params: Any) -> HTTPResponse:
        visit = Visit.of(request)
        if visit is None:
            return response.redirect(LOGIN_PAGE)
        return await handler(request, visit, **params)

    return guarded


def admin_only(handler: Handler) -> Handler:
    """The guard of the admin's pages: logged in, and an admin; any other account gets the console's 404.

    A 404, not a 403: to a section's account the page does not exist, as a case it may not see.
    """

    @functools.wraps(handler)
    async def guarded(request: Request, visit: Visit, **params: Any) -> HTTPResponse:
        if not visit.staff.is_admin:
            return visit.not_found()
        return await handler(request, visit, **params)

    return logged_in(guarded)


def csrf_checked(handler: Handler) -> Handler:
    """For a form posted in a session (under `logged_in` or `admin_only`): a 403 without its CSRF token."""

    @functools.wraps(handler)
    async def guarded(request: Request, visit: Visit, **params: Any) -> HTTPResponse:
        if not visit.csrf_ok(request):
            return csrf_refused()
        return await handler(request, visit, **params)

    return guarded


def set_cookie(resp: HTTPResponse, request: Request, name: str, value: str, max_age: int) -> None:
    """Set a console cookie: HttpOnly, SameSite=Strict, for /staff only, Secure over https or when configured."""
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = "/staff"
    cookie["max-age"] = max_age
    if console_of(request).settings.staff_cookie_secure or request.scheme == "https":
        cookie["secure"] = True


def drop_cookie(resp: HTTPResponse, request: Request, name: str) -> None:
    """Delete a console cookie in the browser."""
    # The same path and attributes as when it was set: a browser keeps a cookie whose deletion
    # names another path (sanic's `del resp.cookies[name]` says path /).
    set_cookie(resp, request, name, "", 0)
    resp.cookies[name]["expires"] = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


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

    @classmethod
    def of(cls, console: Console) -> LoginLimiter:
        """The limiter with the console's settings (STAFF_MAX_LOGIN_FAILURES and the rest)."""
        s = console.settings
        return cls(console.store, s.staff_max_login_failures, s.staff_lockout_seconds, s.staff_max_login_delay_seconds)

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


async def login_form(request: Request) -> HTTPResponse:
    """The login page, with a CSRF token in the form and in a short-lived cookie (there is no session yet)."""
    token = secrets.token_urlsafe(24)
    resp = console_of(request).render("staff/login.html", csrf=token, error=None)
    set_cookie(resp, request, LOGIN_CSRF_COOKIE, token, 600)
    return resp


def _held_back(console: Console, limiter: LoginLimiter, address: str, username: str, at: float, csrf: str) -> Optional[HTTPResponse]:
    """The 429 page when the address is blocked or the account must still wait, else None."""
    if limiter.address_blocked(address, at):
        return console.render("staff/login.html", status=429, csrf=csrf,
                              error="ログインの失敗が続いたため、しばらく時間をおいてからお試しください。")
    wait = limiter.account_delay(username, at)
    if wait > 0:
        return console.render("staff/login.html", status=429, csrf=csrf,
                              error=f"このユーザー名でのログインの失敗が続いています。{math.ceil(wait)}秒ほど待ってから、もう一度お試しください。")
    return None


async def login(request: Request) -> HTTPResponse:
    """Check the password (rate-limited); on success start a session and send the browser to the list."""
    console = console_of(request)
    username = (request.form.get("username") or "").strip()[:64]  # no account has a longer name
    password = request.form.get("password") or ""
    sent, expected = request.form.get("csrf_token") or "", request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not sent or not hmac.compare_digest(sent, expected):
        return csrf_refused()
    limiter, address, at = LoginLimiter.of(console), client_address(request), time.time()
    held = _held_back(console, limiter, address, username, at, sent)
    if held is not None:
        return held
    # Counted before the password is checked, so that guesses sent in parallel already see it;
    # a success forgets it below.
    limiter.fail(address, username, at)
    # argon2 takes about 0.1 s of CPU: in a thread, so that a burst of logins does not stall the chat relay.
    staff = await asyncio.to_thread(console.store.authenticate, username, password)
    if staff is None:
        return console.render("staff/login.html", status=401, csrf=sent, error="ユーザー名またはパスワードが違います。")
    limiter.reset(address, username)
    console.store.audit(staff, "login")
    token, _ = console.store.start_session(staff.username, time.time(), console.settings.staff_session_seconds)
    resp = response.redirect("/staff/")
    set_cookie(resp, request, SESSION_COOKIE, token, console.settings.staff_session_seconds)
    drop_cookie(resp, request, LOGIN_CSRF_COOKIE)
    return resp


async def logout(request: Request) -> HTTPResponse:
    """End the session on the server and in the browser."""
    store = console_of(request).store
    visit = Visit.of(request)
    if visit and visit.csrf_ok(request):
        store.audit(visit.staff, "logout")
    # Ended even without a valid form: the browser drops the cookie anyway, and a session that
    # nobody holds any more should not stay usable.
    store.end_session(request.cookies.get(SESSION_COOKIE) or "")
    return to_login_page(request)


def to_login_page(request: Request) -> HTTPResponse:
    """Back to the login page, with the browser's session cookie dropped (its session has ended)."""
    resp = response.redirect(LOGIN_PAGE)
    drop_cookie(resp, request, SESSION_COOKIE)
    return resp


def blueprint() -> Blueprint:
    """Login and logout under /staff."""
    bp = Blueprint("auth", url_prefix="/staff")
    bp.add_route(login_form, "/login", methods=["GET"])
    bp.add_route(login, "/login", methods=["POST"])
    bp.add_route(logout, "/logout", methods=["POST"])
    return bp
