"""Issue 16: the LINE channel on the real stack, against a local fake of LINE's API.

Signatures, redelivery, long replies, quick replies, messages that are not text, follow and
unfollow, a crisis, a consented hand-off in the console, a staff member writing back on LINE,
and no LINE user id in any database or log.
"""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
import requests

from bot import catalog
from bot.channels import LINE_CONTACT
from tests.line.conftest import RELAY_TOKEN, SECRET, TEXT_LIMIT, LinePerson, texts, wait_done
from tests.line.fake_line import follow_event, media_event, postback_event, sticker_event, text_event, unfollow_event, webhook_body
from tools.live_client import Staff

pytestmark = pytest.mark.server

STORY = "中2です。お母さんが病気で、毎日ごはん作って弟の世話してる。つかれた"


def _tracker_texts(line, conversation: str) -> list:
    tracker = line["stack"].tracker(conversation)
    return [e.get("text") for e in tracker["events"] if e["event"] == "user"]


def test_a_missing_or_wrong_signature_gets_401_and_nothing_is_stored(line):
    p = LinePerson(line)
    event = text_event(p.user, "こんにちは。だれにも言えなくて", p.token())
    assert p.post([event], signature=None).status_code == 401
    assert p.post([event], signature="AAAA" + "=" * 40).status_code == 401
    # A signature of the right body with another secret, and of another body with the right secret.
    from tests.line.fake_line import sign
    assert p.post([event], signature=sign("0" * 32, webhook_body([event]))).status_code == 401
    assert p.post([event], signature=sign(SECRET, webhook_body([]))).status_code == 401
    time.sleep(1.0)
    with sqlite3.connect(line["db"]) as db:
        assert db.execute("SELECT COUNT(*) FROM events WHERE event_id = ?", (event["webhookEventId"],)).fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM people WHERE conversation = ?", (p.conversation,)).fetchone()[0] == 0
    assert p.calls() == []
    assert _tracker_texts(line, p.conversation) == []
    # The same event, signed: processed.
    assert p.send(event)


def test_a_redelivered_event_is_one_turn(line):
    p = LinePerson(line)
    event = text_event(p.user, "父の介護をしながら働いています。有給がもう残っていません", p.token())
    first = p.send(event)
    assert first
    again = dict(event, replyToken=p.token(), deliveryContext={"isRedelivery": True})
    r = p.post([again])
    assert r.status_code == 200 and r.json()["accepted"] == 0
    time.sleep(2.0)
    assert p.calls() == first  # nothing more was sent
    assert _tracker_texts(line, p.conversation).count(event["message"]["text"]) == 1


def test_a_long_reply_is_split_at_sentences_and_five_per_call(line):
    p = LinePerson(line)
    calls = p.send(text_event(p.user, "もう死にたい。毎日介護で限界です", p.token()))
    sent = texts(calls)
    assert all(len(t) <= TEXT_LIMIT for t in sent), [len(t) for t in sent]
    assert all(len(c["messages"]) <= 5 for c in calls)
    assert calls[0]["kind"] == "reply"
    if len(sent) > 5:
        assert [c["kind"] for c in calls[1:]] == ["push"] * (len(calls) - 1)
    # Cut only where a sentence or a line ends (or, for a sentence longer than a message, at a comma).
    assert all(re.search(r"[。！？!?」）)、\d]$", t) for t in sent[:-1]), sent
    # The same words as the widget gets for the same message.
    web = requests.post(f"{line['url']}/chat/send", json={"sender": "wlongreply01", "id": "m00000001", "text": "もう死にたい。毎日介護で限界です"},
                        timeout=60).json()["messages"]
    assert _flat("".join(sent)) == _flat("".join(m.get("text") or "" for m in web))


def _flat(text: str) -> str:
    return re.sub(r"KC-[0-9A-Z]{6}", "KC-XXXXXX", re.sub(r"\s+", "", text))


def test_a_crisis_gets_the_lines_and_the_safety_check_as_quick_replies(line):
    p = LinePerson(line)
    calls = p.send(text_event(p.user, "おかあさんに たたかれる。こわい。いえに いたくない", p.token()))
    sent = "".join(texts(calls))
    phones = [ln["phone"] for ln in catalog.load()["crisis_lines"]]
    assert any(ph in sent for ph in phones), sent
    last = calls[-1]["messages"][-1]
    items = last["quickReply"]["items"]
    assert [i["action"]["label"] for i in items] == ["はい", "いいえ"]
    assert all(i["action"]["type"] == "postback" for i in items)
    # Tapping 「はい」 sends the button's payload, as the widget does.
    answer = p.send(postback_event(p.user, items[0]["action"]["data"], p.token()))
    assert answer and line["stack"].slots(p.conversation)["crisis"] is True


