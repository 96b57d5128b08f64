"""The case page says why a case was flagged, and staff mark a wrong flag or a missed danger (issue 12),
over HTTP to the web app built in this process."""

import re

import pytest

from bot.web.console import jst

PASSWORD = "correct-horse-42"


@pytest.fixture(scope="module")
def console(make_site, tmp_path_factory, tracker_events):
    tmp = tmp_path_factory.mktemp("danger")
    web = make_site(tmp, {"TRACKER_READ_DB_URL": f"sqlite:///{tmp}/tracker.db"})
    store = web.store
    store.add_user("kodomo1", PASSWORD, "kodomo_katei_soudan")
    store.add_user("shoko1", PASSWORD, "shoko")
    cases = {}
    for name, crisis in (("lexicon", True), ("model", True), ("answer", True), ("quiet", False), ("old", True)):
        cases[name] = store.create_handoff(f"conv-{name}", ["young_carer"], "carer", ["kodomo_katei_soudan"], crisis, "中2")["ref"]
    assert store.record_danger(cases["lexicon"], "conv-lexicon", "lexicon", 1, words="消えたい")
    assert store.record_danger(cases["model"], "conv-model", "model", 0, score=0.934)
    assert store.record_danger(cases["answer"], "conv-answer", "answer", 2)
    conversations = {
        "conv-lexicon": [("user", "母の看病をしています"), ("bot", "教えてくれてありがとう"), ("user", "もう消えたい"),
                         ("bot", "つらいね"), ("user", "はい")],
        "conv-model": [("user", "一歩前に出たら楽かな"), ("bot", "お話を聞かせてください")],
        "conv-answer": [("user", "弟の世話がつらい"), ("bot", "..."), ("user", "疲れた"), ("bot", "いま、危ない状況ですか"),
                        ("user", "/affirm"), ("bot", "相談できるところ")],
        "conv-quiet": [("user", "薬をためている")],
    }
    tracker_events(web.settings.tracker_db_url, conversations)
    return {"web": web, "store": store, **cases}


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(console, username):
    s = console["web"].client()
    token = _csrf(s.get("/staff/login").text)
    r = s.post("/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token}, allow_redirects=False)
    assert r.status_code == 302
    return s


def page(console, name, username="kodomo1") -> str:
    r = login(console, username).get(f"/staff/h/{console[name]}")
    assert r.status_code == 200
    return r.text


def raised_turns(html: str) -> list:
    """(id, text) of every transcript turn marked as the one that raised the danger."""
    return [(m.group(1), re.sub(r"<[^>]+>", "", m.group(2)))
            for m in re.finditer(r'<div class="turn user raised" id="(u-turn-\d+)">(.*?)</div>', html, re.S)]


def test_a_lexicon_signal_names_the_words_and_the_message_and_highlights_it(console):
    html = page(console, "lexicon")
    assert "危険のサインの根拠" in html
    assert "ことばの一覧（辞書）" in html and "「消えたい」" in html
    assert '<a href="#u-turn-1">相談者の2通目のメッセージ</a>' in html
    raised = raised_turns(html)
    assert len(raised) == 1 and raised[0][0] == "u-turn-1"
    assert raised[0][1].endswith("もう消えたい") and "危険のサインを読み取ったメッセージ" in raised[0][1]
    # Every user turn can be linked to, in order; bot turns are not counted.
    assert re.findall(r'id="(u-turn-\d+)"', html) == ["u-turn-0", "u-turn-1", "u-turn-2"]
    # The console's policy allows no inline style: the highlight is a class of the stylesheet.
    assert "style=" not in html and "<style" not in html
    css = console["web"].client().get("/staff/static/console.css").text
    assert ".turn.user.raised" in css and ".raised-tag" in css


def test_a_model_signal_shows_its_probability(console):
    html = page(console, "model")
    assert "学習した読み取り（確からしさ 0.93）" in html
    assert "相談者の1通目のメッセージ" in html and "ことばの一覧" not in html
    assert [r[0] for r in raised_turns(html)] == ["u-turn-0"]


def test_an_answer_to_the_safety_check_highlights_the_yes(console):
    html = page(console, "answer")
    assert "安全確認の質問に『はい』と回答" in html and "相談者の3通目のメッセージ" in html
    raised = raised_turns(html)
    assert [r[0] for r in raised] == ["u-turn-2"] and raised[0][1].endswith("はい")  # the button, as staff read it


def test_a_flag_without_a_recorded_signal_or_transcript_says_so(console):
    html = page(console, "old")
    assert "危険のサインの根拠" in html and "根拠が記録されていません" in html and not raised_turns(html)
    # A case flagged as 2nd message whose transcript is gone: said, not linked.
    store = console["store"]
    assert store.record_danger(console["old"], "conv-old", "lexicon", 1, words="死にたい")
    html = page(console, "old")
    assert "相談者の2通目のメッセージ（会話の記録には見当たりません）" in html and 'href="#u-turn-' not in html


def test_the_form_offers_the_mark_that_fits_the_flag(console):
    flagged, quiet = page(console, "lexicon"), page(console, "quiet")
    assert f'action="/staff/h/{console["lexicon"]}/danger-mark"' in flagged
    assert "危険のサインの判定が誤り" in flagged and "見逃された危険がある" not in flagged
    assert 'name="kind" value="wrong_flag"' in flagged
    # A case without a flag: no reasons to show, but a danger may have been missed.
    assert "危険のサインの根拠" not in quiet and not raised_turns(quiet)
    assert "見逃された危険がある" in quiet and "危険のサインの判定が誤り" not in quiet
    assert 'name="kind" value="missed"' in quiet
    assert f'action="/staff/h/{console["quiet"]}/danger-mark"' in quiet


def test_a_mark_needs_the_csrf_token_and_is_listed_with_author_and_time(console):
    store, ref = console["store"], console["quiet"]
    s = login(console, "kodomo1")
    url = f"/staff/h/{ref}/danger-mark"
    note = "<script>alert(1)</script>薬の話は本気だった"
    assert s.post(url, data={"kind": "missed", "note": note}).status_code == 403
    assert s.post(url, data={"kind": "missed", "note": note, "csrf_token": "forged"}).status_code == 403
    assert store.danger_marks(ref) == []
    token = _csrf(s.get(f"/staff/h/{ref}").text)
    assert s.post(url, data={"kind": "maybe", "csrf_token": token}).status_code == 400
    r = s.post(url, data={"kind": "missed", "note": note, "csrf_token": token}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"] == f"/staff/h/{ref}"
    marks = store.danger_marks(ref)
    assert [(m["kind"], m["username"], m["note"]) for m in marks] == [("missed", "kodomo1", note)]
    html = s.get(f"/staff/h/{ref}").text
    listed = html.split('class="danger-marks"')[1].split("</ul>")[0]
    assert "見逃された危険がある" in listed and "kodomo1" in listed and jst(marks[0]["at"]) in listed  # Japan time (issue 15)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;薬の話は本気だった" in listed and "<script>alert(1)" not in html
    audited = [(e["username"], e["action"], e["detail"]) for e in store.audit_log() if e["ref"] == ref]
    assert ("kodomo1", "danger_mark", "missed") in audited
    assert not any("薬" in e["detail"] for e in store.audit_log())


def test_a_mark_without_a_note_on_a_flagged_case(console):
    s = login(console, "kodomo1")
    ref = console["model"]
    token = _csrf(s.get(f"/staff/h/{ref}").text)
    r = s.post(f"/staff/h/{ref}/danger-mark", data={"kind": "wrong_flag", "csrf_token": token}, allow_redirects=False)
    assert r.status_code == 302
    assert [(m["kind"], m["note"]) for m in console["store"].danger_marks(ref)] == [("wrong_flag", "")]


def test_another_sections_case_is_404_for_its_page_and_its_marks(console):
    s = login(console, "shoko1")
    ref = console["lexicon"]
    assert s.get(f"/staff/h/{ref}").status_code == 404
    token = _csrf(s.get("/staff/").text)
    r = s.post(f"/staff/h/{ref}/danger-mark", data={"kind": "wrong_flag", "note": "x", "csrf_token": token})
    assert r.status_code == 404
    assert console["store"].danger_marks(ref) == []
    # Not logged in: to the login page, nothing stored.
    r = console["web"].client().post(f"/staff/h/{ref}/danger-mark", data={"kind": "wrong_flag"}, allow_redirects=False)
    assert r.status_code == 302 and r.headers["Location"].endswith("/staff/login")
    assert console["store"].danger_marks(ref) == []
