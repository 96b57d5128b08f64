"""The web app, started as `make run` starts it."""

import json
import urllib.request

import pytest

from tools.stack import web_app


@pytest.fixture(scope="module")
def web_url(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("web")
    with web_app({"HANDOFF_DB_URL": f"sqlite:///{tmp}/handoff.db", "TRACKER_DB_URL": f"sqlite:///{tmp}/tracker.db"}) as url:
        yield url


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
