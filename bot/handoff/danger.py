"""Why a case was flagged as a crisis, and staff's marks on that flag (issue 12)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import sqlalchemy as sa

from bot.handoff.database import Database
from bot.handoff.models import DANGER_MARK_KINDS, DANGER_NOTE_MAX, DANGER_READERS, DangerMark, DangerSignal, Handoff, Staff, own, visible


class DangerStore(Database):
    """The first danger signal of each case, and the marks that export as examples to review."""

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
            row = own(s, ref, conversation_id)
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
            row = visible(s.query(Handoff), staff).filter(Handoff.ref == ref).first()
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
