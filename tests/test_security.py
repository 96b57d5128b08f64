"""The internal servers answer only who they must (issue 11), on the real Rasa + action server."""

import json
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
import zlib
from pathlib import Path

import pytest

from bot.handoff.store import Handoff, Staff, Store
from tools import stack

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent
ADMIN = Staff("admin", "fukushi_somu", True)


def _post(url, body: bytes, headers=None):
    """POST raw bytes; return (status, parsed JSON or text)."""
    req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw.decode("utf-8"))
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def _action_call(sender, slots, text, intent="affirm"):
    """An action call as Rasa sends it: a tracker whose last turn is ``text``."""
    return {
        "next_action": "action_assess_carer",
        "sender_id": sender,
        "version": "3.6.21",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.99}},
            "events": [{"event": "action", "name": "action_session_start"},
                       {"event": "user", "text": "中2。母が病気で毎日ごはんを作ってる", "parse_data": {}},
                       {"event": "user", "text": text, "parse_data": {}}],
            "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen",
        },
    }


def _handoff_count(store: Store) -> int:
    with store.session() as s:
        return s.query(Handoff).count()


def test_a_forged_action_call_is_refused_and_writes_nothing(live_stack):
    store = Store()
    before = _handoff_count(store)
    call = json.dumps(_action_call(f"forged-{uuid.uuid4().hex}", {"awaiting": "consent", "consent": "asked"}, "はい")).encode()
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Bearer {live_stack.actions_token}x"},
                    {"Authorization": live_stack.actions_token}):
        status, body = _post(f"{live_stack.actions_url}/webhook", call, headers)
        assert status == 401, (headers, status, body)
        assert "中2" not in json.dumps(body, ensure_ascii=False)
    assert _handoff_count(store) == before  # no crisis hand-off at the top of any list


