"""Snapshot of everything the triage reads, to prove a refactoring changed no behaviour (issue 13).

``python tools/triage_snapshot.py /tmp/triage-before.json`` before the change and
``... /tmp/triage-after.json`` after it; ``cmp`` the two files. The snapshot holds, for every
conversation of tests/eval, tests/crisis and data/danger: ``assess`` of every prefix (all four
slots and every field of the facts), ``read_message`` of every turn (as an answer to the age
question and not), ``read_facts`` with the age asked, ``danger_words`` of every turn and
``danger_evidence`` of the whole conversation; for every NLU example the same per message; the
ages found in each text with their spans; and the lexicon's word lists as the code sees them.

The learned danger reader is part of ``assess``: give both runs the same copy of it
(``--danger-model``; its fingerprint is not checked). Its scores are cached in this process (the
same conversation is scored once), which changes nothing but the time it takes.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from bot import triage  # noqa: E402
from bot.language import japanese  # noqa: E402
from bot.triage import danger_model  # noqa: E402
from bot.triage import lexicon as lx  # noqa: E402

CONVERSATIONS = ["tests/eval/*.yml", "tests/crisis/*.yml", "data/danger/**/*.yml"]
NLU = "data/nlu/*.yml"
# The word lists of the lexicon before issue 13 (new names may be added; these must not change).
LEXICON_NAMES = [
    "ADULT_STAGE", "CARE_WORDS", "CHILD_HINTS", "CHILD_STAGE", "CONDITIONS", "CRISIS", "DISTRESS", "EMERGENCY",
    "EMPLOYER", "EMPLOYER_INTRO", "HANDLED", "NAMED_DESTINATIONS", "NEEDS", "NOT_CARING", "NOT_CRISIS", "NOT_WORKING",
    "NUM", "RECEIVING_CARE", "RELATIONS", "SELF_CARE", "SIDE_JOB", "SUPPORTER", "SUPPORTER_INTRO", "SUPPORTER_WEAK",
    "WORKING", "YOUTH_STAGE",
]
# The private regexes of the triage before issue 13, looked up by name in any bot.triage module.
REGEX_NAMES = [
    "_RELATIONS", "_CONDITIONS", "_NEEDS", "_NAMED", "_CARE", "_RECEIVING", "_EMPLOYER", "_EMPLOYER_INTRO", "_SUPPORTER",
    "_SUPPORTER_WEAK", "_PARENTHESES", "_SUPPORTER_INTRO", "_SUPPORTER_INTRO_RE", "_SELF_CARE", "_NOT_CARING", "_NEED_WORK",
    "_CHILD", "_CHILD_HINTS", "_YOUTH", "_ADULT", "_WORKING", "_NOT_WORKING", "_SIDE_JOB", "_EMERGENCY", "_CRISIS", "_HANDLED",
    "_DISTRESS", "_NOT_CRISIS", "_STILL_WORKING", "_AGE", "_DECADE_WORD", "_BARE_NUMBER", "_LIST_NUMBER", "_SELF_AGE",
    "_ENGLISH_AGE", "_ONO_AGE", "_LEADING_AGE", "_COMMA_AGE", "_PAREN_AGE", "_KIN", "_RECEIVER_AGE", "_GRADE", "_YEARS_WORKING",
    "_RECEIVER_BEFORE", "_RECEIVER_AFTER", "_SCHOOL_OF_OTHERS", "_STUDENT", "_NOT_A_STUDENT", "_STRONG_CARE", "_INTERPRETING",
    "_THIRD_SUBJECT", "_SELF_SUBJECT", "_DECLINE", "_CHILD_DESCRIBED", "_SELF_REFERENCE", "_CARING_VERBS",
    "_NEGATED_CONDITION", "_STRONG_CONDITIONS", "_RELATION_PATTERNS", "_FIRST_PERSON", "_KANJI_DIGITS",
]


def plain(value: Any) -> Any:
    """A JSON value with a fixed order: sets sorted, dataclasses and tuples opened."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "regex") and hasattr(value, "on_kana"):  # a compiled lexicon pattern
        return [value.regex.pattern, value.regex.flags, value.on_kana]
    if hasattr(value, "pattern") and hasattr(value, "flags"):  # a compiled regex
        return [value.pattern, value.flags]
    return value


def find_ages(text: str) -> List[Tuple[int, int, int]]:
    """The public age finder, or (before issue 13) what bot/rasa/facts.py did with the private regex."""
    if hasattr(triage, "find_ages"):
        return triage.find_ages(text)
    old = importlib.import_module("bot.triage.assess")  # the module: bot.triage.assess is also a function
    norm, spans = japanese.normalize_with_map(text)
    out = []
    for m in old._AGE.finditer(norm):
        number = triage.kanji_number(m.group(1))
        if number is not None:
            out.append((spans[m.start()][0], spans[m.end() - 1][1], number))
    return out


