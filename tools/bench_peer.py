"""The peer of `make bench` (issue 18): a plain Rasa 3.6 bot of the default recipe (bench/peer/: its own
small data; char n-grams, DIET, rules, memoization and TED; a SQLite tracker store; no custom action),
trained if its data changed, started with Rasa's own `rasa run`, and measured under exactly the load
the bot gets, one after the other in the same run. `ratios` says how the bot compares.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List

from tools import stack

PEER = stack.ROOT / "bench" / "peer"
MODELS = PEER / "models"


def _fingerprint() -> str:
    files = sorted(p for p in PEER.rglob("*.yml") if "models" not in p.parts)
    return hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()


def train() -> float:
    """Train the peer's model if its data changed; return the seconds it took (0 when up to date)."""
    import time

    stamp = MODELS / ".fingerprint"
    if stamp.exists() and stamp.read_text() == _fingerprint() and (MODELS / "peer.tar.gz").exists():
        return 0.0
    MODELS.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    subprocess.run([str(stack.BIN / "rasa"), "train", "--config", str(PEER / "config.yml"), "--domain", str(PEER / "domain.yml"),
                    "--data", str(PEER / "data"), "--out", str(MODELS), "--fixed-model-name", "peer"],
                   cwd=PEER, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                   env=dict(os.environ, RASA_TELEMETRY_ENABLED="false"))
    stamp.write_text(_fingerprint())
    return round(time.perf_counter() - started, 1)


@contextlib.contextmanager
def running(timeout: float = 240.0, store: str = "sql") -> Iterator[Dict[str, Any]]:
    """The peer's Rasa server on loopback (its own SQLite tracker store in a temporary folder). With
    ``store="memory"`` it keeps conversations in Rasa's in-memory store: plain Rasa at its fastest, with
    nothing written anywhere (the stricter comparison; not what a real bot can run on)."""
    port = stack.free_port()
    token = secrets.token_hex(16)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, RASA_TELEMETRY_ENABLED="false", PEER_TRACKER_DB=f"{tmp}/peer.db")
        endpoints = PEER / "endpoints.yml"
        if store == "memory":
            endpoints = Path(tmp) / "endpoints.yml"
            endpoints.write_text("action_endpoint: null  # and no tracker_store: Rasa's InMemoryTrackerStore\n")
        proc = subprocess.Popen([str(stack.BIN / "rasa"), "run", "--enable-api", "--auth-token", token, "-i", "127.0.0.1",
                                 "--port", str(port), "--model", str(MODELS / "peer.tar.gz"), "--endpoints", str(endpoints)],
                                cwd=PEER, env=env, stdout=open(Path(tmp) / "peer.log", "w"), stderr=subprocess.STDOUT,
                                start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            stack._wait(f"{url}/status?token={token}", proc, timeout, ready=lambda b: bool(b.get("model_id")))
            yield {"url": url, "pid": proc.pid}
        finally:
            stack._stop(proc)


RATIO_KEYS = ("turns_per_s", "p50_ms", "p95_ms", "p99_ms")


def ratios(ours: List[Dict[str, Any]], peer: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Per number of users: the bot's throughput and latencies divided by the peer's (throughput above
    1.0 and latency below 1.0 are better than the plain bot)."""
    out = []
    for a, b in zip(ours, peer):
        row = {"users": a["users"], "errors": a["errors"], "peer_errors": b["errors"]}
        for key in RATIO_KEYS:
            row[key] = round(a[key] / b[key], 2) if b[key] else float("nan")
        out.append(row)
    return out


def verdict(realistic: List[Dict[str, Any]], heavy: List[Dict[str, Any]]) -> Dict[str, bool]:
    """Issue 18's targets on both workloads: at 10 users throughput ≥ 1.0× and p95 ≤ 1.25×; at 1 user
    p50 ≤ 1.2×; at 50 users no errors."""
    ok = {}
    for name, rows in (("realistic", realistic), ("heavy", heavy)):
        by = {r["users"]: r for r in rows}
        ok[f"{name}_10_throughput"] = by[10]["turns_per_s"] >= 1.0
        ok[f"{name}_10_p95"] = by[10]["p95_ms"] <= 1.25
        ok[f"{name}_1_p50"] = by[1]["p50_ms"] <= 1.2
        ok[f"{name}_50_no_errors"] = by[50]["errors"] == 0
    return ok
