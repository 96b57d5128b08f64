"""The fake of the LINE Messaging API (issue 16) answers as LINE documents, without any bot."""

import base64
import hashlib
import hmac
import json
import re
import time
import uuid

import pytest
import requests

from tests.line.fake_line import (
    FakeLine,
    follow_event,
    media_event,
    post_webhook,
    postback_event,
    random_user_id,
    sign,
    sticker_event,
    text_event,
    unfollow_event,
    webhook_body,
)

TOKEN = "channel-access-token"
USER = "U" + "a" * 32


@pytest.fixture
def fake():
    with FakeLine(TOKEN) as f:
        yield f


def call(fake, kind, body, token=TOKEN, headers=None):
    headers = {"Authorization": f"Bearer {token}", **(headers or {})}
    return requests.post(f"{fake.url}/v2/bot/message/{kind}", json=body, headers=headers, timeout=5)


def text(t="こんにちは", **extra):
    return {"type": "text", "text": t, **extra}


def quick(n, label="はい"):
    return {"items": [{"type": "action", "action": {"type": "message", "label": label, "text": "はい"}} for _ in range(n)]}


def test_a_reply_token_is_good_once(fake):
    token = fake.issue_reply_token(USER)
    r = call(fake, "reply", {"replyToken": token, "messages": [text(), text("二つ目", quickReply=None)]})
    assert r.status_code == 200
    sent = r.json()["sentMessages"]
    assert len(sent) == 2 and all(s["id"].isdigit() and s["quoteToken"] for s in sent)
    again = call(fake, "reply", {"replyToken": token, "messages": [text()]})
    assert again.status_code == 400 and again.json() == {"message": "Invalid reply token"}
    [c] = fake.calls()
    assert (c["kind"], c["to"], c["reply_token"], c["retry_key"]) == ("reply", USER, token, None)
    assert fake.texts(to=USER) == ["こんにちは", "二つ目"] and fake.texts(to=random_user_id()) == []
    assert [r["status"] for r in fake.requests] == [200, 400]


def test_an_expired_or_unknown_reply_token_is_refused():
    with FakeLine(TOKEN, reply_ttl=0.2) as fake:
        token = fake.issue_reply_token()
        time.sleep(0.3)
        assert call(fake, "reply", {"replyToken": token, "messages": [text()]}).status_code == 400
        assert call(fake, "reply", {"replyToken": "0" * 32, "messages": [text()]}).status_code == 400
        assert fake.calls() == []


def test_a_push_with_an_accepted_retry_key_is_not_sent_twice(fake):
    key = str(uuid.uuid4())
    first = call(fake, "push", {"to": USER, "messages": [text()]}, headers={"X-Line-Retry-Key": key})
    second = call(fake, "push", {"to": USER, "messages": [text()]}, headers={"X-Line-Retry-Key": key})
    assert first.status_code == 200 and second.status_code == 409
    assert second.json() == {"message": "The retry key is already accepted"}
    assert second.headers["x-line-accepted-request-id"] == first.headers["x-line-request-id"]
    [c] = fake.calls("push")
    assert (c["to"], c["retry_key"], c["messages"]) == (USER, key, [text()])


@pytest.mark.parametrize("messages, prop", [
    ([text()] * 6, "messages"),
    ([], "messages"),
    ([text("あ" * 5001)], "messages[0].text"),
    ([text("")], "messages[0].text"),
    ([text(quickReply=quick(14))], "messages[0].quickReply.items"),
    ([text(quickReply=quick(1, label="あ" * 21))], "messages[0].quickReply.items[0].action.label"),
    ([{"text": "no type"}], "messages[0].type"),
], ids=["6 messages", "no message", "5001 characters", "empty text", "14 quick replies", "21-character label", "no type"])
def test_a_body_past_the_limits_is_refused_and_not_recorded(fake, messages, prop):
    for kind, body in (("push", {"to": USER}), ("reply", {"replyToken": fake.issue_reply_token()})):
        r = call(fake, kind, {**body, "messages": messages})
        assert r.status_code == 400, r.text
        assert r.json()["message"] == "The request body has 1 error(s)"
        assert r.json()["details"][0]["property"] == prop
    assert fake.calls() == []


