"""Issue 17: subscriptions and deliveries in the hand-off database (SQLite), without a server."""

import time

from bot.handoff.models import Staff
from bot.handoff.notices import LEASE, may_write_notices
from bot.handoff.store import Store


def test_an_unconfirmed_address_is_deleted_after_a_week_and_nothing_else(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/h.db")
    pending = store.subscribe("email", "late@example.jp", ["allowances"])
    confirmed = store.subscribe("email", "ok@example.jp", ["places"])
    store.confirm(confirmed["token"])
    store.subscribe("line", "line-" + "a" * 40, ["carer_meetups"])
    assert store.forget_unconfirmed(now=time.time() + 6 * 86400) == 0
    assert store.forget_unconfirmed(now=time.time() + 8 * 86400) == 1
    assert store.subscription(pending["token"]) is None and store.subscription(confirmed["token"])["confirmed"]
    assert store.line_subscribers() == ["line-" + "a" * 40]


def test_a_lapsed_claim_is_sent_again_on_line_and_never_again_by_e_mail(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/h.db")
    store.subscribe("line", "line-" + "b" * 40, ["allowances"])
    store.confirm(store.subscribe("email", "x@example.jp", ["allowances"])["token"])
    notice = store.create_notice(Staff("w", "shogai_fukushi"), "題", "本文", ["allowances"])
    assert store.start_sending(notice) == {"line": 1, "email": 1} and store.start_sending(notice) is None
    now = time.time()
    assert len(store.claim_deliveries(10, now=now)) == 2
    assert store.claim_deliveries(10, now=now + 1) == []  # claimed: nobody else takes them
    again = store.claim_deliveries(10, now=now + LEASE + 1)  # the sender died
    assert [d["channel"] for d in again] == ["line"]
    assert store.notice(notice)["figures"] == {"sending": 1, "uncertain": 1}
    store.finish_delivery(notice, again[0]["subscription_id"], "sent")
    assert store.notice(notice)["figures"] == {"sent": 1, "uncertain": 1}


def test_who_may_write_notices():
    assert may_write_notices(Staff("a", "shogai_fukushi")) and may_write_notices(Staff("b", "kodomo_katei_soudan", is_admin=True))
    assert not may_write_notices(Staff("c", "kodomo_katei_soudan")) and not may_write_notices(Staff("d", "fukushi_somu"))
