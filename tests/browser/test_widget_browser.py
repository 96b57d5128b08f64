"""The chat widget in Debian's Chromium, against the real web app and the real Rasa stack."""

import os
import time

import pytest
import requests

from tools import stack

SHOTS = stack.ROOT / "var" / "screenshots"
AXE = stack.ROOT / "node_modules" / "axe-core" / "axe.min.js"
pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def world(tmp_path_factory, trained_model):
    tmp = tmp_path_factory.mktemp("widget")
    tracker_url = f"sqlite:///{tmp}/tracker.db"
    rasa_port = stack.free_port()
    env = {"HANDOFF_DB_URL": f"sqlite:///{tmp}/handoff.db", "TRACKER_DB_URL": tracker_url,
           "RASA_URL": f"http://127.0.0.1:{rasa_port}"}
    os.environ["HANDOFF_DB_URL"] = env["HANDOFF_DB_URL"]
    with stack.web_app(env) as url:
        world = {"web": url, "tracker_url": tracker_url, "rasa_port": rasa_port, "model": str(trained_model)}
        with stack.running(tracker_url, model=str(trained_model), rasa_port=rasa_port) as s:
            world["stack"] = s
            yield world


def _page(browser, world, width=1280, height=860, offline_after=None):
    page = browser.new_context(viewport={"width": width, "height": height}, locale="ja-JP").new_page()
    if offline_after is not None:
        # The same demo page with a shorter outage notice, served from the app's own origin.
        html = requests.get(f"{world['web']}/demo").text.replace(
            '<script src="/widget.js" defer>', f'<script src="/widget.js" data-offline-after="{offline_after}" defer>')
        page.route(f"{world['web']}/demo-fast", lambda route: route.fulfill(status=200, content_type="text/html", body=html))
        page.goto(f"{world['web']}/demo-fast")
    else:
        page.goto(f"{world['web']}/demo")
    return page


def _open(page):
    page.get_by_role("button", name="ケアラー相談チャット").click()
    return page.get_by_label("メッセージ（Enterで送信、Shift+Enterで改行）")


def _bot_count(page):
    return page.locator(".kc-bot").count()


def _send(page, text):
    before = _bot_count(page)
    box = page.get_by_label("メッセージ（Enterで送信、Shift+Enterで改行）")
    box.fill(text)
    box.press("Enter")
    # Functions, not expression strings: Playwright runs a string with eval, which the app's CSP refuses.
    page.wait_for_function(f"() => document.querySelectorAll('.kc-bot').length > {before}")
    page.wait_for_function("() => document.querySelector('.kc-typing').textContent === ''")


PERSONAS = [
    # (file, what the person writes, a number that must be shown, a number that must not be shown)
    ("widget-child.png", "しょうがく5ねんです。ママが びょうきで、まいにち おとうとの ごはんを つくってる", None, None),
    ("widget-adult-danger.png", "52歳の会社員です。母の介護がもう限界で、今夜で全部終わりにしたいと思っています", "0570-783-556", "0120-0-78310"),
    ("widget-employer.png", "従業員30人の工務店の社長です。社員が親の介護で休みがちで、会社として何ができますか", None, None),
]


@pytest.mark.parametrize("shot, text, shown, not_shown", PERSONAS, ids=[p[0] for p in PERSONAS])
def test_three_people_are_answered_each_in_their_own_words(world, browser, shot, text, shown, not_shown):
    """A 小学生 gets やさしい日本語, an adult in danger the lines for adults, an employer polite Japanese
    (issue 14); the screenshots are docs/screenshots/widget-*.png."""
    page = _page(browser, world, width=390, height=844)
    _open(page)
    _send(page, text)
    said = "\n".join(page.locator(".kc-bot").all_inner_texts())
    easy = "よ。" in said or "ね。" in said or "だいじょうぶ" in said
    if shot == "widget-child.png":
        assert easy and "いただけますか" not in said, said
    else:
        assert "いただけ" in said or "ください" in said, said  # polite, not the children's register
    if shown:
        assert shown in said and not_shown not in said, said
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / shot))


def test_send_receive_and_the_first_message_says_how_to_erase(world, browser):
    page = _page(browser, world)
    _open(page)
    log = page.get_by_role("log", name="会話")
    assert "会話を消して閉じる" in log.inner_text()
    _send(page, "こんにちは")
    assert "ケアラー相談チャット" in page.locator(".kc-bot").last.inner_text()
    assert page.locator(".kc-user").last.inner_text().endswith("こんにちは")
    assert page.context.cookies() == []


def test_ime_enter_does_not_send_and_shift_enter_is_a_new_line(world, browser):
    page = _page(browser, world)
    box = _open(page)
    box.click()
    page.keyboard.insert_text("かいご")
    box.dispatch_event("compositionstart")
    page.evaluate("""() => document.getElementById('kc-input').dispatchEvent(
        new KeyboardEvent('keydown', {key: 'Enter', code: 'Enter', keyCode: 229, isComposing: true, bubbles: true}))""")
    box.dispatch_event("compositionend")
    time.sleep(0.3)
    assert page.locator(".kc-user").count() == 0 and box.input_value() == "かいご"
    box.press("Shift+Enter")
    page.keyboard.insert_text("つかれた")
    assert box.input_value() == "かいご\nつかれた" and page.locator(".kc-user").count() == 0


