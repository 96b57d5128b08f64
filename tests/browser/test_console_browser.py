"""End to end in Debian's Chromium: a consented hand-off over REST, then the staff console."""

import os
import re
import uuid

import pytest

from bot import stack
from bot.handoffs import Store

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
    try:
        with stack.web_app({"HANDOFF_DB_URL": handoff_url, "TRACKER_DB_URL": tracker_url}) as web:
            with stack.running(tracker_url, model=str(trained_model)) as s:
                yield {"stack": s, "web": web, "store": store}
    finally:
        if old is None:
            os.environ.pop("HANDOFF_DB_URL", None)
        else:
            os.environ["HANDOFF_DB_URL"] = old


def _login(browser, web, username):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
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
