"""`make bench`: where a turn's time and the processes' memory go.

Starts the bot as `make run` does (Rasa server, action server, web app, SQLite tracker
store), then measures with an asyncio client (aiohttp): turn latency over REST at 1, 10
and 50 concurrent users, each in its own conversation of realistic turns from the
held-out sets; how a turn grows with the conversation's length; a breakdown of one
turn; the tokenizer and the parse alone; peak resident memory; time to first answer
and training time. Writes bench/results/<date>.json and .md and prints the table.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, List

import aiohttp

from bot.language import japanese
from tools import bench_live, bench_peer, stack
from tools.evaluate import load

ROOT = stack.ROOT
RESULTS = ROOT / "bench" / "results"


def pct(values: List[float], p: float) -> float:
    """Return the p-th percentile (nearest rank) in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return round(ordered[k] * 1000, 1)


def conversations() -> List[List[str]]:
    """Realistic user turns: every conversation of the held-out sets."""
    out = []
    for path in sorted((ROOT / "tests" / "eval").glob("*.yml")):
        out += [c["turns"] for c in load(path)]
    return out


def long_first_messages(min_chars: int = 80) -> List[List[str]]:
    """The heaviest turn for the triage: the long first messages of the held-out conversations (a
    person telling the whole story at once), longest first, each as a one-turn conversation."""
    firsts = {c[0] for c in conversations() if len(c[0]) >= min_chars}
    return [[t] for t in sorted(firsts, key=lambda t: (-len(t), t))]


def load_plan(quick: bool) -> List[tuple]:
    """(users, turns per user) of every load run: 1, 10 and 50 users."""
    return [(1, 20 if quick else 60), (10, 10 if quick else 30), (50, 4 if quick else 10)]


# Issue 13's targets for the long-first-message workload on this machine.
LONG_TARGETS = {"1_user_p95_ms": 100, "10_users_turns_per_s": 40, "10_users_p95_ms": 400}


def long_first_verdict(runs: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Whether the long-first-message runs meet LONG_TARGETS."""
    one, ten = runs[0], runs[1]
    return {"1_user_p95_ok": one["p95_ms"] <= LONG_TARGETS["1_user_p95_ms"],
            "10_users_throughput_ok": ten["turns_per_s"] >= LONG_TARGETS["10_users_turns_per_s"],
            "10_users_p95_ok": ten["p95_ms"] <= LONG_TARGETS["10_users_p95_ms"],
            "no_errors": not (one["errors"] or ten["errors"])}


def _pid_on(port: int) -> int:
    """The pid listening on a local port (the web app)."""
    out = subprocess.run(["ss", "-ltnpH", f"sport = :{port}"], capture_output=True, text=True).stdout
    pids = [int(x.split("=")[1]) for x in out.replace(",", " ").replace(")", " ").split() if x.startswith("pid=")]
    return pids[0] if pids else 0


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its children, in MB."""
    total = 0.0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return round(total, 1)


async def one_turn(http: aiohttp.ClientSession, url: str, sender: str, text: str) -> float:
    start = time.perf_counter()
    async with http.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text}) as r:
        await r.read()
        if r.status != 200:
            raise RuntimeError(f"status {r.status}")
    return time.perf_counter() - start


async def warm_up(http: aiohttp.ClientSession, url: str, convs: List[List[str]]) -> None:
    """Ten realistic turns in one conversation before any measured run: the same for the bot and the peer
    (which, unlike the bot, does not warm itself before it listens)."""
    for text in [t for c in convs for t in c][:10]:
        await one_turn(http, url, "bench-warmup", text)