@pytest.mark.parametrize("kind", ["sticker", "image", "video", "audio", "file", "location"])
def test_messages_that_are_not_text_are_answered_gently_and_not_stored(line, kind):
    p = LinePerson(line)
    event = sticker_event(p.user, p.token()) if kind == "sticker" else media_event(p.user, p.token(), kind)
    calls = p.send(event)
    assert texts(calls) == [catalog.line_text("non_text")]
    assert calls[0]["kind"] == "reply"
    assert _tracker_texts(line, p.conversation) == []


def test_follow_greets_and_unfollow_sends_nothing_more(line):
    p = LinePerson(line)
    greeting = "".join(texts(p.send(follow_event(p.user, p.token()))))
    for words in ("ケアラー相談チャット", "チャットボット", "人ではありません", "30日", "LINEの名前やID"):
        assert words in greeting, words
    p.send(unfollow_event(p.user))
    with sqlite3.connect(line["db"]) as db:
        assert db.execute("SELECT COUNT(*) FROM people WHERE conversation = ?", (p.conversation,)).fetchone()[0] == 0


def test_the_reply_token_when_fresh_the_push_api_otherwise(line):
    p = LinePerson(line)
    stale = text_event(p.user, "祖母の介護で眠れません", p.token(), timestamp_ms=int((time.time() - 120) * 1000))
    assert {c["kind"] for c in p.send(stale)} == {"push"}
    refused = text_event(p.user, "どうしたらいいですか", "0" * 32)  # a token LINE does not know: 400, then pushed
    assert {c["kind"] for c in p.send(refused)} == {"push"}


def test_a_consented_hand_off_on_line_reaches_the_console_with_its_channel(line):
    p = LinePerson(line)
    p.send(follow_event(p.user, p.token()))
    first = p.say(STORY)
    assert first
    consent = p.calls()[-1]["messages"][-1]
    assert "quickReply" in consent, "the consent question offers はい / いいえ as buttons"
    done = "".join(texts(p.send(postback_event(p.user, "/affirm", p.token()))))
    ref = re.search(r"KC-[0-9A-Z]{6}", done).group(0)
    assert "LINE" in done  # the contact question offers this LINE talk
    saved = "".join(p.say("LINEでおねがいします"))
    assert ref in saved
    handoff = line["store"].handoff_for_conversation(p.conversation)
    assert handoff["ref"] == ref and handoff["contact"] == LINE_CONTACT
    assert "kodomo_katei_soudan" in handoff["destinations"]

    staff = Staff(line["url"], "kodomo1")
    page = staff.s.get(f"{line['url']}/staff/h/{ref}", timeout=10).text
    assert re.search(r'class="channel">LINE<', page) and "このLINEのトークに返信する" in page
    listing = staff.s.get(f"{line['url']}/staff/", timeout=10).text
    assert ref in listing and "<td>LINE</td>" in listing
    csv = staff.s.get(f"{line['url']}/staff/export.csv", timeout=10).text
    assert any(ref in row and row.rstrip().endswith("LINE") for row in csv.splitlines())

    # Staff write back in the LINE talk: join, message, leave; each reaches LINE once, as a push.
    key = re.search(r'href="/staff/live/c/([^"]+)"', page).group(1)
    assert staff.post(key, "join").json()["ok"]
    line["fake"].wait_for(lambda calls: any("チャットに はいった" in t or "チャットに入りました" in t for t in texts([c for c in calls if c["to"] == p.user])))
    assert staff.post(key, "send", text="こども家庭相談課です。読みました。話してくれてありがとう。", client_id="c" + "1" * 15).json()["ok"]
    assert staff.post(key, "send", text="こども家庭相談課です。読みました。話してくれてありがとう。", client_id="c" + "1" * 15).status_code == 200
    line["fake"].wait_for(lambda calls: any("話してくれてありがとう" in t for t in texts([c for c in calls if c["to"] == p.user])))
    held = p.say("ありがとう。あしたも学校のあと、ごはんつくる")
    assert held == []  # staff hold the conversation: the bot does not answer
    assert any("あしたも学校" in (t["text"] or "") for t in staff.turns(key)["turns"] if t["who"] == "user")
    time.sleep(2.0)
    pushed = texts([c for c in p.calls() if c["kind"] == "push"])
    assert sum("話してくれてありがとう" in t for t in pushed) == 1
    assert any(t.startswith("こども家庭相談課の職員より") for t in pushed)
    assert staff.post(key, "leave").json()["ok"]
    line["fake"].wait_for(lambda calls: any("チャットボットがお返事" in t or "チャットボットが おへんじ" in t
                                            for t in texts([c for c in calls if c["to"] == p.user])))
    assert p.say("また相談してもいいですか")  # the bot answers again

    # They unfollow: staff may still open the case, but nothing more is sent to LINE.
    p.send(unfollow_event(p.user))
    before = len(p.calls())
    assert staff.post(key, "join").json()["ok"]
    assert staff.post(key, "send", text="その後いかがですか。", client_id="c" + "2" * 15).json()["ok"]
    time.sleep(4.0)
    assert len(p.calls()) == before
    staff.post(key, "leave")


