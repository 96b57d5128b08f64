"""Whom a message is about, and who is writing it.

A carer writes about themselves and the person they care for; a teacher, a neighbour or an
employer writes about someone else who cares. Which of them wrote a message is read from role
words (data/lexicon/roles.yml) and from who the subject of a clause is (data/lexicon/subject.yml).
"""

from __future__ import annotations

import re
from typing import Iterable, List, NamedTuple

from bot.language.textmatch import Pattern_, Reading, any_match, compile_patterns
from bot.triage import lexicon as lx

_EMPLOYER = compile_patterns(lx.EMPLOYER)
_EMPLOYER_INTRO = compile_patterns(lx.EMPLOYER_INTRO)
_SUPPORTER = compile_patterns(lx.SUPPORTER)
_SUPPORTER_WEAK = compile_patterns(lx.SUPPORTER_WEAK)
_SUPPORTER_INTRO = compile_patterns(lx.SUPPORTER_INTRO)
_SUPPORTER_INTRO_RE = re.compile("|".join(f"(?:{p})" for p in lx.SUPPORTER_INTRO))
_SELF_CARE = compile_patterns(lx.SELF_CARE)
# A short aside in brackets (「孫（中学生）が」): punctuation, not words.
_PARENTHESES = re.compile(r"[（(][^）)]{0,15}[）)]")
_THIRD_SUBJECT = re.compile(lx.THIRD_SUBJECT)
_SELF_SUBJECT = re.compile(lx.SELF_SUBJECT)
_SELF_REFERENCE = re.compile(lx.SELF_REFERENCE)
_FIRST_PERSON = re.compile(lx.FIRST_PERSON)
_DECLINE = re.compile(lx.DECLINE)

# A decline is a short sentence of its own, or names what the bot asked about.
_DECLINE_ALONE = 3  # characters left besides the decline and polite filler
_FILLER = re.compile(
    r"すみません|すいません|ごめんなさい|ごめん|申し訳(ない|ありません)|ちょっと|あまり|です|ます|ません|[、,…・ 　〜ー~wｗ笑]"
)
_ASKED_TOPIC = re.compile(r"年齢|歳|年|学年|仕事|しごと|名前|なまえ|連絡|電話|それ|ちょっと|パス")
_SENTENCES = re.compile(r"[。！？!?\n]+")

# How far back a clause reaches from a word, at most, in characters.
_CLAUSE = 25


class RoleWords(NamedTuple):
    """The role words of one message; read_facts weighs them over the whole conversation."""

    employer: bool  # an employee cares (「部下が」「うちのスタッフ」)
    boss: bool  # the writer manages or employs (「人事担当です」)
    supporter: bool  # someone else cares: a pupil, a neighbour's child, a client
    mention: bool  # someone else is mentioned, as a carer might too (「友達が」)
    intro: bool  # the writer introduces a job that supports (「保育士をしています」)
    self_care: bool  # the writer cares too (「私も介護を」)
    self_ref: bool  # the writer speaks of their own family (「私の母」「父が」)


def role_words(r: Reading) -> RoleWords:
    """Read the role words of one message; role words are also read with short asides removed."""
    # 「孫（中学生）が」: the aside would hide 「孫が」.
    forms = [r, Reading.of(_PARENTHESES.sub("", r.raw))] if _PARENTHESES.search(r.raw) else [r]
    return RoleWords(
        employer=any(any_match(_EMPLOYER, x) for x in forms),
        boss=any(any_match(_EMPLOYER_INTRO, x) for x in forms),
        supporter=any(any_match(_SUPPORTER, x) for x in forms),
        mention=any(any_match(_SUPPORTER_WEAK, x) for x in forms),
        intro=any_match(_SUPPORTER_INTRO, r),
        self_care=any_match(_SELF_CARE, r),
        self_ref=bool(_SELF_REFERENCE.search(r.surface)),
    )


def without_own_job(r: Reading) -> Reading:
    """The message with the writer's own supporting job blanked out (「保育士をしています」).

    A supporter's job says nothing of the carer's; the work of the person described counts.
    """
    return Reading.of(_SUPPORTER_INTRO_RE.sub("\u3000", r.surface))


def declines(r: Reading) -> bool:
    """The writer declines to answer (「言いたくない」「ひみつ」「年齢はちょっと…」): a sentence that is
    only that, or that names what the bot asked. 「職場では言いづらい」 is about something else."""
    return bool(declining_sentences(r.surface))


def declining_sentences(text: str) -> List[str]:
    """The sentences of ``text`` that decline to answer."""
    return [s for s in _SENTENCES.split(text) if _DECLINE.search(s)
            and (len(_FILLER.sub("", _DECLINE.sub("", s))) <= _DECLINE_ALONE or _ASKED_TOPIC.search(s))]


def without_declines(r: Reading) -> Reading:
    """The message with its declining sentences blanked: 「年齢や仕事は言いたくない」 says no work."""
    text = r.surface
    for sentence in declining_sentences(text):
        text = text.replace(sentence, "\u3000" * len(sentence))
    return Reading.of(text)


def names_the_writer(r: Reading) -> bool:
    """The message has a word for the writer (私, 僕, 自分, I ...)."""
    return bool(_FIRST_PERSON.search(r.surface))


def about_someone_else(text: str, start: int) -> bool:
    """Return True when the clause before ``start`` has a third person as its subject."""
    clause_start = max(text.rfind("。", 0, start), text.rfind("\n", 0, start), start - _CLAUSE, -1) + 1
    clause = text[clause_start:start]
    # A topic (は) reaches over commas; a subject (が/も) ends at the next comma.
    third = [m.end() for m in _THIRD_SUBJECT.finditer(clause) if m.group(1) == "は" or "、" not in clause[m.end():]]
    selfs = [m.end() for m in _SELF_SUBJECT.finditer(clause) if m.end() > 0]
    return bool(third) and (not selfs or third[-1] > selfs[-1])


def matches_about_self(patterns: Iterable[Pattern_], r: Reading) -> bool:
    """Return True when a pattern matches the surface about the writer (or any reading match)."""
    hits = [(form, m) for p in patterns for form, m in p.finditer(r)]
    surface_hits = [m for form, m in hits if form == "surface"]
    if surface_hits:
        # Decided on what was written; the other forms only help when the surface has no hit.
        return any(not about_someone_else(r.surface, m.start()) for m in surface_hits)
    return bool(hits)
