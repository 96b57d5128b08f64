"""Issue 17 in Debian's Chromium: a parent uses the support check in the widget on a phone-sized page by
tapping its buttons, and a member of 障害福祉課 writes a notice and sees its preview in the console, under
the app's Content-Security-Policy without a violation. Screenshots (var/screenshots, copied to
docs/screenshots): support-widget.png, support-notice.png, support-page.png."""

import pytest

from bot.handoff.store import Store
from tools import stack

PASSWORD = "browser-support-pass-1"
SHOTS = stack.ROOT / "var" / "screenshots"
MESSAGE_BOX = "メッセージ（Enterで送信、Shift+Enterで改行）"
pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def world(tmp_path_factory, trained_model):
    tmp = tmp_path_factory.mktemp("support-browser")
    handoff, tracker = f"sqlite:///{tmp}/handoff.db", f"sqlite:///{tmp}/tracker.db"
    store = Store(handoff)
    store.add_user("shogai", PASSWORD, "shogai_fukushi")
    for n in range(3):  # a few people already subscribed, for the figures
        store.subscribe("line", f"line-{n:040d}", ["allowances", "carer_meetups"])
    with stack.running(tracker, model=str(trained_model), extra_env={"HANDOFF_DB_URL": handoff}) as s:
        web_env = {"HANDOFF_DB_URL": handoff, "TRACKER_DB_URL": tracker, "RASA_URL": s.rasa_url, "RASA_AUTH_TOKEN": s.token}
        with stack.web_app(web_env, log=tmp / "web.log") as url:
            yield {"web": url, "store": store}


def _violations(page):
    found = []
    page.on("console", lambda m: found.append(m.text) if "Content Security Policy" in m.text else None)
    return found


def _wait_reply(page, before):
    page.wait_for_function(f"() => document.querySelectorAll('.kc-bot').length > {before}")


def test_a_parent_taps_through_the_check_and_staff_prepare_a_notice(world, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    web = world["web"]
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="ja-JP", is_mobile=True, has_touch=True)
    page = ctx.new_page()
    csp = _violations(page)
    page.goto(f"{web}/demo")
    page.get_by_role("button", name="ケアラー相談チャット").click()
    before = page.locator(".kc-bot").count()
    box = page.get_by_label(MESSAGE_BOX)
    box.fill("息子に知的障害があります。使える手当やサービスを知りたいです")
    box.press("Enter")
    _wait_reply(page, before)
    for choice in ("18歳未満", "療育手帳", "自宅"):
        before = page.locator(".kc-bot").count()
        page.get_by_role("button", name=choice, exact=True).last.click()
        _wait_reply(page, before)
    log = page.locator(".kc-log").inner_text()
    assert "特別児童扶養手当" in log and "くわしくは障害福祉課で確認してください" in log
    assert "もらえます" not in log and "対象です" not in log
    page.screenshot(path=str(SHOTS / "support-widget.png"))
    assert csp == []

    staff_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    staff = staff_ctx.new_page()
    staff_csp = _violations(staff)
    staff.goto(f"{web}/staff/login")
    staff.get_by_label("ユーザー名").fill("shogai")
    staff.get_by_label("パスワード").fill(PASSWORD)
    staff.get_by_role("button", name="ログイン").click()
    staff.wait_for_url(f"{web}/staff/")
    staff.get_by_role("link", name="手当・サービス情報").click()
    assert "確認ツールの利用" in staff.content()
    staff.screenshot(path=str(SHOTS / "support-page.png"), full_page=True)
    staff.get_by_role("link", name="お知らせ配信").click()
    staff.get_by_label("件名").fill("ケアラー交流会（12月）のお知らせ")
    staff.get_by_label("本文").fill("介護をしている方どうしで話せる交流会を開きます。日時と場所は市のホームページをご覧ください。")
    staff.get_by_label("ケアラー交流会", exact=False).check()
    staff.get_by_role("button", name="下書きを保存してプレビュー").click()
    staff.wait_for_selector("#preview-line")
    assert "約 LINE 3 人" in staff.content()
    staff.screenshot(path=str(SHOTS / "support-notice.png"), full_page=True)
    assert staff_csp == []
