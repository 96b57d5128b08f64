"""The web app, started as `make run` starts it."""

import json
import os
import subprocess
import sys
import time
import urllib.request

import pytest

from bot.stack import ROOT, free_port


@pytest.fixture(scope="module")
def web_url():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.web"], cwd=ROOT, env=dict(os.environ, WEB_PORT=str(port), WEB_HOST="127.0.0.1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_health(web_url):
    with urllib.request.urlopen(f"{web_url}/health") as r:
        assert r.status == 200
        assert json.loads(r.read()) == {"status": "ok"}


def test_page_is_japanese(web_url):
    with urllib.request.urlopen(f"{web_url}/") as r:
        body = r.read().decode("utf-8")
    assert '<html lang="ja">' in body and "ケアラー相談チャット" in body


def test_unknown_route_is_404(web_url):
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{web_url}/nope")
    assert e.value.code == 404
