"""Shared fixtures. Tests that need a server start the real one (tools.stack)."""

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL = ROOT / "models" / "kamakura.tar.gz"


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not MODEL.exists():
        pytest.fail("no trained model: run `make train` (make test does it first)")
    return MODEL


@pytest.fixture(scope="module")
def live_stack(tmp_path_factory, trained_model):
    """A real Rasa server and action server on a fresh SQLite tracker store."""
    from tools import stack

    db = tmp_path_factory.mktemp("db") / "tracker.db"
    with stack.running(f"sqlite:///{db}", model=str(trained_model)) as s:
        yield s


def write_tracker_events(url: str, conversations) -> None:
    """Create the tracker store's ``events`` table, as Rasa's SQLTrackerStore writes it, with these
    turns: {conversation id: [("user" | "bot", text), ...]}, one second apart."""
    import json
    import time

    import sqlalchemy as sa

    with sa.create_engine(url).begin() as c:
        c.execute(sa.text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, timestamp REAL, "
                          "intent_name TEXT, action_name TEXT, data TEXT)"))
        for sid, turns in conversations.items():
            for i, (kind, text) in enumerate(turns):
                c.execute(sa.text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, :k, :t, :d)"),
                          {"s": sid, "k": kind, "t": time.time() + i, "d": json.dumps({"event": kind, "text": text})})


@pytest.fixture(scope="session")
def tracker_events():
    """``write_tracker_events``: a transcript in the tracker store's own table, without a Rasa server."""
    return write_tracker_events


os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
# Tests never write to var/db: a fresh hand-off database for the whole run.
os.environ.setdefault("HANDOFF_DB_URL", f"sqlite:///{tempfile.mkdtemp(prefix='handoff-')}/handoff.db")


@pytest.fixture(autouse=True)
def settings_of_this_test():
    """bot.settings.load() reads the environment once per process; a test that sets a variable
    (monkeypatch.setenv) reads it as a new process would, and the next test does not inherit it."""
    from bot.settings import load

    load.cache_clear()
    yield
    load.cache_clear()
