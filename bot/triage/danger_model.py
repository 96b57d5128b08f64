"""The learned reader of danger: spaCy's text classifier and character n-grams, calibrated, two thresholds.

The lexicon (data/lexicon/, read by bot/triage/) is precise but reads only the phrasings it lists: on blind set 4
(tests/crisis/blind4.yml) it flagged 0.53 of the dangers. This reader learns from whole
conversations written blind by four groups of writers who saw no code and not each other's
data (data/danger/: the studied probes and batches, and three corpus writers, 2,760
conversations, half of them hard negatives), and from the NLU examples (the crisis intent
against all others). Two models are averaged, chosen by leave-one-writer-out measurement
(README, "Danger"):

* spaCy's ``TextCatBOW`` over the fugashi tokens (``bot.language.spacy_ja``): words and word pairs;
* logistic regression over character 1-5-grams (scikit-learn): spelling, kana and dialect.

Romaji is read as kana too (jaconv), so "mou shinitai" reads as もう しにたい. The averaged score
is calibrated (Platt scaling) on the out-of-writer scores, so that a score is a probability,
and two thresholds are chosen on those scores:

* ``high``: the conversation is a crisis (flag, lines first, the case first in the console);
* ``low``: the bot asks once, plainly, whether the person is safe, and shows the lines.

``python -m bot.triage.danger_model train`` (run by ``make train``) writes the models and thresholds
to ``models/danger/``; the action server loads them at start. If they are missing or were
learned from other data, they are learned in the process (about a minute).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import logging
import random
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from bot.language import japanese
from bot.settings import load as load_settings

logger = logging.getLogger(__name__)
ROOT = Path(__file__).resolve().parents[2]
_ANNOTATION = re.compile(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})")
_ROMAJI_WORD = re.compile(r"[a-z]{2,}")
# How the thresholds are chosen on the out-of-writer scores (see ``choose_thresholds``).
ASK_RECALL = 0.97            # ask (or flag) at least this share of the dangers ...
ASK_ORDINARY_RATE = 0.03     # ... but ask at most this share of ordinary carer messages (the NLU)
FLAG_FALSE_RATE = 0.02       # flag at most this share of the hard negatives as a crisis ...
FLAG_ORDINARY_RATE = 0.01    # ... and of the ordinary conversations
SPACY_EPOCHS = 8
# The reader reads this many of the latest messages (see ``score``): the longest conversations it learned from.
WINDOW = 3
# Safe conversations of the kind the bot sees every day (not written to be hard): the ask rate is held on these.
ORDINARY_KINDS = {"ordinary_carer", "supporter", "employer", "question"}


def normalize(text: str) -> str:
    """Width, case and katakana folded (ｼﾆﾀｲ, シニタイ, しにたい alike); romaji also read as kana."""
    t = japanese.kata_to_hira(unicodedata.normalize("NFKC", text or "").lower())
    if len(_ROMAJI_WORD.findall(t)) >= 2:
        import jaconv

        t = t + " 。" + jaconv.alphabet2kana(t)
    return t


def _conversation(turns: Sequence[str]) -> str:
    return normalize(" 。".join(t for t in turns if t)[: japanese.TRIAGE_MAX_CHARS])


def training_groups(root: Path = ROOT) -> Dict[str, Tuple[List[str], List[int], List[str]]]:
    """{group: (texts, labels, kinds)}: each corpus writer, the studied probes and batches, the NLU.

    A group is one writer (or the NLU), so that a model can be measured on a writer it never read.
    """
    groups: Dict[str, Tuple[List[str], List[int], List[str]]] = {}
    for path in sorted((root / "data" / "danger").rglob("*.yml")):
        rel = path.relative_to(root / "data" / "danger")
        name = path.stem if rel.parts[0] == "corpus" else "studied"
        texts, labels, kinds = groups.setdefault(name, ([], [], []))
        for conv in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            texts.append(_conversation(conv["turns"]))
            labels.append(int(bool(conv["expected"]["crisis"])))
            kinds.append("danger" if conv["expected"]["crisis"] else
                         "ordinary" if conv.get("kind") in ORDINARY_KINDS else "hard_negative")
    texts, labels, kinds = groups.setdefault("nlu", ([], [], []))
    for path in sorted((root / "data" / "nlu").glob("*.yml")):
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu") or []:
            if "intent" not in block:
                continue
            for line in (block.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    texts.append(normalize(_ANNOTATION.sub(r"\1", line.strip()[2:])))
                    labels.append(int(block["intent"] == "crisis"))
                    kinds.append("danger" if block["intent"] == "crisis" else "ordinary")
    return groups


def fingerprint(root: Path = ROOT) -> str:
    """What the models were learned from: the data and this file."""
    h = hashlib.sha256()
    for path in [*sorted((root / "data" / "danger").rglob("*.yml")), *sorted((root / "data" / "nlu").glob("*.yml")),
                 Path(__file__)]:
        h.update(path.read_bytes())
    return h.hexdigest()


def _fit_chars(texts: List[str], labels: List[int]):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 5), min_df=2, sublinear_tf=True, max_features=300_000),
        LogisticRegression(C=10, class_weight="balanced", max_iter=3000),
    ).fit(texts, labels)


def _fit_spacy(texts: List[str], labels: List[int]):
    import spacy
    from spacy.training import Example

    from bot.language import spacy_ja

    spacy.util.fix_random_seed(0)
    nlp = spacy_ja.japanese_nlp()
    textcat = nlp.add_pipe("textcat", config={"model": {
        "@architectures": "spacy.TextCatBOW.v2", "exclusive_classes": True, "ngram_size": 2, "no_output_layer": False}})
    textcat.add_label("DANGER")
    textcat.add_label("SAFE")
    examples = [Example.from_dict(nlp.make_doc(t), {"cats": {"DANGER": float(y), "SAFE": 1.0 - y}})
                for t, y in zip(texts, labels)]
    rng = random.Random(0)
    optimizer = nlp.initialize(lambda: examples)
    for _ in range(SPACY_EPOCHS):
        rng.shuffle(examples)
        for i in range(0, len(examples), 32):
            nlp.update(examples[i : i + 32], sgd=optimizer, drop=0.2)
    return nlp


@dataclass
class Reader:
    """The two models, the calibration and the thresholds."""

    chars: object
    nlp: object
    calibration: Tuple[List[float], List[float]]  # raw score -> probability, tabulated
    low: float
    high: float
    figures: dict
    oof: Optional[Tuple[np.ndarray, np.ndarray, List[str]]] = None  # out-of-writer scores, for the README figures

    def raw(self, texts: List[str]) -> np.ndarray:
        """The averaged, uncalibrated score of each (normalised) text."""
        spacy_scores = np.array([doc.cats["DANGER"] for doc in self.nlp.pipe(texts)])
        return (self.chars.predict_proba(texts)[:, 1] + spacy_scores) / 2

    def probability(self, texts: List[str]) -> np.ndarray:
        """Calibrated probabilities of danger."""
        xs, ys = self.calibration
        return np.interp(self.raw(texts), xs, ys)


def _calibrate(raw: np.ndarray, labels: np.ndarray) -> Tuple[List[float], List[float]]:
    """Platt scaling on the logit of the raw score, tabulated on a fine grid (monotonic, smooth).

    Isotonic regression was tried first: its steps left whole bands of scores on one value, so
    the two thresholds fell on the same step (measured: low = high = 0.51).
    """
    from sklearn.linear_model import LogisticRegression

    def logit(x: np.ndarray) -> np.ndarray:
        x = np.clip(x, 1e-6, 1 - 1e-6)
        return np.log(x / (1 - x))

    platt = LogisticRegression(C=1e6, max_iter=1000).fit(logit(raw).reshape(-1, 1), labels)
    grid = np.linspace(0.0, 1.0, 1001)
    return [float(x) for x in grid], [float(y) for y in platt.predict_proba(logit(grid).reshape(-1, 1))[:, 1]]


def choose_thresholds(p: np.ndarray, labels: np.ndarray, kinds: List[str]) -> Tuple[float, float, dict]:
    """(low, high, figures) from out-of-writer probabilities.

    ``low``: the highest threshold that asks at least ``ASK_RECALL`` of the dangers, unless that
    asks more than ``ASK_ORDINARY_RATE`` of the ordinary conversations (the NLU examples and the
    corpus writers' everyday carers, employers and supporters); then the lowest that keeps it.
    ``high``: the lowest threshold that flags at most ``FLAG_FALSE_RATE`` of the hard negatives
    and ``FLAG_ORDINARY_RATE`` of the ordinary conversations.
    """
    kinds_a = np.array(kinds)
    danger, ordinary, hard = p[labels == 1], p[kinds_a == "ordinary"], p[kinds_a == "hard_negative"]
    candidates = np.unique(np.round(p, 3))
    recall_ok = [t for t in candidates if (danger >= t).mean() >= ASK_RECALL]
    ordinary_ok = [t for t in candidates if (ordinary >= t).mean() <= ASK_ORDINARY_RATE]
    low = max(recall_ok) if recall_ok else float(candidates.min())
    if ordinary_ok and low < min(ordinary_ok):
        low = min(ordinary_ok)
    flag_ok = [t for t in candidates if t >= low and (hard >= t).mean() <= FLAG_FALSE_RATE
               and (ordinary >= t).mean() <= FLAG_ORDINARY_RATE]
    high = min(flag_ok) if flag_ok else 1.0
    figures = {
        "low": float(low), "high": float(high),
        "danger_asked_or_flagged": round(float((danger >= low).mean()), 3),
        "danger_flagged": round(float((danger >= high).mean()), 3),
        "ordinary_asked": round(float((ordinary >= low).mean()), 3),
        "ordinary_flagged": round(float((ordinary >= high).mean()), 3),
        "hard_negative_asked": round(float((hard >= low).mean()), 3),
        "hard_negative_flagged": round(float((hard >= high).mean()), 3),
    }
    return float(low), float(high), figures


def _folds(groups: Dict[str, Tuple[List[str], List[int], List[str]]]) -> Dict[str, Tuple[List[str], List[int], List[str]]]:
    """One fold per writer; the NLU examples (one author, ordinary messages) dealt round-robin over
    them, so that every fold's model has read most of the ordinary messages, as the final one has."""
    writers = [g for g in groups if g != "nlu"]
    folds = {g: tuple(list(x) for x in groups[g]) for g in writers}
    for i, item in enumerate(zip(*groups.get("nlu", ([], [], [])))):
        fold = folds[writers[i % len(writers)]]
        for column, value in zip(fold, item):
            column.append(value)
    return folds


def train(root: Path = ROOT) -> Reader:
    """Learn the reader: out-of-writer scores for calibration and thresholds, then the final models."""
    groups = _folds(training_groups(root))
    oof_raw, oof_labels, oof_kinds = [], [], []
    for held in groups:
        texts = [t for g, (ts, _, _) in groups.items() if g != held for t in ts]
        labels = [y for g, (_, ys, _) in groups.items() if g != held for y in ys]
        chars, nlp = _fit_chars(texts, labels), _fit_spacy(texts, labels)
        fold = Reader(chars, nlp, ([0.0, 1.0], [0.0, 1.0]), 0.0, 1.0, {})
        oof_raw.append(fold.raw(groups[held][0]))
        oof_labels += groups[held][1]
        oof_kinds += groups[held][2]
        logger.info("danger reader: held-out group %s scored", held)
    raw, labels = np.concatenate(oof_raw), np.array(oof_labels)
    calibration = _calibrate(raw, labels)
    p = np.interp(raw, *calibration)
    low, high, figures = choose_thresholds(p, labels, oof_kinds)
    figures["out_of_writer_curve"] = curve(p, labels, oof_kinds)
    texts = [t for ts, _, _ in groups.values() for t in ts]
    all_labels = [y for _, ys, _ in groups.values() for y in ys]
    return Reader(_fit_chars(texts, all_labels), _fit_spacy(texts, all_labels), calibration, low, high, figures,
                  (raw, labels, oof_kinds))


def curve(p: np.ndarray, labels: np.ndarray, kinds: List[str], steps: int = 20) -> List[dict]:
    """Recall of the dangers against the false-alarm rates, at thresholds 0.05 ... 1.0."""
    kinds_a = np.array(kinds)
    return [{"threshold": t, "recall": round(float((p[labels == 1] >= t).mean()), 3),
             "hard_negative_rate": round(float((p[kinds_a == "hard_negative"] >= t).mean()), 3),
             "ordinary_rate": round(float((p[kinds_a == "ordinary"] >= t).mean()), 3)}
            for t in [round(i / steps, 2) for i in range(1, steps + 1)]]


class ReaderMissing(RuntimeError):
    """The learned reader is not in its folder, or was learned from other data: `make train` learns it."""


def model_dir() -> Path:
    """Where the reader is kept (the setting ``DANGER_MODEL_DIR``, default models/danger)."""
    return Path(load_settings().danger_model_dir)


def save(reader: Reader, folder: Optional[Path] = None, root: Path = ROOT) -> None:
    """Write the reader to ``folder`` (a trained model: git-ignored, like models/)."""
    import joblib

    folder = folder or model_dir()
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(reader.chars, folder / "chars.joblib")
    reader.nlp.to_disk(folder / "spacy")
    meta = {"fingerprint": fingerprint(root), "low": reader.low, "high": reader.high,
            "calibration": reader.calibration, "figures": reader.figures}
    (folder / "reader.json").write_text(json.dumps(meta, indent=1))
    if reader.oof is not None:
        raw, labels, kinds = reader.oof
        np.savez(folder / "out_of_writer.npz", raw=raw, labels=labels, kinds=np.array(kinds))


def load(folder: Optional[Path] = None, root: Path = ROOT) -> Optional[Reader]:
    """Read the reader from ``folder``; None if it is missing or was learned from other data."""
    folder = folder or model_dir()
    meta_path = folder / "reader.json"
    if not meta_path.exists():
        return None
    meta = json.loads(meta_path.read_text())
    if meta.get("fingerprint") != fingerprint(root):
        return None
    import joblib
    import spacy

    from bot.language import spacy_ja

    spacy_ja._register()
    nlp = spacy.load(folder / "spacy")
    calibration = (meta["calibration"][0], meta["calibration"][1])
    return Reader(joblib.load(folder / "chars.joblib"), nlp, calibration, meta["low"], meta["high"], meta["figures"])


@functools.lru_cache(maxsize=1)
def reader() -> Reader:
    """The reader of this process, loaded from its folder. It is never learned here, on a person's turn:
    a missing or stale reader stops the process at start (warm_up) with the command that learns it."""
    found = load()
    if found is None:
        raise ReaderMissing(f"the learned reader of danger in {model_dir()} is missing or was learned from other data: "
                            "run `make train` (python -m bot.triage.danger_model train)")
    return found


def warm_up() -> None:
    """Load the reader now and score once: the action server calls this at start."""
    score(["こんにちは"])


def score(messages: Sequence[str]) -> float:
    """Calibrated probability that the conversation's latest user messages show danger.

    The reader reads the last WINDOW messages: it learned from conversations of one to three messages
    (at most 237 characters), and each turn's answer stays (a crisis stays on, the safety check is
    asked once and staff are told), so what earlier messages showed was acted on when they were read.
    Reading a whole long conversation cost up to half a second a turn (make bench, long first messages).
    """
    text = _conversation([m for m in messages if m][-WINDOW:])
    if not text.strip():
        return 0.0
    return float(reader().probability([text])[0])


def level(messages: Sequence[str]) -> str:
    """"crisis" (at least ``high``), "ask" (at least ``low``) or ""."""
    p, r = score(messages), reader()
    return "crisis" if p >= r.high else "ask" if p >= r.low else ""


def main(argv=None) -> int:
    """``train``: learn the reader and write it to models/danger (``make train``)."""
    p = argparse.ArgumentParser(prog="python -m bot.triage.danger_model")
    p.add_argument("command", choices=["train"])
    p.add_argument("--if-stale", action="store_true", help="do nothing when models/danger matches the data")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.if_stale and load() is not None:
        print("danger reader is up to date")
        return 0
    learned = train()
    save(learned)
    figures = {k: v for k, v in learned.figures.items() if k != "out_of_writer_curve"}
    print("danger reader: out-of-writer figures " + json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
