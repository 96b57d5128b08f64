"""Personal data kept only as long as it must be, and never written to a log (issue 11), on the real stack."""

import datetime as dt
import json
import os
import re
import stat
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from bot.handoff import retention
from bot.handoff.store import Audit, Delivery, Handoff, LoginFailure, Staff, Store, now
from bot.handoff.transcripts import Transcripts
from bot.settings import Settings
from bot.web.console import jst
from tools import stack

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent
ADMIN = Staff("admin", "fukushi_somu", True)
PHONE, EMAIL = "090-3141-5926", "kc.retention.person@example.jp"


def _age_events(db_url: str, sender: str, days: int) -> None:
    """Move a conversation's events ``days`` into the past (as if it were held then)."""
    with sa.create_engine(db_url).begin() as c:
        c.execute(sa.text("UPDATE events SET timestamp = timestamp - :s WHERE sender_id = :sid"),
                  {"s": days * 86400, "sid": sender})


def _age_handoff(store: Store, ref: str, days: int) -> None:
    with store.session() as s:
        row = s.query(Handoff).filter_by(ref=ref).one()
        row.created_at = now() - dt.timedelta(days=days)
        s.commit()


def _event_count(db_url: str, sender: str) -> int:
    with sa.create_engine(db_url).connect() as c:
        return c.execute(sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :sid"), {"sid": sender}).scalar()


def _handoff_conversation(live_stack, sender: str) -> str:
    live_stack.say(sender, f"認知症の母を介護しています。52歳の会社員です。メールは {EMAIL} です")
    live_stack.say(sender, "はい")
    live_stack.say(sender, PHONE)
    return live_stack.slots(sender)["handoff_ref"]


def test_retention_covers_every_store_and_keeps_what_is_still_needed(live_stack):
    # The action server of live_stack writes where this process's environment says now (it inherits it);
    # Store() would take the settings read once, at the first load(), which a test may have moved since.
    store = Store(os.environ["HANDOFF_DB_URL"])
    db = live_stack.db_url
    said_no, recent = f"no-{uuid.uuid4().hex}", f"recent-{uuid.uuid4().hex}"
    old_case, young_case = f"old-{uuid.uuid4().hex}", f"young-{uuid.uuid4().hex}"
    live_stack.say(said_no, "認知症の父を介護しています。60代で仕事はしていません")
    live_stack.say(said_no, "いいえ")
    live_stack.say(recent, "祖母の介護をしています")
    old_ref, young_ref = _handoff_conversation(live_stack, old_case), _handoff_conversation(live_stack, young_case)
    assert old_ref and young_ref
    assert store.add_note(ADMIN, old_ref, f"母親に電話 {PHONE}")
    _age_events(db, said_no, 40)       # a conversation without a hand-off, silent for 40 days
    _age_events(db, old_case, 400)     # a hand-off past its period
    _age_handoff(store, old_ref, 400)
    _age_events(db, young_case, 40)    # a hand-off within its period: its conversation stays
    with store.session() as s:
        s.add_all([Delivery(sender="s-old-00000", msg_id="m-old-0000", answer="[]", at=now() - dt.timedelta(hours=30)),
                   Delivery(sender="s-new-00000", msg_id="m-new-0000", answer="[]", at=now()),
                   LoginFailure(key="ip:203.0.113.9", at=time.time() - 3600)])
        s.commit()
    months_before = Transcripts(db, archived=store.archived_counts).conversations_by_month()

    summary = retention.run(store, Transcripts(db, archived=store.archived_counts), retention.Periods())

    assert _event_count(db, said_no) == 0 and _event_count(db, old_case) == 0
    assert _event_count(db, recent) > 0 and _event_count(db, young_case) > 0
    assert store.get(ADMIN, old_ref) is None and store.get(ADMIN, young_ref) is not None
    with store.session() as s:
        assert not s.query(Audit).filter_by(ref=old_ref).count()
        assert not s.query(Audit).filter(Audit.detail.like("%3141%")).count()  # no note text in the audit log
        assert {d.msg_id for d in s.query(Delivery).filter(Delivery.sender.like("s-%-00000"))} == {"m-new-0000"}
        assert not s.query(LoginFailure).filter_by(key="ip:203.0.113.9").count()
    assert summary["handoffs"] >= 1 and summary["conversations"] >= 1 and summary["events"] > 0
    assert store.last_retention()["handoffs"] == summary["handoffs"]
    # The outcomes page still counts the deleted conversations in their month.
    months_after = Transcripts(db, archived=store.archived_counts).conversations_by_month()
    assert sum(months_after.values()) >= sum(months_before.values()) - 1  # only the hand-off's conversation left


def test_the_periods_come_from_the_settings():
    settings = Settings.from_env({"HANDOFF_RETENTION_DAYS": "90", "CONVERSATION_RETENTION_DAYS": "7",
                                  "DELIVERY_RETENTION_HOURS": "2", "STAFF_LOCKOUT_SECONDS": "60"})
    assert retention.Periods.from_settings(settings) == retention.Periods(90, 7, 2, 60)
    assert retention.Periods.from_settings(Settings()) == retention.Periods()  # the same defaults
    with pytest.raises(ValueError, match="at least 1"):
        retention.Periods.from_settings(Settings.from_env({"HANDOFF_RETENTION_DAYS": "0"}))


def test_retention_command_and_its_settings(live_stack):
    env = dict(os.environ, TRACKER_DB_URL=live_stack.db_url)
    done = subprocess.run([sys.executable, "-m", "bot.handoff.staff", "retention", "--conversation-days", "7"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "deleted:" in done.stdout and "events" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "bot.handoff.staff", "retention", "--days", "0"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2


def test_the_web_app_runs_retention_by_itself(tmp_path):
    env = {"HANDOFF_DB_URL": f"sqlite:///{tmp_path}/h.db", "TRACKER_DB_URL": f"sqlite:///{tmp_path}/t.db",
           "RETENTION_INTERVAL_SECONDS": "1"}
    store = Store(env["HANDOFF_DB_URL"])
    store.add_user("admin1", "correct-horse-42", "fukushi_somu", True)
    with stack.web_app(env) as url:
        deadline = time.monotonic() + 30
        while store.last_retention() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert store.last_retention() is not None
        # The console's audit page says when it last ran.
        session = requests.Session()
        token = re.search(r'name="csrf_token" value="([^"]+)"', session.get(f"{url}/staff/login").text).group(1)
        session.post(f"{url}/staff/login", data={"username": "admin1", "password": "correct-horse-42", "csrf_token": token})
        page = session.get(f"{url}/staff/audit").text
        assert "最後に実行: " + jst(store.last_retention()["at"]) in page  # in Japan time (issue 15)


def test_databases_are_private_to_their_owner(tmp_path, live_stack):
    folder = tmp_path / "db"
    Store(f"sqlite:///{folder}/handoff.db")
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder / "handoff.db").st_mode) == 0o600
    # An old file readable by everyone is corrected at start.
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    (loose / "handoff.db").touch(mode=0o644)
    os.chmod(loose / "handoff.db", 0o644)
    Store(f"sqlite:///{loose}/handoff.db")
    assert stat.S_IMODE(os.stat(loose / "handoff.db").st_mode) == 0o600
    # The tracker store that Rasa created.
    tracker = Path(live_stack.db_url[len("sqlite:///"):])
    assert stat.S_IMODE(os.stat(tracker).st_mode) == 0o600


def test_no_log_holds_what_a_person_wrote_or_a_contact(live_stack, tmp_path):
    web_log = tmp_path / "web.log"
    env = {"RASA_URL": live_stack.rasa_url, "TRACKER_DB_URL": live_stack.db_url}
    sender = f"log-{uuid.uuid4().hex[:20]}"
    with stack.web_app(env, log=web_log) as url:
        for text in (f"認知症の母を介護しています。52歳の会社員です。連絡は {EMAIL} か {PHONE} へ", "はい", PHONE, "{bad json"):
            req = urllib.request.Request(f"{url}/chat/send", headers={"Content-Type": "application/json"},
                                         data=json.dumps({"sender": sender, "id": uuid.uuid4().hex, "text": text}).encode())
            with urllib.request.urlopen(req, timeout=60) as r:
                assert r.status == 200
    assert live_stack.slots(sender)["handoff_ref"]
    logs = [web_log, *Path(live_stack.log_dir).glob("*.log")]
    text = "\n".join(p.read_text(errors="replace") for p in logs)
    assert len(logs) >= 3 and text
    for secret in ("3141", "5926", EMAIL, "kc.retention", "認知症の母", "{bad json"):
        assert secret not in text, secret
