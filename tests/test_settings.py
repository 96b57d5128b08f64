"""One settings module: every variable read once, with defaults, and checked at start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_listen_on_loopback_and_keep_data_for_the_documented_periods():
    s = Settings.from_env({})
    assert (s.rasa_host, s.actions_host, s.web_host) == ("127.0.0.1", "127.0.0.1", "127.0.0.1")
    assert (s.handoff_retention_days, s.conversation_retention_days, s.delivery_retention_hours) == (365, 30, 24)
    assert not s.production and not s.staff_cookie_secure
    assert s.tracker_reader_url == s.tracker_db_url  # no read-only role: the console reads through the owner's URL


def test_values_are_read_and_typed():
    s = Settings.from_env({"WEB_PORT": "8080", "STAFF_COOKIE_SECURE": "TRUE", "TRACKER_RETRY_SECONDS": "2.5",
                           "KAMAKURA_PROFILE": "Production", "TRACKER_READ_DB_URL": "sqlite:///ro.db", "WEB_HOST": " 0.0.0.0 "})
    assert s.web_port == 8080 and s.staff_cookie_secure and s.tracker_retry_seconds == 2.5
    assert s.production and s.tracker_reader_url == "sqlite:///ro.db" and s.web_host == "0.0.0.0"


@pytest.mark.parametrize("env, name", [
    ({"STAFF_IDLE_SECONDS": "abc"}, "STAFF_IDLE_SECONDS"),
    ({"WEB_PORT": "70000"}, "WEB_PORT"),
    ({"ACTIONS_PORT": "0"}, "ACTIONS_PORT"),
    ({"STAFF_COOKIE_SECURE": "maybe"}, "STAFF_COOKIE_SECURE"),
    ({"HANDOFF_RETENTION_DAYS": "-1"}, "HANDOFF_RETENTION_DAYS"),
    ({"TRACKER_RETRY_SECONDS": "soon"}, "TRACKER_RETRY_SECONDS"),
    ({"STAFF_MAX_LOGIN_FAILURES": "0"}, "STAFF_MAX_LOGIN_FAILURES"),
])
def test_a_wrong_value_is_refused_with_the_name_of_its_variable(env, name):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_an_empty_value_means_the_default():
    assert Settings.from_env({"WEB_PORT": "", "STAFF_COOKIE_SECURE": ""}) == Settings.from_env({})


def test_settings_cannot_be_changed_after_they_are_read():
    s = Settings.from_env({})
    with pytest.raises(AttributeError):
        s.web_port = 1  # frozen: a part cannot change what another part reads


def test_a_service_with_a_wrong_value_refuses_to_start_and_names_it(tmp_path):
    env = dict(os.environ, STAFF_IDLE_SECONDS="half an hour", HANDOFF_DB_URL=f"sqlite:///{tmp_path}/h.db",
               TRACKER_DB_URL=f"sqlite:///{tmp_path}/t.db")
    done = subprocess.run([sys.executable, "-m", "bot.web"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "STAFF_IDLE_SECONDS" in done.stderr and "half an hour" in done.stderr