def test_the_action_server_refuses_compressed_malformed_and_huge_bodies_without_echoing(live_stack):
    auth = {"Authorization": f"Bearer {live_stack.actions_token}"}
    secret = "ひみつ090-1234-5678"
    bomb = zlib.compress(b"{" + b" " * 50_000_000 + b"}", 9)  # 50 MB once inflated
    status, _ = _post(f"{live_stack.actions_url}/webhook", bomb, {**auth, "Content-Encoding": "deflate"})
    assert status == 415
    for raw in (b"[1, 2]", b"null", json.dumps({"next_action": "action_assess_carer", "tracker": secret}).encode(), b"\xff"):
        status, body = _post(f"{live_stack.actions_url}/webhook", raw, auth)
        assert status == 400, (raw, status)
        assert secret not in json.dumps(body, ensure_ascii=False) and "request_body" not in json.dumps(body)
    # A body over the bound is refused from its announced length, before it is read.
    host, port = live_stack.actions_url.rsplit("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"POST /webhook HTTP/1.1\r\nHost: x\r\nAuthorization: {auth['Authorization']}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {9 * 1024 * 1024}\r\n\r\n".encode())
        assert raw.recv(100).split(b" ")[1] == b"413"


def test_a_foreign_reference_changes_nothing_and_gets_a_gentle_reply(live_stack):
    store = Store()
    victim = store.create_handoff(f"victim-{uuid.uuid4().hex}", ["young_carer"], "carer", ["kodomo_katei_soudan"], True, "中2")
    store.set_contact(victim["ref"], victim["conversation_id"], "0467000000")
    slots = {"awaiting": "contact", "consent": "yes", "handoff_ref": victim["ref"], "speech_style": "easy"}
    call = json.dumps(_action_call(f"attacker-{uuid.uuid4().hex}", slots, "090-9999-8888", "inform")).encode()
    status, body = _post(f"{live_stack.actions_url}/webhook", call, {"Authorization": f"Bearer {live_stack.actions_token}"})
    assert status == 200, body
    responses = [r.get("response") for r in body["responses"]]
    assert responses[0] == "utter_handoff_unknown"
    assert "utter_contact_saved" not in responses
    after = store.get(ADMIN, victim["ref"])
    assert after["contact"] == "0467000000" and after["destinations"] == ["kodomo_katei_soudan"]
    events = {e["name"]: e["value"] for e in body["events"] if e.get("event") == "slot"}
    assert events.get("handoff_ref") == ""  # the foreign reference is dropped from the conversation


def test_a_later_contact_change_by_the_same_conversation_is_audited():
    store = Store()
    record = store.create_handoff(f"own-{uuid.uuid4().hex}", ["carer"], "carer", ["fukushi_somu"], False, "")
    assert store.set_contact(record["ref"], record["conversation_id"], "0467111111")
    assert not [a for a in store.audit_log() if a["ref"] == record["ref"]]
    assert store.set_contact(record["ref"], record["conversation_id"], "0467222222")
    entries = [a for a in store.audit_log() if a["ref"] == record["ref"]]
    assert [a["action"] for a in entries] == ["contact_changed"]
    assert "0467" not in entries[0]["detail"]
    assert not store.set_contact(record["ref"], "someone-else", "0467333333")
    assert store.get(ADMIN, record["ref"])["contact"] == "0467222222"


def _listening(port: int):
    """Return the local addresses that listen on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(name) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                addr, p = local.split(":")
                if state == "0A" and int(p, 16) == port:
                    found.add(addr)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1


def test_rasa_and_the_action_server_listen_on_loopback_only(live_stack):
    for url in (live_stack.rasa_url, live_stack.actions_url):
        addresses = _listening(int(url.rsplit(":", 1)[1]))
        assert addresses and addresses <= LOOPBACK, (url, addresses)


def test_the_web_app_listens_on_loopback_by_default(tmp_path):
    # A real server on purpose: the listening socket is what is checked (tests/web build the app in process).
    with stack.web_app({"HANDOFF_DB_URL": f"sqlite:///{tmp_path}/h.db", "TRACKER_DB_URL": f"sqlite:///{tmp_path}/t.db"}) as url:
        addresses = _listening(int(url.rsplit(":", 1)[1]))
        assert addresses and addresses <= LOOPBACK, addresses


def test_no_token_is_on_any_command_line(live_stack):
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        assert live_stack.token not in cmdline, pid
        assert live_stack.actions_token not in cmdline, pid


@pytest.mark.parametrize("raw", [
    b"[]", b"null", b'"a string"', b"12", b"{}", b"not json", b"\xff\xfe", b'{"sender": 1, "message": "x"}',
    b'{"sender": "a", "message": ["x"]}', b'{"sender": "a"}', b'{"message": "x"}', b'{"sender": "", "message": "x"}',
    b'{"sender": "a", "message": "x", "metadata": [1]}', b'{"sender": "a", "message": "x", "input_channel": 3}',
    json.dumps({"sender": "a", "message": "x" * 70_000}).encode(),
])
def test_rest_channel_answers_any_malformed_body_with_400(live_stack, raw):
    status, body = _post(f"{live_stack.rasa_url}/webhooks/rest/webhook", raw)
    assert status == 400, (raw[:60], status, body)
    assert isinstance(body, dict) and body.get("error")
    assert "x" * 100 not in body["error"]


def test_rasa_sends_no_cors_headers(live_stack):
    req = urllib.request.Request(f"{live_stack.rasa_url}/webhooks/rest/webhook",
                                 data=json.dumps({"sender": f"c-{uuid.uuid4().hex}", "message": "こんにちは"}).encode(),
                                 headers={"Content-Type": "application/json", "Origin": "https://evil.example"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
        assert "Access-Control-Allow-Origin" not in r.headers


@pytest.mark.parametrize("module, env", [
    ("bot.rasa.action_server", {"ACTION_SERVER_TOKEN": "CHANGE_ME"}),
    ("bot.rasa.action_server", {"ACTION_SERVER_TOKEN": "short-but-random-a8f3"}),
    ("bot.web", {"TRACKER_READ_DB_URL": "postgresql://kc_console:CHANGE_ME@db.internal:5432/tracker"}),
    ("bot.web", {"RASA_AUTH_TOKEN": "CHANGE_ME"}),
    ("bot.rasa.action_server", {"HANDOFF_DB_URL": "postgresql://kc_handoff:short@db.internal:5432/handoff"}),
    ("bot.rasa.server", {"RASA_AUTH_TOKEN": "0" * 64, "ACTION_SERVER_TOKEN": "f" * 8 + "a1b2" * 10}),
])
def test_production_refuses_weak_secrets(module, env, tmp_path):
    full = dict(os.environ, KAMAKURA_PROFILE="production", HANDOFF_DB_URL=f"sqlite:///{tmp_path}/h.db",
                RASA_AUTH_TOKEN=os.urandom(32).hex(),
                ACTION_SERVER_TOKEN=os.urandom(32).hex())
    full.update(env)
    args = [sys.executable, "-m", module] + (["run", "--enable-api"] if module == "bot.rasa.server" else [])
    done = subprocess.run(args, cwd=ROOT, env=full, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-500:]
    assert "refusing to start" in done.stderr
