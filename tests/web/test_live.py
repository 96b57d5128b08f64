"""Issue 15 on the real stack: a member of staff joins a live conversation, talks, hands it back.

A real Rasa server and action server, a real web app process (``python -m bot.web``) and real SQLite
databases; the widget's side is played over its own routes (/chat/send, /chat/updates) and the
staff's over the console's, with a logged-in session each. The browser test (tests/browser) plays
the same with two browser contexts.
"""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from bot.handoff.store import Store
from tools import stack
from tools.live_client import PASSWORD, Staff, Widget

pytestmark = pytest.mark.server



@pytest.fixture(scope="module")
def live(tmp_path_factory, trained_model):
    tmp = tmp_path_factory.mktemp("live")
    handoff, tracker = f"sqlite:///{tmp}/handoff.db", f"sqlite:///{tmp}/tracker.db"
    store = Store(handoff)
    for user, section in (("kodomo1", "kodomo_katei_soudan"), ("kodomo2", "kodomo_katei_soudan"), ("shoko1", "shoko"),
                          ("somu1", "fukushi_somu")):
        store.add_user(user, PASSWORD, section)
    env = {"HANDOFF_DB_URL": handoff, "CATALOG_PATH": str(stack.catalog_with_live_hours(tmp))}
    with stack.running(tracker, model=str(trained_model), extra_env=env) as s:
        web_env = {**env, "TRACKER_DB_URL": tracker, "RASA_URL": s.rasa_url, "RASA_AUTH_TOKEN": s.token}
        with stack.web_app(web_env, log=tmp / "web.log") as url:
            yield {"url": url, "store": store, "stack": s, "env": web_env, "tmp": tmp}


def _handed_child(live) -> Widget:
    """A child who tells her story and agrees to the hand-off to こども家庭相談課."""
    w = Widget(live["url"])
    w.say("小5です。ママが入院してて、弟のごはんとかせんたく、ぜんぶわたしがやってる")
    replies = w.say("うん、つたえて")
    texts = " ".join(m.get("text") or "" for m in replies)
    assert "うけつけ ばんごう" in texts, texts
    # Within the section's hours (this catalog: any hour), a person may answer in the chat: said so.
    assert "チャットに はいって おへんじ" in texts, texts
    return w


def _is(live, w: Widget):
    """The live list's row of this widget's conversation, found by its hand-off's reference (the list
    never shows the widget's id)."""
    ref = live["store"].handoff_for_conversation(w.sender)["ref"]
    return lambda c: c["ref"] == ref


def test_staff_join_talk_and_hand_back(live):
    url, store = live["url"], live["store"]
    w = _handed_child(live)
    w.updates(wait=False)  # the widget's first look: nothing live yet
    assert w.shown == []
    staff = Staff(url, "kodomo1")
    row = staff.find(_is(live, w))
    key = row["key"]
    assert w.sender not in key and w.sender not in staff.s.get(f"{url}/staff/live/c/{key}").text  # the widget's id stays hidden
    assert "ヤングケアラー" in row["carer_types"] and "こども家庭相談課" in row["sections"]

    assert staff.post(key, "join").json()["ok"]
    joined = w.wait_for(lambda m: m["who"] == "notice")
    assert "こども家庭相談課" in joined["text"] and "kodomo1" not in joined["text"]  # no personal name by default
    assert "しょくいん" in joined["text"]  # the child's register

    # The person writes while staff hold the conversation: stored, never answered by the bot.
    assert w.say("ありがとう。きょうもママのおみまいにいく") == []
    assert any(t["who"] == "user" and "おみまい" in t["text"] for t in staff.turns(key)["turns"])

    # A staff message reaches the widget once, even when its form is posted twice.
    cid = uuid.uuid4().hex
    assert staff.post(key, "send", text="よく がんばって いるね。おみまいの あとで また はなそう。", client_id=cid).json()["ok"]
    assert staff.post(key, "send", text="よく がんばって いるね。おみまいの あとで また はなそう。", client_id=cid).json()["repeat"]
    w.wait_for(lambda m: m["who"] == "staff")
    time.sleep(1.0)
    w.updates(wait=False)
    staff_msgs = [m for m in w.shown if m["who"] == "staff"]
    assert len(staff_msgs) == 1 and staff_msgs[0]["section"] == "こども家庭相談課"

    # Another member of the section cannot talk over: joining says who holds it; taking over is explicit.
    other = Staff(url, "kodomo2")
    refused = other.post(key, "join")
    assert refused.status_code == 409 and "kodomo1" in refused.json()["error"]
    assert other.post(key, "join", take_over="1").json()["ok"]
    assert staff.post(key, "send", text="まだいます", client_id=uuid.uuid4().hex).status_code == 409  # no longer holds it
    assert other.post(key, "leave").json()["ok"]
    w.wait_for(lambda m: m["who"] == "notice" and "チャットボット" in m["text"])

    # Handed back: the bot answers again, where the conversation stands.
    assert w.say("また はなしたい") != []

    # The transcript has every message with its author; the audit log every step, never the text.
    ref = store.handoff_for_conversation(w.sender)["ref"]
    page = staff.s.get(f"{url}/staff/h/{ref}").text
    assert "職員（こども家庭相談課・kodomo1）" in page and "おみまいの あとで" in page
    assert "お知らせ（こども家庭相談課・kodomo1）" in page and "お知らせ（こども家庭相談課・kodomo2）" in page  # join, hand-back
    assert all("kodomo" not in m["text"] for m in w.shown)  # the person never sees a staff name
    actions = [(a["username"], a["action"]) for a in store.audit_log()]
    for expected in (("kodomo1", "live_join"), ("kodomo1", "live_message"), ("kodomo2", "live_takeover"), ("kodomo2", "live_leave")):
        assert expected in actions
    assert not any("おみまい" in (a["detail"] or "") for a in store.audit_log())


