"""Staff accounts, console sessions and failed logins, in the hand-off database.

Passwords are argon2id hashes; a session is kept as a SHA-256 of its token, so that every web
process sees (and ends) the same sessions and a copy of the database opens none of them.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Callable, Optional

import sqlalchemy as sa

from bot.handoff.database import Database
from bot.handoff.models import LoginFailure, Staff, StaffSession, StaffUser


def _hasher():
    # argon2id with the library's current parameters.
    from argon2 import PasswordHasher

    return PasswordHasher()


def _as_staff(user: StaffUser) -> Staff:
    return Staff(user.username, user.section, bool(user.is_admin))


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise ValueError("password must have at least 10 characters")


def _token_hash(token: str) -> str:
    # A session token is 256 random bits: a plain SHA-256 cannot be reversed, no salt or slow hash needed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class AccountStore(Database):
    """Who may use the console, and who is logged in."""

    # --- staff accounts ------------------------------------------------------
    def add_user(self, username: str, password: str, section: str, is_admin: bool = False) -> None:
        """Create an account, or reset its password and section; a reset ends the account's sessions.

        Raises:
            ValueError: the password is shorter than 10 characters.
        """
        _check_password(password)
        with self.session() as s:
            user = s.query(StaffUser).filter_by(username=username).first() or StaffUser(username=username)
            user.password_hash = _hasher().hash(password)
            user.section, user.is_admin = section, is_admin
            s.add(user)
            s.query(StaffSession).filter_by(username=username).delete()
            s.commit()

    def set_password(self, username: str, password: str) -> bool:
        """Change an account's password and end its sessions; False if there is no such account.

        Raises:
            ValueError: the password is shorter than 10 characters.
        """
        _check_password(password)
        return self._change_user(username, lambda user: setattr(user, "password_hash", _hasher().hash(password)))

    def set_disabled(self, username: str, disabled: bool) -> bool:
        """Disable an account (its sessions end) or enable it again; False if there is no such account."""
        return self._change_user(username, lambda user: setattr(user, "disabled", disabled))

    def delete_user(self, username: str) -> bool:
        """Delete an account and its sessions; False if there is no such account."""
        return self._change_user(username, lambda user: sa.orm.object_session(user).delete(user))

    def _change_user(self, username: str, change: Callable[[StaffUser], object]) -> bool:
        with self.session() as s:
            user = s.query(StaffUser).filter_by(username=username).first()
            if user is None:
                return False
            change(user)
            s.query(StaffSession).filter_by(username=username).delete()
            s.commit()
            return True

    def authenticate(self, username: str, password: str) -> Optional[Staff]:
        """Return the member of staff if the password is right and the account enabled, else None.

        argon2 takes about 0.1 s of CPU: the web app calls this off its event loop.
        """
        from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

        with self.session() as s:
            user = s.query(StaffUser).filter_by(username=username).first()
            if user is None:
                _hasher().hash(password)  # same time whether the account exists or not
                return None
            try:
                _hasher().verify(user.password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return None
            return None if user.disabled else _as_staff(user)

    # --- staff sessions ------------------------------------------------------
    def start_session(self, username: str, at: float, max_seconds: float) -> tuple[str, str]:
        """Start a console session at ``at`` (epoch seconds).

        Sessions older than ``max_seconds`` (of any account) are deleted on the way.

        Returns:
            The session token for the cookie (only its hash is stored) and the session's CSRF token.
        """
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        with self.session() as s:
            s.query(StaffSession).filter(StaffSession.created_at <= at - max_seconds).delete()
            s.add(StaffSession(token_hash=_token_hash(token), username=username, csrf=csrf, created_at=at, last_seen=at))
            s.commit()
        return token, csrf

    def session_staff(self, token: str, at: float, idle_seconds: float, max_seconds: float) -> Optional[tuple[Staff, str]]:
        """Return the member of staff and CSRF token of a live session, and mark it used at ``at``.

        A session ends when it is older than ``max_seconds``, unused for ``idle_seconds``, ended by
        logout or a command, or when its account is disabled or deleted: then this returns None.
        """
        if not token:
            return None
        with self.session() as s:
            row = s.query(StaffSession).filter_by(token_hash=_token_hash(token)).first()
            if row is None:
                return None
            user = s.query(StaffUser).filter_by(username=row.username, disabled=False).first()
            if user is None or at - row.created_at > max_seconds or at - row.last_seen > idle_seconds:
                s.delete(row)
                s.commit()
                return None
            row.last_seen = at
            s.commit()
            return _as_staff(user), row.csrf

    def end_session(self, token: str) -> None:
        """End one session (logout)."""
        with self.session() as s:
            s.query(StaffSession).filter_by(token_hash=_token_hash(token)).delete()
            s.commit()

    def end_sessions(self, username: Optional[str] = None) -> int:
        """End every session of an account, or of every account; return how many ended."""
        with self.session() as s:
            query = s.query(StaffSession)
            if username is not None:
                query = query.filter_by(username=username)
            ended = query.delete()
            s.commit()
            return ended

    def live_sessions(self, at: float, idle_seconds: float, max_seconds: float) -> int:
        """Return how many sessions are live at ``at``."""
        with self.session() as s:
            return s.query(StaffSession).filter(StaffSession.created_at >= at - max_seconds,
                                                StaffSession.last_seen >= at - idle_seconds).count()

    # --- failed logins ---------------------------------------------------------

    def login_failures(self, key: str, since: float) -> int:
        """Failed logins for ``key`` after ``since`` (epoch seconds); older ones are deleted."""
        return self.login_failure_stats(key, since)[0]

    def login_failure_stats(self, key: str, since: float) -> tuple[int, Optional[float]]:
        """Failed logins for ``key`` after ``since`` and the time of the last one; older ones are deleted."""
        with self.session() as s:
            s.query(LoginFailure).filter(LoginFailure.key == key, LoginFailure.at <= since).delete()
            s.commit()
            count, last = s.query(sa.func.count(LoginFailure.id), sa.func.max(LoginFailure.at)).filter(
                LoginFailure.key == key).one()
            return int(count), last

    def add_login_failure(self, *keys: str, at: float) -> None:
        """Record one failed login under each key."""
        with self.session() as s:
            s.add_all([LoginFailure(key=k, at=at) for k in keys])
            s.commit()

    def clear_login_failures(self, *keys: str) -> None:
        """Forget the failures of these keys (after a successful login)."""
        with self.session() as s:
            s.query(LoginFailure).filter(LoginFailure.key.in_(keys)).delete(synchronize_session=False)
            s.commit()