def test_only_the_adapter_may_speak_for_a_line_conversation(line):
    url = line["url"]
    body = {"sender": "line-" + "a" * 40, "id": "m12345678", "text": "こんにちは"}
    assert requests.post(f"{url}/chat/send", json=body, timeout=10).status_code == 403
    assert requests.post(f"{url}/chat/send", json=body, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 403
    assert requests.get(f"{url}/chat/updates", params={"sender": body["sender"], "wait": "0"}, timeout=10).status_code == 403
    assert requests.get(f"{url}/chat/line/watched", timeout=10).status_code == 403
    ok = requests.get(f"{url}/chat/line/watched", headers={"Authorization": f"Bearer {RELAY_TOKEN}"}, timeout=10)
    assert ok.status_code == 200 and "conversations" in ok.json()


def test_no_line_user_id_in_any_database_or_log(line):
    p = LinePerson(line)
    p.send(follow_event(p.user, p.token()))
    p.say(STORY)
    p.send(postback_event(p.user, "/affirm", p.token()))
    p.say("なし")
    assert line["store"].handoff_for_conversation(p.conversation)
    tmp: Path = line["tmp"]
    files = [f for f in tmp.rglob("*") if f.is_file() and (f.suffix in (".db", ".log") or "-wal" in f.name or f.name.endswith(".db-shm"))]
    assert any(f.name == "line.db" for f in files) and any(f.name == "handoff.db" for f in files)
    assert any(f.name == "tracker.db" for f in files) and any(f.name == "line.log" for f in files)
    for f in files:
        data = f.read_bytes()
        assert p.user.encode() not in data, f
        assert p.user[1:].encode() not in data, f  # not even without its leading U
    assert p.conversation.encode() not in (line["logs"] / "line.log").read_bytes()  # the adapter logs no conversation id


def test_an_event_accepted_while_the_web_app_is_down_is_answered_after_a_restart(line, tmp_path):
    """Nothing a person wrote is lost: the adapter keeps the event, tells them once, and answers later."""
    from tests.line.conftest import adapter_env
    from tools import stack

    db = str(tmp_path / "line.db")
    fake = line["fake"]
    dead = f"http://127.0.0.1:{stack.free_port()}"
    with stack.line_adapter(adapter_env(db, dead, fake.url), log=line["logs"] / "line-down.log") as adapter:
        p = LinePerson(dict(line, webhook=f"{adapter}/webhooks/line/webhook", db=db))
        event = text_event(p.user, "介護と仕事で倒れそうです", p.token())
        assert p.post([event]).status_code == 200
        fake.wait_for(lambda calls: any(catalog.line_text("unavailable") in t for t in texts([c for c in calls if c["to"] == p.user])))
    # Started again, now with the web app there: the kept event is answered once.
    with stack.line_adapter(adapter_env(db, line["url"], fake.url), log=line["logs"] / "line-down.log") as adapter:
        wait_done(dict(line, db=db), event["webhookEventId"], timeout=90)
    answers = [t for t in texts(p.calls()) if t != catalog.line_text("unavailable")]
    assert answers
    assert _tracker_texts(line, p.conversation).count("介護と仕事で倒れそうです") == 1
