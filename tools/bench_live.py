"""make bench, issue 15: the time from a staff message to the widget showing it, with live conversations.

Each conversation is a child's, handed to こども家庭相談課 with consent; one member of staff joins them
all; each widget waits for updates as the real widget does (long polling /chat/updates, the last id
kept); staff send messages to the conversations in turn. The time is from the staff's POST to the
moment the widget's request returns the message (so it includes Rasa's tracker API, the tracker
store and the web app's poll), p50 and p95.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from typing import Any, Dict, List

import aiohttp

from bot.handoff.store import Store

PASSWORD = "bench-live-password-1"
STORY = ["中1です。ママが入院してて、弟のごはんとせんたくはわたしがしてる", "うん、つたえて"]


def pct(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000, 1) if ordered else 0.0


async def _login(http: aiohttp.ClientSession, web: str) -> str:
    async with http.get(f"{web}/staff/login") as r:
        token = re.search(r'name="csrf_token" value="([^"]+)"', await r.text()).group(1)
    async with http.post(f"{web}/staff/login", data={"username": "bench-live", "password": PASSWORD, "csrf_token": token},
                         allow_redirects=False) as r:
        assert r.status == 302, r.status
    async with http.get(f"{web}/staff/") as r:
        return re.search(r'name="csrf_token" value="([^"]+)"', await r.text()).group(1)


async def staff_to_widget(web: str, handoff_db_url: str, conversations: int = 10, messages: int = 10) -> Dict[str, Any]:
    """Measure staff -> widget latency over ``conversations`` live conversations."""
    Store(handoff_db_url).add_user("bench-live", PASSWORD, "kodomo_katei_soudan")
    widget = aiohttp.ClientSession()
    staff = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    try:
        senders = [f"wbench{uuid.uuid4().hex[:12]}" for _ in range(conversations)]
        for sender in senders:
            for text in STORY:
                async with widget.post(f"{web}/chat/send", json={"sender": sender, "id": uuid.uuid4().hex, "text": text}) as r:
                    await r.read()
        csrf = await _login(staff, web)
        keys: Dict[str, str] = {}
        deadline = time.time() + 30
        while len(keys) < conversations and time.time() < deadline:
            async with staff.get(f"{web}/staff/live.json") as r:
                rows = (await r.json())["conversations"]
            store = Store(handoff_db_url)
            refs = {h["ref"]: s for s in senders if (h := store.handoff_for_conversation(s))}
            keys = {refs[row["ref"]]: row["key"] for row in rows if row["ref"] in refs}
            await asyncio.sleep(0.5)
        for key in keys.values():
            async with staff.post(f"{web}/staff/live/c/{key}/join", data={"csrf_token": csrf},
                                  headers={"Accept": "application/json"}) as r:
                await r.read()
        sent_at: Dict[str, float] = {}
        latencies: List[float] = []
        errors = 0

        async def watch(sender: str) -> None:
            nonlocal errors
            after, got = 0, 0
            while got < messages:
                try:
                    async with widget.get(f"{web}/chat/updates", params={"sender": sender, "after": after}) as r:
                        body = await r.json()
                except aiohttp.ClientError:
                    errors += 1
                    continue
                now = time.perf_counter()
                after = max(after, body["last"])
                for m in body["messages"]:
                    if m["who"] == "staff" and m["text"] in sent_at:
                        latencies.append(now - sent_at.pop(m["text"]))
                        got += 1

        watchers = [asyncio.create_task(watch(s)) for s in keys]
        await asyncio.sleep(1.0)  # every widget is waiting
        for i in range(messages):
            for sender, key in keys.items():
                text = f"職員からのメッセージ {i} {sender[-4:]}"
                sent_at[text] = time.perf_counter()
                async with staff.post(f"{web}/staff/live/c/{key}/send", headers={"Accept": "application/json"},
                                      data={"csrf_token": csrf, "text": text, "client_id": uuid.uuid4().hex}) as r:
                    if r.status != 200:
                        errors += 1
            await asyncio.sleep(0.2)
        await asyncio.wait_for(asyncio.gather(*watchers), timeout=120)
        return {"conversations": len(keys), "messages": len(latencies), "p50_ms": pct(latencies, 50),
                "p95_ms": pct(latencies, 95), "errors": errors}
    finally:
        await widget.close()
        await staff.close()


async def alone(quick: bool) -> Dict[str, Any]:
    """Start the stack and the web app, and measure only this (``make bench`` measures it with the rest)."""
    import tempfile

    from tools import stack

    with tempfile.TemporaryDirectory() as tmp:
        handoff = f"sqlite:///{tmp}/handoff.db"
        with stack.running(f"sqlite:///{tmp}/tracker.db", extra_env={"HANDOFF_DB_URL": handoff}) as s:
            env = {"RASA_URL": s.rasa_url, "HANDOFF_DB_URL": handoff, "TRACKER_DB_URL": s.db_url, "RASA_AUTH_TOKEN": s.token}
            with stack.web_app(env) as web:
                return await staff_to_widget(web, handoff, 10, 5 if quick else 10)
