"""The production profile on real servers: PostgreSQL, Redis, two Rasa instances (`make test-scale`)."""

import asyncio
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from typing import Dict, List, Optional

import aiohttp
import pytest
import sqlalchemy as sa

from bot.handoff.store import Staff, Store
from tools import scale, stack
from tools.evaluate import load
from tools.stack import ROOT, free_port

pytestmark = pytest.mark.scale
SLOTS = ("carer_types", "user_role", "handoff_destinations", "crisis")


@pytest.fixture(scope="module")
def cluster(trained_model):
    with scale.cluster(model=str(trained_model)) as c:
        yield c


@pytest.fixture(scope="module")
def nginx(cluster, tmp_path_factory):
    """deploy/nginx.conf as shipped, with the cluster's ports and a log of the upstream of each request."""
    folder = tmp_path_factory.mktemp("nginx")
    (folder / "tmp").mkdir()
    os.chmod(folder / "tmp", 0o777)  # nginx's workers run as nobody
    port, http_port, https_port, web_port, line_port = free_port(), free_port(), free_port(), free_port(), free_port()
    a, b = (int(u.rsplit(":", 1)[1]) for u in (cluster.a.rasa_url, cluster.b.rasa_url))
    actions = int(cluster.a.actions_url.rsplit(":", 1)[1])
    (folder / "certs").mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", str(folder / "certs" / "privkey.pem"),
                    "-out", str(folder / "certs" / "fullchain.pem")], check=True, capture_output=True)
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for old, new in (("listen 80;", f"listen 127.0.0.1:{http_port};"), ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
                     ("server 127.0.0.1:8000;", f"server 127.0.0.1:{web_port};"), ("server 127.0.0.1:8010;", f"server 127.0.0.1:{line_port};"),
                     ("127.0.0.1:5005 ", f"127.0.0.1:{a} "), ("127.0.0.1:5006 ", f"127.0.0.1:{b} "),
                     ("listen 127.0.0.1:8005;", f"listen 127.0.0.1:{port};"), ("127.0.0.1:5055;", f"127.0.0.1:{actions};"),
                     ("127.0.0.1:5056;", f"127.0.0.1:{actions};"), ("listen 127.0.0.1:8055;", f"listen 127.0.0.1:{free_port()};"),
                     ("access_log off;", "log_format up '$upstream_addr $status'; access_log upstream.log up;")):
        assert old in conf, f"deploy/nginx.conf changed: {old!r} not found"
        conf = conf.replace(old, new)
    (folder / "nginx.conf").write_text(conf)
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen([binary, "-c", str(folder / "nginx.conf"), "-p", f"{folder}/", "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert proc.poll() is None, (folder / "error.log").read_text() if (folder / "error.log").exists() else "nginx exited"
            time.sleep(0.1)
    public = {"http": f"http://127.0.0.1:{http_port}", "https": f"https://127.0.0.1:{https_port}",
              "ca": str(folder / "certs" / "fullchain.pem"), "web_port": web_port, "rasa": url,
              "line_port": line_port}
    try:
        yield url, folder / "upstream.log", (a, b), public
    finally:
        proc.terminate()
        proc.wait(10)


def talk_through(cluster, url: str, prefix: str, n: int, texts: List[str]) -> None:
    """``n`` conversations of ``texts`` through ``url``: every turn answered, every conversation stored whole."""
    senders = [f"{prefix}-{i}-{uuid.uuid4().hex[:6]}" for i in range(n)]

    async def run():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            async def one(s: str):
                return [await turn(http, url, s, text) for text in texts]
            return await asyncio.gather(*(one(s) for s in senders))

    results = asyncio.run(run())
    assert all(all(r for r in replies) for replies in results)
    for s in senders:
        assert user_texts(cluster.a, s) == texts


def conversations(n: int) -> List[List[str]]:
    convs = [c["turns"] for c in load(ROOT / "tests" / "eval" / "holdout.yml")]
    return [c + ["ありがとう"] for c in convs[:n]]


async def turn(http, url: str, sender: str, text: str, retries: int = 0) -> List[Dict]:
    for _attempt in range(retries + 1):
        try:
            async with http.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
                if r.status == 200:
                    return await r.json()
                error = RuntimeError(f"status {r.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            error = e
        await asyncio.sleep(1)
    raise error


def user_texts(stack_, sender: str) -> List[str]:
    return [e["text"] for e in stack_.tracker(sender)["events"] if e["event"] == "user"]


def test_turns_alternate_between_instances_and_nothing_is_lost(cluster):
    convs = conversations(24)
    senders = [f"alt-{i}-{uuid.uuid4().hex[:6]}" for i in range(len(convs))]
    urls = [cluster.a.rasa_url, cluster.b.rasa_url]

    async def run():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            async def one(i: int):
                replies = []
                for k, text in enumerate(convs[i]):
                    replies.append(await turn(http, urls[(i + k) % 2], senders[i], text))
                return replies
            return await asyncio.gather(*(one(i) for i in range(len(convs))))

    results = asyncio.run(run())
    assert all(all(r for r in replies) for replies in results)  # every turn got its answer
    for i, sender in enumerate(senders):
        assert user_texts(cluster.a, sender) == convs[i]  # complete, in order, none doubled
        assert user_texts(cluster.b, sender) == convs[i]

    # The same turns, one conversation at a time on a single instance, give the same slots.
    async def single():
        async with aiohttp.ClientSession() as http:
            for i in range(len(convs)):
                for text in convs[i]:
                    await turn(http, cluster.a.rasa_url, f"single-{senders[i]}", text)

    asyncio.run(single())
    for sender in senders:
        both, one = cluster.a.slots(sender), cluster.a.slots(f"single-{sender}")
        assert {k: both[k] for k in SLOTS} == {k: one[k] for k in SLOTS}


def test_staff_talk_live_across_two_web_processes_and_two_instances(cluster, tmp_path):
    """Issue 15 on the production profile: the person writes through one web process and Rasa
    instance, staff through the other; every staff message reaches the widget once and in order,
    whichever process the widget asks; the person's messages while staff hold it never reach the bot."""
    from tools.live_client import PASSWORD, Staff, Widget

    store = Store(cluster.web_env["HANDOFF_DB_URL"])
    store.add_user("kodomo-live", PASSWORD, "kodomo_katei_soudan")
    web_a = {**cluster.web_env, "RASA_URL": cluster.a.rasa_url, "RASA_AUTH_TOKEN": cluster.a.token}
    web_b = {**cluster.web_env, "RASA_URL": cluster.b.rasa_url, "RASA_AUTH_TOKEN": cluster.b.token}
    with stack.web_app(web_a, log=tmp_path / "web-a.log") as url_a, stack.web_app(web_b, log=tmp_path / "web-b.log") as url_b:
        w = Widget(url_a)
        w.say("中2です。ばあちゃんが認知症で、夜はわたしが見てる")
        w.say("うん、つたえて")
        ref = store.handoff_for_conversation(w.sender)["ref"]
        staff_a, staff_b = Staff(url_a, "kodomo-live"), Staff(url_b, "kodomo-live")
        key = staff_b.find(lambda c: c["ref"] == ref)["key"]
        assert staff_b.post(key, "join").json()["ok"]
        w.wait_for(lambda m: m["who"] == "notice")
        assert w.say("きいてくれるの？") == []  # through web A and instance A: held, not read by the bot
        for i in range(6):
            r = (staff_a if i % 2 else staff_b).post(key, "send", text=f"職員 {i}", client_id=uuid.uuid4().hex)
            assert r.status_code == 200 and r.json()["ok"], (r.status_code, r.text[:300])
        widgets = [w, Widget(url_b)]
        widgets[1].sender = w.sender
        shown: List[str] = []
        deadline = time.time() + 60
        k = 0
        while len(shown) < 6 and time.time() < deadline:
            reader = widgets[k % 2]  # the widget's requests land on either process
            reader.after = max(x.after for x in widgets)
            before = len(reader.shown)
            reader.updates()
            shown += [m["text"] for m in reader.shown[before:] if m["who"] == "staff"]
            k += 1
        assert shown == [f"職員 {i}" for i in range(6)]
        assert staff_a.post(key, "leave").json()["ok"]
        w2 = Widget(url_b)
        w2.sender = w.sender
        assert w2.say("またね") != []  # handed back: instance B's bot answers
        texts = user_texts(cluster.a, w.sender)
        assert texts.count("きいてくれるの？") == 1


def test_nginx_as_shipped_spreads_the_turns_over_both_instances(cluster, nginx):
    url, log, (a, b), _ = nginx
    texts = ["こんにちは", "父の介護で仕事を休みがちです", "48歳です"]
    talk_through(cluster, url, "lb", 12, texts)
    served = [line.split()[0] for line in log.read_text().splitlines() if line.endswith(" 200")]
    assert len(served) >= 12 * len(texts)
    assert {f"127.0.0.1:{a}", f"127.0.0.1:{b}"} <= set(served)  # least_conn used both


def _https(public, path: str, body: Optional[dict] = None, raw: Optional[bytes] = None, headers: Optional[dict] = None):
    """A request through nginx's public TLS port, trusting only the test's self-signed certificate."""
    context = ssl.create_default_context(cafile=public["ca"])
    data = raw if raw is not None else json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(public["https"] + path, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60, context=context) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_only_the_web_app_is_reachable_through_nginx_and_only_over_tls(cluster, nginx, tmp_path):
    url, _, _, public = nginx
    env = {**cluster.web_env, "RASA_URL": public["rasa"], "WEB_PROXIES_COUNT": "1", "STAFF_COOKIE_SECURE": "true"}
    with stack.web_app(env, port=public["web_port"]):
        # Plain HTTP only redirects to HTTPS.
        conn = http.client.HTTPConnection("127.0.0.1", int(public["http"].rsplit(":", 1)[1]), timeout=10)
        conn.request("GET", "/demo")
        r = conn.getresponse()
        assert r.status == 301 and r.getheader("Location", "").startswith("https://")
        # The widget and the console work over TLS 1.2+, with HSTS.
        status, headers, body = _https(public, "/widget.js")
        assert status == 200 and b"function" in body
        assert "max-age=" in headers.get("Strict-Transport-Security", "")
        sender = f"tls-{uuid.uuid4().hex[:12]}"
        status, _, body = _https(public, "/chat/send", {"sender": sender, "id": uuid.uuid4().hex, "text": "こんにちは"})
        assert status == 200 and json.loads(body)["messages"], body
        status, headers, body = _https(public, "/staff/login")
        assert status == 200 and "ログイン" in body.decode()
        assert headers.get("Cache-Control") == "no-store"
        with socket.create_connection(("127.0.0.1", int(public["https"].rsplit(":", 1)[1]))) as raw:
            with ssl.create_default_context(cafile=public["ca"]).wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.version() in ("TLSv1.2", "TLSv1.3")
        # Rasa's API and REST channel and the action server are not reachable from the public side.
        for path, body in (("/webhooks/rest/webhook", {"sender": "x", "message": "はい"}), ("/status", None),
                           (f"/conversations/{sender}/tracker?token={cluster.a.token}", None), ("/model", None),
                           ("/webhook", {"next_action": "action_assess_carer", "tracker": {}}), ("/actions", None)):
            status, _, answer = _https(public, path, body)
            assert status == 404, (path, status)
            assert b'"events"' not in answer and b'"slots"' not in answer and b"responses" not in answer
    # The private side listens on loopback only.
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "listen 127.0.0.1:8005;" in conf and "listen 127.0.0.1:8055;" in conf
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in conf


def test_each_service_has_its_own_database_role(cluster):
    sender = f"roles-{uuid.uuid4().hex[:8]}"
    cluster.a.say(sender, "祖母の介護をしています")
    pg = cluster.postgres
    count = sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :s")
    with sa.create_engine(cluster.web_env["TRACKER_READ_DB_URL"]).connect() as c:  # the console reads
        assert c.execute(count, {"s": sender}).scalar() > 0
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            c.execute(sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": sender})
    with sa.create_engine(cluster.web_env["TRACKER_DB_URL"]).connect() as c:  # retention reads and deletes, never writes
        with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
            c.execute(sa.text("UPDATE events SET data = '{}' WHERE sender_id = :s"), {"s": sender})
    with pytest.raises(sa.exc.OperationalError, match="permission denied"):  # the hand-off role: no transcripts
        sa.create_engine(pg.role_url("kc_handoff", "tracker")).connect().close()
    with pytest.raises(sa.exc.OperationalError, match="permission denied"):  # Rasa: no hand-offs or contacts
        sa.create_engine(pg.role_url("kc_tracker", "handoff")).connect().close()


def test_lines_webhook_reaches_the_adapter_through_nginx_and_only_signed(cluster, nginx, tmp_path):
    """Issue 16: deploy/nginx.conf routes LINE's webhook to the adapter, which refuses unsigned calls."""
    from tests.line.conftest import ACCESS_TOKEN, RELAY_TOKEN, SECRET, adapter_env
    from tests.line.fake_line import FakeLine, random_user_id, sign, text_event, webhook_body

    _, _, _, public = nginx
    env = {**cluster.web_env, "RASA_URL": cluster.a.rasa_url, "WEB_PROXIES_COUNT": "1",
           "LINE_RELAY_TOKEN": RELAY_TOKEN}
    with stack.web_app(env, port=public["web_port"]) as web, FakeLine(ACCESS_TOKEN) as fake:
        with stack.line_adapter(adapter_env(str(tmp_path / "line.db"), web, fake.url), port=public["line_port"]):
            user = random_user_id()
            body = webhook_body([text_event(user, "父の介護をしながら働いています", fake.issue_reply_token(user))])
            assert _https(public, "/webhooks/line/webhook", raw=body)[0] == 401
            assert _https(public, "/webhooks/line/webhook", raw=body, headers={"X-Line-Signature": sign("0" * 32, body)})[0] == 401
            status, _, _ = _https(public, "/webhooks/line/webhook", raw=body, headers={"X-Line-Signature": sign(SECRET, body)})
            assert status == 200
            fake.wait_for(lambda calls: any(c["to"] == user and c["kind"] == "reply" for c in calls), timeout=60)


def test_handoffs_survive_a_killed_instance(cluster):
    store = Store(cluster.env["HANDOFF_DB_URL"])
    senders = [f"kill-{i}-{uuid.uuid4().hex[:6]}" for i in range(10)]
    first = "認知症の母を介護しています。52歳の会社員です"

    async def run():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            await asyncio.gather(*(turn(http, cluster.b.rasa_url, s, first) for s in senders))
            await asyncio.gather(*(turn(http, cluster.b.rasa_url, s, "はい") for s in senders[:5]))
            os.killpg(cluster.b.rasa_pid, signal.SIGKILL)  # instance B dies mid-run
            await asyncio.sleep(1)
            # The conversations go on on instance A, with their history.
            await asyncio.gather(*(turn(http, cluster.a.rasa_url, s, "はい") for s in senders[5:]))
            await asyncio.gather(*(turn(http, cluster.a.rasa_url, s, "なし") for s in senders))

    asyncio.run(run())
    for s in senders:
        assert user_texts(cluster.a, s) == [first, "はい", "なし"]
        assert cluster.a.slots(s)["handoff_ref"], s
    refs = [store.handoff_for_conversation(s)["ref"] for s in senders]
    listed = [h for h in store.list_handoffs(Staff("t", "fukushi_somu")) if h["conversation_id"] in senders]
    assert len(listed) == len(senders) == len(set(refs))  # none lost, none doubled


def test_nginx_as_shipped_sends_every_turn_to_the_living_instance(cluster, nginx):
    """Runs after instance B was killed: nginx skips it (proxy_next_upstream) and no turn fails."""
    url, log, (a, b), _ = nginx
    before = len(log.read_text().splitlines())
    talk_through(cluster, url, "lb-dead", 8, ["祖父の介護をしています", "大学1年です", "ありがとう"])
    lines = log.read_text().splitlines()[before:]
    assert f"127.0.0.1:{b}, 127.0.0.1:{a} 200" in lines  # tried the dead one, then answered by the living one


def test_the_bot_recovers_after_postgres_restarts(cluster):
    senders = [f"pg-{i}-{uuid.uuid4().hex[:6]}" for i in range(8)]
    texts = ["こんにちは", "祖母の介護をしています", "高校2年です", "ありがとう"]
    acknowledged: Dict[str, List[str]] = {s: [] for s in senders}

    async def run():
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as http:
            async def one(s: str):
                for k, text in enumerate(texts):
                    if k == 2 and s == senders[0]:
                        cluster.postgres.restart()  # PostgreSQL goes away and comes back mid-run
                    try:
                        await turn(http, cluster.a.rasa_url, s, text)
                        acknowledged[s].append(text)
                    except Exception:  # noqa: BLE001 - not acknowledged: the client says it again
                        await turn(http, cluster.a.rasa_url, s, text, retries=20)
                        acknowledged[s].append(text)
            await asyncio.gather(*(one(s) for s in senders))

    started = time.time()
    asyncio.run(run())
    assert time.time() - started < 120
    for s in senders:
        stored = user_texts(cluster.a, s)
        # Every acknowledged turn is stored, in order; a turn cut by the restart may be stored once more.
        assert [t for i, t in enumerate(stored) if i == 0 or t != stored[i - 1]] == acknowledged[s] == texts