def private_regexes() -> Dict[str, Any]:
    """Every private regex of the triage, wherever it now lives (in a triage module, or the lexicon)."""
    modules = [importlib.import_module(f"bot.triage.{m.name}") for m in pkgutil.iter_modules(triage.__path__)
               if m.name != "danger_model"]
    found = {}
    for name in REGEX_NAMES:
        holders = [getattr(m, name) for m in modules if hasattr(m, name)]
        if not holders and hasattr(lx, name.lstrip("_")):  # composed by the lexicon now (_KIN: lx.KIN)
            holders = [getattr(lx, name.lstrip("_"))]
        found[name] = plain(holders[0]) if holders else "MISSING"
    return found


def conversations() -> Iterable[Tuple[str, str, List[str]]]:
    """(file, id, turns) of every conversation whose turns are a list of texts."""
    for pattern in CONVERSATIONS:
        for path in sorted(glob.glob(str(ROOT / pattern), recursive=True)):
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
            convs = data.get("conversations") if isinstance(data, dict) else None
            if not isinstance(convs, list):
                continue
            for i, conv in enumerate(convs):
                turns = conv.get("turns") if isinstance(conv, dict) else None
                if isinstance(turns, list) and turns and all(isinstance(t, str) for t in turns):
                    yield str(Path(path).relative_to(ROOT)), f"{i}:{conv.get('id')}", turns


def nlu_examples() -> Iterable[Tuple[str, str]]:
    """(file, text) of every NLU example."""
    for path in sorted(glob.glob(str(ROOT / NLU))):
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            for line in (block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    yield str(Path(path).relative_to(ROOT)), line.strip()[2:]


def message(text: str) -> Dict[str, Any]:
    """Everything read from one message alone."""
    return {
        "read": plain(triage.read_message(text)),
        "read_as_age_answer": plain(triage.read_message(text, asked_age=True)),
        "danger_words": triage.danger_words(text),
        "ages": plain(find_ages(text)),
    }


def assessment(turns: Sequence[str]) -> Dict[str, Any]:
    a = triage.assess(list(turns))
    return {
        "carer_types": a.carer_types,
        "user_role": a.user_role,
        "handoff_destinations": a.handoff_destinations,
        "crisis": a.crisis,
        "primary": a.primary,
        "facts_as_dict": plain(a.facts.as_dict()),
        "facts": plain(a.facts),
    }


def pin_the_danger_reader(folder: Path) -> None:
    """Use the reader stored in ``folder`` whatever data it was learned from, and score each conversation once.

    The learned reader is a fixed function here: a snapshot compares the triage's code, and a reader
    learned again between two snapshots (``make train``) must not look like a change of that code.
    """
    meta = json.loads((folder / "reader.json").read_text(encoding="utf-8"))
    fingerprint = danger_model.fingerprint
    danger_model.fingerprint = lambda root=danger_model.ROOT: meta["fingerprint"]
    try:
        pinned = danger_model.load(folder)
    finally:
        danger_model.fingerprint = fingerprint
    if pinned is None:
        sys.exit(f"no learned reader of danger in {folder}")
    danger_model.reader = lambda: pinned
    scores: Dict[Tuple[str, ...], float] = {}
    score = danger_model.score

    def cached(messages: Sequence[str]) -> float:
        key = tuple(messages)
        if key not in scores:
            scores[key] = score(messages)
        return scores[key]

    danger_model.score = cached


def snapshot(model: Path) -> Dict[str, Any]:
    pin_the_danger_reader(model)
    out: Dict[str, Any] = {
        "lexicon": {name: plain(getattr(lx, name, "MISSING")) for name in LEXICON_NAMES},
        "regexes": private_regexes(),
        "constants": {"CARER_TYPE_ORDER": list(triage.CARER_TYPE_ORDER), "MAX_DESTINATIONS": triage.MAX_DESTINATIONS,
                      "OLDER_RELATIVES": sorted(triage.OLDER_RELATIVES)},
        "conversations": [],
        "nlu": [],
    }
    start, prefixes = time.time(), 0
    for n, (path, cid, turns) in enumerate(conversations()):
        out["conversations"].append({
            "file": path,
            "id": cid,
            "prefixes": [assessment(turns[: i + 1]) for i in range(len(turns))],
            "messages": [message(t) for t in turns],
            "read_facts_age_asked": plain(triage.read_facts(turns, asked=["age"])),
            "danger_evidence": plain(triage.danger_evidence(turns)),
        })
        prefixes += len(turns)
        if n % 500 == 0:
            print(f"{n} conversations, {prefixes} prefixes, {time.time() - start:.0f}s", file=sys.stderr)
    for path, text in nlu_examples():
        out["nlu"].append({"file": path, "text": text, **message(text), "facts": plain(triage.read_facts([text]))})
    out["size"] = {"conversations": len(out["conversations"]), "prefixes": prefixes, "nlu_examples": len(out["nlu"])}
    print(json.dumps(out["size"]), f"{time.time() - start:.0f}s", file=sys.stderr)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="where to write the JSON, e.g. /tmp/triage-before.json")
    parser.add_argument("--danger-model", type=Path, default=ROOT / "models" / "danger",
                        help="the learned reader to use (a copy, so that both snapshots use the same one)")
    args = parser.parse_args(argv)
    text = json.dumps(snapshot(args.danger_model), ensure_ascii=False, sort_keys=True, indent=1)
    Path(args.out).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
