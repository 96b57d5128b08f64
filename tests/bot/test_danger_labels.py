"""Why a case was flagged, staff's marks on it, and their export as examples to review (issue 12).

Real SQLite files; the export runs as the command an administrator types.
"""

import datetime as dt
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml

from bot.handoff import labels as danger_labels
from bot.handoff.store import Audit, DangerMark, DangerSignal, Handoff, Staff, Store, now
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
KODOMO = Staff("kodomo1", "kodomo_katei_soudan")
SHOKO = Staff("shoko1", "shoko")
SOMU = Staff("somu1", "fukushi_somu")
NOTE = "母親は090-2718-2818に出ないことが多い"


@pytest.fixture
def store(tmp_path):
    return Store(f"sqlite:///{tmp_path}/handoff.db")


def _case(store, cid, crisis=True, sections=("kodomo_katei_soudan",)):
    return store.create_handoff(cid, ["young_carer"], "carer", list(sections), crisis, "中2、母の看病")["ref"]


# --- the signal ---------------------------------------------------------------------------------


def test_the_first_signal_is_kept_and_later_ones_change_nothing(store):
    ref = _case(store, "conv-1")
    assert store.danger_signal(ref) is None
    assert store.record_danger(ref, "conv-1", "lexicon", 1, words="消えたい")
    assert not store.record_danger(ref, "conv-1", "model", 3, score=0.97)
    assert not store.record_danger(ref, "conv-1", "answer", 4)
    signal = store.danger_signal(ref)
    assert {k: signal[k] for k in ("reader", "turn", "words", "score")} == {
        "reader": "lexicon", "turn": 1, "words": "消えたい", "score": None}
    assert isinstance(signal["at"], dt.datetime)
    with store.session() as s:
        assert s.query(DangerSignal).count() == 1


def test_a_model_signal_keeps_its_probability(store):
    ref = _case(store, "conv-m")
    assert store.record_danger(ref, "conv-m", "model", 0, score=0.934)
    assert store.danger_signal(ref)["score"] == pytest.approx(0.934)
    assert store.danger_signal(ref)["words"] == ""


def test_a_foreign_or_unknown_reference_is_refused(store):
    mine, other = _case(store, "conv-mine"), _case(store, "conv-other")
    assert not store.record_danger(other, "conv-mine", "lexicon", 0, words="死にたい")  # another conversation's case
    assert not store.record_danger("KC-NOSUCH", "conv-mine", "lexicon", 0)
    assert not store.record_danger(mine, "conv-mine", "guess", 0)  # not a reader
    assert not store.record_danger(mine, "conv-mine", "lexicon", -1)
    assert store.danger_signal(other) is None and store.danger_signal(mine) is None
    # The conversation that made the case still records its own first signal afterwards.
    assert store.record_danger(mine, "conv-mine", "answer", 2)
    assert store.danger_signal(mine)["reader"] == "answer"


# --- marks --------------------------------------------------------------------------------------


def test_only_a_section_that_sees_the_case_may_mark_it(store):
    ref = _case(store, "conv-2")
    assert not store.mark_danger(SHOKO, ref, "wrong_flag", "違う課から")
    assert store.danger_marks(ref) == []
    assert store.get(SHOKO, ref) is None  # the console shows the marks only with the case
    assert store.mark_danger(KODOMO, ref, "wrong_flag", "  ドラマの話でした  ")
    assert store.mark_danger(SOMU, ref, "missed", "")  # the coordinating section sees every case
    assert not store.mark_danger(KODOMO, ref, "maybe", "x")  # not a kind
    assert not store.mark_danger(KODOMO, "KC-NOSUCH", "missed", "x")
    marks = store.danger_marks(ref)
    assert [(m["kind"], m["username"], m["note"]) for m in marks] == [
        ("wrong_flag", "kodomo1", "ドラマの話でした"), ("missed", "somu1", "")]
    assert all(isinstance(m["at"], dt.datetime) for m in marks)
    audited = [(e["username"], e["action"], e["detail"]) for e in store.audit_log() if e["ref"] == ref]
    assert sorted(audited) == [("kodomo1", "danger_mark", "wrong_flag"), ("somu1", "danger_mark", "missed")]


