"""Measure 6-3-3-3 (issue 17) in the hand-off database: the support tool's monthly figures, the people
who asked for notices, the notices staff write, and each notice's delivery to each subscriber.

Nothing here links a subscription to a conversation's words or to a hand-off. A LINE subscriber is
known by the conversation's hashed id (the adapter alone can reach the person); an e-mail subscriber
by the address, which counts only once confirmed through the emailed link. Leaving deletes the row.

Sending is resumable: starting a notice writes one delivery row per recipient at once; a sender
claims rows (a lease, so that several web processes never send the same row), sends, and marks them.
A LINE row whose sender died is sent again under the same retry key (LINE accepts it once); an
e-mail row whose sender died is marked ``uncertain`` and not sent again, so that nobody gets it twice.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import time
from typing import Any, Dict, List, Optional, Tuple

import sqlalchemy as sa

from bot.catalog import JST
from bot.handoff.database import Database
from bot.handoff.models import Notice, NoticeDelivery, Staff, Subscription, SupportCount

UNCONFIRMED_DAYS = 7  # an e-mail address whose link was never opened is deleted after this
LEASE = 60.0  # seconds a claimed delivery is its sender's before another may take it over
NOTICE_SECTION = "shogai_fukushi"  # 障害福祉課 writes the notices (measure 6-3-3-3); admins too


def may_write_notices(staff: Staff) -> bool:
    return staff.is_admin or staff.section == NOTICE_SECTION


def _month(at: Optional[float] = None) -> str:
    return dt.datetime.fromtimestamp(at or time.time(), JST).strftime("%Y-%m")


class NoticeStore(Database):
    """Figures of the support tool; subscriptions; notices and their deliveries."""

    # --- the support tool's figures ------------------------------------------------------------------

    def count_support(self, items: List[str], at: Optional[float] = None) -> None:
        """The tool was used once and showed ``items``: counted for this month, nothing of the person."""
        month = _month(at)
        with self.session() as s:
            for key in ["used", *(f"item:{i}" for i in items)]:
                row = s.get(SupportCount, (month, key))
                if row is None:
                    s.add(SupportCount(month=month, key=key, count=1))
                else:
                    row.count += 1
            s.commit()

    def support_figures(self) -> Dict[str, Any]:
        """Uses and items shown per month, and confirmed subscribers per topic and channel."""
        with self.session() as s:
            counts = [(r.month, r.key, r.count) for r in s.query(SupportCount).order_by(SupportCount.month.desc())]
            subscribers: Dict[Tuple[str, str], int] = {}
            for sub in s.query(Subscription).filter(Subscription.confirmed_at.isnot(None)):
                for topic in json.loads(sub.topics or "[]"):
                    subscribers[(topic, sub.channel)] = subscribers.get((topic, sub.channel), 0) + 1
        months = sorted({m for m, _, _ in counts}, reverse=True)
        return {
            "months": [{"month": m, "used": sum(c for mm, k, c in counts if mm == m and k == "used"),
                        "items": {k[5:]: c for mm, k, c in counts if mm == m and k.startswith("item:")}} for m in months],
            "subscribers": {f"{t}/{ch}": n for (t, ch), n in subscribers.items()},
        }

    # --- subscriptions ---------------------------------------------------------------------------------

    def subscribe(self, channel: str, address: str, topics: List[str], now: Optional[float] = None) -> Dict[str, Any]:
        """Add or widen a subscription. LINE is confirmed at once (the person wrote from that account);
        an e-mail address waits for its link. Return {"token", "confirmed", "new"}."""
        now = now or time.time()
        with self.session() as s:
            row = s.query(Subscription).filter_by(channel=channel, address=address).first()
            new = row is None
            if new:
                row = Subscription(channel=channel, address=address, topics="[]", token=secrets.token_urlsafe(32), created_at=now)
                s.add(row)
            row.topics = json.dumps(sorted(set(json.loads(row.topics or "[]")) | set(topics)))
            if channel == "line" and row.confirmed_at is None:
                row.confirmed_at = now
            s.commit()
            return {"token": row.token, "confirmed": row.confirmed_at is not None, "new": new}

    def leave_line(self, conversation_id: str) -> int:
        """「配信停止」 on LINE: the conversation's subscription is deleted."""
        with self.session() as s:
            n = s.query(Subscription).filter_by(channel="line", address=conversation_id).delete()
            s.commit()
            return n

    def line_subscribers(self) -> List[str]:
        with self.session() as s:
            return [r.address for r in s.query(Subscription.address).filter_by(channel="line")]

    def subscription(self, token: str) -> Optional[Dict[str, Any]]:
        with self.session() as s:
            row = s.query(Subscription).filter_by(token=token).first() if token else None
            return None if row is None else {"channel": row.channel, "topics": json.loads(row.topics),
                                             "confirmed": row.confirmed_at is not None}

    def confirm(self, token: str, now: Optional[float] = None) -> bool:
        with self.session() as s:
            row = s.query(Subscription).filter_by(token=token).first() if token else None
            if row is None:
                return False
            row.confirmed_at = row.confirmed_at or now or time.time()
            s.commit()
            return True

    def leave(self, token: str) -> bool:
        """The person leaves with the link of any notice or of the confirmation: their row is deleted."""
        with self.session() as s:
            n = s.query(Subscription).filter_by(token=token).delete() if token else 0
            s.commit()
            return n > 0

    def forget_unconfirmed(self, days: float = UNCONFIRMED_DAYS, now: Optional[float] = None) -> int:
        """Retention: e-mail subscriptions never confirmed within ``days`` are deleted with their address."""
        with self.session() as s:
            n = s.query(Subscription).filter(Subscription.confirmed_at.is_(None),
                                             Subscription.created_at < (now or time.time()) - days * 86400).delete()
            s.commit()
            return n

    def confirmations_to_send(self, limit: int = 20) -> List[Dict[str, Any]]:
        """E-mail subscriptions whose confirmation link was not sent yet (claimed: sent by one process)."""
        out = []
        with self.session() as s:
            rows = s.query(Subscription).filter(Subscription.channel == "email", Subscription.confirm_sent_at.is_(None),
                                                Subscription.confirmed_at.is_(None)).limit(limit).all()
            for row in rows:
                claimed = s.execute(sa.update(Subscription).where(Subscription.id == row.id, Subscription.confirm_sent_at.is_(None))
                                    .values(confirm_sent_at=time.time())).rowcount
                if claimed:
                    out.append({"address": row.address, "token": row.token, "topics": json.loads(row.topics)})
            s.commit()
        return out

    # --- notices and their deliveries ------------------------------------------------------------------

    def create_notice(self, staff: Staff, title: str, body: str, topics: List[str]) -> int:
        with self.session() as s:
            row = Notice(title=title, body=body, topics=json.dumps(topics), author=staff.username, section=staff.section,
                         created_at=time.time())
            s.add(row)
            s.commit()
            return row.id

    def notice(self, notice_id: int) -> Optional[Dict[str, Any]]:
        found = self._notices(Notice.id == notice_id)
        return found[0] if found else None

    def notices(self) -> List[Dict[str, Any]]:
        return self._notices()

    def _notices(self, *where: Any) -> List[Dict[str, Any]]:
        """Notices, newest first (at most 200), each with its deliveries counted by state (one query for all)."""
        with self.session() as s:
            rows = s.query(Notice).filter(*where).order_by(Notice.id.desc()).limit(200).all()
            states: Dict[int, Dict[str, int]] = {r.id: {} for r in rows}
            counted = (s.query(NoticeDelivery.notice_id, NoticeDelivery.state, sa.func.count())
                       .filter(NoticeDelivery.notice_id.in_(list(states))).group_by(NoticeDelivery.notice_id, NoticeDelivery.state))
            for notice_id, state, n in counted:
                states[notice_id][state] = n
            return [self._notice_dict(r, states[r.id]) for r in rows]

    @staticmethod
    def _notice_dict(row: Notice, states: Dict[str, int]) -> Dict[str, Any]:
        return {"id": row.id, "title": row.title, "body": row.body, "topics": json.loads(row.topics), "author": row.author,
                "section": row.section, "created_at": row.created_at, "sent_at": row.sent_at, "figures": states,
                "recipients": sum(states.values())}

    def start_sending(self, notice_id: int, now: Optional[float] = None) -> Optional[Dict[str, int]]:
        """Fix the recipients (confirmed subscribers of any of the notice's topics), once; None if already started."""
        now = now or time.time()
        with self.session() as s:
            if not s.execute(sa.update(Notice).where(Notice.id == notice_id, Notice.sent_at.is_(None)).values(sent_at=now)).rowcount:
                s.rollback()
                return None
            topics = set(json.loads(s.get(Notice, notice_id).topics))
            counts = {"line": 0, "email": 0}
            for sub in s.query(Subscription).filter(Subscription.confirmed_at.isnot(None)):
                if topics & set(json.loads(sub.topics or "[]")):
                    s.add(NoticeDelivery(notice_id=notice_id, subscription_id=sub.id, channel=sub.channel, state="pending"))
                    counts[sub.channel] += 1
            s.commit()
            return counts

    def claim_deliveries(self, limit: int, now: Optional[float] = None) -> List[Dict[str, Any]]:
        """Up to ``limit`` deliveries to send now, claimed for this process. A LINE delivery whose claim
        lapsed is claimed again; an e-mail one becomes ``uncertain`` (never sent twice)."""
        now = now or time.time()
        out = []
        with self.session() as s:
            lapsed = (NoticeDelivery.state == "sending") & (NoticeDelivery.claimed_at < now - LEASE)
            s.execute(sa.update(NoticeDelivery).where(lapsed, NoticeDelivery.channel == "email").values(state="uncertain", done_at=now))
            rows = s.query(NoticeDelivery).filter((NoticeDelivery.state == "pending") | lapsed).limit(limit).all()
            for row in rows:
                claimed = s.execute(sa.update(NoticeDelivery).where(
                    NoticeDelivery.notice_id == row.notice_id, NoticeDelivery.subscription_id == row.subscription_id,
                    NoticeDelivery.state == row.state, NoticeDelivery.claimed_at.is_(row.claimed_at) if row.claimed_at is None
                    else NoticeDelivery.claimed_at == row.claimed_at).values(state="sending", claimed_at=now)).rowcount
                if not claimed:
                    continue
                sub, notice = s.get(Subscription, row.subscription_id), s.get(Notice, row.notice_id)
                if sub is None:  # they left after the notice was started
                    s.execute(sa.update(NoticeDelivery).where(
                        NoticeDelivery.notice_id == row.notice_id, NoticeDelivery.subscription_id == row.subscription_id,
                    ).values(state="failed", done_at=now))
                    continue
                out.append({"notice_id": row.notice_id, "subscription_id": row.subscription_id, "channel": sub.channel,
                            "address": sub.address, "token": sub.token, "title": notice.title, "body": notice.body})
            s.commit()
        return out

    def finish_delivery(self, notice_id: int, subscription_id: int, state: str) -> None:
        with self.session() as s:
            s.execute(sa.update(NoticeDelivery).where(
                NoticeDelivery.notice_id == notice_id, NoticeDelivery.subscription_id == subscription_id,
                NoticeDelivery.state == "sending").values(state=state, done_at=time.time()))
            s.commit()
