"""Score the support tool's trigger (issue 17) on a labelled set: does the bot start the check when a
person asks what they may use, and stay out of the way otherwise? Prints recall, precision, misses.

    python -m tools.support_eval tests/blind/issue17_support.yml
"""

from __future__ import annotations

import sys
import unicodedata

import yaml

from bot import triage
from bot.dialogue.support import asks_for_support


def score(path: str) -> dict:
    messages = yaml.safe_load(open(path, encoding="utf-8"))["messages"]
    tp = fp = fn = tn = 0
    misses = []
    for m in messages:
        text = unicodedata.normalize("NFKC", m["text"]).strip().lower()
        facts = triage.read_facts([m["text"]])
        got = asks_for_support(text, facts.conditions)
        want = bool(m["asks_support"])
        tp, fp, fn, tn = tp + (got and want), fp + (got and not want), fn + (want and not got), tn + (not got and not want)
        if got != want:
            misses.append(("missed" if want else "false start", m["text"][:80]))
    return {"n": len(messages), "recall": round(tp / max(tp + fn, 1), 3), "precision": round(tp / max(tp + fp, 1), 3),
            "tp": tp, "fp": fp, "fn": fn, "tn": tn, "misses": misses}


if __name__ == "__main__":
    result = score(sys.argv[1])
    print({k: v for k, v in result.items() if k != "misses"})
    if "--misses" in sys.argv:
        for kind, text in result["misses"]:
            print(f"  {kind}: {text}")
