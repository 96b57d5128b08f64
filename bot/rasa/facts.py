"""Entities from one message, read with the triage lexicon (no Rasa import).

Each entity carries offsets into the original text and a canonical value
(``mother``, ``dementia``, ``15`` ...), so synonyms need no extra table.
"""

from __future__ import annotations

from typing import Dict, List

from bot import triage
from bot.language import japanese
from bot.language.textmatch import Reading, compile_patterns
from bot.triage import lexicon as lx

_GROUPS = {
    "relation": {k: compile_patterns(v) for k, v in lx.RELATIONS.items()},
    "condition": {k: compile_patterns(v) for k, v in lx.CONDITIONS.items()},
    "need": {k: compile_patterns(v) for k, v in lx.NEEDS.items()},
    "care_task": {"care": compile_patterns(lx.CARE_WORDS)},
    "work": {
        "not_working": compile_patterns(lx.NOT_WORKING),
        "working": compile_patterns(lx.WORKING),
        "side_job": compile_patterns(lx.SIDE_JOB),
    },
    "grade": {
        "child": compile_patterns(lx.CHILD_STAGE),
        "youth": compile_patterns(lx.YOUTH_STAGE),
        "adult": compile_patterns(lx.ADULT_STAGE),
    },
}


def extract(text: str, max_chars: int = japanese.MAX_CHARS) -> List[Dict[str, object]]:
    """Return entities found in ``text`` as Rasa-style dicts, in order of start."""
    text = (text or "")[:max_chars]
    if not text.strip():
        return []
    norm, spans = japanese.normalize_with_map(text)
    reading = Reading.of(text, max_chars)
    # Where each token of the hiragana-folded form lies in the original text.
    tokens = japanese.tokenize(text)
    hira_spans, at = [], 0
    for t in tokens:
        length = len(japanese.kata_to_hira(japanese.normalize(t.text)))
        hira_spans.append((at, at + length, t.start, t.end))
        at += length

    def original(form: str, m) -> tuple:
        if form == "surface":
            return spans[m.start()][0], spans[m.end() - 1][1]
        if form == "hira":
            inside = [(s, e) for hs, he, s, e in hira_spans if hs < m.end() and m.start() < he]
            if inside:
                return inside[0][0], inside[-1][1]
        return None
    found: List[Dict[str, object]] = []
    taken: Dict[str, List[tuple]] = {}
    for entity, groups in _GROUPS.items():
        for value, patterns in groups.items():
            for p in patterns:
                for form, m in p.finditer(reading):
                    if m.end() <= m.start() or original(form, m) is None:
                        continue  # a match in the reading has no place in the text
                    start, end = original(form, m)
                    spans_of_entity = taken.setdefault(entity, [])
                    if any(s < end and start < e for s, e in spans_of_entity):
                        continue  # one entity of a kind per stretch of text: the first pattern wins
                    spans_of_entity.append((start, end))
                    found.append({"entity": entity, "start": start, "end": end, "value": value, "text": text[start:end]})
    for age in triage._AGE.finditer(norm):
        number = triage.kanji_number(age.group(1))
        if number is not None:
            start, end = spans[age.start()][0], spans[age.end() - 1][1]
            found.append({"entity": "age", "start": start, "end": end, "value": str(number), "text": text[start:end]})
    from bot.dialogue import easy_japanese  # the same rule as the replies

    if easy_japanese(triage.assess([text])):
        found.append({"entity": "writer_style", "start": 0, "end": len(text), "value": "easy", "text": text})
    return sorted(found, key=lambda e: (e["start"], e["entity"]))
