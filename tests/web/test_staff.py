"""The staff console over HTTP, started as `make run` starts it: every security rule."""

import json
import re
import time

import pytest
import requests
import sqlalchemy as sa
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from bot.handoffs import Staff, Store
from bot.stack import web_app

SECRET = "test-secret-key"
PASSWORD = "correct-horse-42"


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("console")
    env = {
        "HANDOFF_DB_URL": f"sqlite:///{tmp}/handoff.db",
        "TRACKER_DB_URL": f"sqlite:///{tmp}/tracker.db",
        "STAFF_SECRET_KEY": SECRET,
        "STAFF_MAX_LOGIN_FAILURES": "5",
    }
    store = Store(env["HANDOFF_DB_URL"])
    store.add_user("shoko1", PASSWORD, "shoko")
    store.add_user("kaigo1", PASSWORD, "kaigo_hoken")
    store.add_user("somu1", PASSWORD, "fukushi_somu")
    shoko_case = store.create_handoff("conv-a", ["business_carer"], "employer", ["shoko", "koreisha_ikiiki"], False, "部下が親の介護")
    child_case = store.create_handoff("conv-b", ["young_carer"], "carer", ["kodomo_katei_soudan"], True, "中2、母の看病")
    # The tracker store's table, as Rasa's SQLTrackerStore writes it.
    tracker = sa.create_engine(env["TRACKER_DB_URL"])
    with tracker.begin() as c:
        c.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, "
                          "intent_name TEXT, action_name TEXT, data TEXT)"))
        for i, (kind, text) in enumerate([("user", "<script>alert('x')</script>部下のことで"), ("bot", "お話をうかがいます")]):
            c.execute(sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES ('conv-a', :k, :t, :d)"),
                      {"k": kind, "t": time.time() + i, "d": json.dumps({"event": kind, "text": text})})
    with web_app(env) as url:
        yield {"url": url, "store": store, "shoko": shoko_case["ref"], "child": child_case["ref"], "env": env}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(console, username, password=PASSWORD) -> requests.Session:
    s = requests.Session()
    token = _csrf(s.get(f"{console['url']}/staff/login").text)
    r = s.post(f"{console['url']}/staff/login", data={"username": username, "password": password, "csrf_token": token},
               allow_redirects=False)
    s.last_status = r.status_code
    return s


def test_wrong_password_is_refused_without_a_session(console):
    s = login(console, "shoko1", "wrong-password")
    assert s.last_status == 401
    assert "kc_staff" not in s.cookies
    assert s.get(f"{console['url']}/staff/", allow_redirects=False).status_code == 302


def test_session_cookie_is_httponly_samesite_and_expires(console):
    s = requests.Session()
    token = _csrf(s.get(f"{console['url']}/staff/login").text)
    r = s.post(f"{console['url']}/staff/login", data={"username": "shoko1", "password": PASSWORD, "csrf_token": token},
               allow_redirects=False)
    cookie = r.headers["Set-Cookie"].lower()
    assert "kc_staff=" in cookie and "httponly" in cookie and "samesite=strict" in cookie and "max-age=" in cookie


def test_login_needs_the_csrf_token(console):
    r = requests.post(f"{console['url']}/staff/login", data={"username": "shoko1", "password": PASSWORD})
    assert r.status_code == 403


