"""Shared fixtures. Tests that need a server start the real one (bot.stack)."""

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
    from bot import stack

    db = tmp_path_factory.mktemp("db") / "tracker.db"
    with stack.running(f"sqlite:///{db}", model=str(trained_model)) as s:
        yield s


os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
# Tests never write to var/db: a fresh hand-off database for the whole run.
os.environ.setdefault("HANDOFF_DB_URL", f"sqlite:///{tempfile.mkdtemp(prefix='handoff-')}/handoff.db")
