"""Start the real Rasa server and action server for tests, `make eval` and benchmarks.

A context manager: ports are free ones, the tracker store is the given SQL URL,
and both processes are stopped on exit, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    """Return a TCP port that is free on loopback now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, timeout: float = 5.0) -> Dict[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return json.loads(r.read().decode("utf-8"))


def _post(url: str, body: Dict[str, Any], timeout: float = 30.0) -> Any:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode("utf-8"), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read().decode("utf-8"))


@dataclass
class Stack:
    """A running Rasa server (REST + HTTP API) and action server."""

    rasa_url: str
    actions_url: str
    token: str
    db_url: str
    rasa_pid: int = 0
    actions_pid: int = 0
    actions_token: str = ""
    log_dir: str = ""

    def stop_rasa(self) -> None:
        """Stop the Rasa server now (an outage, for tests); the action server stays."""
        try:
            os.killpg(self.rasa_pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    def say(self, sender: str, text: str) -> List[Dict[str, Any]]:
        """Send one message over the REST channel; return the bot's messages."""
        return _post(f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text})

    def tracker(self, sender: str) -> Dict[str, Any]:
        """Return the conversation's tracker from the HTTP API."""
        return _get(f"{self.rasa_url}/conversations/{sender}/tracker?token={self.token}")

    def slots(self, sender: str) -> Dict[str, Any]:
        """Return the conversation's current slots."""
        return self.tracker(sender)["slots"]


def _wait(url: str, proc: subprocess.Popen, timeout: float, ready=lambda body: True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if ready(_get(url, timeout=2)):
                return
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} not ready after {timeout:.0f} s")


