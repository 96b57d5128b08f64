"""Contacts picked out of what people write, with phonenumbers (JP) and email-validator."""

import pytest

from bot.dialogue.contact import parse_contact


@pytest.mark.parametrize("text, expected", [
    ("0467-12-3456", ("phone", "0467123456")),
    ("+81 467-12-3456", ("phone", "0467123456")),
    ("tel: 0467-12-3456", ("phone", "0467123456")),
    ("電話は０９０ー１２３４ー５６７８にお願いします", ("phone", "09012345678")),
    ("ｹｰﾀｲ 080 1111 2222 です", ("phone", "08011112222")),
    ("メールは tanaka@example.jp です", ("email", "tanaka@example.jp")),
    ("メールはtanaka@example.jpです", ("email", "tanaka@example.jp")),
    ("Hanako.Y+care@Example.CO.JP", ("email", "hanako.y+care@example.co.jp")),
    ("ｔａｎａｋａ＠ｅｘａｍｐｌｅ．ｊｐ", ("email", "tanaka@example.jp")),
])
def test_a_contact_is_picked_out_of_a_sentence(text, expected):
    assert parse_contact(text) == expected


@pytest.mark.parametrize("text", ["0000000000", "12345", "abc@", "tanaka@@example.jp", "090-1234", "あいうえお", ""])
def test_impossible_numbers_and_broken_addresses_are_refused(text):
    assert parse_contact(text) == ("invalid", None)


@pytest.mark.parametrize("text", ["なし", "なしで", "とくめいでおねがい", "言いたくないです", "大丈夫です", "No"])
def test_no_contact_is_read_as_none(text):
    assert parse_contact(text) == ("none", None)
