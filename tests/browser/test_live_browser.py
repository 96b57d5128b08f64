"""Issue 15 in Debian's Chromium, two browser contexts: a child in the widget on a phone-sized page and a
member of staff in the console. Join, messages both ways, hand back, the bot answers again; a reload of
the child's tab shows nothing twice; under the app's Content-Security-Policy without a violation.
Screenshots: docs/screenshots/live-list.png, live-console.png, live-widget.png (copied from var/screenshots)."""

import contextlib

import pytest

from bot.handoff.store import Store
from tools import stack

PASSWORD = "browser-live-pass-1"
SHOTS = stack.ROOT / "var" / "screenshots"
MESSAGE_BOX = "メッセージ（Enterで送信、Shift+Enterで改行）"
pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def world(tmp_path_factory, trained_model):
    tmp = tmp_path_factory.mktemp("live-browser")
    handoff, tracker = f"sqlite:///{tmp}/handoff.db", f"sqlite:///{tmp}/tracker.db"
    store = Store(handoff)
    store.add_user("kodomo", PASSWORD, "kodomo_katei_soudan")
    store.add_user("shoko", PASSWORD, "shoko")
    env = {"HANDOFF_DB_URL": handoff, "CATALOG_PATH": str(stack.catalog_with_live_hours(tmp, away_minutes=5))}
    with stack.running(tracker, model=str(trained_model), extra_env=env) as s:
        web_env = {**env, "TRACKER_DB_URL": tracker, "RASA_URL": s.rasa_url, "RASA_AUTH_TOKEN": s.token}
        port = stack.free_port()
        web = contextlib.ExitStack()
        url = web.enter_context(stack.web_app(web_env, log=tmp / "web.log", port=port))

        def restart() -> None:
            """Stop the web app and start it again on the same port and databases."""
            nonlocal web
            web.close()
            web = contextlib.ExitStack()
            web.enter_context(stack.web_app(web_env, log=tmp / "web-restarted.log", port=port))

        try:
            yield {"web": url, "store": store, "restart": restart}
        finally:
            web.close()


def _violations(page):
    found = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def _login(browser, web, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page = context.new_page()
    page.goto(f"{web}/staff/login")
    page.get_by_label("ユーザー名").fill(username)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="ログイン").click()
    page.wait_for_url(f"{web}/staff/")
    return page


def _child_says(page, text, replies_before=None):
    before = page.locator(".kc-bot").count() if replies_before is None else replies_before
    box = page.get_by_label(MESSAGE_BOX)
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('.kc-bot').length > {before}")


def test_a_child_and_a_member_of_staff_talk_live(world, browser):
    web = world["web"]
    child_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP", is_mobile=True, has_touch=True)
    child = child_ctx.new_page()
    child_csp = _violations(child)
    child.goto(f"{web}/demo")
    child.get_by_role("button", name="ケアラー相談チャット").click()
    _child_says(child, "小6です。パパがびょうきで、まいにち いもうとを ほいくえんに つれていってる")
    _child_says(child, "うん、つたえて")
    assert "チャットに はいって おへんじ" in child.locator(".kc-log").inner_text()

    staff = _login(browser, web, "kodomo")
    staff_csp = _violations(staff)
    staff.goto(f"{web}/staff/live")
    link = staff.locator("#live-table a").filter(has_text="つたえて")
    link.first.wait_for(timeout=15000)
    staff.screenshot(path=str(SHOTS / "live-list.png"), full_page=True)
    link.first.click()
    staff.get_by_role("button", name="参加する").click()
    staff.get_by_role("button", name="送る").wait_for()

    # The child sees that a member of こども家庭相談課 joined, in words for a child, with no name.
    child.locator(".kc-live-notice").first.wait_for(timeout=30000)
    assert "こども家庭相談課" in child.locator(".kc-live-notice").first.inner_text()

    # Staff write (a quick phrase in easy Japanese); the child sees it once, labelled as staff.
    staff.get_by_role("button", name="あいさつ").click()
    assert "やくしょの ひと" in staff.get_by_label("メッセージ（やさしい日本語で）").input_value()
    staff.get_by_role("button", name="送る").click()
    child.locator(".kc-staff").first.wait_for(timeout=30000)
    assert "こども家庭相談課の職員" in child.locator(".kc-staff").first.inner_text()

    # The child answers: the console shows it at once, and the bot does not answer it.
    bots = child.locator(".kc-bot").count()
    box = child.get_by_label(MESSAGE_BOX)
    box.fill("ありがとう。すこし はなしたい")
    box.press("Enter")
    staff.locator("#turns .turn.user").filter(has_text="すこし はなしたい").wait_for(timeout=15000)
    child.wait_for_timeout(1500)
    assert child.locator(".kc-bot").count() == bots
    staff.screenshot(path=str(SHOTS / "live-console.png"), full_page=True)
    child.screenshot(path=str(SHOTS / "live-widget.png"))

    # A reload of the child's tab: every message still there, none twice.
    child.reload()
    child.locator(".kc-staff").first.wait_for()
    child.wait_for_timeout(2500)  # the widget looked for updates again after the reload
    assert child.locator(".kc-staff").count() == 1

    # A restart of the web app: the widget's waiting request fails, it asks again, and the next staff
    # message arrives once, after the first; the staff page reconnects by itself.
    world["restart"]()
    staff.get_by_label("メッセージ（やさしい日本語で）").fill("まってるね。いつでも かいてね。")
    staff.get_by_role("button", name="送る").click()
    child.locator(".kc-staff").nth(1).wait_for(timeout=30000)
    child.wait_for_timeout(2500)
    texts = child.locator(".kc-staff").all_inner_texts()
    assert len(texts) == 2 and "やくしょ" in texts[0] and "まってるね" in texts[1]

    # Back to the bot: a notice, then the bot answers again.
    staff.get_by_role("button", name="ボットに戻す").click()
    child.locator(".kc-live-notice").filter(has_text="チャットボット").wait_for(timeout=30000)
    _child_says(child, "また きても いい？")

    # Another section does not see the conversation, and its page is the console's 404.
    other = _login(browser, web, "shoko")
    other.goto(f"{web}/staff/live")
    other.wait_for_timeout(2500)
    assert other.locator("#live-table a").count() == 0
    response = other.goto(staff.url)
    assert response.status == 404
    assert child_csp == [] and staff_csp == []
