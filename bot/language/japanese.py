"""Japanese tokenization with fugashi + unidic-lite, free of Rasa and spaCy.

Offsets always refer to the original text. Width and case are normalised (NFKC,
lower case) only in the copy that MeCab reads and in each token's lemma, so that
``ｵﾚ`` and ``オレ`` compare equal while ``text[start:end]`` stays the user's own.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

# Half-width voiced sound marks combine with the kana before them under NFKC.
_HALFWIDTH_MARKS = {"\uff9e", "\uff9f"}
_KATA_START, _KATA_END = 0x30A1, 0x30F6
# The longest message the bot reads: longer ones are read up to here (parsing stays fast).
MAX_CHARS = 1000
# The triage reads further: its patterns are cheap, and a danger sign may come last.
TRIAGE_MAX_CHARS = 10000


@dataclass(frozen=True)
class JaToken:
    """One token: original surface, exact offsets, lemma, POS and kana reading."""

    text: str
    start: int
    end: int
    lemma: str
    pos: str
    pos_detail: str = ""
    reading: str = ""
    data: dict = field(default_factory=dict, compare=False)


def normalize_with_map(text: str) -> Tuple[str, List[Tuple[int, int]]]:
    """Return the NFKC, lower-cased text and, per normalised char, its original span."""
    out: List[str] = []
    spans: List[Tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        # Keep a base char together with its combining marks, so NFKC can compose them.
        while j < n and (text[j] in _HALFWIDTH_MARKS or unicodedata.combining(text[j])):
            j += 1
        piece = unicodedata.normalize("NFKC", text[i:j]).lower()
        for ch in piece:
            out.append(ch)
            spans.append((i, j))
        i = j
    return "".join(out), spans


@functools.lru_cache(maxsize=8192)
def normalize(text: str) -> str:
    """Return ``text`` in the normalised form that all matching uses."""
    return normalize_with_map(text)[0]


_KATA_TO_HIRA = {c: c - 0x60 for c in range(_KATA_START, _KATA_END + 1)}


def kata_to_hira(text: str) -> str:
    """Fold katakana to hiragana (ー and other marks unchanged)."""
    return text.translate(_KATA_TO_HIRA)


@functools.lru_cache(maxsize=1)
def _tagger():
    # Imported lazily: loading the dictionary takes a moment and is done once.
    import fugashi

    return fugashi.Tagger()


def _clean_lemma(lemma: Optional[str], surface: str) -> str:
    # UniDic tags some lemmas (バイト-Arbeit) and has none for numerals or unknown words.
    if not lemma or lemma == "*":
        return surface
    return lemma.split("-", 1)[0] or surface


def tokenize(text: str, max_chars: Optional[int] = None) -> List[JaToken]:
    """Split ``text`` into tokens with offsets against the original text.

    Args:
        text: what the user wrote, any Unicode.
        max_chars: if given, only the first ``max_chars`` characters are read.

    Returns:
        Tokens in order; whitespace and control characters yield no token.
    """
    if not text:
        return []
    if max_chars is not None:
        text = text[:max_chars]
    # One message is read by the tokenizer, the fact extractor and the triage: MeCab runs once.
    return list(_tokenize(text))


@functools.lru_cache(maxsize=512)
def _tokenize(text: str) -> Tuple[JaToken, ...]:
    norm, spans = normalize_with_map(text)
    # MeCab treats NUL and other controls badly: read them as spaces (offsets unchanged).
    readable = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zs", "Zl", "Zp") else c for c in norm)
    if not readable.strip():
        return ()
    tokens: List[JaToken] = []
    pos = 0
    for word in _tagger()(readable):
        surface = word.surface
        if not surface or not surface.strip():
            continue
        at = readable.find(surface, pos)
        if at < 0:  # MeCab changed the surface; never expected, never fatal.
            continue
        pos = at + len(surface)
        start, end = spans[at][0], spans[pos - 1][1]
        feature = word.feature
        lemma = _clean_lemma(getattr(feature, "lemma", None), surface)
        kana = getattr(feature, "kana", None)
        kana = kata_to_hira(kana) if kana and kana != "*" else kata_to_hira(surface)
        if tokens and start < tokens[-1].end:
            # NFKC expanded one original char into several (… -> ...): keep one token for it.
            prev = tokens.pop()
            start, lemma, kana = prev.start, prev.lemma + lemma, prev.reading + kana
            end = max(end, prev.end)
        tokens.append(
            JaToken(
                text=text[start:end],
                start=start,
                end=end,
                lemma=lemma,
                pos=getattr(feature, "pos1", None) or "",
                pos_detail=getattr(feature, "pos2", None) or "",
                reading=kana,
            )
        )
    return tuple(tokens)


def reading(text: str, max_chars: Optional[int] = None) -> str:
    """Return the hiragana reading of ``text`` (unknown words keep their surface)."""
    return "".join(t.reading for t in tokenize(text, max_chars))


# One romaji syllable (Hepburn and the common kunrei spellings); a doubled consonant is folded first.
_SYLLABLE = r"(?:(?:ky|gy|sh|ch|ny|hy|by|py|my|ry|ts|j|f|[kgsztdnhbpmyrwv])?[aiueo]|n(?![aiueoy]))"
_ROMAJI_WORD = re.compile(f"(?:{_SYLLABLE})+")
_DOUBLED = re.compile(r"([kgstdpbcfhjmrz])\1|t(?=ch)")
_LATIN_WORDS = re.compile(r"[a-z]+")
_HAS_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")


def romaji_as_kana(text: str) -> Optional[str]:
    """Japanese typed in romaji, as kana (「haha ga byouki de」 -> 「はは が びょうき で」), or None.

    Only a message without Japanese characters, of at least two words, 85 % of which are romaji
    syllables, is taken for romaji: English ("my mom is sick") is left as it is. The conversion is
    jaconv's; what the person wrote is kept as written everywhere else (the transcript).
    """
    t = unicodedata.normalize("NFKC", text or "").lower()
    if _HAS_JAPANESE.search(t):
        return None
    words = _LATIN_WORDS.findall(t)
    if len(words) < 2:
        return None
    romaji = sum(bool(_ROMAJI_WORD.fullmatch(_DOUBLED.sub(r"\1", w))) for w in words)
    if romaji < 0.85 * len(words):
        return None
    import jaconv

    # Japanese is written without spaces: 「shinu hodo isogashii」 must read 「しぬほどいそがしい」, as the
    # lexicon's exaggerations (死ぬほど) are written, not 「しぬ ほど」.
    return re.sub(r"(?<=[\u3040-\u30ff]) +(?=[\u3040-\u30ff])", "", jaconv.alphabet2kana(t))
