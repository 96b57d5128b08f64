"""End to end in Debian's Chromium: a consented hand-off over REST, then the staff console.

Also: logout really ends the session, and the console and the widget run under the app's
Content-Security-Policy without a single violation.
"""

import os
import re
import uuid
from urllib.parse import urlparse

import pytest

from bot.handoff.store import Store
from tools import stack

PASSWORD = "browser-test-pass-1"
SHOTS = stack.ROOT / "var" / "screenshots"

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def world(tmp_path_factory, trained_model):
    tmp = tmp_path_factory.mktemp("browser")
    handoff_url, tracker_url = f"sqlite:///{tmp}/handoff.db", f"sqlite:///{tmp}/tracker.db"
    old = os.environ.get("HANDOFF_DB_URL")
    os.environ["HANDOFF_DB_URL"] = handoff_url  # the action server started below writes here
    store = Store(handoff_url)
    store.add_user("ikiiki", PASSWORD, "koreisha_ikiiki")
    store.add_user("shogai", PASSWORD, "shogai_fukushi")
    store.add_user("kanri", PASSWORD, "fukushi_somu", is_admin=True)
    try:
        with stack.running(tracker_url, model=str(trained_model)) as s:
            # The widget on /demo talks to this Rasa through the web app's relay.
            with stack.web_app({"HANDOFF_DB_URL": handoff_url, "TRACKER_DB_URL": tracker_url, "RASA_URL": s.rasa_url}) as web:
                yield {"stack": s, "web": web, "store": store}
    finally:
        if old is None:
            os.environ.pop("HANDOFF_DB_URL", None)
        else:
            os.environ["HANDOFF_DB_URL"] = old


def _login(browser, web, username, context=None):
    page = (context or browser).new_page(**({} if context else {"viewport": {"width": 1280, "height": 900}, "locale": "ja-JP"}))
    page.goto(f"{web}/staff/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{web}/staff/")
    return page


def test_consented_handoff_reaches_the_section_and_no_one_else(world, browser, tmp_path):
    sender = f"browser-{uuid.uuid4().hex[:8]}"
    s = world["stack"]
    first = " ".join(m.get("text", "") for m in s.say(sender, "認知症の母を介護しています。52歳の会社員で、仕事との両立が限界です"))
    assert "高齢者いきいき課" in first and "お伝えしてもよいでしょうか" in first
    done = " ".join(m.get("text", "") for m in s.say(sender, "はい"))
    ref = re.search(r"KC-[0-9A-Z]{6}", done).group(0)
    assert "受付番号" in done
    s.say(sender, "なし")

    page = _login(browser, world["web"], "ikiiki")
    assert page.get_by_role("link", name=ref).is_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "console-list.png"), full_page=True)
    page.get_by_role("link", name=ref).click()
    log = page.get_by_role("log", name="会話の記録")
    assert "認知症の母を介護しています" in log.inner_text()
    assert "受付番号" in log.inner_text()

    page.get_by_label("メモを追加").fill("ご本人に折り返し予定")
    page.get_by_role("button", name="メモを保存").click()
    assert page.get_by_text("ご本人に折り返し予定").is_visible()
    page.get_by_label("新しい状態").select_option("in_progress")
    page.get_by_role("button", name="状態を変更").click()
    assert page.get_by_role("heading", name="状態: 対応中").is_visible()
    page.screenshot(path=str(SHOTS / "console-transcript.png"), full_page=True)

    page.goto(f"{world['web']}/staff/")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSVで出力").click()
    csv_path = tmp_path / "export.csv"
    download.value.save_as(str(csv_path))
    content = csv_path.read_bytes()
    assert content.startswith(b"\xef\xbb\xbf") and ref in content.decode("utf-8-sig")
    assert "対応中" in content.decode("utf-8-sig")

    other = _login(browser, world["web"], "shogai")
    assert ref not in other.content()
    response = other.goto(f"{world['web']}/staff/h/{ref}")
    assert response.status == 404

    record = world["store"].handoff_for_conversation(sender)
    assert record["ref"] == ref and record["status"] == "in_progress" and record["contact"] is None


