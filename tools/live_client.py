"""A person's widget and a member of staff's console, played over HTTP: the live tests (issue 15) on the
default and the production profile use them."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Dict, List

import requests

PASSWORD = "correct-horse-42"


class Widget:
    """A person in the widget: their random id, the messages sent once each, the last live id seen."""

    def __init__(self, url: str) -> None:
        self.url, self.sender, self.after, self.shown = url, "w" + uuid.uuid4().hex, 0, []

    def say(self, text: str, msg_id: str = "") -> List[Dict[str, Any]]:
        body = {"sender": self.sender, "id": msg_id or uuid.uuid4().hex, "text": text}
        r = requests.post(f"{self.url}/chat/send", json=body, timeout=60)
        assert r.status_code == 200, r.text
        return r.json()["messages"]

    def updates(self, wait: bool = True) -> Dict[str, Any]:
        r = requests.get(f"{self.url}/chat/updates", params={"sender": self.sender, "after": self.after,
                                                              **({} if wait else {"wait": "0"})}, timeout=40)
        assert r.status_code == 200, r.text
        body = r.json()
        assert all(m["id"] > self.after for m in body["messages"])  # never one already shown
        self.shown += body["messages"]
        self.after = max(self.after, body["last"])
        return body

    def wait_for(self, predicate, timeout: float = 30.0) -> Dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.updates()
            found = [m for m in self.shown if predicate(m)]
            if found:
                return found[-1]
        raise AssertionError(f"not shown within {timeout}s: {self.shown}")


class Staff:
    """A member of staff logged in to the console."""

    def __init__(self, url: str, username: str) -> None:
        self.url, self.s = url, requests.Session()
        page = self.s.get(f"{url}/staff/login", timeout=10).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = self.s.post(f"{url}/staff/login", data={"username": username, "password": PASSWORD, "csrf_token": token},
                        allow_redirects=False, timeout=30)
        assert r.status_code == 302, r.text
        self.csrf = re.search(r'name="csrf_token" value="([^"]+)"', self.s.get(f"{url}/staff/", timeout=10).text).group(1)

    def live(self) -> Dict[str, Any]:
        return self.s.get(f"{self.url}/staff/live.json", timeout=10).json()

    def find(self, predicate, timeout: float = 20.0) -> Dict[str, Any]:
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [c for c in self.live()["conversations"] if predicate(c)]
            if found:
                return found[0]
            time.sleep(0.5)
        raise AssertionError("not in the live list")

    def post(self, key: str, action: str, **form: str) -> requests.Response:
        return self.s.post(f"{self.url}/staff/live/c/{key}/{action}", data={"csrf_token": self.csrf, **form},
                           headers={"Accept": "application/json"}, timeout=30)

    def turns(self, key: str, after: int = 0) -> Dict[str, Any]:
        r = self.s.get(f"{self.url}/staff/live/c/{key}/turns.json", params={"after": after}, timeout=10)
        assert r.status_code == 200
        return r.json()
