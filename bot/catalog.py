"""The catalog of measures, sections, spaces and crisis lines (data/catalog.yml)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot.settings import load as load_settings

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "data" / "catalog.yml"


@functools.lru_cache(maxsize=4)
def load(path: str = "") -> Dict[str, Any]:
    """Load the catalog; the setting ``CATALOG_PATH`` overrides the default (data/catalog.yml)."""
    path = path or load_settings().catalog_path
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def destination(dest_id: str) -> Dict[str, Any]:
    """Return one destination (section or space) by id."""
    return load()["destinations"][dest_id]


def crisis_lines(child: bool) -> List[Dict[str, Any]]:
    """Return the crisis lines for a child (child lines first) or for an adult."""
    lines = load()["crisis_lines"]
    if child:
        return sorted(lines, key=lambda line: line["audience"] != "child")
    return [line for line in lines if line["audience"] != "child"]


JST = dt.timezone(dt.timedelta(hours=9))
WRITERS = ("child", "adult", "unknown")
DANGERS = ("self", "harm_to_child", "violence_at_home", "medical", "unsure")
MAX_LINES = 3
CLOSED_NOTE = "いまは受付時間外です"


def _line_text(line: Dict[str, Any], now: Optional[dt.datetime] = None) -> str:
    closed = now is not None and not is_open(line, now)
    return f"・{line['name']}：{line['phone']}（{line['hours']}{'／' + CLOSED_NOTE if closed else ''}）"


def line(line_id: str) -> Dict[str, Any]:
    """One crisis line by its id."""
    return next(x for x in load()["crisis_lines"] if x["id"] == line_id)


def is_open(line: Dict[str, Any], now: dt.datetime) -> bool:
    """Whether the line takes calls at ``now`` (Japan time); a line without ``open`` is always open or
    has hours that differ by region, which its ``hours`` text says."""
    spans = line.get("open")
    if not spans:
        return True
    local = now.astimezone(JST)
    at = local.strftime("%H:%M")
    for span in spans:
        if span["days"] == "weekdays" and local.weekday() >= 5:
            continue
        if span["from"] <= at < span["to"]:
            return True
    return False


def lines_for(writer: str, danger: str, now: Optional[dt.datetime] = None) -> List[Dict[str, Any]]:
    """The crisis lines for this writer ("child", "adult", "unknown") and danger (DANGERS), the most
    fitting first, at most MAX_LINES (data/catalog.yml: crisis_line_choice). With ``now``, the lines
    open at this hour come before those that are closed, keeping their order otherwise."""
    choice = load()["crisis_line_choice"]
    ids = choice.get(writer if writer in WRITERS else "unknown", {}).get(danger if danger in DANGERS else "self") or []
    chosen = [line(i) for i in ids][:MAX_LINES]
    if now is not None:
        chosen.sort(key=lambda x: not is_open(x, now))
    return chosen


def format_lines(lines: List[Dict[str, Any]], now: Optional[dt.datetime] = None) -> str:
    """Short text lines: name, number, hours, and whether the line is closed at ``now``."""
    return "\n".join(_line_text(x, now) for x in lines)


def format_crisis_line(line_id: str, now: Optional[dt.datetime] = None) -> str:
    """Return one crisis line (by its id in the catalog) as a short text line."""
    return _line_text(line(line_id), now)


def contact_text(dest_id: str) -> str:
    """Return what the city filled in of a destination's contact, or an empty string."""
    contact = destination(dest_id).get("contact") or {}
    labels = {"phone": "電話", "hours": "受付", "address": "場所", "url": "ホームページ"}
    return " / ".join(f"{labels[k]}：{v}" for k, v in contact.items() if v and k in labels)


# --- Live chat: staff join a conversation (issue 15) ---------------------------------------------

def live_chat() -> Dict[str, Any]:
    """The live chat's settings: hours per section, notices, staff phrases (data/catalog.yml: live_chat)."""
    return load().get("live_chat") or {}


def live_hours(section: str) -> Optional[Dict[str, Any]]:
    """A section's hours for the live chat ({"text", "open"}), or None when the city has not set them."""
    hours = (live_chat().get("hours") or {}).get(section)
    return hours if hours and hours.get("open") else None


def live_open(section: str, now: dt.datetime) -> bool:
    """Whether the section's staff can answer in the chat at ``now``: False when no hours are set."""
    hours = live_hours(section)
    return bool(hours) and is_open(hours, now)


def live_notice(kind: str, easy: bool, section_name: str) -> str:
    """The notice the person sees when staff join ("joined"), hand back ("left") or went away ("away")."""
    notice = (live_chat().get("notices") or {})[kind]
    return notice["easy" if easy else "standard"].format(section=section_name)


def staff_phrases() -> List[Dict[str, str]]:
    """The staff's quick replies, each with its adult and easy wording."""
    return list(live_chat().get("phrases") or [])


# --- The LINE channel (issue 16) ------------------------------------------------------------------

def line_text(kind: str, **values: Any) -> str:
    """A text of the LINE channel (data/catalog.yml: line): "follow", "non_text", "unavailable", "staff"."""
    return str((load().get("line") or {})[kind]).format(**values).strip()
