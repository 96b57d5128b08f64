"""The learned reader of danger (bot/danger_model.py): loaded from disk, calibrated, two thresholds, and why."""

from pathlib import Path

import numpy as np
import pytest
import yaml

from bot import triage
from bot.triage import danger_model
from tools import danger_eval

ROOT = Path(__file__).resolve().parents[2]
CORPUS = sorted((ROOT / "data" / "danger" / "corpus").glob("*.yml"))


@pytest.fixture(scope="module")
def reader():
    found = danger_model.load()
    assert found is not None, "models/danger is missing or stale: make train learns it"
    return found


def _conversations():
    for path in CORPUS:
        yield from yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]


def test_the_reader_is_read_from_disk_and_matches_the_data(reader):
    assert danger_model.reader().high == reader.high  # the process uses the saved reader
    assert 0.0 < reader.low < reader.high <= 1.0


def test_the_calibration_is_monotonic_and_spans_zero_to_one(reader):
    xs, ys = reader.calibration
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys)
    assert ys[0] <= 0.05 and ys[-1] >= 0.95


def test_out_of_writer_figures_meet_the_targets_they_were_chosen_for(reader):
    f = reader.figures
    assert f["ordinary_asked"] <= danger_model.ASK_ORDINARY_RATE + 1e-9
    assert f["hard_negative_flagged"] <= danger_model.FLAG_FALSE_RATE + 1e-9
    curve = f["out_of_writer_curve"]
    assert [c["recall"] for c in curve] == sorted((c["recall"] for c in curve), reverse=True)


@pytest.mark.parametrize("text, kana", [("mou shinitai", "しにたい"), ("okaasan ga taoreta", "たおれた"),
                                        ("ｼﾆﾀｲ", "しにたい")])
def test_romaji_and_half_width_kana_are_read_as_kana(text, kana):
    assert kana in danger_model.normalize(text)


def test_text_without_romaji_is_only_folded():
    assert danger_model.normalize("もう消えたい。ｶｲｺﾞ") == "もう消えたい。かいご"
    assert danger_model.normalize("I am tired").startswith("i am tired")  # the English itself is kept


def test_above_the_high_threshold_the_reader_raises_the_flag_itself(reader):
    """A corpus danger that no lexicon word reads, scored above ``high``, is a crisis raised by the model."""
    found = 0
    for conv in _conversations():
        if conv["expected"]["crisis"] and not triage.read_facts(conv["turns"]).crisis:
            if danger_model.score(conv["turns"]) >= reader.high:
                a = triage.assess(conv["turns"])
                assert a.crisis and a.facts.danger_reader == "model" and not a.facts.possible_danger
                why = triage.danger_evidence(conv["turns"], "model")
                assert why["reader"] == "model" and why["score"] >= reader.high
                assert 0 <= why["turn"] < len(conv["turns"])
                found += 1
        if found >= 5:
            break
    assert found >= 5


def _unread_conversations():
    """Conversations the reader did not learn from (it is sure of its training data)."""
    for path in [ROOT / "tests" / "crisis" / "probe3.yml", *sorted((ROOT / "tests" / "eval").glob("*.yml"))]:
        yield from yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]


def test_between_the_thresholds_the_bot_asks_and_does_not_flag(reader):
    found = 0
    for conv in _unread_conversations():
        if not triage.read_facts(conv["turns"]).crisis and reader.low <= danger_model.score(conv["turns"]) < reader.high:
            a = triage.assess(conv["turns"])
            if a.user_role == "employer":
                continue
            assert a.facts.possible_danger and not a.crisis
            found += 1
        if found >= 3:
            break
    assert found >= 3


def test_the_lexicon_names_the_words_and_the_message():
    why = triage.danger_evidence(["母の介護をしています", "もう消えたいと思う夜がある"])
    assert why["reader"] == "lexicon" and why["turn"] == 1 and "消えたい" in why["words"]


def test_exaggerations_are_not_evidence():
    assert triage.danger_words("死ぬほど忙しい") == []


def test_a_flag_from_a_yes_to_the_safety_check_says_so():
    why = triage.danger_evidence(["夜勤明けで母の介護", "はい"])
    assert why["reader"] in ("answer", "model")


# First look at blind set 4 (tests/crisis/blind4.yml, 220 dangers / 220 hard negatives, written by a
# helper who saw no code and no other data), scored before anything was studied (2026-12-01;
# README, "Danger"). Before the learned reader: lines 0.809, flag 0.532, false flag 0.132.
BLIND4_FIRST_LOOK = {"lines_recall": 0.982, "flag_recall": 0.964, "false_flag": 0.132}


def test_blind_set_4_keeps_its_first_look_figures():
    groups = danger_eval.score_set(ROOT / "tests" / "crisis" / "blind4.yml")["groups"]["all"]
    assert groups["danger"] == 220 and groups["safe"] == 220
    assert groups["lines_recall"] >= BLIND4_FIRST_LOOK["lines_recall"] - 0.01
    assert groups["flag_recall"] >= BLIND4_FIRST_LOOK["flag_recall"] - 0.01
    assert groups["false_flag"] <= BLIND4_FIRST_LOOK["false_flag"] + 0.01


def test_scores_are_probabilities(reader):
    p = reader.probability(["こんにちは", "もう消えたい", "母の介護で疲れました"])
    assert np.all((p >= 0) & (p <= 1))
