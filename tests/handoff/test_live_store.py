"""Holds of live conversations (issue 15) on a real SQLite database: one holder, explicit take-over,
a release that only one caller wins, staff messages sent once, crisis notices once."""

from bot.handoff.models import Staff
from bot.handoff.store import Store

A = Staff("kodomo1", "kodomo_katei_soudan")
B = Staff("kodomo2", "kodomo_katei_soudan")


def test_one_holder_at_a_time_and_take_over_only_on_purpose(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/h.db")
    assert store.holder("c1") is None
    assert store.join(A, "c1", at=100.0).username == "kodomo1"
    refused = store.join(B, "c1", at=101.0)
    assert refused.username == "kodomo1"  # the other holder is returned: nothing changed
    assert store.holder("c1").username == "kodomo1"
    taken = store.join(B, "c1", take_over=True, at=102.0)
    assert taken.username == "kodomo2" and taken.since == 102.0
    assert not store.heartbeat(A, "c1") and store.heartbeat(B, "c1")
    actions = [a["action"] for a in store.audit_log()]
    assert actions[:2] == ["live_takeover", "live_join"]
    assert all(a["detail"].startswith("会話 ") and "c1" not in a["detail"] for a in store.audit_log())


def test_a_release_is_won_once_and_a_lapsed_hold_is_found(tmp_path):
    url = f"sqlite:///{tmp_path}/h.db"
    one, two = Store(url), Store(url)  # two web processes on one database
    one.join(A, "c2", at=100.0)
    assert [h.conversation_id for h in one.stale(60.0, at=200.0)] == ["c2"]
    assert one.stale(60.0, at=150.0) == []
    assert one.release(None, "c2", at=200.0) is True
    assert two.release(None, "c2", at=200.5) is False  # the other process lost the race: no second notice
    assert one.holder("c2") is None
    assert set(one.holds(since=150.0)) == {"c2"}  # still watched for a while after the hand-back
    assert one.holds(since=300.0) == {}
    assert one.release(A, "c2") is False  # not held any more


def test_a_staff_message_is_sent_once_and_a_crisis_noticed_once(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/h.db")
    assert store.first_send(A, "c3", "abcdefgh1") is True
    assert store.first_send(A, "c3", "abcdefgh1") is False
    assert store.first_send(A, "c3", "abcdefgh2") is True
    assert store.notice_crisis("c3", at=10.0) and not store.notice_crisis("c3", at=11.0)
    assert store.claim_mail("c3") and not store.claim_mail("c3")
    assert store.crisis_notices(since=5.0) == {"c3": 10.0}
    store.forget_live(["c3"])
    assert store.crisis_notices(since=0.0) == {} and store.first_send(A, "c3", "abcdefgh1") is True
