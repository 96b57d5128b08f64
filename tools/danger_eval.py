"""Score a danger set: crisis flag and safety check, per kind of danger and per register.

    python -m tools.danger_eval tests/crisis/blind4.yml [--json out.json]

Reads each conversation's user turns through ``triage.assess`` (the lexicon and the learned
reader, as the action does) and prints, for the dangers, the share flagged as a crisis and the
share that got the crisis lines (flag or safety check), and for the safe conversations the
shares falsely flagged or asked. Only aggregate figures and ids are printed, never the text, so
a blind set can be scored without being studied.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, List

import yaml

from bot import triage


def score_set(path: Path) -> Dict[str, Any]:
    """Return overall, per-kind and per-register figures for one danger set."""
    convs = yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]
    groups: Dict[str, Dict[str, List[int]]] = defaultdict(lambda: defaultdict(list))
    missed: List[str] = []
    for conv in convs:
        danger = bool(conv["expected"]["crisis"])
        a = triage.assess(conv["turns"])
        flagged, asked = bool(a.crisis), bool(a.crisis or a.facts.possible_danger)
        for key in ("all", f"kind:{conv.get('kind', '?')}", f"register:{conv.get('register', '?')}:{int(danger)}"):
            groups[key]["danger" if danger else "safe"].append((flagged, asked))
        if danger and not asked:
            missed.append(conv["id"])

    def figures(rows: Dict[str, List]) -> Dict[str, Any]:
        d, s = rows.get("danger", []), rows.get("safe", [])
        return {
            "danger": len(d), "safe": len(s),
            "flag_recall": round(sum(f for f, _ in d) / len(d), 3) if d else None,
            "lines_recall": round(sum(a for _, a in d) / len(d), 3) if d else None,
            "false_flag": round(sum(f for f, _ in s) / len(s), 3) if s else None,
            "asked_safe": round(sum(a for _, a in s) / len(s), 3) if s else None,
        }

    return {"set": str(path), "groups": {k: figures(v) for k, v in sorted(groups.items())}, "missed_ids": missed}


def main(argv=None) -> int:
    """Print the figures of each set."""
    p = argparse.ArgumentParser(prog="python -m tools.danger_eval")
    p.add_argument("sets", nargs="+", type=Path)
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    results = [score_set(path) for path in args.sets]
    for r in results:
        print(f"== {r['set']}")
        print(f"{'group':40} {'n':>9} {'flag':>6} {'lines':>6} {'falseflag':>9} {'asked':>6}")
        for key, f in r["groups"].items():
            n = f"{f['danger']}/{f['safe']}"
            print(f"{key:40} {n:>9} {f['flag_recall'] if f['flag_recall'] is not None else '-':>6} "
                  f"{f['lines_recall'] if f['lines_recall'] is not None else '-':>6} "
                  f"{f['false_flag'] if f['false_flag'] is not None else '-':>9} "
                  f"{f['asked_safe'] if f['asked_safe'] is not None else '-':>6}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
