"""Hand-off records, staff accounts, notes and the audit log, in one SQL database.

SQLAlchemy (1.4, Rasa's pin) over SQLite by default or PostgreSQL by URL, like the
tracker store. The schema is created by ``Store`` itself. No Rasa, no sanic here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, sessionmaker

DEFAULT_URL = "sqlite:///var/db/handoff.db"
STATUSES = ("new", "in_progress", "contacted", "closed")
STATUS_LABELS = {"new": "新規", "in_progress": "対応中", "contacted": "連絡済み", "closed": "終了"}
# 福祉総務課 runs the cross-section 重層的支援 meeting: it sees every case.
COORDINATING_SECTION = "fukushi_somu"
# No 0/O/1/I/L: a reference read out over the phone must not be mistaken.
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

Base = declarative_base()


def now() -> dt.datetime:
    """Return the current UTC time without tzinfo (portable across SQLite and PostgreSQL)."""
    return dt.datetime.utcnow().replace(microsecond=0)


class Handoff(Base):
    """A conversation passed on to one or more sections, with the person's consent."""

    __tablename__ = "handoffs"
    id = sa.Column(sa.Integer, primary_key=True)
    ref = sa.Column(sa.String(16), unique=True, nullable=False, index=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    created_at = sa.Column(sa.DateTime, nullable=False, default=now, index=True)
    updated_at = sa.Column(sa.DateTime, nullable=False, default=now)
    first_action_at = sa.Column(sa.DateTime)
    carer_types = sa.Column(sa.Text, nullable=False, default="[]")
    user_role = sa.Column(sa.String(32), nullable=False, default="other")
    # ",shoko,koreisha_ikiiki," so that a section filter is a plain LIKE on every database
    destinations = sa.Column(sa.Text, nullable=False, default=",")
    crisis = sa.Column(sa.Boolean, nullable=False, default=False, index=True)
    summary = sa.Column(sa.Text, nullable=False, default="")
    contact = sa.Column(sa.String(255))
    status = sa.Column(sa.String(16), nullable=False, default="new", index=True)

    def as_dict(self) -> Dict[str, Any]:
        """Return the record as plain values."""
        return {
            "ref": self.ref,
            "conversation_id": self.conversation_id,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "first_action_at": self.first_action_at,
            "carer_types": json.loads(self.carer_types or "[]"),
            "user_role": self.user_role,
            "destinations": [d for d in (self.destinations or "").split(",") if d],
            "crisis": bool(self.crisis),
            "summary": self.summary,
            "contact": self.contact,
            "status": self.status,
        }


class Note(Base):
    """A note by a member of staff on a hand-off."""

    __tablename__ = "notes"
    id = sa.Column(sa.Integer, primary_key=True)
    handoff_id = sa.Column(sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    author = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.DateTime, nullable=False, default=now)
    text = sa.Column(sa.Text, nullable=False)


class Audit(Base):
    """Who viewed or changed what, and when."""

    __tablename__ = "audit_log"
    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(sa.DateTime, nullable=False, default=now, index=True)
    username = sa.Column(sa.String(64), nullable=False)
    action = sa.Column(sa.String(32), nullable=False)
    ref = sa.Column(sa.String(16))
    detail = sa.Column(sa.Text, nullable=False, default="")


class StaffUser(Base):
    """A staff account; it belongs to one section."""

    __tablename__ = "staff_users"
    id = sa.Column(sa.Integer, primary_key=True)
    username = sa.Column(sa.String(64), unique=True, nullable=False)
    password_hash = sa.Column(sa.String(255), nullable=False)
    section = sa.Column(sa.String(64), nullable=False)
    is_admin = sa.Column(sa.Boolean, nullable=False, default=False)
    created_at = sa.Column(sa.DateTime, nullable=False, default=now)


class LoginFailure(Base):
    """A failed staff login, per key (address or account): shared by every web process."""

    __tablename__ = "login_failures"
    id = sa.Column(sa.Integer, primary_key=True)
    key = sa.Column(sa.String(255), nullable=False, index=True)
    at = sa.Column(sa.Float, nullable=False)  # seconds since the epoch


@dataclass(frozen=True)
class Staff:
    """A logged-in member of staff."""

    username: str
    section: str
    is_admin: bool = False

    @property
    def sees_all(self) -> bool:
        """Return True for admins and the coordinating section."""
        return self.is_admin or self.section == COORDINATING_SECTION


def _hasher():
    # argon2id with the library's current parameters.
    from argon2 import PasswordHasher

    return PasswordHasher()


def new_ref() -> str:
    """Return a short reference number such as KC-7XQ4M2."""
    return "KC-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


class Store:
    """All reads and writes of hand-offs, accounts, notes and the audit log."""

    def __init__(self, url: Optional[str] = None) -> None:
        url = url or os.environ.get("HANDOFF_DB_URL") or DEFAULT_URL
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            os.makedirs(os.path.dirname(url[len("sqlite:///"):]) or ".", exist_ok=True)
        kwargs = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
        self.engine = sa.create_engine(url, **kwargs)
        Base.metadata.create_all(self.engine)
        self.session = sessionmaker(bind=self.engine, expire_on_commit=False)

    # --- failed logins ---------------------------------------------------------

    def login_failures(self, key: str, since: float) -> int:
        """Failed logins for ``key`` after ``since`` (epoch seconds); older ones are deleted."""
        with self.session() as s:
            s.query(LoginFailure).filter(LoginFailure.key == key, LoginFailure.at <= since).delete()
            s.commit()
            return s.query(LoginFailure).filter(LoginFailure.key == key).count()

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

    # --- hand-offs -----------------------------------------------------------
    def create_handoff(
        self,
        conversation_id: str,
        carer_types: Iterable[str],
        user_role: str,
        destinations: Iterable[str],
        crisis: bool,
        summary: str,
        contact: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Create a hand-off and return it, with its new reference number."""
        for _ in range(10):
            with self.session() as s:
                row = Handoff(
                    ref=new_ref(),
                    conversation_id=conversation_id,
                    carer_types=json.dumps(list(carer_types)),
                    user_role=user_role,
                    destinations="," + ",".join(destinations) + ",",
                    crisis=crisis,
                    summary=summary,
                    contact=contact,
                )
                s.add(row)
                try:
                    s.commit()
                except sa.exc.IntegrityError:  # the same reference twice: draw again
                    s.rollback()
                    continue
                return row.as_dict()
        raise RuntimeError("could not draw a free reference number")

    def handoff_for_conversation(self, conversation_id: str) -> Optional[Dict[str, Any]]:
        """Return the latest hand-off of a conversation, or None."""
        with self.session() as s:
            row = (
                s.query(Handoff).filter_by(conversation_id=conversation_id).order_by(Handoff.id.desc()).first()
            )
            return row.as_dict() if row else None

    def set_contact(self, ref: str, contact: Optional[str]) -> None:
        """Store the way the person may be contacted (or none)."""
        with self.session() as s:
            row = s.query(Handoff).filter_by(ref=ref).one()
            row.contact, row.updated_at = contact, now()
            s.commit()

    def update_from_conversation(self, ref: str, carer_types, user_role, destinations, crisis, summary) -> None:
        """Refresh a hand-off with what the conversation told after it was created."""
        with self.session() as s:
            row = s.query(Handoff).filter_by(ref=ref).one()
            row.carer_types = json.dumps(list(carer_types))
            row.user_role = user_role
            kept = [d for d in row.destinations.split(",") if d]
            row.destinations = "," + ",".join(kept + [d for d in destinations if d not in kept]) + ","
            row.crisis = row.crisis or crisis
            row.summary = summary
            row.updated_at = now()
            s.commit()

    def _visible(self, query, staff: Staff):
        if staff.sees_all:
            return query
        return query.filter(Handoff.destinations.like(f"%,{staff.section},%"))

    def list_handoffs(
        self,
        staff: Staff,
        section: str = "",
        status: str = "",
        carer_type: str = "",
        crisis: str = "",
        date_from: Optional[dt.date] = None,
        date_to: Optional[dt.date] = None,
        q: str = "",
    ) -> List[Dict[str, Any]]:
        """Return the hand-offs this member of staff may see, crisis first, newest first."""
        with self.session() as s:
            query = self._visible(s.query(Handoff), staff)
            if section:
                query = query.filter(Handoff.destinations.like(f"%,{section},%"))
            if status:
                query = query.filter(Handoff.status == status)
            if carer_type:
                query = query.filter(Handoff.carer_types.like(f'%"{carer_type}"%'))
            if crisis in ("1", "0"):
                query = query.filter(Handoff.crisis.is_(crisis == "1"))
            if date_from:
                query = query.filter(Handoff.created_at >= dt.datetime.combine(date_from, dt.time.min))
            if date_to:
                query = query.filter(Handoff.created_at <= dt.datetime.combine(date_to, dt.time.max))
            if q:
                like = f"%{q}%"
                query = query.filter(sa.or_(Handoff.ref.like(like), Handoff.summary.like(like), Handoff.contact.like(like)))
            rows = query.order_by(Handoff.crisis.desc(), Handoff.created_at.desc(), Handoff.id.desc()).all()
            return [r.as_dict() for r in rows]

    def get(self, staff: Staff, ref: str) -> Optional[Dict[str, Any]]:
        """Return one hand-off with its notes, or None if it does not exist or is not visible."""
        with self.session() as s:
            row = self._visible(s.query(Handoff), staff).filter(Handoff.ref == ref).first()
            if row is None:
                return None
            record = row.as_dict()
            record["notes"] = [
                {"author": n.author, "created_at": n.created_at, "text": n.text}
                for n in s.query(Note).filter_by(handoff_id=row.id).order_by(Note.id)
            ]
            return record

    def _change(self, staff: Staff, ref: str, change) -> bool:
        with self.session() as s:
            row = self._visible(s.query(Handoff), staff).filter(Handoff.ref == ref).first()
            if row is None:
                return False
            change(s, row)
            row.updated_at = now()
            row.first_action_at = row.first_action_at or row.updated_at
            s.commit()
            return True

    def set_status(self, staff: Staff, ref: str, status: str) -> bool:
        """Move a hand-off to a status; False if not visible or not a status."""
        if status not in STATUSES:
            return False
        return self._change(staff, ref, lambda s, row: setattr(row, "status", status)) and self.audit(
            staff, "status", ref, status
        )

    def add_note(self, staff: Staff, ref: str, text: str) -> bool:
        """Add a note; False if the hand-off is not visible or the note is empty."""
        text = (text or "").strip()
        if not text:
            return False

        def add(s, row):
            s.add(Note(handoff_id=row.id, author=f"{staff.username}", text=text[:4000]))

        return self._change(staff, ref, add) and self.audit(staff, "note", ref, text[:200])

    def transfer(self, staff: Staff, ref: str, to_section: str, reason: str) -> bool:
        """Pass a case to another section with a reason (it becomes the primary)."""
        reason = (reason or "").strip()
        if not reason or not to_section:
            return False

        def move(s, row):
            kept = [d for d in row.destinations.split(",") if d and d != to_section]
            row.destinations = "," + ",".join([to_section] + kept) + ","
            s.add(Note(handoff_id=row.id, author=staff.username, text=f"【引き継ぎ】{to_section} へ: {reason[:2000]}"))

        return self._change(staff, ref, move) and self.audit(staff, "transfer", ref, f"{to_section}: {reason[:200]}")

    # --- audit ---------------------------------------------------------------
    def audit(self, staff: Staff, action: str, ref: Optional[str] = None, detail: str = "") -> bool:
        """Record who did what."""
        with self.session() as s:
            s.add(Audit(username=staff.username, action=action, ref=ref, detail=detail))
            s.commit()
        return True

    def audit_log(self, limit: int = 500) -> List[Dict[str, Any]]:
        """Return the latest audit entries."""
        with self.session() as s:
            return [
                {"at": a.at, "username": a.username, "action": a.action, "ref": a.ref, "detail": a.detail}
                for a in s.query(Audit).order_by(Audit.id.desc()).limit(limit)
            ]

    # --- staff accounts ------------------------------------------------------
    def add_user(self, username: str, password: str, section: str, is_admin: bool = False) -> None:
        """Create an account (or reset its password and section)."""
        if len(password) < 10:
            raise ValueError("password must have at least 10 characters")
        with self.session() as s:
            user = s.query(StaffUser).filter_by(username=username).first() or StaffUser(username=username)
            user.password_hash = _hasher().hash(password)
            user.section, user.is_admin = section, is_admin
            s.add(user)
            s.commit()

    def authenticate(self, username: str, password: str) -> Optional[Staff]:
        """Return the member of staff if the password is right, else None."""
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
            return Staff(user.username, user.section, bool(user.is_admin))

    def staff(self, username: str) -> Optional[Staff]:
        """Return an account by name, or None."""
        with self.session() as s:
            user = s.query(StaffUser).filter_by(username=username).first()
            return Staff(user.username, user.section, bool(user.is_admin)) if user else None

    # --- retention -----------------------------------------------------------
    def delete_older_than(self, days: int) -> List[str]:
        """Delete hand-offs (with notes) older than ``days``; return their conversation ids."""
        cutoff = now() - dt.timedelta(days=days)
        with self.session() as s:
            rows = s.query(Handoff).filter(Handoff.created_at < cutoff).all()
            ids = [r.conversation_id for r in rows]
            for r in rows:
                s.query(Note).filter_by(handoff_id=r.id).delete()
                s.delete(r)
            s.commit()
            return ids
