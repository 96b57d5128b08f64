"""The support-information tool of measure 6-3-3-3 (障害福祉課, issue 17): the city's file of allowances
and services (data/support_info.yml), checked against a schema at start, and what *may* apply to a person.

The file is the city's to edit. `load` refuses a broken file with a message naming the place and the
problem (the action server and the web app load it at start and stop there), and also refuses what the
tool must never say: an amount in yen, a phone number, or wording that promises an entitlement.
`match` ranks the items by the answers given (any answer may be skipped): an item whose condition a
known answer contradicts is left out; one whose conditions are confirmed comes first.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import jsonschema
import yaml

from bot.settings import ROOT

PATH = ROOT / "data" / "support_info.yml"
AGES = ("under_18", "age_18_19", "age_20_plus")
CERTIFICATES = ("physical_1_2", "physical_3_6", "ryoiku", "mental", "none")
LIVING = ("home", "facility", "hospital")
QUESTIONS = {"cared_age": AGES, "certificate": CERTIFICATES, "living": LIVING}
KINDS = ("allowance", "service", "medical", "lending", "transport", "support")
STALE_DAYS = 365  # the console warns when the file was last checked longer ago than this
# What the tool must never say (issue 17): amounts, phone numbers, promises of an entitlement.
FORBIDDEN = re.compile(r"\d[\d,，]*\s*円|\d{2,4}[-‐ー－]\d{2,4}[-‐ー－]\d{3,4}"
                       r"|もらえます|受けられます|受給できます|対象です|対象になります|資格があります")

_TEXT = {"type": "string", "minLength": 1}
SCHEMA: Dict[str, Any] = {
    "type": "object",
    "required": ["version", "checked", "topics", "items"],
    "additionalProperties": False,
    "properties": {
        "version": {"const": 1},
        "checked": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "topics": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["id", "name", "easy"], "additionalProperties": False,
            "properties": {"id": {"type": "string", "pattern": "^[a-z_]+$"}, "name": _TEXT, "easy": _TEXT}}},
        "items": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "name", "reading", "kind", "what", "what_easy", "who", "prepare", "section", "source",
                         "source_name", "topics"],
            "properties": {
                "id": {"type": "string", "pattern": "^[a-z0-9_]+$"},
                "name": _TEXT, "reading": _TEXT, "what": _TEXT, "what_easy": _TEXT, "source_name": _TEXT,
                "kind": {"enum": list(KINDS)},
                "measure": {"type": ["string", "null"], "pattern": r"^6-\d-\d-\d+$"},
                "who": {"type": "object", "additionalProperties": False, "properties": {
                    key: {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"enum": list(values)}}
                    for key, values in QUESTIONS.items()}},
                "note": _TEXT,
                "prepare": {"type": "array", "minItems": 1, "maxItems": 6, "items": _TEXT},
                "section": {"type": "string"},
                "source": {"type": "string", "pattern": "^https://"},
                "topics": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            }}},
    },
}


class SupportInfoError(ValueError):
    """The file is broken: the message names where and what."""


def _where(error: jsonschema.ValidationError) -> str:
    return "/".join(str(p) for p in error.absolute_path) or "(the file)"


def check(data: Any, sections: Optional[List[str]] = None) -> List[str]:
    """Every problem of the file's contents, as lines for a person to fix; [] when it is sound."""
    problems = [f"{_where(e)}: {e.message}" for e in sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(data), key=str)]
    if problems:
        return problems
    try:
        dt.date.fromisoformat(data["checked"])
    except ValueError:
        problems.append(f"checked: {data['checked']!r} is not a date (YYYY-MM-DD)")
    topics = {t["id"] for t in data["topics"]}
    seen = set()
    for n, item in enumerate(data["items"]):
        where = f"items/{n} ({item['id']})"
        if item["id"] in seen:
            problems.append(f"{where}: the id is used twice")
        seen.add(item["id"])
        problems += [f"{where}: unknown topic {t!r}" for t in item["topics"] if t not in topics]
        if sections is not None and item["section"] not in sections:
            problems.append(f"{where}: section {item['section']!r} is not a destination of data/catalog.yml")
        for field in ("name", "what", "what_easy", "note", *[f"prepare/{i}" for i in range(len(item["prepare"]))]):
            text = item["prepare"][int(field.split("/")[1])] if field.startswith("prepare/") else item.get(field, "")
            found = FORBIDDEN.search(text or "")
            if found:
                problems.append(f"{where}/{field}: 「{found.group(0)}」 must not be written here (an amount, a phone number or a promise)")
    return problems


@functools.lru_cache(maxsize=4)
def load(path: str = "") -> Dict[str, Any]:
    """The file (SUPPORT_INFO_PATH or data/support_info.yml), checked; SupportInfoError if it is broken."""
    from bot import catalog

    file = Path(path or _setting() or PATH)
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise SupportInfoError(f"{file}: cannot be read: {type(e).__name__}: {e}") from None
    problems = check(data, sections=list((catalog.load().get("destinations") or {}).keys()))
    if problems:
        raise SupportInfoError(f"{file} is refused ({len(problems)} problem(s)):\n  " + "\n  ".join(problems[:20]))
    return data


def load_or_exit(service: str) -> None:
    """At a service's start: load the file, or stop with the message that says what to fix."""
    import sys

    try:
        load()
    except SupportInfoError as e:
        print(f"{service}: refusing to start: {e}", file=sys.stderr)
        sys.exit(2)


def _setting() -> str:
    from bot.settings import load as settings

    return settings().support_info_path


def items() -> List[Dict[str, Any]]:
    return list(load()["items"])


def item(item_id: str) -> Optional[Dict[str, Any]]:
    return next((i for i in load()["items"] if i["id"] == item_id), None)


def topics() -> List[Dict[str, str]]:
    return list(load()["topics"])


def checked() -> dt.date:
    return dt.date.fromisoformat(load()["checked"])


def stale(today: Optional[dt.date] = None) -> bool:
    """True when the file was last checked more than a year ago."""
    return ((today or dt.date.today()) - checked()).days > STALE_DAYS


def match(answers: Dict[str, Optional[str]], limit: int = 5) -> List[Dict[str, Any]]:
    """What may apply, most relevant first: items no known answer rules out, ranked by how many of
    their conditions the answers confirm (then in the file's order). A skipped answer rules nothing out."""
    ranked = []
    for n, candidate in enumerate(load()["items"]):
        confirmed, ruled_out = 0, False
        for key, allowed in (candidate.get("who") or {}).items():
            answer = answers.get(key)
            if answer is None:
                continue
            if answer in allowed:
                confirmed += 1
            else:
                ruled_out = True
        if not ruled_out:
            ranked.append((-confirmed, n, candidate))
    return [c for _, _, c in sorted(ranked, key=lambda x: (x[0], x[1]))][:limit]