def test_expired_session_goes_back_to_login(console):
    class SignedNineHoursAgo(TimestampSigner):
        def get_timestamp(self):
            return int(time.time()) - 9 * 3600

    old = URLSafeTimedSerializer(SECRET, salt="kc-staff-session", signer=SignedNineHoursAgo)
    s = requests.Session()
    s.cookies.set("kc_staff", old.dumps({"u": "shoko1", "c": "x"}), path="/staff")
    r = s.get(f"{console['url']}/staff/", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/login")


def test_forged_session_is_refused(console):
    forged = URLSafeTimedSerializer("another-secret", salt="kc-staff-session").dumps({"u": "somu1", "c": "x"})
    s = requests.Session()
    s.cookies.set("kc_staff", forged, path="/staff")
    assert s.get(f"{console['url']}/staff/", allow_redirects=False).status_code == 302


def test_a_section_sees_its_cases_and_gets_404_for_others(console):
    s = login(console, "shoko1")
    listing = s.get(f"{console['url']}/staff/").text
    assert console["shoko"] in listing and console["child"] not in listing
    assert s.get(f"{console['url']}/staff/h/{console['child']}").status_code == 404
    assert s.get(f"{console['url']}/staff/h/KC-NOSUCH").status_code == 404
    token = _csrf(listing)
    r = s.post(f"{console['url']}/staff/h/{console['child']}/note", data={"text": "x", "csrf_token": token})
    assert r.status_code == 404


def test_the_coordinating_section_sees_every_case_crisis_first(console):
    listing = login(console, "somu1").get(f"{console['url']}/staff/").text
    assert listing.index(console["child"]) < listing.index(console["shoko"])


def test_a_form_without_csrf_token_is_refused(console):
    s = login(console, "shoko1")
    r = s.post(f"{console['url']}/staff/h/{console['shoko']}/status", data={"status": "closed"})
    assert r.status_code == 403
    assert console["store"].get(Staff("t", "shoko"), console["shoko"])["status"] == "new"


def test_script_in_a_user_message_is_shown_as_text(console):
    page = login(console, "shoko1").get(f"{console['url']}/staff/h/{console['shoko']}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;部下のことで" in page
    assert "<script>alert(" not in page
    assert "お話をうかがいます" in page


def test_status_note_transfer_and_audit(console):
    s = login(console, "shoko1")
    ref = console["shoko"]
    token = _csrf(s.get(f"{console['url']}/staff/h/{ref}").text)
    s.post(f"{console['url']}/staff/h/{ref}/status", data={"status": "in_progress", "csrf_token": token})
    s.post(f"{console['url']}/staff/h/{ref}/note", data={"text": "本人に電話済み", "csrf_token": token})
    s.post(f"{console['url']}/staff/h/{ref}/transfer", data={"to_section": "kaigo_hoken", "reason": "介護保険の申請", "csrf_token": token})
    record = console["store"].get(Staff("t", "fukushi_somu"), ref)
    assert record["status"] == "in_progress" and record["destinations"][0] == "kaigo_hoken"
    assert [n["author"] for n in record["notes"]] == ["shoko1", "shoko1"]
    assert record["first_action_at"] is not None
    assert ref in login(console, "kaigo1").get(f"{console['url']}/staff/").text
    actions = [(e["username"], e["action"]) for e in console["store"].audit_log() if e["ref"] == ref]
    assert {("shoko1", "view"), ("shoko1", "status"), ("shoko1", "note"), ("shoko1", "transfer")} <= set(actions)


def test_csv_export_has_a_bom_and_only_visible_rows(console):
    r = login(console, "kaigo1").get(f"{console['url']}/staff/export.csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("受付番号,")
    assert console["child"] not in text


def test_filters(console):
    s = login(console, "somu1")
    assert console["shoko"] not in s.get(f"{console['url']}/staff/?crisis=1").text
    assert console["child"] in s.get(f"{console['url']}/staff/?carer_type=young_carer").text
    assert console["child"] not in s.get(f"{console['url']}/staff/?q=部下").text


def test_outcomes_page_and_csv(console):
    s = login(console, "somu1")
    page = s.get(f"{console['url']}/staff/outcomes").text
    assert 'id="outcomes-data"' in page and "/staff/static/chart.js" in page
    assert "http://" not in page.split("<main>")[1] and "https://" not in page.split("<main>")[1]
    csv_text = s.get(f"{console['url']}/staff/outcomes.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("月,相談件数,つなぎ件数")


def test_login_attempts_are_limited(console):
    for _ in range(5):
        assert login(console, "kaigo1", "bad-password-x").last_status == 401
    assert login(console, "kaigo1", PASSWORD).last_status == 429
    # A second web process on the same database (behind the load balancer, or after a restart) knows.
    with web_app(console["env"]) as other:
        assert login({"url": other}, "kaigo1", PASSWORD).last_status == 429
        assert login({"url": other}, "somu1", PASSWORD).last_status == 429  # and the address is held back too
