"""The tables of the hand-off database, as SQLAlchemy (1.4) models, and the rules of who sees a case.

The schema itself is made and changed by the migrations (``bot/handoff/migrations``, Alembic):
these models must describe the head revision exactly (tests/handoff/test_migrations.py compares
them). No Rasa, no sanic here.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Query, Session, declarative_base, relationship

STATUSES = ("new", "in_progress", "contacted", "closed")
STATUS_LABELS = {"new": "新規", "in_progress": "対応中", "contacted": "連絡済み", "closed": "終了"}
# 福祉総務課 runs the cross-section 重層的支援 meeting: it sees every case.
COORDINATING_SECTION = "fukushi_somu"
DANGER_READERS = ("lexicon", "model", "answer")
DANGER_MARK_KINDS = ("wrong_flag", "missed")
DANGER_NOTE_MAX = 1000

Base = declarative_base()


def now() -> dt.datetime:
    """Return the current UTC time without tzinfo (portable across SQLite and PostgreSQL)."""
    return dt.datetime.utcnow().replace(microsecond=0)


class HandoffDestination(Base):
    """One section a hand-off goes to; ``position`` 0 is the primary (revision 0002).

    A row per section, so that "the cases of section X" is an indexed lookup, not a LIKE over a
    comma-joined text.
    """

    __tablename__ = "handoff_destinations"
    handoff_id = sa.Column(sa.Integer, sa.ForeignKey("handoffs.id", ondelete="CASCADE"), primary_key=True)
    position = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    section = sa.Column(sa.String(64), nullable=False, index=True)


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
    crisis = sa.Column(sa.Boolean, nullable=False, default=False, index=True)
    summary = sa.Column(sa.Text, nullable=False, default="")
    contact = sa.Column(sa.String(255))
    status = sa.Column(sa.String(16), nullable=False, default="new", index=True)
    # Loaded with the case in one more query for a whole list ("selectin"), never one per case.
    # Deleted with it by the ORM: SQLite enforces ON DELETE CASCADE only with PRAGMA foreign_keys on.
    destination_rows = relationship(HandoffDestination, order_by=HandoffDestination.position, lazy="selectin",
                                    cascade="all, delete-orphan")

    @property
    def destinations(self) -> List[str]:
        """The sections, primary first."""
        return [d.section for d in self.destination_rows]

    @destinations.setter
    def destinations(self, sections: List[str]) -> None:
        # Rows change in place by position (an UPDATE, not a delete and insert of the same key).
        rows = self.destination_rows
        for position, section in enumerate(sections):
            if position < len(rows):
                rows[position].section = section
            else:
                rows.append(HandoffDestination(position=position, section=section))
        del rows[len(sections):]

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
            "destinations": self.destinations,
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
    """A widget message relayed to Rasa, with Rasa's answer (bot.web.relay: exactly once)."""

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


def visible(query: Query, staff: Staff) -> Query:
    """Narrow a query of hand-offs to those this member of staff may see: their section's, or all."""
    if staff.sees_all:
        return query
    return query.filter(Handoff.destination_rows.any(HandoffDestination.section == staff.section))


def own(session: Session, ref: str, conversation_id: str) -> Optional[Handoff]:
    """The hand-off ``ref`` if this conversation created it: a conversation changes only its own case."""
    return session.query(Handoff).filter_by(ref=ref, conversation_id=conversation_id).first()


class LiveHold(Base):
    """A member of staff holding a live conversation (issue 15): the bot is silent while it is held.

    One row per conversation, kept after the hand-back (``released_at``) so that the widget's last
    notice and the console's history stay readable. ``last_seen`` is the staff page's heartbeat:
    a hold not seen for the configured time is released by the web app (bot.web.live).
    """

    __tablename__ = "live_holds"
    conversation_id = sa.Column(sa.String(255), primary_key=True)
    section = sa.Column(sa.String(64), nullable=False)
    username = sa.Column(sa.String(64), nullable=False)
    since = sa.Column(sa.Float, nullable=False)  # seconds since the epoch, as the tracker's events
    last_seen = sa.Column(sa.Float, nullable=False)
    released_at = sa.Column(sa.Float, index=True)