def test_the_limits_themselves_are_allowed(fake):
    postback = {"type": "action", "action": {"type": "postback", "label": "あ" * 20, "data": "d" * 300, "displayText": "x" * 300}}
    messages = [text("あ" * 5000, quickReply=quick(13, label="あ" * 20))] * 4 + [text(quickReply={"items": [postback]})]
    assert call(fake, "push", {"to": USER, "messages": messages, "notificationDisabled": True}).status_code == 200


def test_a_wrong_bearer_token_is_refused(fake):
    r = call(fake, "push", {"to": USER, "messages": [text()]}, token="wrong")
    assert r.status_code == 401 and r.json()["message"].startswith("Authentication failed")
    assert requests.post(f"{fake.url}/v2/bot/message/push", json={}, timeout=5).status_code == 401
    assert fake.calls() == [] and [r["status"] for r in fake.requests] == [401, 401]


def test_an_injected_failure_then_the_retry_succeeds(fake):
    fake.fail_next(1)
    key = {"X-Line-Retry-Key": str(uuid.uuid4())}
    assert call(fake, "push", {"to": USER, "messages": [text()]}, headers=key).status_code == 500
    assert fake.calls() == []
    assert call(fake, "push", {"to": USER, "messages": [text()]}, headers=key).status_code == 200
    assert len(fake.wait_for(lambda calls: len(calls) == 1, timeout=2)) == 1
    with pytest.raises(AssertionError, match="recorded calls"):
        fake.wait_for(lambda calls: len(calls) == 2, timeout=0.2)
    fake.reset()
    assert fake.calls() == [] and fake.requests == []


def test_sign_is_hmac_sha256_of_the_body_in_base64():
    secret, body = "8c570fa6dd201bb328f1c1eac23a96d8", b'{"destination":"U0","events":[]}'
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    assert sign(secret, body) == expected == "7bzucrfMAvMR2kIyf3o9W4tLB+uY7HzuzEraQd4pkbE="  # also openssl dgst -sha256 -hmac


def test_events_have_the_documented_shape():
    user, reply = random_user_id(), "r" * 32
    assert re.fullmatch(r"U[0-9a-f]{32}", user)
    events = [text_event(user, "頭が痛い", reply), sticker_event(user, reply), postback_event(user, "a=1", reply),
              follow_event(user, reply), unfollow_event(user, redelivery=True, event_id="0" * 26, timestamp_ms=5),
              *(media_event(user, reply, kind) for kind in ("image", "video", "audio", "file", "location"))]
    for e in events:
        assert {"type", "mode", "timestamp", "source", "webhookEventId", "deliveryContext"} <= e.keys()
        assert e["mode"] == "active" and e["source"] == {"type": "user", "userId": user}
        assert re.fullmatch(r"[0-9A-Z]{26}", e["webhookEventId"]) and isinstance(e["timestamp"], int)
        assert ("replyToken" in e) == (e["type"] != "unfollow")
    message = events[0]["message"]
    assert message["type"] == "text" and message["text"] == "頭が痛い" and message["id"].isdigit() and message["quoteToken"]
    assert {"packageId", "stickerId", "stickerResourceType"} <= events[1]["message"].keys()
    assert events[2]["postback"] == {"data": "a=1"} and events[3]["follow"] == {"isUnblocked": False}
    assert events[4]["deliveryContext"] == {"isRedelivery": True} and events[4]["timestamp"] == 5
    image, video, audio, file, location = (e["message"] for e in events[5:])
    assert image["contentProvider"] == {"type": "line"} and "duration" in video and "duration" in audio
    assert {"fileName", "fileSize"} <= file.keys() and {"title", "address", "latitude", "longitude"} <= location.keys()
    body = webhook_body(events[:1])
    assert "頭が痛い".encode() in body and json.loads(body)["events"] == events[:1]


def test_post_webhook_signs_the_body_it_sends(fake):
    """The fake answers 401 to the unauthenticated post; the request that went out is what is checked."""
    sent = post_webhook(fake.url + "/webhook", "secret", [follow_event(USER, "t")]).request
    assert sent.headers["X-Line-Signature"] == sign("secret", sent.body) and sent.headers["Content-Type"] == "application/json"
    assert json.loads(sent.body)["events"][0]["type"] == "follow"
    assert "X-Line-Signature" not in post_webhook(fake.url + "/webhook", "secret", [], signature=None).request.headers
    forged = post_webhook(fake.url + "/webhook", "secret", b"{}", signature="forged").request
    assert forged.headers["X-Line-Signature"] == "forged" and forged.body == b"{}"