def test_the_audit_log_keeps_the_kind_never_the_note(store):
    ref = _case(store, "conv-3", crisis=False)
    assert store.mark_danger(KODOMO, ref, "missed", NOTE)
    assert store.danger_marks(ref)[0]["note"] == NOTE
    with store.engine.connect() as c:
        rows = [" ".join(str(v) for v in row) for row in c.execute(sa.text("SELECT * FROM audit_log"))]
    assert rows and not any("2718" in r or "母親" in r for r in rows)
    with store.session() as s:
        assert [a.detail for a in s.query(Audit).filter_by(action="danger_mark")] == ["missed"]


def test_a_long_note_is_cut_and_a_mark_is_not_a_first_action(store):
    ref = _case(store, "conv-4")
    assert store.mark_danger(KODOMO, ref, "wrong_flag", "あ" * 5000)
    assert len(store.danger_marks(ref)[0]["note"]) == 1000
    assert store.get(KODOMO, ref)["first_action_at"] is None  # the outcomes' time to first action is about the person


def test_marked_cases_list_every_mark_with_its_case(store):
    a, b = _case(store, "conv-a"), _case(store, "conv-b", crisis=False)
    _case(store, "conv-unmarked")
    store.mark_danger(KODOMO, a, "wrong_flag", "")
    store.mark_danger(KODOMO, b, "missed", NOTE)
    marked = store.marked_cases()
    assert [(m["ref"], m["conversation_id"], m["kind"]) for m in marked] == [(a, "conv-a", "wrong_flag"), (b, "conv-b", "missed")]
    assert all("note" not in m for m in marked)  # the export needs no staff text


def test_retention_removes_signals_and_marks_with_their_case(store):
    old, young = _case(store, "conv-old"), _case(store, "conv-young")
    for ref, cid in ((old, "conv-old"), (young, "conv-young")):
        assert store.record_danger(ref, cid, "lexicon", 0, words="殴られる")
        assert store.mark_danger(KODOMO, ref, "wrong_flag", NOTE)
    with store.session() as s:
        row = s.query(Handoff).filter_by(ref=old).one()
        old_id = row.id
        row.created_at = now() - dt.timedelta(days=400)
        s.commit()
    # SQLite, as the store opens it, does not enforce ON DELETE CASCADE (no PRAGMA foreign_keys).
    with store.engine.connect() as c:
        assert c.execute(sa.text("PRAGMA foreign_keys")).scalar() == 0
    summary = store.purge(365, 24, 900)
    assert summary["handoffs"] == 1 and summary["conversations"] == ["conv-old"]
    with store.session() as s:
        assert not s.query(DangerSignal).filter_by(handoff_id=old_id).count()
        assert not s.query(DangerMark).filter_by(handoff_id=old_id).count()
        assert s.query(DangerSignal).count() == 1 and s.query(DangerMark).count() == 1
    assert store.danger_signal(young)["words"] == "殴られる" and len(store.danger_marks(young)) == 1
    assert [m["ref"] for m in store.marked_cases()] == [young]


# --- the export ---------------------------------------------------------------------------------


