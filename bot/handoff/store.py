"""Hand-off records, staff accounts, notes and the audit log, in one SQL database.

SQLAlchemy (1.4, Rasa's pin) over SQLite by default or PostgreSQL by URL, like the
tracker store. The schema is created by ``Store`` itself. No Rasa, no sanic here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base, sessionmaker

from bot.production import private_sqlite

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
    # A disabled account cannot log in; the row stays, so that notes and the audit log keep their author.
    disabled = sa.Column(sa.Boolean, nullable=False, default=False)


class LoginFailure(Base):
    """A failed staff login, per key (address or account): shared by every web process."""

    __tablename__ = "login_failures"
    id = sa.Column(sa.Integer, primary_key=True)
    key = sa.Column(sa.String(255), nullable=False, index=True)
    at = sa.Column(sa.Float, nullable=False)  # seconds since the epoch


class StaffSession(Base):
    """A console session, kept here so that every web process can end it at once.

    Only a SHA-256 of the session token is stored: someone who reads the database
    (a backup, a dump) cannot use the sessions in it.
    """

    __tablename__ = "staff_sessions"
    id = sa.Column(sa.Integer, primary_key=True)
    token_hash = sa.Column(sa.String(64), unique=True, nullable=False)
    username = sa.Column(sa.String(64), nullable=False, index=True)
    csrf = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.Float, nullable=False)  # seconds since the epoch
    last_seen = sa.Column(sa.Float, nullable=False)


class Delivery(Base):
    """A widget message relayed to Rasa, with Rasa's answer (bot.web.chat: exactly once)."""

    __tablename__ = "chat_deliveries"
    __table_args__ = (sa.UniqueConstraint("sender", "msg_id"),)
    id = sa.Column(sa.Integer, primary_key=True)
    sender = sa.Column(sa.String(64), nullable=False)
    msg_id = sa.Column(sa.String(64), nullable=False)
    answer = sa.Column(sa.Text, nullable=False)
    at = sa.Column(sa.DateTime, nullable=False, default=now)


class ConsultationCount(Base):
    """Conversations per month whose events retention deleted (the outcomes page still counts them)."""

    __tablename__ = "consultation_counts"
    month = sa.Column(sa.String(7), primary_key=True)  # YYYY-MM, UTC
    conversations = sa.Column(sa.Integer, nullable=False, default=0)


class RetentionRun(Base):
    """When retention ran and how many records of each kind it deleted (no personal data)."""

    __tablename__ = "retention_runs"
    id = sa.Column(sa.Integer, primary_key=True)
    at = sa.Column(sa.DateTime, nullable=False, default=now, index=True)
    detail = sa.Column(sa.Text, nullable=False, default="{}")


DANGER_READERS = ("lexicon", "model", "answer")
DANGER_MARK_KINDS = ("wrong_flag", "missed")
DANGER_NOTE_MAX = 1000


class DangerSignal(Base):
    """Why a hand-off's conversation was flagged as a crisis: the first reader that raised it, and where.

    ``turn`` is the 0-based index of the user message among the conversation's user turns as the
    console's transcript shows them (bot.handoff.transcripts, buttons included). ``words`` holds what the
    lexicon matched ("" for the other readers): personal data, kept with the case and never logged.
    """

    __tablename__ = "danger_signals"
    id = sa.Column(sa.Integer, primary_key=True)
    handoff_id = sa.Column(sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, unique=True)
    reader = sa.Column(sa.String(16), nullable=False)  # "lexicon" | "model" | "answer"
    turn = sa.Column(sa.Integer, nullable=False)
    words = sa.Column(sa.Text, nullable=False, default="")
    score = sa.Column(sa.Float)
    at = sa.Column(sa.DateTime, nullable=False, default=now)


