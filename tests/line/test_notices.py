"""Issue 17 on the real stack: the support check in a conversation, notices people opt into (LINE push and
e-mail with double opt-in through a local SMTP server), staff sending from the console, unsubscribing on
both, per-section access, and a send killed in the middle and resumed without doubles."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import time
import uuid

import pytest
import requests

from bot.handoff.store import Store
from tests.line.conftest import LinePerson, texts
from tests.line.fake_line import follow_event
from tools import stack
from tools.live_client import Staff, Widget

pytestmark = pytest.mark.server


def _body(raw: str) -> str:
    return email.message_from_string(raw, policy=email.policy.default).get_body(("plain",)).get_content()


def _send_notice(line, staff: Staff, title: str, topics=("allowances",)) -> int:
    r = staff.s.post(f"{line['url']}/staff/notices", data={"csrf_token": staff.csrf, "title": title, "body": f"{title}の本文です。",
                                                           "topics": list(topics)}, allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text
    notice_id = int(r.headers["Location"].rsplit("/", 1)[1])
    preview = staff.s.get(f"{line['url']}/staff/notices/{notice_id}", timeout=10).text
    assert title in preview and "この内容で送信する" in preview  # a preview before anything is sent
    assert staff.s.post(f"{line['url']}/staff/notices/{notice_id}/send", data={"csrf_token": staff.csrf},
                        allow_redirects=False, timeout=10).status_code == 302
    return notice_id


def _line_subscriber(line) -> LinePerson:
    p = LinePerson(line)
    p.send(follow_event(p.user, p.token()))
    replies = "".join(p.say("むすこに しょうがいが あります。なにか つかえる てあては ありますか"))
    assert "スキップ" in replies  # the check starts: three questions, each skippable
    for answer in ("18歳未満", "療育手帳", "自宅で暮らしている"):
        last = p.say(answer)
    shown = "".join(last)
    assert "特別児童扶養手当" in shown and "くわしくは" in shown
    quick = [i["action"]["label"] for i in p.calls()[-1]["messages"][-1]["quickReply"]["items"]]
    assert quick[0] in ("受け取る", "うけとる") and quick[1] == "いいえ"
    p.say(quick[0])
    assert "配信停止" in "".join(p.say("ぜんぶ"))
    return p


def test_notices_by_e_mail_and_on_line_from_the_console_and_leaving_on_both(line):
    store: Store = line["store"]
    inbox = line["inbox"]
    # E-mail: asked for in the widget; the address counts only once its link was opened.
    w = Widget(line["url"])
    w.say("お知らせを受け取りたいです")
    w.say("手当・サービス")
    address = f"notice-{uuid.uuid4().hex[:8]}@example.jp"
    assert "確認のメール" in "".join(m.get("text", "") for m in w.say(f"{address} でお願いします"))
    confirm_mail = _body(inbox.wait_for(address)[0])
    link = re.search(r"https?://\S+/notices/confirm/\S+", confirm_mail).group(0)
    p = _line_subscriber(line)

    staff = Staff(line["url"], "shogai1")
    first = _send_notice(line, staff, "ケアラー交流会のお知らせ", topics=("carer_meetups",))
    line["fake"].wait_for(lambda calls: any("ケアラー交流会のお知らせ" in t for t in texts([c for c in calls if c["to"] == p.user])))
    time.sleep(2.0)
    assert inbox.to(address) == inbox.to(address)[:1]  # not confirmed yet: nothing but the confirmation

    page = requests.get(link, timeout=10)
    assert page.status_code == 200 and "登録を完了する" in page.text  # a button: a mail scanner opening the link confirms nothing
    assert requests.post(link, timeout=10).status_code == 200
    second = _send_notice(line, staff, "手当の申請期間のお知らせ")
    mails = inbox.wait_for(address, 2)
    notice_mail = email.message_from_string(mails[1], policy=email.policy.default)
    assert "手当の申請期間のお知らせ" in notice_mail["Subject"]
    leave = re.search(r"<(https?://\S+/notices/leave/\S+)>", notice_mail["List-Unsubscribe"]).group(1)
    assert notice_mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    line["fake"].wait_for(lambda calls: any("手当の申請期間" in t for t in texts([c for c in calls if c["to"] == p.user])))

    # Each got each notice once; the figures say so; the audit log has counts, not addresses.
    pushed = texts([c for c in p.calls() if c["kind"] == "push"])
    assert sum("ケアラー交流会のお知らせ" in t for t in pushed) == 1 and sum("手当の申請期間" in t for t in pushed) == 1
    for notice_id in (first, second):
        deadline = time.time() + 20
        while store.notice(notice_id)["figures"].get("pending") and time.time() < deadline:
            time.sleep(0.2)
    assert store.notice(second)["figures"].get("sent", 0) >= 2
    audit = " ".join(e["detail"] for e in store.audit_log() if e["action"] == "notice_sent")
    assert "LINE" in audit and address not in audit and p.conversation not in audit

    # Leaving: one message on LINE, one press of the link for e-mail (the address is deleted).
    stopped = "".join(p.say("配信停止"))
    assert "止めました" in stopped or "停止しました" in stopped or "とめたよ" in stopped
    assert p.conversation not in store.line_subscribers()
    assert requests.post(leave, data="List-Unsubscribe=One-Click", timeout=10).status_code == 200
    assert store.subscription(leave.rsplit("/", 1)[1]) is None
    before_line, before_mail = len(p.calls()), len(inbox.to(address))
    third = _send_notice(line, staff, "三通目のお知らせ", topics=("allowances", "places", "carer_meetups"))
    time.sleep(4.0)
    assert len(p.calls()) == before_line and len(inbox.to(address)) == before_mail
    assert store.notice(third)["recipients"] == store.notice(third)["figures"].get("sent", 0) + store.notice(third)["figures"].get("failed", 0)


def test_only_the_disability_welfare_section_and_admins_reach_the_notice_pages(line):
    writer = Staff(line["url"], "shogai1")
    notice_id = _send_notice(line, writer, "アクセス確認")
    other = Staff(line["url"], "kodomo1")
    for path in ("/staff/notices", f"/staff/notices/{notice_id}"):
        assert other.s.get(f"{line['url']}{path}", timeout=10).status_code == 404
    assert other.s.post(f"{line['url']}/staff/notices", data={"csrf_token": other.csrf, "title": "x", "body": "y", "topics": "places"},
                        timeout=10).status_code == 404
    assert other.s.post(f"{line['url']}/staff/notices/{notice_id}/send", data={"csrf_token": other.csrf}, timeout=10).status_code == 404
    assert "お知らせ配信" not in other.s.get(f"{line['url']}/staff/", timeout=10).text
    support = other.s.get(f"{line['url']}/staff/support", timeout=10).text  # the data file and figures: every account
    assert "特別児童扶養手当" in support and "最終確認日" in support
    assert requests.get(f"{line['url']}/staff/notices", allow_redirects=False, timeout=10).status_code in (302, 303, 401, 404)


def test_a_send_killed_in_the_middle_resumes_and_nobody_gets_it_twice(line, tmp_path):
    """A second web app on its own hand-off database, sending slowly; killed mid-send, started again."""
    handoff = f"sqlite:///{tmp_path}/handoff2.db"
    store = Store(handoff)
    people = []
    for _ in range(8):
        p = LinePerson(line)
        p.send(follow_event(p.user, p.token()))
        store.subscribe("line", p.conversation, ["allowances"])
        people.append(p)
    addresses = [f"resume-{n}-{uuid.uuid4().hex[:6]}@example.jp" for n in range(5)]
    for a in addresses:
        store.confirm(store.subscribe("email", a, ["allowances"])["token"])
    store.add_user("shogai2", "a-long-password-for-tests-1234", "shogai_fukushi")
    from bot.handoff.models import Staff as StaffRecord
    notice_id = store.create_notice(StaffRecord("shogai2", "shogai_fukushi"), "再開テストのお知らせ", "本文", ["allowances"])
    assert store.start_sending(notice_id) == {"line": 8, "email": 5}
    env = {**line["web_env"], "HANDOFF_DB_URL": handoff, "NOTICE_RATE": "2"}
    log = tmp_path / "web2.log"

    with stack.web_process(env, log=log, log_mode="a") as (_url, proc):
        deadline = time.time() + 30
        while store.notice(notice_id)["figures"].get("sent", 0) < 4 and time.time() < deadline:
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)  # mid-send: some sent, one perhaps claimed, the rest pending
        proc.wait()
    middle = store.notice(notice_id)["figures"]
    assert 0 < middle.get("sent", 0) < 13, middle
    time.sleep(61)  # a claim of the killed process lapses (LEASE)
    with stack.web_process(env, log=log, log_mode="a"):
        deadline = time.time() + 60
        while time.time() < deadline:
            f = store.notice(notice_id)["figures"]
            if not f.get("pending") and not f.get("sending"):
                break
            time.sleep(0.2)
    figures = store.notice(notice_id)["figures"]
    assert figures.get("sent", 0) + figures.get("uncertain", 0) == 13 and not figures.get("failed"), figures
    for p in people:  # LINE: exactly once each (the retry key makes a resumed push one delivery)
        assert sum("再開テストのお知らせ" in t for t in texts(p.calls())) == 1
    for a in addresses:  # e-mail: at most once each; an interrupted one is "uncertain", never sent twice
        assert len(line["inbox"].to(a)) <= 1
    assert sum(len(line["inbox"].to(a)) for a in addresses) >= 5 - figures.get("uncertain", 0)
