"""A second reader of danger: character n-grams and logistic regression (scikit-learn, Rasa's pin).

The lexicon (bot/lexicon.py) is precise but reads only the phrasings it lists: on a blind set of
indirect messages written after two rounds of study (tests/crisis/probe3.yml) it found 26 of 60.
This model learns from whole messages instead: the danger probes and training batches in
data/danger/ (written blind by people who saw no code: 325 in danger, 335 safe, mostly indirect or
hard negatives) and the NLU examples (the crisis intent against all others). It is not trusted to
raise the crisis flag (it would on about 6 % of ordinary conversations); above ``THRESHOLD`` the
bot asks once, plainly, whether the person is in danger, with the crisis lines.

Trained when the action server starts (half a second, same result every time); nothing is stored.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path
from typing import List, Sequence, Tuple

import yaml

from bot import japanese

ROOT = Path(__file__).resolve().parent.parent
# Chosen so that at most about 6 % of the 646 safe conversations of tests/eval get the check (37).
THRESHOLD = 0.7
_ANNOTATION = re.compile(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})")


def normalize(text: str) -> str:
    """Width, case and katakana folded: ｼﾆﾀｲ, シニタイ and しにたい read alike.

    The same as ``kata_to_hira(japanese.normalize(text))`` on all 1,538 conversations of data/danger
    and tests (checked), but one NFKC call over the whole conversation instead of that per-character
    loop with offsets, which the model does not need, on every turn.
    """
    return japanese.kata_to_hira(unicodedata.normalize("NFKC", text or "").lower())


def training_data(root: Path = ROOT) -> Tuple[List[str], List[int]]:
    """(texts, labels): the danger probes (whole conversations) and the NLU examples."""
    texts: List[str] = []
    labels: List[int] = []
    for path in sorted((root / "data" / "danger").rglob("*.yml")):
        if "corpus" in path.relative_to(root).parts:
            continue  # the large blind corpus is read by the learned reader of issue 12, not by this one
        for conv in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            texts.append(normalize(" 。".join(conv["turns"])))
            labels.append(int(bool(conv["expected"]["crisis"])))
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" not in block:
                continue
            for line in (block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    texts.append(normalize(_ANNOTATION.sub(r"\1", line.strip()[2:])))
                    labels.append(int(block["intent"] == "crisis"))
    return texts, labels


@functools.lru_cache(maxsize=1)
def _model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts, labels = training_data()
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    features = vectorizer.fit_transform(texts)
    classifier = LogisticRegression(C=4, class_weight="balanced", max_iter=3000).fit(features, labels)
    return vectorizer, classifier


def warm_up() -> None:
    """Train the model now (the action server calls this at start)."""
    _model()


def score(messages: Sequence[str]) -> float:
    """Probability-like score that the conversation's user messages show danger."""
    text = normalize(" 。".join(m for m in messages if m)[: japanese.TRIAGE_MAX_CHARS])
    if not text.strip():
        return 0.0
    vectorizer, classifier = _model()
    return float(classifier.predict_proba(vectorizer.transform([text]))[0, 1])


def possible_danger(messages: Sequence[str]) -> bool:
    """True when the model reads danger with at least ``THRESHOLD``."""
    return score(messages) >= THRESHOLD
