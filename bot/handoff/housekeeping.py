"""What retention deletes from the hand-off database, and what it keeps about its runs.

bot.handoff.retention decides when; this is the SQL: cases past their period with everything
attached to them, relayed answers, failed logins, and the monthly counts that outlive the events.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any, Dict, Optional

import sqlalchemy as sa

from bot.handoff.database import Database
from bot.handoff.models import Audit, ConsultationCount, DangerMark, DangerSignal, Delivery, Handoff, LoginFailure, Note, RetentionRun, now


class Housekeeping(Database):
    """Deletion past the retention periods, and the record of each run (counts only)."""

    def purge(self, handoff_days: int, delivery_hours: int, login_seconds: int) -> Dict[str, Any]:
        """Delete what is kept no longer than it must be; return counts and the deleted cases' conversations.

        Hand-offs older than ``handoff_days`` go with their destinations, notes, danger signals and marks and
        their audit entries (and every audit entry that old); relayed widget answers older than ``delivery_hours``;
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
                s.delete(r)  # its destinations with it (the relationship's cascade)
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