def _export(env, out):
    env = {k: v for k, v in os.environ.items() if k != "TRACKER_READ_DB_URL"} | env
    return subprocess.run([sys.executable, "-m", "bot.handoff.labels", "export", "--out", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_export_writes_marked_conversations_to_review_privately(tmp_path, tracker_events):
    env = {"HANDOFF_DB_URL": f"sqlite:///{tmp_path}/db/handoff.db", "TRACKER_DB_URL": f"sqlite:///{tmp_path}/db/tracker.db"}
    store = Store(env["HANDOFF_DB_URL"])
    flagged = _case(store, "conv-drama")      # flagged, but it was a drama: wrong_flag -> crisis false
    unflagged = _case(store, "conv-quiet", crisis=False)  # a danger the readers missed -> crisis true
    gone = _case(store, "conv-gone")          # its transcript was deleted already
    _case(store, "conv-unmarked")
    tracker_events(env["TRACKER_DB_URL"], {
        "conv-drama": [("user", "ドラマで『消えたい』って言うシーンで泣いた"), ("bot", "つらいときは..."),
                       ("user", "/affirm"), ("bot", "おつなぎします")],
        "conv-quiet": [("user", "母の介護で毎晩眠れない"), ("bot", "お話をうかがいます"), ("user", "薬をためている")],
        "conv-unmarked": [("user", "介護保険の申請について")],
    })
    assert store.mark_danger(KODOMO, flagged, "wrong_flag", NOTE)
    assert store.mark_danger(KODOMO, unflagged, "missed", "")
    assert store.mark_danger(SOMU, unflagged, "missed", "同じ指摘")  # the same case and kind again: one example
    assert store.mark_danger(KODOMO, gone, "wrong_flag", "")

    out = tmp_path / "var" / "labels" / "staff-marks.yml"
    done = _export(env, out)
    assert done.returncode == 0, done.stderr
    # Counts only: no text that a person or a member of staff wrote.
    assert "exported 2 conversations" in done.stdout and "skipped 1" in done.stdout and "1 repeated" in done.stdout
    for secret in ("消えたい", "眠れない", "薬", "2718", "同じ指摘", "conv-drama", "conv-quiet"):
        assert secret not in done.stdout + done.stderr, secret

    # Private: the file 0600, the folders it created 0700.
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(out.parent).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(out.parent.parent).st_mode) == 0o700
    text = out.read_text(encoding="utf-8")
    header = text.split("conversations:")[0]
    assert "REVIEW" in header and "never reads var/" in header and "data/danger/" in header
    assert all(line.startswith("#") for line in header.strip().splitlines())
    assert "2718" not in text and "同じ指摘" not in text  # staff notes are not exported

    data = yaml.safe_load(text)
    by_source = {c["source"]: c for c in data["conversations"]}
    assert set(by_source) == {flagged, unflagged}
    assert by_source[flagged]["turns"] == ["ドラマで『消えたい』って言うシーンで泣いた", "はい"]  # a button as the console shows it
    assert by_source[flagged]["expected"] == {"crisis": False}
    assert by_source[unflagged]["turns"] == ["母の介護で毎晩眠れない", "薬をためている"]
    assert by_source[unflagged]["expected"] == {"crisis": True}
    for c in data["conversations"]:
        assert c["kind"] == "staff_mark" and c["id"].startswith("mark_")
        assert list(c) == ["id", "turns", "expected", "kind", "source"]  # the danger data's format
    assert len({c["id"] for c in data["conversations"]}) == 2

    # Run again over a file someone left readable by all: replaced, private again.
    os.chmod(out, 0o644)
    assert _export(env, out).returncode == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["staff-marks.yml"]  # no temporary file left


def test_the_default_output_is_git_ignored_and_outside_the_training_data():
    assert danger_labels.DEFAULT_OUT.parts[0] == "var"
    ignored = subprocess.run(["git", "check-ignore", "-q", str(danger_labels.DEFAULT_OUT)], cwd=ROOT)
    assert ignored.returncode == 0
    assert not str(danger_labels.DEFAULT_OUT).startswith(os.path.join("data", "danger"))


def test_the_export_reads_transcripts_as_the_read_only_role_that_the_settings_name(tmp_path, tracker_events):
    """TRACKER_READ_DB_URL (the console's role in production) wins over TRACKER_DB_URL; no environment read."""
    reader, writer = f"sqlite:///{tmp_path}/reader.db", f"sqlite:///{tmp_path}/writer.db"
    settings = Settings.from_env({"HANDOFF_DB_URL": f"sqlite:///{tmp_path}/handoff.db", "TRACKER_DB_URL": writer,
                                  "TRACKER_READ_DB_URL": reader})
    store = Store(settings.handoff_db_url)
    tracker_events(reader, {"conv-read": [("user", "ドラマの話です")]})
    tracker_events(writer, {})
    assert store.mark_danger(KODOMO, _case(store, "conv-read"), "wrong_flag", "")
    counts = danger_labels.export(tmp_path / "out.yml", settings=settings)
    assert counts["wrong_flag"] == 1 and counts["skipped_no_transcript"] == 0
