"""Match lexicon patterns against Japanese text written in kanji, kana or half-width kana.

A message is read in three forms: ``surface`` (NFKC, lower case: ｶｲｺﾞ -> カイゴ),
``kana`` (the hiragana reading from UniDic: 介護 -> かいご) and ``hira`` (the surface
with katakana folded to hiragana and spaces removed: ｵｶｱｻﾝ ｶﾞ -> おかあさんが). Every
pattern is matched against the surface and ``hira``; a pattern written only in
hiragana also against the reading, so 「びょうき」「病気」「ﾋﾞｮｳｷ」 match alike. A
pattern with kanji never meets the reading, which keeps homophones (介護/解雇) apart.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import FrozenSet, Iterable, List, Optional, Pattern, Tuple

from bot.language import japanese

_KATAKANA_RUN = re.compile(r"^[\u30a0-\u30ff]{3,}$")
_HIRAGANA_ONLY = re.compile(r"^[\u3041-\u309f\u30fc|()?:+*.\[\]\\^$!<=]*$")


@dataclass(frozen=True)
class Reading:
    """One message in the forms that patterns are matched against."""

    raw: str
    surface: str
    kana: str
    hira: str = ""
    # Where each token starts in ``kana`` and ``hira``: a word matched there must start
    # a token, so 「こうりゅうできる」 does not hide 「うできる」.
    kana_starts: FrozenSet[int] = frozenset()
    hira_starts: FrozenSet[int] = frozenset()

    @classmethod
    def of(cls, text: str, max_chars: int = japanese.TRIAGE_MAX_CHARS) -> Reading:
        """Read ``text`` (at most ``max_chars`` characters) in both forms (kept for the last messages)."""
        return _read((text or "")[:max_chars])

    @classmethod
    def _of(cls, text: str) -> Reading:
        tokens = japanese.tokenize(text)
        kana, hira, kana_starts, hira_starts = [], [], [], []
        k = h = 0
        for t in tokens:
            folded = japanese.kata_to_hira(japanese.normalize(t.text))
            kana_starts.append(k)
            hira_starts.append(h)
            if _KATAKANA_RUN.match(japanese.normalize(t.text)):
                # MeCab lumps a run of katakana (ｵﾊﾞｱﾁｬﾝﾉｶｲｺﾞﾃﾞ) into odd tokens: any place may start a word.
                hira_starts.extend(range(h + 1, h + len(folded)))
            kana.append(t.reading)
            hira.append(folded)
            k += len(t.reading)
            h += len(folded)
        return cls(
            raw=text,
            surface=japanese.normalize(text),
            kana="".join(kana),
            hira="".join(hira),
            kana_starts=frozenset(kana_starts),
            hira_starts=frozenset(hira_starts),
        )


@functools.lru_cache(maxsize=512)
def _read(text: str) -> Reading:
    return Reading._of(text)


@dataclass(frozen=True)
class Pattern_:
    """A compiled pattern and whether it is also matched against the kana reading."""

    regex: Pattern
    on_kana: bool

    def search(self, reading: Reading) -> Optional[re.Match]:
        """Return the first match in the surface, else in the reading."""
        for _, hit in self.finditer(reading):
            return hit
        return None

    def finditer(self, reading: Reading) -> Iterable[Tuple[str, re.Match]]:
        """Yield (form, match) for every match, surface first."""
        for hit in self.regex.finditer(reading.surface):
            yield "surface", hit
        for hit in self.regex.finditer(reading.hira):
            if hit.start() in reading.hira_starts:
                yield "hira", hit
        if self.on_kana:
            for hit in self.regex.finditer(reading.kana):
                if hit.start() in reading.kana_starts:
                    yield "kana", hit


def compile_patterns(patterns: Iterable[str]) -> List[Pattern_]:
    """Compile lexicon patterns; hiragana-only ones are matched on the reading too."""
    out = []
    for p in patterns:
        # ASCII word boundaries: \bcare\b must match in 「parentのcareのため」.
        out.append(Pattern_(re.compile(p, re.ASCII | re.IGNORECASE), on_kana=bool(_HIRAGANA_ONLY.match(p))))
    return out


def any_match(patterns: List[Pattern_], reading: Reading) -> bool:
    """Return True when any pattern matches."""
    return any(p.search(reading) for p in patterns)
