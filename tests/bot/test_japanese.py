"""Tests of the fugashi tokenizer core (bot.language.japanese)."""

import pytest

from bot.language import japanese


@pytest.mark.parametrize(
    "text, expected_tokens, expected_offsets",
    [
        (
            "お母さんが病気で毎日ごはん作ってる",
            ["お", "母", "さん", "が", "病気", "で", "毎日", "ごはん", "作っ", "てる"],
            [(0, 1), (1, 2), (2, 4), (4, 5), (5, 7), (7, 8), (8, 10), (10, 13), (13, 15), (15, 17)],
        ),
        # a child's hiragana-only writing, kansai dialect
        ("ままがびょうきやねん", ["まま", "が", "びょうき", "や", "ねん"], [(0, 2), (2, 3), (3, 7), (7, 8), (8, 10)]),
        # half-width kana: offsets stay on the original characters (ﾊﾞ is two of them)
        ("ｵﾚ、ﾊﾞｲﾄしてる", ["ｵﾚ", "、", "ﾊﾞｲﾄ", "し", "てる"], [(0, 2), (2, 3), (3, 7), (7, 8), (8, 10)]),
        # emoji
        ("弟の世話つらい😭", ["弟", "の", "世話", "つらい", "😭"], [(0, 1), (1, 2), (2, 4), (4, 7), (7, 8)]),
        # hiroshima/fukuoka dialect
        (
            "ばあちゃんの介護しとるけん",
            ["ばあ", "ちゃん", "の", "介護", "し", "とる", "けん"],
            [(0, 2), (2, 5), (5, 6), (6, 8), (8, 9), (9, 11), (11, 13)],
        ),
        # full-width digits and a grade
        ("高２です", ["高", "２", "です"], [(0, 1), (1, 2), (2, 4)]),
        # NFKC turns … into three dots: still one token on one character
        ("えっと…その", ["えっと", "…", "その"], [(0, 3), (3, 4), (4, 6)]),
    ],
)
def test_tokens_and_offsets(text, expected_tokens, expected_offsets):
    tokens = japanese.tokenize(text)
    assert [t.text for t in tokens] == expected_tokens
    assert [(t.start, t.end) for t in tokens] == expected_offsets
    assert all(text[t.start : t.end] == t.text for t in tokens)


@pytest.mark.parametrize(
    "text, expected_lemmas",
    [
        ("ｵﾚ", ["俺"]),
        ("オレ", ["俺"]),
        ("ﾊﾞｲﾄ", ["バイト"]),  # UniDic's lemma is バイト-Arbeit: the tag is stripped
        ("１２３", ["123"]),  # numerals have no lemma: the normalised surface
        ("作ってる", ["作る", "てる"]),
        ("ＡＢＣ", ["abc"]),
    ],
)
def test_lemmas_are_width_and_case_insensitive(text, expected_lemmas):
    assert [t.lemma for t in japanese.tokenize(text)] == expected_lemmas


def test_half_and_full_width_kana_give_the_same_lemmas():
    half, full = japanese.tokenize("ｶｲｺﾞｶﾞﾂﾗｲ"), japanese.tokenize("カイゴガツライ")
    assert [t.lemma for t in half] == [t.lemma for t in full]
    assert [t.pos for t in half] == [t.pos for t in full]


def test_pos_and_reading():
    tokens = japanese.tokenize("母が入院した")
    assert [t.pos for t in tokens] == ["名詞", "助詞", "名詞", "動詞", "助動詞"]
    assert "".join(t.reading for t in tokens) == "ははがにゅういんした"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", []),
        ("   \u3000\t\n", []),
        ("\x00\x07\x1b", []),
        ("母\x00が", [("母", 0, 1), ("が", 2, 3)]),
        ("😢😢", [("😢😢", 0, 2)]),  # MeCab keeps a run of symbols together
        ("( ̄^ ̄)ゞ", [("(", 0, 1), (" ̄", 1, 3), ("^", 3, 4), (" ̄", 4, 6), (")", 6, 7), ("ゞ", 7, 8)]),
        ("okaasan ga byouki", [("okaasan", 0, 7), ("ga", 8, 10), ("byouki", 11, 17)]),
        (
            "ママがcancerでﾆｭｳｲﾝ中",
            [("ママ", 0, 2), ("が", 2, 3), ("cancer", 3, 9), ("で", 9, 10), ("ﾆｭｳ", 10, 13), ("ｲﾝ", 13, 15), ("中", 15, 16)],
        ),
        ("\u200b母", [("母", 1, 2)]),
    ],
)
def test_naughty_strings_give_defined_tokens(text, expected):
    assert [(t.text, t.start, t.end) for t in japanese.tokenize(text)] == expected


def test_ten_thousand_characters():
    text = "母の介護で毎日つかれています。" * 667  # 10,005 characters
    tokens = japanese.tokenize(text)
    assert len(tokens) == 667 * 11
    assert tokens[-1].end == len(text)
    assert all(text[t.start : t.end] == t.text for t in tokens[:50])


def test_max_chars_bounds_the_input():
    text = "あ" * 10_000
    tokens = japanese.tokenize(text, max_chars=1000)
    assert tokens and tokens[-1].end == 1000


def test_offsets_never_overlap_on_expanding_characters():
    text = "㍻…㌔ｷﾞｶﾞ"
    tokens = japanese.tokenize(text)
    assert all(a.end <= b.start for a, b in zip(tokens, tokens[1:]))
    assert "".join(t.text for t in tokens) == text