class DangerMark(Base):
    """A member of staff's mark on a case: the crisis flag was wrong, or a danger was missed.

    Exported for review as training examples (``python -m bot.handoff.labels export``), never used unreviewed.
    """

    __tablename__ = "danger_marks"
    id = sa.Column(sa.Integer, primary_key=True)
    handoff_id = sa.Column(sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = sa.Column(sa.String(16), nullable=False)  # "wrong_flag" | "missed"
    username = sa.Column(sa.String(64), nullable=False)
    note = sa.Column(sa.Text, nullable=False, default="")
    at = sa.Column(sa.DateTime, nullable=False, default=now)


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


def _as_staff(user: StaffUser) -> Staff:
    return Staff(user.username, user.section, bool(user.is_admin))


def _check_password(password: str) -> None:
    if len(password) < 10:
        raise ValueError("password must have at least 10 characters")


def _token_hash(token: str) -> str:
    # A session token is 256 random bits: a plain SHA-256 cannot be reversed, no salt or slow hash needed.
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_ref() -> str:
    """Return a short reference number such as KC-7XQ4M2."""
    return "KC-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


class Store:
    """All reads and writes of hand-offs, accounts, notes and the audit log."""

    def __init__(self, url: Optional[str] = None) -> None:
        url = url or os.environ.get("HANDOFF_DB_URL") or DEFAULT_URL
        private_sqlite(url)  # folder 0700, file 0600: contacts and notes are personal data
        kwargs = {"pool_pre_ping": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
        self.engine = sa.create_engine(url, **kwargs)
        Base.metadata.create_all(self.engine)
        self._add_staff_columns()
        self.session = sessionmaker(bind=self.engine, expire_on_commit=False)

    def _add_staff_columns(self) -> None:
        # create_all makes missing tables but never adds a column to an existing one: a database made
        # before accounts could be disabled gets the column here. Alembic will replace this (a later issue).
        def has_column() -> bool:
            return "disabled" in {c["name"] for c in sa.inspect(self.engine).get_columns("staff_users")}

        if has_column():
            return
        try:
            with self.engine.begin() as c:
                c.execute(sa.text("ALTER TABLE staff_users ADD COLUMN disabled BOOLEAN NOT NULL DEFAULT FALSE"))
        except sa.exc.DBAPIError:
            if not has_column():  # else another process added it at the same moment
                raise

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

    @staticmethod
    def _own(s, ref: str, conversation_id: str) -> Optional[Handoff]:
        # The hand-off ``ref`` if this conversation created it: a conversation changes only its own case.
        return s.query(Handoff).filter_by(ref=ref, conversation_id=conversation_id).first()

    def owns(self, ref: str, conversation_id: str) -> bool:
        """Return True when the hand-off ``ref`` exists and was created by this conversation."""
        with self.session() as s:
            return self._own(s, ref, conversation_id) is not None

    def set_contact(self, ref: str, conversation_id: str, contact: Optional[str]) -> bool:
        """Store the way the person may be contacted, from the conversation that created the hand-off.

        Return False (nothing changed) for an unknown or another conversation's reference. A
        contact that replaces an earlier one is an audited event, never a silent overwrite:
        the audit log keeps who (the conversation) and what (a change), not the contact itself.
        """
        with self.session() as s:
            row = self._own(s, ref, conversation_id)
            if row is None:
                return False
            if row.contact and row.contact != contact:
                s.add(Audit(username="(相談者)", action="contact_changed", ref=ref, detail="相談者が連絡先を変更"))
            row.contact, row.updated_at = contact, now()
            s.commit()
            return True

    def update_from_conversation(self, ref: str, conversation_id: str, carer_types, user_role, destinations, crisis,
                                 summary) -> bool:
        """Refresh a hand-off with what its own conversation told after it was created (False: not its own)."""
        with self.session() as s:
            row = self._own(s, ref, conversation_id)
            if row is None:
                return False
            row.carer_types = json.dumps(list(carer_types))
            row.user_role = user_role
            kept = [d for d in row.destinations.split(",") if d]
            row.destinations = "," + ",".join(kept + [d for d in destinations if d not in kept]) + ","
            row.crisis = row.crisis or crisis
            row.summary = summary
            row.updated_at = now()
            s.commit()
            return True

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

        # The audit log says that a note was added, not what it says: the note itself is personal data.
        return self._change(staff, ref, add) and self.audit(staff, "note", ref)

    def transfer(self, staff: Staff, ref: str, to_section: str, reason: str) -> bool:
        """Pass a case to another section with a reason (it becomes the primary)."""
        reason = (reason or "").strip()
        if not reason or not to_section:
            return False

        def move(s, row):
            kept = [d for d in row.destinations.split(",") if d and d != to_section]
            row.destinations = "," + ",".join([to_section] + kept) + ","
            s.add(Note(handoff_id=row.id, author=staff.username, text=f"【引き継ぎ】{to_section} へ: {reason[:2000]}"))

        return self._change(staff, ref, move) and self.audit(staff, "transfer", ref, to_section)  # the reason is in the note

    # --- why a case was flagged, and staff's marks on it (issue 12) ----------
    def record_danger(self, ref: str, conversation_id: str, reader: str, turn: int, words: str = "",
                      score: Optional[float] = None) -> bool:
        """Store what raised the crisis flag of hand-off ``ref``, from the conversation that created it.

        Only the first signal is kept: a later call changes nothing and returns False, as do an
        unknown or another conversation's reference, an unknown reader and a negative turn.
        ``words`` (what the lexicon matched) is personal data: stored with the case, never logged.
        """
        if reader not in DANGER_READERS or not isinstance(turn, int) or turn < 0:
            return False
        with self.session() as s:
            row = self._own(s, ref, conversation_id)
            if row is None or s.query(DangerSignal.id).filter_by(handoff_id=row.id).first() is not None:
                return False
            s.add(DangerSignal(handoff_id=row.id, reader=reader, turn=turn, words=words or "",
                               score=None if score is None else float(score)))
            try:
                s.commit()
            except sa.exc.IntegrityError:  # another process stored the first signal at the same moment
                s.rollback()
                return False
            return True

    def danger_signal(self, ref: str) -> Optional[Dict[str, Any]]:
        """Return {"reader", "turn", "words", "score", "at"} of the case's signal, or None.

        Not filtered by staff: call it only for a case already found visible (``get``).
        """
        with self.session() as s:
            sig = (s.query(DangerSignal).join(Handoff, DangerSignal.handoff_id == Handoff.id)
                   .filter(Handoff.ref == ref).first())
            if sig is None:
                return None
            return {"reader": sig.reader, "turn": sig.turn, "words": sig.words, "score": sig.score, "at": sig.at}

    def mark_danger(self, staff: Staff, ref: str, kind: str, note: str) -> bool:
        """Mark a visible case's crisis flag as wrong (``wrong_flag``) or its danger as missed (``missed``).

        False for a case this member of staff may not see or an unknown kind. Audited with the
        kind only: the note is personal data and stays in ``danger_marks``, not in the audit log.
        The case's "first action" time is left alone: a mark is about the bot, not the person.
        """
        if kind not in DANGER_MARK_KINDS:
            return False
        with self.session() as s:
            row = self._visible(s.query(Handoff), staff).filter(Handoff.ref == ref).first()
            if row is None:
                return False
            s.add(DangerMark(handoff_id=row.id, kind=kind, username=staff.username,
                             note=(note or "").strip()[:DANGER_NOTE_MAX]))
            s.commit()
        return self.audit(staff, "danger_mark", ref, kind)

    def danger_marks(self, ref: str) -> List[Dict[str, Any]]:
        """Return the case's marks, oldest first: {"kind", "username", "note", "at"}.

        Not filtered by staff: call it only for a case already found visible (``get``).
        """
        with self.session() as s:
            rows = (s.query(DangerMark).join(Handoff, DangerMark.handoff_id == Handoff.id)
                    .filter(Handoff.ref == ref).order_by(DangerMark.id))
            return [{"kind": m.kind, "username": m.username, "note": m.note, "at": m.at} for m in rows]

    def marked_cases(self) -> List[Dict[str, Any]]:
        """Return every mark with its case, oldest first: {"id", "ref", "conversation_id", "kind", "at"} (for the export)."""
        with self.session() as s:
            rows = (s.query(DangerMark.id, Handoff.ref, Handoff.conversation_id, DangerMark.kind, DangerMark.at)
                    .join(Handoff, DangerMark.handoff_id == Handoff.id).order_by(DangerMark.id))
            return [{"id": i, "ref": ref, "conversation_id": cid, "kind": kind, "at": at} for i, ref, cid, kind, at in rows]

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

    def _change_user(self, username: str, change) -> bool:
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

    # --- retention -----------------------------------------------------------
    def purge(self, handoff_days: int, delivery_hours: int, login_seconds: int) -> Dict[str, Any]:
        """Delete what is kept no longer than it must be; return counts and the deleted cases' conversations.

        Hand-offs older than ``handoff_days`` go with their notes, danger signals and marks and their audit entries (and
        every audit entry that old); relayed widget answers older than ``delivery_hours``;
        failed-login records older than ``login_seconds``. The text of notes is never kept in
        the audit log: older entries that still hold it are emptied.
        """
        at = now()
        cutoff = at - dt.timedelta(days=handoff_days)
        with self.session() as s:
            rows = s.query(Handoff).filter(Handoff.created_at < cutoff).all()
            conversations = [r.conversation_id for r in rows]
            refs = [r.ref for r in rows]
            for r in rows:
                # Explicitly: SQLite enforces ON DELETE CASCADE only with PRAGMA foreign_keys on.
                s.query(Note).filter_by(handoff_id=r.id).delete()
                s.query(DangerSignal).filter_by(handoff_id=r.id).delete()
                s.query(DangerMark).filter_by(handoff_id=r.id).delete()
                s.delete(r)
            audit = s.query(Audit).filter(sa.or_(Audit.at < cutoff, Audit.ref.in_(refs))).delete(synchronize_session=False)
            s.query(Audit).filter(Audit.action == "note", Audit.detail != "").update({"detail": ""}, synchronize_session=False)
            deliveries = s.query(Delivery).filter(Delivery.at < at - dt.timedelta(hours=delivery_hours)).delete()
            logins = s.query(LoginFailure).filter(LoginFailure.at < time.time() - login_seconds).delete()
            s.commit()
        return {"handoffs": len(refs), "audit": audit, "deliveries": deliveries, "login_failures": logins,
                "conversations": conversations}

    def handoff_conversations(self) -> set:
        """Return the conversation ids that still have a hand-off."""
        with self.session() as s:
            return {cid for (cid,) in s.query(Handoff.conversation_id).distinct()}

    def archive_counts(self, months: Dict[str, int]) -> None:
        """Add deleted conversations to the monthly counts that the outcomes page shows."""
        with self.session() as s:
            for month, n in months.items():
                row = s.get(ConsultationCount, month) or ConsultationCount(month=month, conversations=0)
                row.conversations += n
                s.add(row)
            s.commit()

    def archived_counts(self) -> Dict[str, int]:
        """Return {"YYYY-MM": conversations} of conversations already deleted by retention."""
        with self.session() as s:
            return {r.month: r.conversations for r in s.query(ConsultationCount)}

    def record_retention(self, summary: Dict[str, Any]) -> None:
        """Remember that retention ran, and what it deleted (counts only)."""
        with self.session() as s:
            s.add(RetentionRun(detail=json.dumps(summary, ensure_ascii=False)))
            s.query(RetentionRun).filter(RetentionRun.at < now() - dt.timedelta(days=400)).delete()
            s.commit()

    def last_retention(self) -> Optional[Dict[str, Any]]:
        """Return {"at", **counts} of the last retention run, or None."""
        with self.session() as s:
            row = s.query(RetentionRun).order_by(RetentionRun.id.desc()).first()
            return {"at": row.at, **json.loads(row.detail)} if row else None
