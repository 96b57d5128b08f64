"""Live conversations (issue 15): a member of staff holds a conversation, talks, and hands it back.

The hold is kept here, in the hand-off database that every web process shares, and in the
conversation's tracker (the slot ``staff``, set by bot.web.live), which every Rasa instance reads.
One member of staff holds a conversation at a time; another takes it over only on purpose. Every
join, take-over, message and hand-back is in the audit log (who, which conversation; never the text).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Dict, List, Optional

import sqlalchemy as sa

from bot.handoff.database import Database
from bot.handoff.models import CrisisNotice, LiveHold, LiveSent, Staff


@dataclass(frozen=True)
class Hold:
    """Who holds a conversation now."""

    conversation_id: str
    section: str
    username: str
    since: float
    last_seen: float


def _hold(row: LiveHold) -> Hold:
    return Hold(row.conversation_id, row.section, row.username, row.since, row.last_seen)


class LiveStore(Database):
    """Holds, staff messages sent once, and crisis notices."""

    def holder(self, conversation_id: str) -> Optional[Hold]:
        """Who holds the conversation now, or None (the bot answers)."""
        with self.session() as s:
            row = s.get(LiveHold, conversation_id)
            return _hold(row) if row is not None and row.released_at is None else None

    def holds(self, since: float = 0.0) -> Dict[str, Optional[Hold]]:
        """Every conversation held now (a Hold) or handed back after ``since`` (None)."""
        with self.session() as s:
            rows = s.query(LiveHold).filter(sa.or_(LiveHold.released_at.is_(None), LiveHold.released_at > since))
            return {r.conversation_id: (_hold(r) if r.released_at is None else None) for r in rows}

    def join(self, staff: Staff, conversation_id: str, take_over: bool = False, at: Optional[float] = None) -> Optional[Hold]:
        """Hold the conversation for ``staff``; return the hold, or the other holder's hold when it is
        held by someone else and ``take_over`` is False (nothing changes then)."""
        at = at or time.time()
        with self.session() as s:
            row = s.query(LiveHold).filter_by(conversation_id=conversation_id).with_for_update().first()
            if row is not None and row.released_at is None and row.username != staff.username and not take_over:
                return _hold(row)
            took_from = row.username if row is not None and row.released_at is None and row.username != staff.username else ""
            if row is None:
                row = LiveHold(conversation_id=conversation_id)
                s.add(row)
            if row.released_at is not None or row.username != staff.username:
                row.since = at
            row.section, row.username, row.last_seen, row.released_at = staff.section, staff.username, at, None
            s.commit()
            hold = _hold(row)
        self.audit(staff, "live_takeover" if took_from else "live_join", None, self.audit_key(conversation_id))
        return hold

    def heartbeat(self, staff: Staff, conversation_id: str, at: Optional[float] = None) -> bool:
        """The staff page is still open: True while this member of staff holds the conversation."""
        with self.session() as s:
            n = (s.query(LiveHold)
                 .filter_by(conversation_id=conversation_id, username=staff.username, released_at=None)
                 .update({LiveHold.last_seen: at or time.time()}))
            s.commit()
            return n == 1

    def release(self, staff: Optional[Staff], conversation_id: str, at: Optional[float] = None) -> bool:
        """Hand the conversation back to the bot (``staff`` None: the web app, after the staff page went
        silent). True only for the one call that released it, whichever web process made it."""
        query_filter = {"conversation_id": conversation_id, "released_at": None}
        if staff is not None:
            query_filter["username"] = staff.username
        with self.session() as s:
            n = s.query(LiveHold).filter_by(**query_filter).update({LiveHold.released_at: at or time.time()})
            s.commit()
        if n == 1 and staff is not None:
            self.audit(staff, "live_leave", None, self.audit_key(conversation_id))
        return n == 1

    def stale(self, silent_for: float, at: Optional[float] = None) -> List[Hold]:
        """The holds whose staff page has not been seen for ``silent_for`` seconds."""
        before = (at or time.time()) - silent_for
        with self.session() as s:
            rows = s.query(LiveHold).filter(LiveHold.released_at.is_(None), LiveHold.last_seen < before)
            return [_hold(r) for r in rows]

    def first_send(self, staff: Staff, conversation_id: str, client_id: str, at: Optional[float] = None) -> bool:
        """True the first time this staff message (its page's id) is sent, False for a repeat."""
        with self.session() as s:
            s.add(LiveSent(conversation_id=conversation_id, client_id=client_id, at=at or time.time()))
            try:
                s.commit()
            except sa.exc.IntegrityError:
                s.rollback()
                return False
        self.audit(staff, "live_message", None, self.audit_key(conversation_id))
        return True

    def notice_crisis(self, conversation_id: str, at: Optional[float] = None) -> bool:
        """Record that staff were told of this conversation's danger sign: True only the first time."""
        with self.session() as s:
            s.add(CrisisNotice(conversation_id=conversation_id, at=at or time.time(), mailed=False))
            try:
                s.commit()
            except sa.exc.IntegrityError:
                s.rollback()
                return False
        return True

    def crisis_notices(self, since: float) -> Dict[str, float]:
        """{conversation id: when staff were told} of the notices after ``since``."""
        with self.session() as s:
            return {r.conversation_id: r.at for r in s.query(CrisisNotice).filter(CrisisNotice.at > since)}

    def claim_mail(self, conversation_id: str) -> bool:
        """True for the one process that is to send this notice's e-mail."""
        with self.session() as s:
            n = s.query(CrisisNotice).filter_by(conversation_id=conversation_id, mailed=False).update({CrisisNotice.mailed: True})
            s.commit()
            return n == 1

    def forget_live(self, conversation_ids: List[str]) -> None:
        """Delete what this module kept of these conversations (retention)."""
        with self.session() as s:
            for model in (LiveHold, LiveSent, CrisisNotice):
                s.query(model).filter(model.conversation_id.in_(conversation_ids)).delete(synchronize_session=False)
            s.commit()

    @staticmethod
    def audit_key(conversation_id: str) -> str:
        """How the audit log names a live conversation: the console's key, not the widget's id."""
        from bot.handoff.transcripts import live_key

        return f"会話 {live_key(conversation_id)}"
