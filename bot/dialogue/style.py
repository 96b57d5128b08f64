"""How to speak to the person: やさしい日本語 for a child, a note in English for an English writer."""

from __future__ import annotations

import re
import unicodedata

from bot.triage import Assessment

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


# Someone who writes about their own child or grandchild is an adult, whatever the child's age
# (a grandmother whose grandchild cares for her, a parent of a small child with a disability).
_OWN_CHILDREN = {"child", "grandchild"}
# A husband, a wife, a parent-in-law: an adult's family, unless an age or a grade says otherwise.
_ADULTS_FAMILY = {"spouse", "parent_in_law"}


def writer(a: Assessment) -> str:
    """Who is writing, as far as the conversation shows: "child", "adult" or "unknown".

    The writer, not the person described, decides the register (issue 14): a teacher or a
    grandparent writing about a child is an adult. Hiragana alone is a weak sign: it makes a
    child only of a writer whose age is not known otherwise, and never of someone who writes
    about their own children, a spouse or in-laws, or who works.
    """
    f = a.facts
    if a.user_role == "employer" or f.professional or f.relations & _OWN_CHILDREN:
        return "adult"
    if a.user_role != "supporter":  # a supporter's stage is the child described, not the writer's
        if f.stage == "child":
            return "child"
        if f.stage in ("youth", "adult"):
            return "adult"
    if f.relations & _ADULTS_FAMILY or (f.working is True and not f.student):
        return "adult"  # in work, not a pupil's side job; a husband, a mother-in-law: a grown-up
    if a.user_role == "supporter":  # a child worried about a friend, not a teacher about a pupil
        return "child" if f.childlike else "adult"
    return "child" if f.childlike else "unknown"


def easy_japanese(a: Assessment) -> bool:
    """Return True when the bot should speak やさしい日本語 (a child is writing)."""
    return writer(a) == "child"


def speech_style(a: Assessment) -> str:
    """The register: "easy" for a child, "standard" for a known adult, "plain" before either is known."""
    return {"child": "easy", "adult": "standard"}.get(writer(a), "plain")


def written_in_english(text: str) -> bool:
    """True for a message with no Japanese at all and at least three Latin words ("hi" alone is not)."""
    t = unicodedata.normalize("NFKC", text or "")
    return not _JAPANESE.search(t) and len(_LATIN_WORD.findall(t)) >= 3

