"""`make eval`: play the held-out conversations and score the four triage slots.

By default the real stack is started (Rasa server + action server on a fresh
SQLite tracker store) and each conversation is played over REST, the slots read
back from the tracker API. ``--offline`` runs the same triage and dialogue code
in-process, for quick iteration; the figures that count are the online ones.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import re
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any, Dict, List

import yaml

from bot.dialogue import Conversation, Message, take_turn

DEFAULT_SET = Path(__file__).resolve().parent.parent / "tests" / "eval" / "conversations.yml"


def load(path: Path) -> List[Dict[str, Any]]:
    """Load the conversations of a test set."""
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)["conversations"]


def play(turns: List[str], intent: str = "share_situation", with_text: bool = False) -> List[Any]:
    """Play a conversation through the dialogue in-process (bot.dialogue.take_turn), effects not carried
    out; return the Turn of every message. ``with_text``: the dialogue also sees each message's text
    (greetings, yes/no, English); without it, only the triage reads the texts, as `--offline` always did."""
    conv, played = Conversation(), []
    for i, text in enumerate(turns):
        turn = take_turn(conv, turns[: i + 1], Message(text if with_text else "", intent))
        conv = turn.conversation
        played.append(turn)
    return played


def play_offline(turns: List[str]) -> Dict[str, Any]:
    """Play a conversation through triage + dialogue in-process; return the slots."""
    last = play(turns)[-1]
    a, conv = last.assessment, last.conversation
    return {"carer_types": a.carer_types, "user_role": a.user_role, "handoff_destinations": a.handoff_destinations,
            "crisis": conv.crisis, "crisis_lines_given": conv.crisis_lines_given, "asked": list(conv.asked),
            "done": list(conv.done)}


def got_lines(slots: Dict[str, Any]) -> bool:
    """True when the conversation was shown the crisis lines: as a crisis, or with the safety check."""
    checked = "danger_check" in (slots.get("done") or []) or "danger_check" in (slots.get("asked") or [])
    return bool(slots.get("crisis_lines_given") or slots.get("crisis") or checked)


_NUMBER = re.compile(r"(?<![0-9-])(?:0120-[0-9-]+|0570-[0-9-]+|#8008|189|110|119)(?![0-9-])")


def _numbers(texts: List[str]) -> List[str]:
    """The phone numbers the bot showed, in order, once each."""
    found: List[str] = []
    for text in texts:
        for n in _NUMBER.findall(text):
            if n not in found:
                found.append(n)
    return found


def lines_fit(expected: Dict[str, Any], bot_texts: List[str]) -> bool:
    """The crisis lines shown fit the person and the danger: every number shown is one of the lines
    that data/catalog.yml chooses for the expected writer and danger (119 too for a medical emergency),
    and at least one was shown."""
    from bot import catalog

    fitting = {line["phone"] for line in catalog.lines_for(expected.get("writer") or "unknown", expected.get("danger") or "self")}
    if expected.get("danger") == "medical":
        fitting.add("119")
    shown = _numbers(bot_texts)
    return bool(shown) and set(shown) <= fitting


def register_figures(cases: List[Dict[str, Any]], results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Issue 14's two figures, on sets whose conversations say who writes (expected.writer) and the
    kind of danger (expected.danger): adult writers answered in the children's register (goal 0),
    and crisis replies whose lines fit the person (goal 1.00)."""
    adults = [(c, r) for c, r in zip(cases, results) if c["expected"].get("writer") == "adult"]
    crises = [(c, r) for c, r in zip(cases, results)
              if c["expected"].get("crisis") and c["expected"].get("danger") and r.get("bot_texts") is not None]
    out: Dict[str, Any] = {}
    if adults:
        out["adult_writers_in_children_register"] = sum(r.get("speech_style") == "easy" for _, r in adults) / len(adults)
    if crises:
        out["crisis_lines_fit"] = sum(lines_fit(c["expected"], r["bot_texts"]) for c, r in crises) / len(crises)
    return out


