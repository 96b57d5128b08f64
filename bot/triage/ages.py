"""How old the carer is: ages, decades, school grades and words for a stage of life.

An age in a message may be the writer's or the age of the person cared for (「母は78で」); most of
this module tells the two apart, from the words just before and after the number. The patterns
are data (data/lexicon/stages.yml).
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from bot.language import japanese
from bot.language.textmatch import Reading, any_match, compile_patterns
from bot.triage import lexicon as lx

_ADULT_LIFE = re.compile(lx.ADULT_LIFE)
_KANJI_DIGITS = {"〇": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_AGE = re.compile(lx.AGE)
_DECADE_WORD = re.compile(lx.DECADE_WORD)
_BARE_NUMBER = re.compile(lx.BARE_NUMBER)
_LIST_NUMBER = re.compile(lx.LIST_NUMBER)
_SELF_AGE = re.compile(lx.SELF_AGE)
_ENGLISH_AGE = re.compile(lx.ENGLISH_AGE)
_ONO_AGE = re.compile(lx.ONO_AGE)
_LEADING_AGE = re.compile(lx.LEADING_AGE)
_COMMA_AGE = re.compile(lx.COMMA_AGE)
_PAREN_AGE = re.compile(lx.PAREN_AGE)
_RECEIVER_AGE = re.compile(lx.RECEIVER_AGE)
_RECEIVER_BEFORE = re.compile(lx.RECEIVER_BEFORE)
_RECEIVER_AFTER = re.compile(lx.RECEIVER_AFTER)
_HONORIFIC_END = re.compile(lx.HONORIFIC_END)
_GRADE = re.compile(lx.GRADE)
_YEARS_WORKING = re.compile(lx.YEARS_WORKING)
_CHILD = compile_patterns(lx.CHILD_STAGE)
_CHILD_HINTS = compile_patterns(lx.CHILD_HINTS)
_YOUTH = compile_patterns(lx.YOUTH_STAGE)
_ADULT = compile_patterns(lx.ADULT_STAGE)
_SCHOOL_OF_OTHERS = re.compile(lx.SCHOOL_OF_OTHERS)
_STUDENT = re.compile(lx.STUDENT)
_NOT_A_STUDENT = re.compile(lx.NOT_A_STUDENT)

# How far the words that tell whose a number is may lie from it, in characters.
_BEFORE, _AFTER = 12, 6


def kanji_number(text: str) -> Optional[int]:
    """Turn 15, 十五, 二十六 or 三十 into an int; None if it is not a number."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch in _KANJI_DIGITS:
            current = current * 10 + _KANJI_DIGITS[ch]
        else:
            return None
    return total + current


def find_ages(text: str) -> List[Tuple[int, int, int]]:
    """Every age or decade written in ``text``, as (start, end, age) over the original text's offsets.

    Whoever's age it is (the writer's or a relative's): the Rasa entity extractor marks them all and
    the triage decides whose they are. A decade (「30代」) gives its number as written (30).
    """
    norm, spans = japanese.normalize_with_map(text)
    found = []
    for m in _AGE.finditer(norm):
        number = kanji_number(m.group(1))
        if number is not None:
            found.append((spans[m.start()][0], spans[m.end() - 1][1], number))
    return found


def stage_of_age(age: int) -> str:
    """child under 18, youth under 40, else adult: the city's ages for young and youth carers."""
    if age < 18:
        return "child"
    if age < 40:
        return "youth"
    return "adult"


def _someone_elses(text: str, m: re.Match) -> bool:
    """Whether the words around a number or grade make it a relative's (「母は78」「78の母」)."""
    before, after = text[max(0, m.start() - _BEFORE) : m.start()], text[m.end() : m.end() + _AFTER]
    return bool(_RECEIVER_BEFORE.search(before) or _RECEIVER_AFTER.match(after))


def _after_a_relative(text: str, m: re.Match) -> bool:
    """Like ``_someone_elses`` for a number after a comma, reading the comma too (「母、78」)."""
    return bool(_RECEIVER_BEFORE.search(text[max(0, m.start() - _BEFORE) : m.start() + 1]))


def _bare_age(text: str, asked_age: bool) -> Optional[int]:
    """A message that is just a number: an age when it answers the question, or when it is plausible."""
    bare = _BARE_NUMBER.match(text)
    if not bare:
        return None
    value = kanji_number(bare.group(1))
    if value is not None and (asked_age or 6 <= value <= 99):
        return value
    return None


def _introduced_age(text: str) -> Optional[int]:
    """An age that introduces the writer (「私は17」「17で、」「45の者です」「…、17。」, English): it is theirs."""
    for m in list(_SELF_AGE.finditer(text)) + list(_LEADING_AGE.finditer(text)) + list(_ONO_AGE.finditer(text)):
        value = kanji_number(m.group(1))
        if value is not None and 6 <= value <= 110:
            return value
    for m in _COMMA_AGE.finditer(text):
        if not _after_a_relative(text, m):
            return int(m.group(1))
    for m in _ENGLISH_AGE.finditer(text):
        value = int(next(g for g in m.groups() if g))
        return value * 10 if m.group(5) else value
    return None