class LiveSent(Base):
    """A staff message, by the id its page gave it: sent to the conversation once, however often posted."""

    __tablename__ = "live_sent"
    __table_args__ = (sa.UniqueConstraint("conversation_id", "client_id"),)
    id = sa.Column(sa.Integer, primary_key=True)
    conversation_id = sa.Column(sa.String(255), nullable=False)
    client_id = sa.Column(sa.String(64), nullable=False)
    at = sa.Column(sa.Float, nullable=False)


class CrisisNotice(Base):
    """A conversation with a danger sign that staff were told of (console and, if configured, e-mail), once."""

    __tablename__ = "crisis_notices"
    conversation_id = sa.Column(sa.String(255), primary_key=True)
    at = sa.Column(sa.Float, nullable=False)
    mailed = sa.Column(sa.Boolean, nullable=False, default=False)


# --- Measure 6-3-3-3 (issue 17): the support tool's figures, notices and who asked for them ---------

class SupportCount(Base):
    """How often the support-information tool was used and each item shown, per month (no person)."""

    __tablename__ = "support_counts"
    month = sa.Column(sa.String(7), primary_key=True)  # "2026-12", Japan time
    key = sa.Column(sa.String(80), primary_key=True)  # "used", or "item:<id>"
    count = sa.Column(sa.Integer, nullable=False, default=0)


class Subscription(Base):
    """A person who asked for notices: a LINE conversation (its hashed id) or an e-mail address.

    Kept apart from conversations and hand-offs (no link to either). An e-mail address counts only
    once confirmed through the link sent to it; ``token`` is that link's secret and the one to leave.
    Leaving deletes the row.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (sa.UniqueConstraint("channel", "address"),)
    id = sa.Column(sa.Integer, primary_key=True)
    channel = sa.Column(sa.String(8), nullable=False)  # "line" or "email"
    address = sa.Column(sa.String(255), nullable=False)
    topics = sa.Column(sa.Text, nullable=False, default="[]")
    token = sa.Column(sa.String(64), nullable=False, unique=True)
    created_at = sa.Column(sa.Float, nullable=False)
    confirm_sent_at = sa.Column(sa.Float)
    confirmed_at = sa.Column(sa.Float, index=True)


class Notice(Base):
    """A notice written by staff (障害福祉課 or an admin), its topics, and how its sending went."""

    __tablename__ = "notices"
    id = sa.Column(sa.Integer, primary_key=True)
    title = sa.Column(sa.String(100), nullable=False)
    body = sa.Column(sa.Text, nullable=False)
    topics = sa.Column(sa.Text, nullable=False, default="[]")
    author = sa.Column(sa.String(64), nullable=False)
    section = sa.Column(sa.String(64), nullable=False)
    created_at = sa.Column(sa.Float, nullable=False)
    sent_at = sa.Column(sa.Float)  # when sending started (the recipients were fixed)


class NoticeDelivery(Base):
    """One notice to one subscriber: written when sending starts, so that a send resumed after a crash
    reaches everyone once. ``state``: pending, sending (claimed), sent, failed, or uncertain (an e-mail
    whose sending was interrupted: not sent again, so that nobody gets it twice)."""

    __tablename__ = "notice_deliveries"
    notice_id = sa.Column(sa.Integer, sa.ForeignKey("notices.id", ondelete="CASCADE"), primary_key=True)
    subscription_id = sa.Column(sa.Integer, primary_key=True, autoincrement=False)
    channel = sa.Column(sa.String(8), nullable=False)
    state = sa.Column(sa.String(10), nullable=False, default="pending", index=True)
    claimed_at = sa.Column(sa.Float)
    done_at = sa.Column(sa.Float)