def test_quick_reply_reload_keeps_history_and_quick_exit_clears_it(world, browser):
    page = _page(browser, world)
    _open(page)
    _send(page, "認知症の父を介護しています。55歳で、パートで働いています")
    yes = page.get_by_role("group", name="返事の候補").get_by_role("button", name="はい、伝えてください")
    before = _bot_count(page)
    yes.click()
    page.wait_for_function(f"() => document.querySelectorAll('.kc-bot').length > {before}")
    assert "受付番号" in page.get_by_role("log", name="会話").inner_text()
    assert page.locator(".kc-user").last.inner_text().endswith("はい、伝えてください")

    page.reload()
    assert "受付番号" in page.get_by_role("log", name="会話").inner_text()  # sessionStorage, this tab only

    page.get_by_role("button", name="会話を消して閉じる").click()
    page.wait_for_url(f"{world['web']}/neutral")
    page.goto(f"{world['web']}/demo")
    _open(page)
    assert "受付番号" not in page.get_by_role("log", name="会話").inner_text()
    assert page.evaluate("sessionStorage.getItem('kc-chat-v1')") is not None  # a new, empty conversation
    assert page.locator(".kc-user").count() == 0


def test_a_message_typed_during_an_outage_is_delivered_once_after(world, browser):
    page = _page(browser, world, offline_after=2)
    _open(page)
    _send(page, "こんにちは")
    sender = page.evaluate("JSON.parse(sessionStorage.getItem('kc-chat-v1')).sender")
    s = world["stack"]
    s.stop_rasa()  # the outage: the web app is up, the bot is not
    time.sleep(2)
    box = page.get_by_label("メッセージ（Enterで送信、Shift+Enterで改行）")
    box.fill("停電中に書いた：母の介護をしています")
    box.press("Enter")
    assert page.get_by_text("未送信（つながったら自動で送ります）").is_visible()
    page.wait_for_selector(".kc-notice:not([hidden])", timeout=15000)
    notice = page.locator(".kc-notice").inner_text()
    assert "0120-0-78310" in notice and "つながりにくく" in notice
    # Someone who opens the chat while the bot restarts is told it is getting ready (issue 18), and what
    # she writes waits for it.
    newcomer = _page(browser, world)
    _open(newcomer).fill("準備中に書いた：父の介護をしています")
    newcomer.wait_for_selector(".kc-notice:not([hidden])", timeout=10000)
    assert "準備をしています" in newcomer.locator(".kc-notice").inner_text()
    newcomer.get_by_label("メッセージ（Enterで送信、Shift+Enterで改行）").press("Enter")
    assert requests.get(f"{world['web']}/ready").status_code == 503
    with stack.running(world["tracker_url"], model=world["model"], rasa_port=world["rasa_port"],
                       actions_url=s.actions_url, extra_env={"ACTION_SERVER_TOKEN": s.actions_token}) as restarted:
        world["stack"] = restarted
        page.wait_for_function("() => !document.querySelector('.kc-pending')", timeout=60000)
        page.wait_for_selector(".kc-notice[hidden]", state="attached")
        texts = [e["text"] for e in restarted.tracker(sender)["events"] if e["event"] == "user"]
        assert texts.count("停電中に書いた：母の介護をしています") == 1
        assert requests.get(f"{world['web']}/ready").json() == {"ready": True}
        newcomer.wait_for_function("() => !document.querySelector('.kc-pending')", timeout=30000)
        newcomer.wait_for_selector(".kc-notice[hidden]", state="attached")
        assert newcomer.locator(".kc-bot").count() >= 2  # the welcome, then the answer
        # A retry of the same id (a lost answer) is answered from the relay, not sent again.
        item = page.evaluate("JSON.parse(sessionStorage.getItem('kc-chat-v1')).items.filter(i => i.who === 'user').pop()")
        again = requests.post(f"{world['web']}/chat/send", json={"sender": sender, "id": item["id"], "text": item["text"]})
        assert again.status_code == 200
        texts = [e["text"] for e in restarted.tracker(sender)["events"] if e["event"] == "user"]
        assert texts.count("停電中に書いた：母の介護をしています") == 1
        _keyboard_only(browser, world)
        _phone_and_accessibility(browser, world)


def _keyboard_only(browser, world):
    page = _page(browser, world)
    launch = page.get_by_role("button", name="ケアラー相談チャット")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('kc-launch')"):
            break
    assert launch.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "kc-input"
    before = _bot_count(page)
    page.keyboard.type("ありがとう")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => document.querySelectorAll('.kc-bot').length > {before}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "送る"
    page.get_by_role("button", name="文字を大きく").focus()
    page.keyboard.press("Space")
    assert page.get_by_role("button", name="文字を大きく").get_attribute("aria-pressed") == "true"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focus is visible
    page.keyboard.press("Escape")
    assert launch.evaluate("el => el === document.activeElement")


def _phone_and_accessibility(browser, world):
    page = _page(browser, world, width=360, height=740)
    _open(page)
    _send(page, "ままがびょうきで、まいにちごはんつくってる")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    box = page.locator(".kc-panel").bounding_box()
    assert box["width"] <= 360 and box["x"] >= 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "widget-phone.png"))
    page.evaluate(AXE.read_text())  # not add_script_tag: an inline <script>, which the app's CSP refuses
    result = page.evaluate("async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa']})")
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert serious == []
    desktop = _page(browser, world)
    _open(desktop)
    _send(desktop, "部下が親の介護で休みがちです。会社として何ができますか")
    desktop.screenshot(path=str(SHOTS / "widget-desktop.png"))