def _mentioned_ages(text: str) -> List[int]:
    """Ages in brackets, in a short list, with a unit or as a decade word, that are not a relative's."""
    ages = []
    for m in _PAREN_AGE.finditer(text):
        before = text[max(0, m.start() - _BEFORE) : m.start()]
        if not _RECEIVER_BEFORE.search(before) or _HONORIFIC_END.search(before):
            ages.append(int(m.group(1)))
    if len(text) <= 24:
        for m in _LIST_NUMBER.finditer(text):
            if not _after_a_relative(text, m) and 10 <= int(m.group(1)) <= 99:
                ages.append(int(m.group(1)))
    for m in _AGE.finditer(text):
        value = kanji_number(m.group(1))
        if value is None or (value < 7 and m.group(2) != "代"):
            continue  # 「2歳の子育て」: a small child is not the one writing
        if m.group(2) == "代" and value < 10:
            value *= 10
        if not _someone_elses(text, m):
            ages.append(value)
    for m in _DECADE_WORD.finditer(text):
        if not _someone_elses(text, m):
            ages.append(kanji_number(m.group(1)) * 10)
    return ages


def carer_ages(reading: Reading, asked_age: bool) -> List[int]:
    """Ages in one message that belong to the carer (not to the person cared for); the last one counts.

    A bare number or an age that introduces the writer is taken alone; otherwise every age that
    is not a relative's, in the order of the patterns.
    """
    text = reading.surface
    bare = _bare_age(text, asked_age)
    if bare is not None:
        return [bare]
    introduced = _introduced_age(text)
    if introduced is not None:
        return [introduced]
    return _mentioned_ages(text)


def receiver_ages(r: Reading) -> List[int]:
    """Ages of relatives in one message (「母は78で」「80近い祖母」): 65 and over makes care of an older person."""
    ages = []
    for m in _AGE.finditer(r.surface):
        before = r.surface[max(0, m.start() - _BEFORE) : m.start()]
        value = kanji_number(m.group(1))
        if value and m.group(2) != "代" and _RECEIVER_BEFORE.search(before):
            ages.append(value)
    for m in _PAREN_AGE.finditer(r.surface):
        if _RECEIVER_BEFORE.search(r.surface[max(0, m.start() - _BEFORE) : m.start()]):
            ages.append(int(m.group(1)))
    for m in _RECEIVER_AGE.finditer(r.surface):
        value = kanji_number(m.group("a") or m.group("b") or m.group("c") or "")
        if value:
            ages.append(value)
    return ages


def _school_of_others(reading: Reading) -> bool:
    # 「弟が小学生で」「娘の学校」: school words about the person cared for, not the writer.
    return bool(_SCHOOL_OF_OTHERS.search(reading.surface))


def _pupil_words_are_the_writers(reading: Reading) -> bool:
    """School words in the message speak of the writer, not of a child cared for or a teacher's school."""
    return not _school_of_others(reading) and not _NOT_A_STUDENT.search(reading.surface)


def grade_stage(reading: Reading) -> Optional[str]:
    """Return child/youth/adult from school grades and life stages in one message."""
    text = reading.surface
    for m in _GRADE.finditer(text):
        if not _someone_elses(text, m):
            return "child"
    years_working = _YEARS_WORKING.search(text) or _YEARS_WORKING.search(reading.hira)
    if years_working:
        years = kanji_number(years_working.group(2)) or 1
        return "youth" if years <= 15 else "adult"
    if any_match(_ADULT, reading):
        return "adult"
    if any_match(_YOUTH, reading):
        return "youth"
    if any_match(_CHILD, reading) and _pupil_words_are_the_writers(reading):
        return "child"
    return None


def child_hint(reading: Reading) -> bool:
    """School life without a grade (宿題, 部活), about the writer: a child, unless something else says otherwise."""
    return any_match(_CHILD_HINTS, reading) and _pupil_words_are_the_writers(reading)


def is_student(reading: Reading) -> bool:
    """The writer is a student at any level (a side job is then not work)."""
    return bool(_STUDENT.search(reading.surface + " " + reading.kana) and not _NOT_A_STUDENT.search(reading.surface))


def is_childlike(text: str) -> bool:
    """Guess whether a child wrote this: mostly hiragana, little kanji."""
    letters = [c for c in text if c.isalpha()]
    if len(letters) < 12:  # too short to tell (「言いたくない」)
        return False
    if _ADULT_LIFE.search(text):
        return False  # hiragana about a husband, a grandchild, a pension or housework as one's job
    hira = sum(1 for c in letters if "\u3041" <= c <= "\u309f")
    kanji = sum(1 for c in letters if "\u4e00" <= c <= "\u9fff")
    return hira / len(letters) > 0.8 and kanji <= 2
