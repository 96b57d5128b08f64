"""The catalog of measures, sections, spaces and crisis lines (data/catalog.yml)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict, List

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


def _line_text(line: Dict[str, Any]) -> str:
    return f"・{line['name']}：{line['phone']}（{line['hours']}）"


def format_crisis_lines(child: bool) -> str:
    """Return the crisis lines as short text lines: name, number, hours."""
    return "\n".join(_line_text(line) for line in crisis_lines(child))


def format_crisis_line(line_id: str) -> str:
    """Return one crisis line (by its id in the catalog) as a short text line."""
    return _line_text(next(line for line in load()["crisis_lines"] if line["id"] == line_id))


def contact_text(dest_id: str) -> str:
    """Return what the city filled in of a destination's contact, or an empty string."""
    contact = destination(dest_id).get("contact") or {}
    labels = {"phone": "電話", "hours": "受付", "address": "場所", "url": "ホームページ"}
    return " / ".join(f"{labels[k]}：{v}" for k, v in contact.items() if v and k in labels)
