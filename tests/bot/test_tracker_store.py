"""DurableSQLTrackerStore keeps the trackers it saved, but never returns one SQL would not rebuild.

Real SQLite files; two store objects on one database stand for two Rasa instances.
"""

import asyncio
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

from bot.rasa.tracker_store import DurableSQLTrackerStore
from bot.settings import load

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def db(tmp_path):
    return f"sqlite:///{tmp_path}/tracker.db"


def new_store(db):
    return DurableSQLTrackerStore(domain=DOMAIN, host=db)


def turn(tracker, text, slot_value=None):
    """One user turn as Rasa records it."""
    tracker.update(UserUttered(text, {"name": "share_situation", "confidence": 0.9}))
    tracker.update(ActionExecuted("action_assess_carer"))
    tracker.update(SlotSet("asked", [slot_value or text]))
    tracker.update(ActionExecuted("action_listen"))


def start(store, sender):
    """A new conversation as Rasa starts it: session start, then the first turn, saved."""
    tracker = run(store.get_or_create_tracker(sender, append_action_listen=False))
    for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
        tracker.update(event)
    turn(tracker, "はじめまして")
    run(store.save(tracker))
    return tracker


def rebuilt(db, sender):
    """What a new process reads from SQL."""
    return run(new_store(db).retrieve(sender))


def same(a, b):
    return [e.as_dict() for e in a.events] == [e.as_dict() for e in b.events] and a.current_slot_values() == b.current_slot_values()


def test_a_saved_tracker_is_kept_and_equals_what_sql_rebuilds(db):
    store = new_store(db)
    start(store, "a")
    tracker = run(store.retrieve("a"))  # the first save held a new session: rebuilt once
    for n in range(5):
        turn(tracker, f"{n}回目")
        run(store.save(tracker))
        again = run(store.retrieve("a"))
        assert again is tracker
        assert same(again, rebuilt(db, "a"))
    assert again.get_slot("asked") == ["4回目"]


def test_another_instance_writing_is_seen(db):
    a, b = new_store(db), new_store(db)
    start(a, "x")
    kept = run(a.retrieve("x"))
    turn(kept, "Aで話した")
    run(a.save(kept))
    assert run(a.retrieve("x")) is kept
    other = run(b.retrieve("x"))  # the next turn lands on the other instance
    turn(other, "Bで話した")
    run(b.save(other))
    back = run(a.retrieve("x"))
    assert back is not kept
    assert back.latest_message.text == "Bで話した"
    assert same(back, rebuilt(db, "x"))


def test_a_turn_that_failed_before_saving_is_not_returned(db):
    store = new_store(db)
    start(store, "f")
    tracker = run(store.retrieve("f"))
    turn(tracker, "保存された")
    run(store.save(tracker))
    broken = run(store.retrieve("f"))
    broken.update(UserUttered("保存されなかった", {"name": "inform"}))  # the turn fails here, nothing is saved
    fresh = run(store.retrieve("f"))
    assert fresh is not broken
    assert fresh.latest_message.text == "保存された"
    assert same(fresh, rebuilt(db, "f"))


def test_a_new_session_is_read_from_its_start(db):
    store = new_store(db)
    start(store, "s")
    tracker = run(store.retrieve("s"))
    turn(tracker, "前のセッション")
    run(store.save(tracker))
    tracker = run(store.retrieve("s"))
    for event in (ActionExecuted("action_session_start"), SessionStarted(), SlotSet("asked", ["前のセッション"]),
                  ActionExecuted("action_listen")):
        tracker.update(event)
    turn(tracker, "新しいセッション")
    run(store.save(tracker))
    after = run(store.retrieve("s"))
    assert after is not tracker  # the tracker held both sessions; a read starts at the new one
    assert same(after, rebuilt(db, "s"))
    assert "前のセッション" not in [e.text for e in after.events if isinstance(e, UserUttered)]
    turn(after, "つづき")
    run(store.save(after))  # nothing written twice
    assert same(run(store.retrieve("s")), rebuilt(db, "s"))
    assert len(run(new_store(db).retrieve_full_tracker("s")).events) == 23


def test_the_number_of_kept_trackers_is_bounded(db, monkeypatch):
    monkeypatch.setenv("TRACKER_CACHE_SIZE", "2")
    store = new_store(db)
    for sender in ("p", "q", "r"):
        start(store, sender)
        tracker = run(store.retrieve(sender))
        turn(tracker, f"{sender}の話")
        run(store.save(tracker))
    assert list(store._kept) == ["q", "r"]
    assert run(store.retrieve("p")).latest_message.text == "pの話"
    monkeypatch.setenv("TRACKER_CACHE_SIZE", "0")
    load.cache_clear()  # the settings are read once per process: this store stands for a new one
    off = new_store(db)
    tracker = run(off.retrieve("p"))
    turn(tracker, "もう一度")
    run(off.save(tracker))
    assert not off._kept and run(off.retrieve("p")) is not tracker


def rows(db):
    import sqlalchemy as sa

    with sa.create_engine(db).connect() as c:
        return [tuple(r) for r in c.execute(sa.text(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id"))]


def test_the_rows_written_are_rasas_own(tmp_path):
    """The store writes with one insert per turn what Rasa's SQLTrackerStore writes with an ORM object per
    event: the same rows, column by column, and Rasa's own store reads them back into the same tracker."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.trackers import DialogueStateTracker

    ours, theirs = f"sqlite:///{tmp_path}/ours.db", f"sqlite:///{tmp_path}/theirs.db"
    ours_store, rasa_store = new_store(ours), SQLTrackerStore(domain=DOMAIN, host=theirs)
    saved = [list(start(ours_store, "r").events)]
    tracker = run(ours_store.retrieve("r"))  # as Rasa's next turn reads it: from the session's start
    for text in ("母の介護をしています", "45歳です", "ありがとう"):
        turn(tracker, text)
        run(ours_store.save(tracker))
        saved.append(list(tracker.events))
    for events in saved:  # the same turns, saved by Rasa's own store
        run(rasa_store.save(DialogueStateTracker.from_events("r", events, DOMAIN.slots)))
    assert rows(ours) == rows(theirs) and len(rows(ours)) == 1 + len(tracker.events)  # + action_session_start
    assert same(run(SQLTrackerStore(domain=DOMAIN, host=ours).retrieve("r")), run(rasa_store.retrieve("r")))


def test_sqlite_is_kept_open_in_wal_mode_and_private(db, tmp_path):
    """One connection for the life of the process, write-ahead log with full sync: a committed turn is on
    disk; the log holds what people wrote, so it is readable by the owner only, like the database."""
    import sqlalchemy as sa

    store = new_store(db)
    start(store, "w")
    with store.engine.connect() as c:
        assert c.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert c.execute(sa.text("PRAGMA synchronous")).scalar() == 2  # FULL
    assert store.engine.pool.__class__.__name__ == "SingletonThreadPool"
    for path in tmp_path.glob("tracker.db*"):
        assert path.stat().st_mode & 0o077 == 0, path.name
