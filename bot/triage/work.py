"""Whether the writer works: a working carer is a business carer, and the city's commerce section helps.

The words are data (data/lexicon/work.yml). Work is read about the writer only (「母は働いていない」
is the mother's), except for a supporter, who describes the carer's work whoever is the subject.
"""

from __future__ import annotations

import re
from typing import Union

from bot.language.textmatch import Reading, any_match, compile_patterns
from bot.triage import lexicon as lx
from bot.triage.subject import matches_about_self

_WORKING = compile_patterns(lx.WORKING)
_NOT_WORKING = compile_patterns(lx.NOT_WORKING)
_SIDE_JOB = compile_patterns(lx.SIDE_JOB)
_NEED_WORK = compile_patterns(lx.NEEDS["work"])
_STILL_WORKING = re.compile(lx.STILL_WORKING)
_EMPLOYED = re.compile(lx.EMPLOYED)

# True (works), False (does not), "side_job" (a part-time student job) or None (not said).
Working = Union[bool, str, None]


def working(r: Reading, anyone: bool = False) -> Working:
    """Return True/False for work or not, "side_job" for a part-time student job, or None.

    Args:
        r: one message.
        anyone: read the words whoever is their subject (a supporter describing a carer).
    """
    text = r.surface + " " + r.kana
    about = (lambda pats, rd: any_match(pats, rd)) if anyone else matches_about_self
    if about(_NOT_WORKING, r) and not _STILL_WORKING.search(text):
        return False
    if any_match(_NEED_WORK, r) and not _EMPLOYED.search(r.surface):
        return None  # 「働きたい」「仕事を探している」: wanting work is not working
    if about(_WORKING, r):
        return True
    if about(_SIDE_JOB, r):
        return "side_job"
    return None

