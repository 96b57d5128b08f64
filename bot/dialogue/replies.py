"""The replies the steps of a turn put together: names of domain responses with their values."""

from __future__ import annotations

import datetime as dt
from typing import Any, Dict, List, Tuple

from bot import catalog
from bot.dialogue.state import Conversation
from bot.triage import Assessment

Reply = Tuple[str, Dict[str, Any]]

# A reply value that is the hand-off's reference: the caller fills it in (fill_ref) once it has
# carried out the SaveHandoff effect that creates the hand-off.
HANDOFF_REF = "{ref}"
NO_CONTACT_TEXT = "連絡先は、鎌倉市のホームページか市役所の総合案内でご確認いただけます"
NO_CONTACT_TEXT_EASY = "がっこうの せんせいや ほけんしつの せんせいに「ここに つないで ほしい」と いっても いいよ"


def name_of(dest_id: str, easy: bool) -> str:
    """A destination's name; for a child, with its reading (data/catalog.yml: name_easy)."""
    d = catalog.destination(dest_id)
    return (d.get("name_easy") if easy else None) or d["name"]


def fill_ref(replies: List[Reply], ref: str) -> List[Reply]:
    """The replies with the hand-off's reference in place of HANDOFF_REF."""
    return [(name, {k: (ref if v == HANDOFF_REF else v) for k, v in values.items()}) for name, values in replies]


def destinations(a: Assessment, conv: Conversation, easy: bool) -> List[Reply]:
    """Introduce the destinations not introduced yet, with what each does and the measures behind it."""
    new = [d for d in a.handoff_destinations if d not in conv.destinations_given]
    if not new:
        return []
    replies: List[Reply] = [("utter_destinations_intro", {})]
    for dest_id in new:
        d = catalog.destination(dest_id)
        contact = catalog.contact_text(dest_id)
        if easy:  # a child: the name with its reading, what the place does for a child, no measure numbers
            name, what, measures = name_of(dest_id, True), d.get("what_easy") or d["what"], ""
        else:
            name, what, measures = d["name"], d["what"], "・".join(_support_measures(d.get("measures") or []))
        replies.append(("utter_destination", {"name": name, "what": what + (f"（{contact}）" if contact else ""),
                                              "measures": measures}))
    conv.destinations_given.extend(new)
    return replies


def _support_measures(measures: List[str]) -> List[str]:
    # Measures of (3) "施策の推進" are what a person can use; (1) publicity and (2) the
    # system behind them are shown only when a destination has nothing else.
    direct = [m for m in measures if m.startswith("6-3-") and not m.startswith(("6-3-1-", "6-3-2-"))]
    return direct or measures[:1] or ["-"]


def about_kind(a: Assessment) -> str:
    """The response that explains, without a label, the support for this kind of carer."""
    if a.user_role == "employer":
        return "utter_about_employer"
    for kind in ("young_carer", "youth_carer", "business_carer", "carer"):
        if kind in a.carer_types:
            return f"utter_about_{kind}"
    return "utter_about_carer"


def thank_once(a: Assessment, conv: Conversation) -> List[Reply]:
    """A carer is thanked for sharing once per conversation (not in a crisis, where the lines come first)."""
    if a.user_role != "carer" or not conv.once("thanked"):
        return []
    return [] if a.crisis else [("utter_thanks_for_sharing", {})]


def contact_info(a: Assessment, easy: bool = False) -> List[Reply]:
    """Where the person can get in touch themselves (they did not want a hand-off); a child is told
    what a child can do (ask a teacher or the school nurse) where the city has no contact filled in."""
    fallback = NO_CONTACT_TEXT_EASY if easy else NO_CONTACT_TEXT
    return [("utter_contact_info", {"name": name_of(dest_id, easy), "contact": catalog.contact_text(dest_id) or fallback})
            for dest_id in a.handoff_destinations or ["fukushi_somu"]]


def crisis_lines(writer: str, danger: str, now: dt.datetime) -> str:
    """The crisis lines for who is writing ("child", "adult", "unknown") and the danger, at most three,
    the most fitting first, each saying when it is closed at this hour (data/catalog.yml)."""
    return catalog.format_lines(catalog.lines_for(writer, danger, now), now)
