"""Every setting of the product, read from the environment once, with its default, and checked.

`load()` reads `os.environ` the first time it is called and returns the same frozen `Settings` after
that; a process entry point (server, action server, web app, command line) calls it and passes what
a part needs. Tests build their own with `Settings.from_env({...})`. A value that does not parse
(``STAFF_IDLE_SECONDS=abc``) stops the process at start with the name of the variable, not at the first
request that needs it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path
from typing import Callable, Mapping, Optional

ROOT = Path(__file__).resolve().parent.parent


class SettingsError(ValueError):
    """A variable of the environment has a value that the product cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name, "")
    try:
        value = int(raw) if raw.strip() else default
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, not {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    try:
        value = float(raw) if raw.strip() else default
    except ValueError:
        raise SettingsError(f"{name} must be a number, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, not {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "1", "yes", "on"):
        return True
    if raw in ("false", "0", "no", "off"):
        return False
    raise SettingsError(f"{name} must be true or false, not {raw!r}")


def _str(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "").strip() or default


@dataclasses.dataclass(frozen=True)
class Settings:
    """What the processes read from the environment (the names are the variables' names, lower case)."""

    # The profile: "production" refuses weak secrets and world-readable databases at start.
    kamakura_profile: str = ""
    log_level: str = "INFO"
    # Databases: the tracker store (Rasa's) and the hand-off store (ours).
    tracker_db_url: str = "sqlite:///var/db/tracker.db"
    tracker_read_db_url: str = ""  # the web app's read-only role on the tracker store; "" = tracker_db_url
    tracker_retry_seconds: float = 30.0
    tracker_cache_size: int = 256
    handoff_db_url: str = "sqlite:///var/db/handoff.db"
    # Rasa's HTTP API and the action server, on loopback unless set otherwise.
    rasa_url: str = "http://localhost:5005"
    rasa_host: str = "127.0.0.1"
    rasa_auth_token: str = ""
    actions_host: str = "127.0.0.1"
    actions_port: int = 5055
    action_server_token: str = ""
    action_server_max_body: int = 8 * 1024 * 1024
    # The web app (widget relay and staff console).
    web_host: str = "127.0.0.1"
    web_port: int = 8000
    web_proxies_count: int = 0
    staff_session_seconds: int = 8 * 3600
    staff_idle_seconds: int = 1800
    staff_max_login_failures: int = 5
    staff_lockout_seconds: int = 15 * 60
    staff_max_login_delay_seconds: int = 60
    staff_cookie_secure: bool = False
    # Retention: how long personal data is kept, and how often the web app deletes what is past it.
    handoff_retention_days: int = 365
    conversation_retention_days: int = 30
    delivery_retention_hours: int = 24
    retention_interval_seconds: float = 24 * 3600.0
    # Live chat (issue 15): how recent a message makes a conversation "live", and the e-mail to a duty
    # address when a conversation shows a danger sign (no personal content; off while SMTP_HOST is "").
    live_window_minutes: int = 10
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    duty_email: str = ""
    # LINE (issue 16): the adapter (python -m bot.line, its own venv) and the web app share
    # LINE_RELAY_TOKEN; only the adapter reads the channel's secret, token and LINE_ID_KEY.
    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_api_base: str = "https://api.line.me"
    line_id_key: str = ""
    line_relay_token: str = ""
    line_host: str = "127.0.0.1"
    line_port: int = 8010
    line_db_path: str = str(ROOT / "var" / "db" / "line.db")
    web_url: str = "http://127.0.0.1:8000"
    line_reply_seconds: float = 25.0  # a reply token older than this is not used: the push API is
    line_text_limit: int = 5000  # LINE's limit per text message; tests set it lower
    # Notices (issue 17): the address people open from e-mails, the adapter the web app pushes LINE
    # notices through, and how many deliveries a web process sends per second.
    public_url: str = "http://127.0.0.1:8000"
    line_adapter_url: str = "http://127.0.0.1:8010"
    notice_rate: float = 5.0
    # Data the city edits, and the learned reader of danger.
    catalog_path: str = str(ROOT / "data" / "catalog.yml")
    support_info_path: str = str(ROOT / "data" / "support_info.yml")  # issue 17: allowances and services
    danger_model_dir: str = str(ROOT / "models" / "danger")

    @property
    def production(self) -> bool:
        """True in the production profile (KAMAKURA_PROFILE=production)."""
        return self.kamakura_profile.lower() == "production"

    @property
    def tracker_reader_url(self) -> str:
        """Where the web app reads transcripts: its read-only role if one is set."""
        return self.tracker_read_db_url or self.tracker_db_url

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Settings:
        """Read and check every setting; raise SettingsError naming the first variable that is wrong."""
        env = os.environ if env is None else env
        readers: dict[type, Callable] = {int: _int, float: _float, bool: _bool, str: _str}
        values = {}
        for field in dataclasses.fields(cls):
            kind = type(field.default)
            values[field.name] = readers[kind](env, field.name.upper(), field.default)
        if values["staff_max_login_failures"] < 1:
            raise SettingsError("STAFF_MAX_LOGIN_FAILURES must be at least 1")
        for name in ("actions_port", "web_port", "smtp_port", "line_port"):
            if not 0 < values[name] < 65536:
                raise SettingsError(f"{name.upper()} must be a port number (1-65535), not {values[name]}")
        if not 20 <= values["line_text_limit"] <= 5000:
            raise SettingsError("LINE_TEXT_LIMIT must be between 20 and 5000 (LINE's limit)")
        return cls(**values)


@functools.lru_cache(maxsize=1)
def load() -> Settings:
    """The settings of this process, read from the environment on the first call."""
    return Settings.from_env()
