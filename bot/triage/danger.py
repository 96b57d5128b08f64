"""Danger read by the lexicon: a crisis, a medical emergency, heavy distress, and the evidence for staff.

Exaggerations (死ぬほど忙しい) and denials (死にたいとかではない) are blanked out before the danger
signs are read, both for the flag and for the words shown to staff, so that the two always agree.
The words are data (data/lexicon/danger.yml); the learned reader is ``bot.triage.danger_model``.
"""

from __future__ import annotations

import re
from typing import Dict, List, Sequence, Tuple

from bot.language.textmatch import Reading, any_match, compile_patterns
from bot.triage import lexicon as lx

_EMERGENCY = compile_patterns(lx.EMERGENCY)
_CRISIS = compile_patterns(lx.CRISIS)
_HANDLED = compile_patterns(lx.HANDLED)
_DISTRESS = compile_patterns(lx.DISTRESS)
_NOT_CRISIS = re.compile("|".join(f"(?:{p})" for p in lx.NOT_CRISIS))
_VIOLENCE = compile_patterns(lx.VIOLENCE)
_CHILD_HARMED = re.compile(lx.CHILD_HARMED)
_HARM_BY_WRITER = re.compile(lx.HARM_BY_WRITER)
_A_CHILD = re.compile(lx.A_CHILD)


def _without_exaggerations(r: Reading) -> Reading:
    """The reading with exaggerations (死ぬほど) and denials (死にたいとかではない) blanked out."""
    cleaned = _NOT_CRISIS.sub("　", r.surface)
    return Reading.of(cleaned) if cleaned != r.surface else r


def danger(r: Reading) -> Tuple[bool, bool]:
    """(danger sign, medical emergency), after removing exaggerations and denials.

    An emergency already in professional hands (「今はICUで治療中」) is not a 119 call.
    """
    r = _without_exaggerations(r)
    emergency = any_match(_EMERGENCY, r) and not any_match(_HANDLED, r)
    return emergency or any_match(_CRISIS, r), emergency


def distress(r: Reading) -> bool:
    """Heavy distress without a danger sign: the bot names a line that listens, once."""
    return any_match(_DISTRESS, r)


def danger_evidence(messages: Sequence[str], reader: str = "") -> Dict[str, object]:
    """Why a flagged conversation was flagged, for staff: the message (0-based user turn) and the words or score.

    The lexicon names the words it matched in the first message that has a danger sign; the
    learned reader gives the message after which the conversation first reached its high
    threshold, and its probability then. With no ``reader`` (the flag was raised on an earlier
    turn) both are tried in that order; if neither reads it, the person answered 「はい」 to the
    safety check ("answer").
    """
    texts = [m for m in messages if m and m.strip()]
    if reader in ("lexicon", ""):
        for i, text in enumerate(texts):
            words = danger_words(text)
            if words:
                return {"reader": "lexicon", "turn": i, "words": "・".join(words), "score": None}
    if reader in ("model", "") and texts:
        from bot.triage import danger_model  # spaCy and scikit-learn: loaded only when needed

        high = danger_model.reader().high
        for i in range(len(texts)):
            p = danger_model.score(texts[: i + 1])
            if p >= high:
                return {"reader": "model", "turn": i, "words": "", "score": round(p, 3)}
    return {"reader": "answer", "turn": max(len(texts) - 1, 0), "words": "", "score": None}


def danger_words(text: str) -> List[str]:
    """The words of one message that match a danger sign (after exaggerations and denials are removed)."""
    r = _without_exaggerations(Reading.of(text))
    found: List[str] = []
    for pattern in (*_EMERGENCY, *_CRISIS):
        for _, hit in pattern.finditer(r):
            if hit.group(0) not in found:
                found.append(hit.group(0))
            break
    return found[:5]


def danger_kind(messages: Sequence[str], child_writer: bool) -> str:
    """Which kind of danger a crisis is, to choose the lines that fit (data/catalog.yml):
    "medical" (call 119 first), "harm_to_child", "violence_at_home" or "self" (the default: wanting
    to die or to disappear, self-harm, or a danger the words do not name)."""
    written = [Reading.of(m) for m in messages if m and m.strip()]
    if any(danger(r)[1] for r in written):  # danger() removes exaggerations and denials itself
        return "medical"
    readings = [_without_exaggerations(r) for r in written]
    if any(any_match(_VIOLENCE, r) for r in readings):
        everything = " ".join(r.surface for r in readings)
        harmed_child = (child_writer or any(_CHILD_HARMED.search(r.surface) for r in readings)
                        or bool(_HARM_BY_WRITER.search(everything) and _A_CHILD.search(everything)))
        return "harm_to_child" if harmed_child else "violence_at_home"
    return "self"
