"""Words and phrases that the triage reads, as regular expressions, loaded once from data/lexicon/*.yml.

The words are data (issue 13): a reviewer who reads Japanese can add a phrasing to a YAML file by
topic without reading the code, and the comments there say why a pattern is written as it is.
Write a pattern in hiragana when the word has no dangerous homophone: it then matches both
「びょうき」 and 「病気」 (see ``bot.language.textmatch``). Write it in kanji or katakana to match only
what was written that way. Longer terms come first; the order of a list is kept, because in places
the first pattern that matches wins.

Three shapes, one reader each, so that a wrong shape in a file stops the import with its name:

* a word list (``CRISIS``): patterns matched one at a time (``compile_patterns``);
* groups of word lists (``RELATIONS``): a word list per relation, condition, need or destination;
* one regex (``AGE``): written whole, or as a list of its alternatives joined with ``|``.

Patterns built from other lists are composed here (in word lists and single regexes): ``{NUM}``
stands for ``NUM``, ``{KIN}`` for any word for a relative (``RELATIONS`` without the English ones)
and ``{RELATIONS}`` for every pattern of ``RELATIONS``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

import yaml

from bot.settings import ROOT

LEXICON_DIR = ROOT / "data" / "lexicon"
FILES = ("relations", "conditions", "care", "roles", "subject", "stages", "work", "needs", "danger", "destinations", "support")
# libyaml reads the 2,000 lines in 10 ms, the pure-Python reader in 250 (at every start of a process).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read(folder: Path = LEXICON_DIR) -> Dict[str, Any]:
    """Every NAME of every file; a NAME given twice is an error (which one would win is not obvious)."""
    found: Dict[str, Any] = {}
    for name in FILES:
        data = yaml.load((folder / f"{name}.yml").read_text(encoding="utf-8"), Loader=_LOADER) or {}  # a safe loader
        twice = set(found) & set(data)
        if twice:
            raise ValueError(f"data/lexicon/{name}.yml: {sorted(twice)} already given in another file")
        found.update(data)
    return found


_DATA = _read()


def _is_list_of_str(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(p, str) for p in value)


def _groups(name: str) -> Dict[str, List[str]]:
    value = _DATA[name]
    if not (isinstance(value, dict) and all(_is_list_of_str(v) for v in value.values())):
        raise ValueError(f"lexicon {name}: expected groups of word lists")
    return {key: list(patterns) for key, patterns in value.items()}


def _one(name: str) -> str:
    """One regex, written whole or as the list of its alternatives."""
    value = _DATA[name]
    if isinstance(value, str):
        return value
    if _is_list_of_str(value):
        return "|".join(value)
    raise ValueError(f"lexicon {name}: expected a pattern or a list of its alternatives")


RELATIONS = _groups("RELATIONS")
NUM = _one("NUM")
# Any word for a relative, as one group; the English words (\bmom\b) are left out: KIN is read in
# Japanese phrases around an age or a grade (「母は78で」「弟（中2）」).
KIN = "(?:" + "|".join(p for pats in RELATIONS.values() for p in pats if "\\b" not in p) + ")"
_PLACEHOLDERS = {
    "{NUM}": NUM,
    "{KIN}": KIN,
    "{RELATIONS}": "|".join(p for pats in RELATIONS.values() for p in pats),
}


def _compose(pattern: str) -> str:
    for placeholder, text in _PLACEHOLDERS.items():
        pattern = pattern.replace(placeholder, text)
    return pattern


def _words(name: str) -> List[str]:
    value = _DATA[name]
    if not _is_list_of_str(value):
        raise ValueError(f"lexicon {name}: expected a list of patterns")
    return [_compose(p) for p in value]


def _regex(name: str) -> str:
    return _compose(_one(name))


# --- Who is cared for, and why (relations.yml, conditions.yml) ------------------
CONDITIONS = _groups("CONDITIONS")
NEGATED_CONDITION = _regex("NEGATED_CONDITION")

# --- What the carer does (care.yml) ---------------------------------------------
CARE_WORDS = _words("CARE_WORDS")
RECEIVING_CARE = _words("RECEIVING_CARE")
NOT_CARING = _words("NOT_CARING")
CARING_VERBS = _regex("CARING_VERBS")
STRONG_CARE = _regex("STRONG_CARE")
INTERPRETING = _regex("INTERPRETING")

# --- Who is writing (roles.yml), and about whom (subject.yml) --------------------
EMPLOYER = _words("EMPLOYER")
EMPLOYER_INTRO = _words("EMPLOYER_INTRO")
SUPPORTER = _words("SUPPORTER")
SUPPORTER_WEAK = _words("SUPPORTER_WEAK")
SUPPORTER_INTRO = _words("SUPPORTER_INTRO")
SELF_CARE = _words("SELF_CARE")
THIRD_SUBJECT = _regex("THIRD_SUBJECT")
SELF_SUBJECT = _regex("SELF_SUBJECT")
SELF_REFERENCE = _regex("SELF_REFERENCE")
FIRST_PERSON = _regex("FIRST_PERSON")
DECLINE = _regex("DECLINE")

# --- How old (stages.yml) --------------------------------------------------------
AGE = _regex("AGE")
DECADE_WORD = _regex("DECADE_WORD")
BARE_NUMBER = _regex("BARE_NUMBER")
LIST_NUMBER = _regex("LIST_NUMBER")
SELF_AGE = _regex("SELF_AGE")
ENGLISH_AGE = _regex("ENGLISH_AGE")
ONO_AGE = _regex("ONO_AGE")
LEADING_AGE = _regex("LEADING_AGE")
COMMA_AGE = _regex("COMMA_AGE")
PAREN_AGE = _regex("PAREN_AGE")
RECEIVER_AGE = _regex("RECEIVER_AGE")
RECEIVER_BEFORE = _regex("RECEIVER_BEFORE")
RECEIVER_AFTER = _regex("RECEIVER_AFTER")
HONORIFIC_END = _regex("HONORIFIC_END")
GRADE = _regex("GRADE")
YEARS_WORKING = _regex("YEARS_WORKING")
CHILD_STAGE = _words("CHILD_STAGE")
CHILD_HINTS = _words("CHILD_HINTS")
YOUTH_STAGE = _words("YOUTH_STAGE")
ADULT_STAGE = _words("ADULT_STAGE")
SCHOOL_OF_OTHERS = _regex("SCHOOL_OF_OTHERS")
STUDENT = _regex("STUDENT")
NOT_A_STUDENT = _regex("NOT_A_STUDENT")
CARED_BY_CHILD = _regex("CARED_BY_CHILD")
BEREAVED = _regex("BEREAVED")
DEFINITION_QUESTION = _regex("DEFINITION_QUESTION")
CHILD_DESCRIBED = _regex("CHILD_DESCRIBED")
ADULT_LIFE = _regex("ADULT_LIFE")

# --- Working? (work.yml) ---------------------------------------------------------
WORKING = _words("WORKING")
NOT_WORKING = _words("NOT_WORKING")
SIDE_JOB = _words("SIDE_JOB")
STILL_WORKING = _regex("STILL_WORKING")
EMPLOYED = _regex("EMPLOYED")

# --- What would help (needs.yml), and where (destinations.yml) ---------------------
NEEDS = _groups("NEEDS")
NAMED_DESTINATIONS = _groups("NAMED_DESTINATIONS")

# --- Asking what may be used; the city's notices (support.yml, issue 17) -----------------
SUPPORT_WORDS = _regex("SUPPORT_WORDS")
SUPPORT_GENERIC = _regex("SUPPORT_GENERIC")
DISABILITY_HINT = _regex("DISABILITY_HINT")
NOT_A_QUESTION = _regex("NOT_A_QUESTION")
SUPPORT_OPEN = _regex("SUPPORT_OPEN")
SUPPORT_QUESTION = _regex("SUPPORT_QUESTION")
SUPPORT_NOT_THIS = _regex("SUPPORT_NOT_THIS")
NOTICE_STOP = _regex("NOTICE_STOP")
NOTICE_WANTED = _regex("NOTICE_WANTED")

# --- Danger (danger.yml) -----------------------------------------------------------
CRISIS = _words("CRISIS")
EMERGENCY = _words("EMERGENCY")
HANDLED = _words("HANDLED")
DISTRESS = _words("DISTRESS")
NOT_CRISIS = _words("NOT_CRISIS")
VIOLENCE = _words("VIOLENCE")
CHILD_HARMED = _regex("CHILD_HARMED")
HARM_BY_WRITER = _regex("HARM_BY_WRITER")
A_CHILD = _regex("A_CHILD")

_unread = set(_DATA) - {name for name, value in globals().items() if name.isupper()}
if _unread:
    raise ValueError(f"data/lexicon: {sorted(_unread)} given but not read by bot/triage/lexicon.py")