def score(cases: List[Dict[str, Any]], results: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Return accuracy of each slot, crisis recall/precision, and the misses."""
    n = len(cases)
    ok = {"carer_types": 0, "user_role": 0, "primary": 0, "required": 0}
    tp = fp = fn = 0
    lines_danger = lines_safe = 0
    misses = []
    for case, got in zip(cases, results):
        exp = case["expected"]
        dests = got.get("handoff_destinations") or []
        checks = {
            "carer_types": set(got.get("carer_types") or []) == set(exp["carer_types"]),
            "user_role": got.get("user_role") == exp["user_role"],
            "primary": (dests[0] if dests else None) == exp.get("primary_destination"),
            "required": set(exp.get("required_destinations") or []) <= set(dests),
        }
        for k, v in checks.items():
            ok[k] += v
        want, have = bool(exp["crisis"]), bool(got.get("crisis"))
        tp += want and have
        lines_danger += want and got_lines(got)
        lines_safe += not want and got_lines(got)
        fp += have and not want
        fn += want and not have
        unfit = bool(want and exp.get("danger") and got.get("bot_texts") is not None
                     and not lines_fit(exp, got["bot_texts"]))
        if not all(checks.values()) or want != have or unfit:
            misses.append({"id": case["id"], "turns": case["turns"], "expected": exp,
                           "got": {**{k: v for k, v in got.items() if k != "bot_texts"},
                                   "lines_shown": _numbers(got.get("bot_texts") or [])},
                           "failed": [k for k, v in checks.items() if not v] + (["crisis"] if want != have else [])
                           + (["lines"] if unfit else [])})
    return {
        "conversations": n,
        "carer_types_accuracy": ok["carer_types"] / n,
        "user_role_accuracy": ok["user_role"] / n,
        "primary_destination_accuracy": ok["primary"] / n,
        "required_destinations_present": ok["required"] / n,
        "crisis_recall": tp / (tp + fn) if tp + fn else 1.0,
        "crisis_precision": tp / (tp + fp) if tp + fp else 1.0,
        # The crisis lines shown (flag or safety check): to the dangers, and to the safe conversations.
        "danger_shown_lines": lines_danger / (tp + fn) if tp + fn else 1.0,
        "safe_shown_lines": lines_safe / (n - tp - fn) if n - tp - fn else 0.0,
        **register_figures(cases, results),
        "misses": misses,
    }


def play_online(sets: List[List[Dict[str, Any]]], model: str, workers: int = 4) -> List[List[Dict[str, Any]]]:
    """Start the real stack once and play every conversation of every set over REST."""
    from tools import stack

    with tempfile.TemporaryDirectory() as tmp, stack.running(f"sqlite:///{tmp}/eval.db", model=model) as s:
        def one(case: Dict[str, Any]) -> Dict[str, Any]:
            sender = f"eval-{case['id']}-{uuid.uuid4().hex[:8]}"
            said: List[str] = []
            for text in case["turns"]:
                said += [m.get("text") or "" for m in s.say(sender, text)]
            return {**s.slots(sender), "bot_texts": said}

        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            return [list(pool.map(one, cases)) for cases in sets]


def main(argv: List[str] | None = None) -> int:
    """Run the evaluation and print the figures; return 0 (the figures are the output)."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--set", type=Path, nargs="+", default=[DEFAULT_SET])
    p.add_argument("--model", default="models")
    p.add_argument("--offline", action="store_true")
    p.add_argument("--json", type=Path, help="also write the figures and misses here")
    args = p.parse_args(argv)
    sets = [load(path) for path in args.set]
    if args.offline:
        results = [[play_offline(c["turns"]) for c in cases] for cases in sets]
    else:
        results = play_online(sets, args.model)
    reports = {}
    for path, cases, got in zip(args.set, sets, results):
        report = reports[path.name] = score(cases, got)
        print(f"\n## {path.name}")
        for m in report["misses"]:
            print(f"MISS {m['id']} {m['failed']}: {' / '.join(m['turns'])[:90]}")
            print(f"     expected {json.dumps(m['expected'], ensure_ascii=False)}")
            print(f"     got      {json.dumps(m['got'], ensure_ascii=False)}")
        print("\n| figure | value |\n|---|---|")
        for k, v in report.items():
            if k != "misses":
                print(f"| {k} | {v:.3f} |" if isinstance(v, float) else f"| {k} | {v} |")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(reports, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
