"""Japanese typed in romaji is read as kana; English is left as it is (issue 14)."""

import pytest

from bot import triage
from bot.language.japanese import romaji_as_kana


@pytest.mark.parametrize("text, kana", [
    ("haha ga byouki de mainichi gohan tsukutteru", "ははがびょうきでまいにちごはんつくってる"),
    ("mou shinitai", "もうしにたい"),
    ("Otouto no sewa shiteru", "おとうとのせわしてる"),
    ("shinu hodo isogashii kedo genki desu", "しぬほどいそがしいけどげんきです"),
])
def test_romaji_is_read_as_kana(text, kana):
    assert romaji_as_kana(text) == kana


@pytest.mark.parametrize("text", [
    "my mom is sick and I cook every day", "Hi, I am 16 and I look after my sister", "hello there",
    "daigaku no zemi de young carer ni tsuite happyou suru",  # half English: the English reader takes it
    "ママが病気 so tired", "thanks",
])
def test_english_and_japanese_are_left_as_they_are(text):
    assert romaji_as_kana(text) is None


def test_the_triage_reads_a_romaji_story_and_a_romaji_danger():
    a = triage.assess(["haha ga byouki de mainichi gohan tsukutteru. otouto no sewa mo shiteru"])
    assert a.carer_types and {"mother", "sibling"} <= a.facts.relations
    assert triage.assess(["mou shinitai"]).crisis  # by the learned reader, which reads romaji itself


def test_an_exaggeration_in_romaji_is_not_a_danger():
    assert not triage.assess(["shinu hodo isogashii kedo genki desu"]).crisis