async def load_test(url, users: int, turns_per_user: int, convs: List[List[str]]) -> Dict[str, Any]:
    """Each simulated user keeps its own conversation, turn after turn, as fast as answers come.

    ``url`` may be a list of Rasa instances: the turns then alternate between them.
    """
    urls = url if isinstance(url, list) else [url]
    latencies: List[float] = []
    errors = 0

    async def user(n: int, http: aiohttp.ClientSession) -> None:
        nonlocal errors
        sender = f"bench-{users}-{n}-{uuid.uuid4().hex[:6]}"
        texts = [t for conv in convs[n % len(convs):] + convs for t in conv][:turns_per_user]
        for k, text in enumerate(texts):
            try:
                latencies.append(await one_turn(http, urls[(n + k) % len(urls)], sender, text))
            except Exception:  # noqa: BLE001 - every failure is counted
                errors += 1

    connector = aiohttp.TCPConnector(limit=users + 5)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as http:
        start = time.perf_counter()
        await asyncio.gather(*(user(n, http) for n in range(users)))
        wall = time.perf_counter() - start
    return {"users": users, "turns": len(latencies), "errors": errors, "seconds": round(wall, 2),
            "turns_per_s": round(len(latencies) / wall, 1), "p50_ms": pct(latencies, 50),
            "p95_ms": pct(latencies, 95), "p99_ms": pct(latencies, 99)}


async def growth(url: str, turns: int) -> Dict[str, Any]:
    """Latency of turn 1 and turn N of one long conversation."""
    texts = ["母の介護をしています", "45歳です", "会社員です", "最近眠れなくて", "ありがとう",
             "仕事との両立がむずかしい", "週末はずっと実家です", "つかれました"]
    sender = f"bench-growth-{uuid.uuid4().hex[:6]}"
    lat = []
    async with aiohttp.ClientSession() as http:
        for i in range(turns):
            lat.append(await one_turn(http, url, sender, texts[i % len(texts)]))
    first, last = statistics.median(lat[:3]), statistics.median(lat[-3:])
    return {"turns": turns, "turn_1_ms": round(first * 1000, 1), f"turn_{turns}_ms": round(last * 1000, 1),
            "ratio": round(last / first, 2)}


async def breakdown(s: stack.Stack, texts: List[str]) -> Dict[str, Any]:
    """Time the parts of a turn: NLU, policies, action server, tracker store read and write."""
    from rasa.shared.core.domain import Domain

    from bot.rasa.tracker_store import DurableSQLTrackerStore

    sender = f"bench-parts-{uuid.uuid4().hex[:6]}"
    parse, predict, action, rebuild, read, write = [], [], [], [], [], []
    domain = Domain.load(str(ROOT / "domain.yml"))
    async with aiohttp.ClientSession() as http:
        for text in texts[:10]:
            await one_turn(http, s.rasa_url, sender, text)
        for text in texts[:20]:
            t = time.perf_counter()
            async with http.post(f"{s.rasa_url}/model/parse?token={s.token}", json={"text": text}) as r:
                await r.read()
            parse.append(time.perf_counter() - t)
            t = time.perf_counter()
            async with http.post(f"{s.rasa_url}/conversations/{sender}/predict?token={s.token}") as r:
                await r.read()
            predict.append(time.perf_counter() - t)
            async with http.get(f"{s.rasa_url}/conversations/{sender}/tracker?token={s.token}") as r:
                tracker = await r.json()
            t = time.perf_counter()
            body = {"next_action": "action_assess_carer", "sender_id": sender, "tracker": tracker,
                    "domain": {}, "version": "3.6.21"}
            async with http.post(f"{s.actions_url}/webhook", json=body) as r:
                await r.read()
            action.append(time.perf_counter() - t)
            # The store as the server uses it: a new one rebuilds the tracker from SQL; after a save
            # it keeps the tracker and a read only checks the session's row count and last id.
            store = DurableSQLTrackerStore(domain=domain, host=s.db_url)
            t = time.perf_counter()
            kept = await store.retrieve(sender)
            rebuild.append(time.perf_counter() - t)
            t = time.perf_counter()
            await store.save(kept)
            write.append(time.perf_counter() - t)
            t = time.perf_counter()
            again = await store.retrieve(sender)
            read.append(time.perf_counter() - t)
            assert again is kept, "the saved tracker was not kept"
    return {
        "nlu_parse_p50_ms": pct(parse, 50),
        "policies_predict_p50_ms": pct(predict, 50),
        "action_server_p50_ms": pct(action, 50),
        "tracker_read_rebuilt_p50_ms": pct(rebuild, 50),
        "tracker_read_kept_p50_ms": pct(read, 50),
        "tracker_write_p50_ms": pct(write, 50),
        "note": "predict includes its own tracker read; each part timed alone over HTTP or in-process; "
                "a turn reads the kept tracker, a new process or another instance's write rebuilds it",
    }