def _stop(proc: Optional[subprocess.Popen]) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def running(
    db_url: str,
    model: str = "models",
    log_dir: Optional[Path] = None,
    timeout: float = 240.0,
    actions_url: Optional[str] = None,
    rasa_port: Optional[int] = None,
    endpoints: str = "endpoints.yml",
    extra_env: Optional[Dict[str, str]] = None,
) -> Iterator[Stack]:
    """Start the action server (unless ``actions_url`` is given) and a Rasa server.

    Args:
        db_url: SQLAlchemy URL of the tracker store.
        model: model file or folder.
        log_dir: where the processes' output goes (default: a temp folder).
        timeout: seconds to wait for each server to be ready.
        actions_url: reuse a running action server instead of starting one.
        rasa_port: the Rasa server's port (default: a free one).
        endpoints: the endpoints file (deploy/endpoints.scale.yml for the production profile).
        extra_env: more environment for both processes (database and Redis settings).
    """
    log_dir = Path(log_dir or ROOT / "var" / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", PYTHONHASHSEED="0", **(extra_env or {}))
    token = (extra_env or {}).get("RASA_AUTH_TOKEN") or secrets.token_hex(32)
    # The action server's secret: shared by every Rasa instance that calls it (given, or drawn here).
    if actions_url is not None and not (extra_env or {}).get("ACTION_SERVER_TOKEN"):
        raise ValueError("reusing an action server needs its ACTION_SERVER_TOKEN in extra_env")
    env["ACTION_SERVER_TOKEN"] = (extra_env or {}).get("ACTION_SERVER_TOKEN") or secrets.token_hex(32)
    env["RASA_AUTH_TOKEN"] = token  # read by bot.rasa.server, never put on a command line
    actions_proc = rasa_proc = None
    try:
        if actions_url is None:
            aport = free_port()
            actions_proc = subprocess.Popen(
                [str(BIN / "python"), "-m", "bot.rasa.action_server"],
                cwd=ROOT, env=dict(env, ACTIONS_PORT=str(aport)), start_new_session=True,
                stdout=open(log_dir / f"actions-{aport}.log", "w"), stderr=subprocess.STDOUT,
            )
            actions_url = f"http://127.0.0.1:{aport}"
            _wait(f"{actions_url}/health", actions_proc, timeout)
        rport = rasa_port or free_port()
        env.update(ACTION_ENDPOINT_URL=f"{actions_url}/webhook", TRACKER_DB_URL=db_url)
        rasa_proc = subprocess.Popen(
            [str(BIN / "python"), "-m", "bot.rasa.server", "run", "--enable-api", "--port", str(rport),
             "--model", model, "--endpoints", endpoints, "--credentials", "credentials.yml"],
            cwd=ROOT, env=env, start_new_session=True,
            stdout=open(log_dir / f"rasa-{rport}.log", "w"), stderr=subprocess.STDOUT,
        )
        rasa_url = f"http://127.0.0.1:{rport}"
        _wait(f"{rasa_url}/status?token={token}", rasa_proc, timeout, ready=lambda b: bool(b.get("model_id")))
        yield Stack(rasa_url=rasa_url, actions_url=actions_url, token=token, db_url=db_url, rasa_pid=rasa_proc.pid,
                    actions_pid=actions_proc.pid if actions_proc else 0, actions_token=env["ACTION_SERVER_TOKEN"],
                    log_dir=str(log_dir))
    finally:
        _stop(rasa_proc)
        _stop(actions_proc)


@contextlib.contextmanager
def web_app(env: Dict[str, str], timeout: float = 30.0, log: Optional[Path] = None, port: int = 0) -> Iterator[str]:
    """Start the web app (``python -m bot.web``) on ``port`` or a free one; yield its URL (output to ``log``)."""
    with web_process(env, timeout, log, port) as (url, _proc):
        yield url


@contextlib.contextmanager
def web_process(env: Dict[str, str], timeout: float = 30.0, log: Optional[Path] = None, port: int = 0,
                log_mode: str = "w") -> Iterator[tuple]:
    """As ``web_app``, yielding (url, process): for a test that kills it (SIGKILL) on purpose."""
    with _service([sys.executable, "-m", "bot.web"], "WEB_PORT", env, timeout, log, port, log_mode) as started:
        yield started


@contextlib.contextmanager
def _service(argv: List[str], port_variable: str, env: Dict[str, str], timeout: float, log: Optional[Path], port: int,
             log_mode: str) -> Iterator[tuple]:
    """Start one of the product's HTTP services on ``port`` (or a free one), wait for its /health, and
    stop it on exit (also on failure; one that already died is left as it is)."""
    port = port or free_port()
    out = open(log, log_mode) if log else subprocess.DEVNULL
    proc = subprocess.Popen(argv, cwd=ROOT, env=dict(os.environ, **{port_variable: str(port)}, **env),
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{url}/health", proc, timeout)
        yield url, proc
    finally:
        _stop(proc)


def catalog_with_live_hours(folder: Path, away_minutes: float = 0.15) -> Path:
    """For tests of issue 15: the city's catalog with live-chat hours set: こども家庭相談課 answers at any hour, 商工課 never."""
    import yaml

    data = yaml.safe_load((ROOT / "data" / "catalog.yml").read_text(encoding="utf-8"))
    data["live_chat"]["hours"] = {
        "kodomo_katei_soudan": {"text": "毎日 0時〜24時（試験）", "open": [{"days": "daily", "from": "00:00", "to": "24:00"}]},
        "shoko": {"text": "毎日 0時〜0時1分（試験）", "open": [{"days": "daily", "from": "00:00", "to": "00:01"}]},
    }
    data["live_chat"]["away_minutes"] = away_minutes
    path = folder / "catalog.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


LINE_PYTHON = ROOT / ".venv-line" / "bin" / "python"


@contextlib.contextmanager
def line_adapter(env: Dict[str, str], timeout: float = 30.0, log: Optional[Path] = None, port: int = 0) -> Iterator[str]:
    """Start the LINE adapter (``python -m bot.line`` in .venv-line: `make install`) on ``port`` or a
    free one; yield its URL (output to ``log``)."""
    if not LINE_PYTHON.exists():
        raise RuntimeError(f"{LINE_PYTHON} is missing: run `make install` (the LINE adapter's environment)")
    with _service([str(LINE_PYTHON), "-m", "bot.line"], "LINE_PORT", env, timeout, log, port, "a") as (url, _proc):
        yield url