def test_another_section_cannot_see_or_join(live):
    url = live["url"]
    w = _handed_child(live)
    kodomo = Staff(url, "kodomo1")
    key = kodomo.find(_is(live, w))["key"]
    shoko = Staff(url, "shoko1")
    assert all(c["key"] != key for c in shoko.live()["conversations"])
    for path in (f"/staff/live/c/{key}", f"/staff/live/c/{key}/turns.json", f"/staff/live/c/{key}/stream?once=1"):
        assert shoko.s.get(f"{url}{path}", timeout=10).status_code == 404
    for action in ("join", "send", "leave", "heartbeat"):
        assert shoko.post(key, action, text="x", client_id=uuid.uuid4().hex).status_code == 404
    assert w.say("ねえ、きいてる？") != []  # nobody joined: the bot still answers


def test_messages_survive_a_restart_of_the_web_app(live):
    w = _handed_child(live)
    staff = Staff(live["url"], "kodomo1")
    key = staff.find(_is(live, w))["key"]
    assert staff.post(key, "join").json()["ok"]
    w.wait_for(lambda m: m["who"] == "notice")
    seen = w.after
    # A second web process on the same databases: sent there, shown here, once, in order.
    with stack.web_app(live["env"], log=live["tmp"] / "web2.log") as url2:
        staff2 = Staff(url2, "kodomo1")
        for i in range(3):
            assert staff2.post(key, "send", text=f"メッセージ{i}", client_id=uuid.uuid4().hex).json()["ok"]
        w2 = Widget(url2)
        w2.sender, w2.after = w.sender, seen  # the same tab, reloaded, talking to the other process
        w2.wait_for(lambda m: m["text"] == "メッセージ2")
        assert [m["text"] for m in w2.shown if m["who"] == "staff"] == ["メッセージ0", "メッセージ1", "メッセージ2"]
    assert staff.post(key, "leave").json()["ok"]


def test_the_bot_resumes_kindly_when_the_staff_page_goes_away(live):
    w = _handed_child(live)
    staff = Staff(live["url"], "kodomo1")
    key = staff.find(_is(live, w))["key"]
    assert staff.post(key, "join").json()["ok"]
    w.wait_for(lambda m: m["who"] == "notice")
    # No heartbeat from the staff page (closed tab): after away_minutes (9 s here) the bot resumes.
    away = w.wait_for(lambda m: m["who"] == "notice" and "まって くれて" in m["text"], timeout=40)
    assert "チャットボット" in away["text"]
    assert live["stack"].slots(w.sender)["staff"] == ""  # every Rasa instance reads it: the bot answers
    assert w.say("また はなしたい") != []  # at once: the hand-back is read from the database, not a cache
    assert ("（自動）", "live_away") in [(a["username"], a["action"]) for a in live["store"].audit_log()]


def test_updates_refuse_a_bad_sender(live):
    r = requests.get(f"{live['url']}/chat/updates", params={"sender": "../etc", "after": "x"}, timeout=10)
    assert r.status_code == 400