def tokenizer_speed(texts: List[str]) -> Dict[str, Any]:
    japanese.tokenize("ウォームアップ")
    start = time.perf_counter()
    rounds = 0
    while time.perf_counter() - start < 2:
        for t in texts:
            japanese._tokenize.__wrapped__(t)  # MeCab itself, not the cache
        rounds += 1
    return {"sentences_per_s": round(rounds * len(texts) / (time.perf_counter() - start))}


def training_seconds(quick: bool) -> tuple:
    """A full training from scratch (``rasa train --force``, no cache), or with --quick the last `make train`."""
    if quick:
        train_file = ROOT / "models" / ".train_seconds"
        return (int(train_file.read_text()) if train_file.exists() else None), "last `make train`"
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        subprocess.run([str(stack.BIN / "rasa"), "train", "--force", "--out", out, "--fixed-model-name", "bench"],
                       cwd=ROOT, check=True, capture_output=True,
                       env=dict(os.environ, RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2"))
        return round(time.perf_counter() - start), "`rasa train --force`"


def markdown(r: Dict[str, Any]) -> str:
    rows = ["| figure | value |", "|---|---|"]
    for lt in r["load"]:
        rows.append(f"| {lt['users']} user(s): turn p50 / p95 / p99 | {lt['p50_ms']} / {lt['p95_ms']} / {lt['p99_ms']} ms |")
        rows.append(
            f"| {lt['users']} user(s): throughput, errors | {lt['turns_per_s']} turns/s, {lt['errors']} errors ({lt['turns']} turns) |"
        )
    for lt in r.get("long_first", []):
        rows.append(f"| long first, {lt['users']} user(s): p50 / p95 / p99 | {lt['p50_ms']} / {lt['p95_ms']} / {lt['p99_ms']} ms |")
        rows.append(f"| long first, {lt['users']} user(s): throughput, errors | {lt['turns_per_s']} turns/s, {lt['errors']} errors |")
    if r.get("long_first_verdict"):
        rows.append(f"| long first messages: targets of issue 13 met | {r['long_first_verdict']} |")
    g = r["growth"]
    last = g[f"turn_{g['turns']}_ms"]
    rows.append(f"| turn 1 vs turn {g['turns']} of one conversation | {g['turn_1_ms']} ms vs {last} ms (x{g['ratio']}) |")
    for k, v in r["breakdown"].items():
        if k != "note":
            rows.append(f"| breakdown: {k} | {v} ms |")
    rows.append(f"| tokenizer alone | {r['tokenizer']['sentences_per_s']} sentences/s |")
    rows.append(f"| trained pipeline's parse alone (p50, 50 messages) | {r['parse_alone_p50_ms']} ms |")
    for k, v in r["memory_peak_mb"].items():
        rows.append(f"| peak RSS: {k} | {v} MB |")
    rows.append(f"| first answer after start (trained model) | {r['first_answer_s']} s |")
    first = r.get("first_people_ms") or []
    if first:
        rows.append(f"| first ten people after start, one after another: 1st / 10th / median | {first[0]} / {first[-1]} / "
                    f"{round(statistics.median(first), 1)} ms |")
    if r.get("live"):
        lv = r["live"]
        rows.append(f"| staff message to widget, {lv['conversations']} live conversations: p50 / p95 | "
                    f"{lv['p50_ms']} / {lv['p95_ms']} ms ({lv['messages']} messages, {lv['errors']} errors) |")
    rows.append(f"| training time ({r['training_how']}) | {r['training_s']} s |")
    if r.get("peer"):
        rows.append(f"| peer (plain Rasa, default recipe): peak RSS | {r['peer']['memory_peak_mb']} MB |")
        for name, key in (("realistic", "load"), ("heavy", "long_first")):
            for lt, ratio in zip(r["peer"][key], r["ratios"][name]):
                rows.append(f"| peer, {name}, {lt['users']} user(s): p50 / p95 / p99, throughput | {lt['p50_ms']} / {lt['p95_ms']} / "
                            f"{lt['p99_ms']} ms, {lt['turns_per_s']} turns/s, {lt['errors']} errors |")
                rows.append(f"| bot ÷ peer, {name}, {ratio['users']} user(s): throughput, p50, p95, p99 | {ratio['turns_per_s']}, "
                            f"{ratio['p50_ms']}, {ratio['p95_ms']}, {ratio['p99_ms']} |")
        rows.append(f"| issue 18's targets met | {r['ratio_targets_met']} |")
    return "\n".join(rows)


async def measure(quick: bool) -> Dict[str, Any]:
    convs = conversations()
    texts = [t for c in convs for t in c]
    result: Dict[str, Any] = {"date": dt.datetime.now().isoformat(timespec="seconds"), "machine": os.uname().machine,
                              "cpus": os.cpu_count()}
    result["tokenizer"] = tokenizer_speed(texts[:200])
    result["training_s"], result["training_how"] = training_seconds(quick)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        # The action server writes hand-offs where the web app reads them (the live bench needs both).
        with stack.running(f"sqlite:///{tmp}/tracker.db", extra_env={"HANDOFF_DB_URL": f"sqlite:///{tmp}/handoff.db"}) as s:
            async with aiohttp.ClientSession() as http:
                # Issue 18, no cold turn: ten people write their first message one after another, as soon
                # as Rasa answers (it opens its port once it is warm); the first waits no longer than the tenth.
                people = [c[0] for c in convs[::max(1, len(convs) // 10)]][:10]
                first = []
                for n, text in enumerate(people):
                    first.append(round(await one_turn(http, s.rasa_url, f"bench-first-{n}", text) * 1000, 1))
                    result.setdefault("first_answer_s", round(time.perf_counter() - started, 1))
                result["first_people_ms"] = first
                await warm_up(http, s.rasa_url, convs)
            env = {"RASA_URL": s.rasa_url, "HANDOFF_DB_URL": f"sqlite:///{tmp}/handoff.db", "TRACKER_DB_URL": s.db_url,
                   "RASA_AUTH_TOKEN": s.token}
            with stack.web_app(env) as web_url:
                plan = load_plan(quick)
                result["load"] = [await load_test(s.rasa_url, u, n, convs) for u, n in plan]
                longs = long_first_messages()
                result["long_first_messages"] = {"count": len(longs), "chars_mean": round(statistics.mean(len(c[0]) for c in longs))}
                result["long_first"] = [await load_test(s.rasa_url, u, n, longs) for u, n in plan]
                result["long_first_verdict"] = long_first_verdict(result["long_first"])
                result["growth"] = await growth(s.rasa_url, 20 if quick else 50)
                result["breakdown"] = await breakdown(s, texts)
                parse = []
                async with aiohttp.ClientSession() as http:
                    for text in texts[:50]:
                        t = time.perf_counter()
                        async with http.post(f"{s.rasa_url}/model/parse?token={s.token}", json={"text": text}) as r:
                            await r.read()
                        parse.append(time.perf_counter() - t)
                result["parse_alone_p50_ms"] = pct(parse, 50)
                # Issue 15: a staff message to the widget, 10 live conversations (tools/bench_live.py).
                result["live"] = await bench_live.staff_to_widget(web_url, env["HANDOFF_DB_URL"], 10, 5 if quick else 10)
                web_port = int(web_url.rsplit(":", 1)[1])
                memory = {"rasa": peak_rss_mb(s.rasa_pid), "actions": peak_rss_mb(s.actions_pid),
                          "web": peak_rss_mb(_pid_on(web_port))}
                memory["total"] = round(sum(memory.values()), 1)
                result["memory_peak_mb"] = memory
    # Issue 18: the plain Rasa bot of the default recipe, after the bot, under exactly the same load.
    return await with_peer(result, plan, convs, longs)


async def measure_ratios(quick: bool, peer_store: str = "sql") -> Dict[str, Any]:
    """Only the load runs of the bot, then of the peer: the ratios of issue 18."""
    convs, longs = conversations(), long_first_messages()
    plan = load_plan(quick)
    result: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, stack.running(f"sqlite:///{tmp}/tracker.db") as s:
        async with aiohttp.ClientSession() as http:
            await warm_up(http, s.rasa_url, convs)
        result["load"] = [await load_test(s.rasa_url, u, n, convs) for u, n in plan]
        result["long_first"] = [await load_test(s.rasa_url, u, n, longs) for u, n in plan]
    return await with_peer(result, plan, convs, longs, peer_store)


async def with_peer(result: Dict[str, Any], plan, convs: List[List[str]], longs: List[List[str]],
                    peer_store: str = "sql") -> Dict[str, Any]:
    """Add the peer's runs under the same ``plan`` and the bot ÷ peer ratios to the bot's ``result``."""
    result["peer"] = await measure_peer(plan, convs, longs, peer_store)
    result["ratios"] = {"realistic": bench_peer.ratios(result["load"], result["peer"]["load"]),
                        "heavy": bench_peer.ratios(result["long_first"], result["peer"]["long_first"])}
    result["ratio_targets_met"] = bench_peer.verdict(result["ratios"]["realistic"], result["ratios"]["heavy"])
    return result


async def measure_peer(plan, convs: List[List[str]], longs: List[List[str]], store: str = "sql") -> Dict[str, Any]:
    """The peer (tools/bench_peer.py): trained if needed, warmed up as the bot is, then the same runs."""
    trained_s = bench_peer.train()
    with bench_peer.running(store=store) as peer:
        async with aiohttp.ClientSession() as http:
            await warm_up(http, peer["url"], convs)
        load = [await load_test(peer["url"], u, n, convs) for u, n in plan]
        long_first = [await load_test(peer["url"], u, n, longs) for u, n in plan]
        return {"load": load, "long_first": long_first, "memory_peak_mb": peak_rss_mb(peer["pid"]), "training_s": trained_s}


async def measure_long(quick: bool) -> List[Dict[str, Any]]:
    """Only the long-first-message workload, on the default profile, after the same warm-up."""
    convs, longs = conversations(), long_first_messages()
    with tempfile.TemporaryDirectory() as tmp, stack.running(f"sqlite:///{tmp}/tracker.db") as s:
        async with aiohttp.ClientSession() as http:
            await warm_up(http, s.rasa_url, convs)
        return [await load_test(s.rasa_url, u, n, longs) for u, n in load_plan(quick)[:2]]  # 1 and 10 users


async def measure_scale(quick: bool) -> Dict[str, Any]:
    """The same load on the production profile: two Rasa instances, PostgreSQL, Redis."""
    from tools import scale

    convs = conversations()
    result: Dict[str, Any] = {"date": dt.datetime.now().isoformat(timespec="seconds"), "profile": "scale",
                              "cpus": os.cpu_count()}
    with scale.cluster() as c:
        urls = [c.a.rasa_url, c.b.rasa_url]
        async with aiohttp.ClientSession() as http:
            for k, text in enumerate([t for conv in convs[:3] for t in conv]):
                await one_turn(http, urls[k % 2], "bench-warmup", text)
        plan = load_plan(quick)
        # Issue 18: the same load on one instance, then on both (turns alternate between them).
        result["load_one"] = [await load_test([c.a.rasa_url], u, n, convs) for u, n in plan]
        result["load"] = [await load_test(urls, u, n, convs) for u, n in plan]
        result["two_over_one"] = [{"users": one["users"], "turns_per_s": round(two["turns_per_s"] / one["turns_per_s"], 2),
                                   "p95_ms": round(two["p95_ms"] / one["p95_ms"], 2)}
                                  for one, two in zip(result["load_one"], result["load"])]
        memory = {"rasa_a": peak_rss_mb(c.a.rasa_pid), "rasa_b": peak_rss_mb(c.b.rasa_pid),
                  "actions": peak_rss_mb(c.a.actions_pid)}
        memory["total"] = round(sum(memory.values()), 1)
        result["memory_peak_mb"] = memory
    return result


def main(argv=None) -> int:
    """Run the benchmark and write the results."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer turns (a smoke run)")
    p.add_argument("--profile", choices=["default", "scale"], default="default",
                   help="scale: two Rasa instances on PostgreSQL and Redis (make bench-scale)")
    p.add_argument("--only-long", action="store_true", help="only the long-first-message workload (issue 13's targets)")
    p.add_argument("--only-live", action="store_true", help="only staff -> widget latency (issue 15)")
    p.add_argument("--only-ratios", action="store_true", help="only the bot and the plain peer under the same load (issue 18)")
    p.add_argument("--peer-store", choices=["sql", "memory"], default="sql",
                   help="with --only-ratios: the peer's tracker store (memory: plain Rasa at its fastest, nothing written)")
    args = p.parse_args(argv)
    if args.only_ratios:
        r = asyncio.run(measure_ratios(args.quick, args.peer_store))
        for name in ("realistic", "heavy"):
            for row in r["ratios"][name]:
                print(f"| bot ÷ peer, {name}, {row['users']} user(s) | throughput {row['turns_per_s']}, p50 {row['p50_ms']}, "
                      f"p95 {row['p95_ms']}, p99 {row['p99_ms']} | errors {row['errors']} / {row['peer_errors']} |")
        print(f"| issue 18's targets met | {r['ratio_targets_met']} |")
        print(json.dumps({"bot": {"load": r["load"], "long_first": r["long_first"]}, "peer": r["peer"]}, ensure_ascii=False))
        return 0
    if args.only_live:
        lv = asyncio.run(bench_live.alone(args.quick))
        print(f"| staff message to widget, {lv['conversations']} live conversations | p50 {lv['p50_ms']} ms, "
              f"p95 {lv['p95_ms']} ms | {lv['messages']} messages, {lv['errors']} errors |")
        return 0
    if args.only_long:
        runs = asyncio.run(measure_long(args.quick))
        for lt in runs:
            print(f"| long first, {lt['users']} user(s) | {lt['p50_ms']} / {lt['p95_ms']} / {lt['p99_ms']} ms "
                  f"| {lt['turns_per_s']} turns/s | {lt['errors']} errors |")
        print(f"| targets met | {long_first_verdict(runs)} |")
        return 0
    if args.profile == "scale":
        result = asyncio.run(measure_scale(args.quick))
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{dt.date.today().isoformat()}-scale.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
        for name, key in (("one instance", "load_one"), ("two instances", "load")):
            for lt in result[key]:
                print(f"| {name}, {lt['users']} user(s) | {lt['p50_ms']} / {lt['p95_ms']} / {lt['p99_ms']} ms "
                      f"| {lt['turns_per_s']} turns/s | {lt['errors']} errors |")
        for r in result["two_over_one"]:
            print(f"| two ÷ one, {r['users']} user(s) | throughput {r['turns_per_s']}, p95 {r['p95_ms']} |")
        print(f"| peak RSS | {result['memory_peak_mb']} |")
        return 0
    result = asyncio.run(measure(args.quick))
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = dt.date.today().isoformat()
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    table = markdown(result)
    (RESULTS / f"{stem}.md").write_text(table + "\n", encoding="utf-8")
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