def test_logout_ends_the_session_even_for_a_saved_copy_of_the_cookie(world, browser):
    context = browser.new_context(locale="ja-JP")
    page = _login(browser, world["web"], "ikiiki", context)
    saved = [c for c in context.cookies() if c["name"] == "kc_staff"]
    assert saved and saved[0]["path"] == "/staff" and saved[0]["httpOnly"] and saved[0]["sameSite"] == "Strict"

    page.get_by_role("button", name="ログアウト").click()
    page.wait_for_url(f"{world['web']}/staff/login")
    assert [c for c in context.cookies() if c["name"] == "kc_staff"] == []  # the browser really dropped it
    page.goto(f"{world['web']}/staff/")
    assert page.url == f"{world['web']}/staff/login"

    # The old cookie, set again in a fresh browser, is refused by the server.
    thief = browser.new_context(locale="ja-JP")
    thief.add_cookies(saved)
    stolen = thief.new_page()
    stolen.goto(f"{world['web']}/staff/")
    assert stolen.url == f"{world['web']}/staff/login"
    assert stolen.get_by_role("heading", name="職員ログイン").is_visible()
    thief.close()
    context.close()


def _csp_watched_context(browser, violations, documents):
    """A browser context that records every Content-Security-Policy violation and every page it loads."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    context.on("response", lambda r: documents.append(r) if r.request.resource_type == "document" else None)
    context.expose_function("__kcCspViolation", lambda text: violations.append(text))
    context.add_init_script("""document.addEventListener("securitypolicyviolation", function (e) {
        window.__kcCspViolation(location.pathname + ": " + e.violatedDirective + " " + e.blockedURI);
    });""")
    context.on("console", lambda m: violations.append(f"console: {m.text}") if "Content Security Policy" in m.text else None)
    return context


def test_console_and_widget_run_under_the_csp_without_violations(world, browser):
    web, violations, documents = world["web"], [], []
    ref = world["store"].create_handoff("csp-conv", ["carer"], "carer", ["koreisha_ikiiki"], True, "母の介護")["ref"]
    context = _csp_watched_context(browser, violations, documents)
    page = _login(browser, web, "kanri", context)
    # The console's styles are a file of the app: they apply.
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(245, 247, 250)"
    for path in (f"/staff/h/{ref}", "/staff/audit", "/staff/outcomes"):
        assert page.goto(f"{web}{path}").status == 200
    # Chart.js, a file of the app, drew the charts.
    assert page.evaluate("typeof Chart !== 'undefined' && !!Chart.getChart(document.getElementById('by-month'))")

    page.goto(f"{web}/demo")
    assert page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(0, 90, 156)"
    page.get_by_role("button", name="ケアラー相談チャット").click()
    assert page.evaluate("getComputedStyle(document.querySelector('.kc-panel')).display") == "flex"  # widget.css applies
    box = page.get_by_label("メッセージ（Enterで送信、Shift+Enterで改行）")
    box.fill("こんにちは")
    box.press("Enter")
    # Sent through the relay (a fetch to /chat/send, allowed by connect-src 'self'), no longer marked 未送信.
    # A function, not an expression string: Playwright evaluates a string with eval, which this CSP refuses.
    page.wait_for_function("() => document.querySelectorAll('.kc-user').length === 1 && !document.querySelector('.kc-pending')",
                           timeout=30000)
    page.get_by_role("button", name="会話を消して閉じる").click()
    page.wait_for_url(f"{web}/neutral")
    page.wait_for_load_state()
    assert violations == []
    # Every page above was served under the strict policy: no inline script or style allowed.
    policies = {urlparse(r.url).path: r.headers.get("content-security-policy", "") for r in documents}
    assert {"/staff/login", "/staff/", f"/staff/h/{ref}", "/staff/audit", "/staff/outcomes", "/demo", "/neutral"} <= set(policies)
    assert all("script-src 'self'" in csp and "style-src 'self'" in csp and "unsafe-inline" not in csp
               for csp in policies.values()), policies
    # The watch itself works: an inline style added now is refused and recorded.
    page.evaluate("() => { const s = document.createElement('style'); s.textContent = 'body{color:red}'; document.head.appendChild(s); }")
    page.wait_for_timeout(500)
    assert any("style-src" in v for v in violations), violations
    context.close()
