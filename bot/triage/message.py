"""Reading one message on its own: who is cared for and why, what would help, who writes, how old, danger.

``read_message`` is cached: a conversation is read again at every turn, and its old messages need
not be. Combining the messages of a conversation is ``bot.triage.combine``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import FrozenSet, Optional, Tuple

from bot.language import japanese
from bot.language.textmatch import Reading, any_match, compile_patterns
from bot.triage import ages, danger, subject, work
from bot.triage import lexicon as lx

_RELATIONS = {k: compile_patterns(v) for k, v in lx.RELATIONS.items()}
_CONDITIONS = {k: compile_patterns(v) for k, v in lx.CONDITIONS.items()}
_NEEDS = {k: compile_patterns(v) for k, v in lx.NEEDS.items()}
_NAMED = {k: compile_patterns(v) for k, v in lx.NAMED_DESTINATIONS.items()}
_CARE = compile_patterns(lx.CARE_WORDS)
_RECEIVING = compile_patterns(lx.RECEIVING_CARE)
_NOT_CARING = compile_patterns(lx.NOT_CARING)
_NEGATED_CONDITION = re.compile(lx.NEGATED_CONDITION)
_STRONG_CONDITIONS = [p for name in ("dementia", "elderly", "disability", "mental", "addiction", "illness") for p in _CONDITIONS[name]]
_RELATION_PATTERNS = [p for pats in _RELATIONS.values() for p in pats]

# How far a condition may follow the word for a relative and still be theirs, in characters.
_RELATIVE_TO_CONDITION = 25


@dataclass(frozen=True)
class MessageFacts:
    """What one message says on its own. Cached: a conversation's old messages are read once."""

    crisis: bool
    emergency: bool
    distress: bool
    relations: FrozenSet[str]
    conditions: FrozenSet[str]
    needs: FrozenSet[str]
    named: Tuple[str, ...]
    older_receiver: bool
    care_words: bool
    not_caring: bool
    receiving: bool
    receiver_condition: bool
    self_ref: bool
    employer: bool
    boss: bool
    supporter: bool
    mention: bool
    intro: bool
    self_care: bool
    declined: bool
    ages: Tuple[int, ...]
    about_cared_for: bool
    stage: Optional[str]
    child_hint: bool
    student: bool
    working: work.Working
    working_anyone: work.Working
    childlike: bool
    everything: str


def _receiver_has_condition(r: Reading) -> bool:
    """Return True when a relative is named shortly before a condition in one sentence."""
    rel = [m.start() for p in _RELATION_PATTERNS for m in p.regex.finditer(r.surface)]
    if not rel:
        return False
    for p in _STRONG_CONDITIONS:
        for m in p.regex.finditer(r.surface):
            if any(0 <= m.start() - s <= _RELATIVE_TO_CONDITION and "。" not in r.surface[s : m.start()] for s in rel):
                return True
    return False


def _about_the_cared_for(r: Reading) -> bool:
    """Return True for a message about the person cared for, with no word for the writer."""
    if subject.names_the_writer(r):
        return False
    return any_match(_STRONG_CONDITIONS, r) or any(any_match(p, r) for p in _RELATIONS.values())


def _conditions(r: Reading) -> FrozenSet[str]:
    """The conditions named, except those denied (「病気とかはない」)."""
    if _NEGATED_CONDITION.search(r.surface):
        r = Reading.of(_NEGATED_CONDITION.sub("\u3000", r.surface))
    return frozenset(name for name, pats in _CONDITIONS.items() if any_match(pats, r))


@functools.lru_cache(maxsize=4096)
def read_message(text: str, asked_age: bool = False) -> MessageFacts:
    """Read one message (see read_facts); ``asked_age``: it answers the bot's age question.

    Japanese typed in romaji is read as kana (bot.language.japanese.romaji_as_kana) for the story:
    who, for whom, why, what is needed. Danger is read from the message as written first: in kana the
    lexicon's exaggerations, written in kanji (死ぬほど忙しい), do not match (measured: reading every
    message's kana raised blind set 4's false flags from 0.132 to 0.145). A romaji message, which the
    written lexicon cannot read at all, is read in kana too (issue 14's blind set missed one otherwise).
    """
    written = Reading.of(text)
    kana = japanese.romaji_as_kana(text)
    r = Reading.of(kana) if kana else written
    roles = subject.role_words(r)
    declined = subject.declines(r)
    crisis, emergency = danger.danger(written)
    if kana and not crisis:  # romaji: the lexicon reads its kana too (「chichi ni mainichi tatakareru」)
        crisis, emergency = danger.danger(r)
    return MessageFacts(
        crisis=crisis,
        emergency=emergency,
        distress=danger.distress(written),
        relations=frozenset(name for name, pats in _RELATIONS.items() if any_match(pats, r)),
        conditions=_conditions(r),
        needs=frozenset(name for name, pats in _NEEDS.items() if any_match(pats, r)),
        named=tuple(d for d, pats in _NAMED.items() if any_match(pats, r)),
        older_receiver=any(age >= 65 for age in ages.receiver_ages(r)),
        care_words=any_match(_CARE, r),
        not_caring=any_match(_NOT_CARING, r),
        receiving=any_match(_RECEIVING, r),
        receiver_condition=_receiver_has_condition(r),
        self_ref=roles.self_ref,
        employer=roles.employer,
        boss=roles.boss,
        supporter=roles.supporter,
        mention=roles.mention,
        intro=roles.intro,
        self_care=roles.self_care,
        declined=declined,
        ages=tuple(ages.carer_ages(r, asked_age=asked_age)),
        about_cared_for=_about_the_cared_for(r),
        stage=ages.grade_stage(r),
        child_hint=ages.child_hint(r),
        student=ages.is_student(r),
        working=work.working(subject.without_declines(r) if declined else r),
        # 「保育士をしています」: a supporter's own job says nothing of the carer's.
        # For a supporter, the work of the person described counts, whoever is the subject.
        working_anyone=work.working(subject.without_own_job(r) if roles.intro else r, anyone=True),
        childlike=ages.is_childlike(r.raw),
        everything=r.surface + " " + r.kana,
    )
