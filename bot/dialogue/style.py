"""How to speak to the person: やさしい日本語 for a child, a note in English for an English writer."""

from __future__ import annotations

import re
import unicodedata

from bot.triage import Assessment

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def easy_japanese(a: Assessment) -> bool:
    """Return True when the bot should speak やさしい日本語 (a child is writing)."""
    f = a.facts
    if a.user_role == "employer" or f.professional:
        return False
    if a.user_role == "supporter":  # a child worried about a friend, not a teacher about a pupil
        return f.childlike or f.stage == "child"
    return f.stage == "child" or (f.stage is None and f.childlike)


def written_in_english(text: str) -> bool:
    """True for a message with no Japanese at all and at least three Latin words ("hi" alone is not)."""
    t = unicodedata.normalize("NFKC", text or "")
    return not _JAPANESE.search(t) and len(_LATIN_WORD.findall(t)) >= 3

