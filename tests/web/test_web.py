"""The web app's own routes, built in this process (tests/web/conftest.py); and once as `make run` starts it."""

import pytest
import requests

from tools.stack import web_app


@pytest.fixture(scope="module")
def site(make_site, tmp_path_factory):
    return make_site(tmp_path_factory.mktemp("web"))


def test_health(site):
    r = site.client().get("/health")
    assert r.status_code == 200
    assert r.json == {"status": "ok"}  # sanic-testing: a property


def test_ready_only_when_rasa_answers(make_site, tmp_path):
    """Issue 18: Rasa listens only once it is warm, so /ready says whether a message would be answered at
    full speed; here nothing listens at RASA_URL (the real stack's 200: tests/browser/test_widget_browser.py)."""
    from tools.stack import free_port

    site = make_site(tmp_path, {"RASA_URL": f"http://127.0.0.1:{free_port()}"})
    r = site.client().get("/ready")
    assert r.status_code == 503 and r.json == {"ready": False}
    assert r.headers["access-control-allow-origin"] == "*"  # the widget may be on the city's own site
    assert site.client().get("/health").status_code == 200  # alive all the same


def test_page_is_japanese(site):
    body = site.client().get("/").text
    assert '<html lang="ja">' in body and "ケアラー相談チャット" in body


def test_unknown_route_is_404(site):
    assert site.client().get("/nope").status_code == 404


def test_python_m_bot_web_takes_its_settings_from_the_environment(tmp_path):
    # A real server on purpose: `python -m bot.web` (main) reads the environment once, and create_app
    # must get from it what the tests above pass by hand: here the proxy count, seen in HSTS.
    env = {"HANDOFF_DB_URL": f"sqlite:///{tmp_path}/handoff.db", "TRACKER_DB_URL": f"sqlite:///{tmp_path}/tracker.db",
           "WEB_PROXIES_COUNT": "1"}
    with web_app(env) as url:  # it waits for /health, on the WEB_PORT it chose
        r = requests.get(f"{url}/demo", headers={"X-Forwarded-For": "198.51.100.9", "X-Forwarded-Proto": "https"})
        assert r.status_code == 200 and r.headers["Strict-Transport-Security"].startswith("max-age=")
