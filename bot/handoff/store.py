"""Hand-off records, staff accounts, notes and the audit log, in one SQL database.

SQLAlchemy (1.4, Rasa's pin) over SQLite by default or PostgreSQL by URL, like the tracker
store. ``Store`` is every part in one object: the cases (here), why a case was flagged and staff's
marks (``danger``), accounts and sessions (``accounts``), retention's deletions (``housekeeping``),
over the tables of ``models``, whose schema the migrations make (``migrate``). No Rasa, no sanic here.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from typing import Any, Callable, Dict, Iterable, List, Optional

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.channels import LINE_CONTACT, LINE_PREFIX
from bot.handoff.accounts import AccountStore
from bot.handoff.danger import DangerStore
from bot.handoff.housekeeping import Housekeeping
from bot.handoff.live import LiveStore
from bot.handoff.migrate import SchemaError
from bot.handoff.models import (
    COORDINATING_SECTION,
    DANGER_MARK_KINDS,
    DANGER_NOTE_MAX,
    DANGER_READERS,
    STATUS_LABELS,
    STATUSES,
    Audit,
    Base,
    ConsultationCount,
    DangerMark,
    DangerSignal,
    Delivery,
    Handoff,
    HandoffDestination,
    LoginFailure,
    Note,
    RetentionRun,
    Staff,
    StaffSession,
    StaffUser,
    now,
    own,
    visible,
)
from bot.handoff.notices import NoticeStore

# The names callers import from here (the web app, the Rasa action, tests), wherever they live now.
__all__ = [
    "COORDINATING_SECTION", "DANGER_MARK_KINDS", "DANGER_NOTE_MAX", "DANGER_READERS", "STATUS_LABELS",
    "STATUSES", "Audit", "Base", "ConsultationCount", "DangerMark", "DangerSignal", "Delivery", "Handoff",
    "HandoffDestination", "LoginFailure", "Note", "RetentionRun", "SchemaError", "Staff", "StaffSession", "StaffUser",
    "Store", "new_ref", "now",
]

# No 0/O/1/I/L: a reference read out over the phone must not be mistaken.
_REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_ref() -> str:
    """Return a short reference number such as KC-7XQ4M2."""
    return "KC-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(6))


class Store(DangerStore, AccountStore, Housekeeping, LiveStore, NoticeStore):
    """All reads and writes of hand-offs, accounts, notes and the audit log."""

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
                    destinations=[d for d in destinations if d],
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

    def line_followups(self) -> List[Dict[str, Any]]:
        """The hand-offs of LINE conversations whose person asked to be answered in the LINE talk."""
        with self.session() as s:
            rows = s.query(Handoff).filter(Handoff.conversation_id.startswith(LINE_PREFIX), Handoff.contact == LINE_CONTACT)
            return [r.as_dict() for r in rows.order_by(Handoff.id.desc())]

    def owns(self, ref: str, conversation_id: str) -> bool:
        """Return True when the hand-off ``ref`` exists and was created by this conversation."""
        with self.session() as s:
            return own(s, ref, conversation_id) is not None

    def set_contact(self, ref: str, conversation_id: str, contact: Optional[str]) -> bool:
        """Store the way the person may be contacted, from the conversation that created the hand-off.

        Return False (nothing changed) for an unknown or another conversation's reference. A
        contact that replaces an earlier one is an audited event, never a silent overwrite:
        the audit log keeps who (the conversation) and what (a change), not the contact itself.
        """
        with self.session() as s:
            row = own(s, ref, conversation_id)
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
            row = own(s, ref, conversation_id)
            if row is None:
                return False
            row.carer_types = json.dumps(list(carer_types))
            row.user_role = user_role
            kept = row.destinations
            row.destinations = kept + [d for d in destinations if d and d not in kept]
            row.crisis = row.crisis or crisis
            row.summary = summary
            row.updated_at = now()
            s.commit()
            return True

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
            query = visible(s.query(Handoff), staff)
            if section:
                query = query.filter(Handoff.destination_rows.any(HandoffDestination.section == section))
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
            row = visible(s.query(Handoff), staff).filter(Handoff.ref == ref).first()
            if row is None:
                return None
            record = row.as_dict()
            record["notes"] = [
                {"author": n.author, "created_at": n.created_at, "text": n.text}
                for n in s.query(Note).filter_by(handoff_id=row.id).order_by(Note.id)
            ]
            return record

    def _change(self, staff: Staff, ref: str, change: Callable[[Session, Handoff], None]) -> bool:
        with self.session() as s:
            row = visible(s.query(Handoff), staff).filter(Handoff.ref == ref).first()
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
            row.destinations = [to_section] + [d for d in row.destinations if d != to_section]
            s.add(Note(handoff_id=row.id, author=staff.username, text=f"【引き継ぎ】{to_section} へ: {reason[:2000]}"))

        return self._change(staff, ref, move) and self.audit(staff, "transfer", ref, to_section)  # the reason is in the note
