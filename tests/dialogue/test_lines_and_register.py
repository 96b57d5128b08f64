"""Crisis lines chosen for who is writing and for the danger; the register follows the writer (issue 14)."""

import datetime as dt

import pytest

from bot import catalog, triage
from bot.dialogue import Conversation, Message, speech_style, take_turn, writer

NIGHT = dt.datetime(2026, 12, 1, 23, 30, tzinfo=catalog.JST)  # a Tuesday
AFTERNOON = dt.datetime(2026, 12, 1, 16, 30, tzinfo=catalog.JST)
SUNDAY_NOON = dt.datetime(2026, 12, 6, 12, 0, tzinfo=catalog.JST)


def _lines(text, now=NIGHT):
    turn = take_turn(Conversation(), [text], Message(text, "share_situation"), now=now)
    return next(values["lines"] for name, values in turn.replies if name == "utter_crisis")


def test_every_choice_names_lines_of_the_catalog_at_most_three():
    ids = {line["id"] for line in catalog.load()["crisis_lines"]}
    for who, dangers in catalog.load()["crisis_line_choice"].items():
        assert who in catalog.WRITERS
        for danger, chosen in dangers.items():
            assert danger in catalog.DANGERS and set(chosen) <= ids and 1 <= len(chosen) <= catalog.MAX_LINES, (who, danger)


def test_a_line_says_when_it_is_closed_at_this_hour():
    childline = catalog.line("childline")
    assert catalog.is_open(childline, AFTERNOON) and not catalog.is_open(childline, NIGHT)
    assert not catalog.is_open(catalog.line("kodomo_jinken"), SUNDAY_NOON)  # weekdays only
    assert catalog.is_open(catalog.line("yorisoi"), NIGHT)  # 24 hours
    assert catalog.CLOSED_NOTE in catalog.format_crisis_line("childline", NIGHT)
    assert catalog.CLOSED_NOTE not in catalog.format_crisis_line("childline", AFTERNOON)


def test_lines_open_now_come_first():
    night = catalog.lines_for("adult", "self", NIGHT)
    assert [x["id"] for x in night][-1] == "inochi"  # closed at 23:30: last, and says so
    assert [x["id"] for x in catalog.lines_for("adult", "self", AFTERNOON)][0] == "inochi"


def test_an_adult_at_the_end_gets_lines_that_listen_to_adults_not_the_childrens():
    lines = _lines("45歳の会社員です。母の介護が限界で、今夜で終わりにしたい。死にたい")
    assert "0120-0-78310" not in lines and "189" not in lines
    assert "0570-783-556" in lines and len(lines.splitlines()) <= 3


def test_a_child_harmed_at_home_gets_the_childrens_line_and_189():
    lines = _lines("中2です。おとうさんがおさけのむと なぐってくる。きょうも たたかれた。こわい")
    assert lines.splitlines()[0].count("0120-0-78310") == 1 and "189" in lines


def test_an_adult_hit_by_a_partner_gets_the_dv_line():
    lines = _lines("50代です。夫の介護をしていますが、夫に毎日殴られて、もう死にたいです")
    assert "0120-279-889" in lines and "0120-0-78310" not in lines


def test_a_medical_emergency_gets_119_alone_then_at_most_one_line():
    turn = take_turn(Conversation(), ["父が倒れて息をしていない"], Message("父が倒れて息をしていない", "share_situation"), now=NIGHT)
    names = [name for name, _ in turn.replies]
    assert names[:2] == ["utter_emergency", "utter_crisis"]
    assert turn.replies[0][1]["line"].count("119") >= 1 and len(turn.replies[1][1]["lines"].splitlines()) == 1


@pytest.mark.parametrize("text, expected", [
    ("中2です。ママがずっと入院してて、家のこと全部わたしがやってる", "child"),
    ("まごが まいにち わたしの せわを してくれて もうしわけない", "adult"),        # a grandmother in hiragana
    ("3歳の息子に発達の遅れがあって療育に通っています。私が付き添っています", "adult"),  # a parent of a small child
    ("クラスの生徒が弟の世話で遅刻が多いです", "adult"),                          # a teacher
    ("部下が親の介護で休みがちです。会社として何ができますか", "adult"),              # an employer
    ("40代の会社員です。認知症の父の介護をしています", "adult"),
])
def test_the_register_follows_who_is_writing_not_who_is_described(text, expected):
    assert writer(triage.assess([text])) == expected


def test_before_anything_is_known_the_register_is_plain():
    assert speech_style(triage.assess(["家族のことで相談したいです"])) == "plain"
    assert speech_style(triage.assess(["40代の会社員です。認知症の父の介護をしています"])) == "standard"
    assert speech_style(triage.assess(["中2です。ママがずっと入院してて、家のこと全部わたしがやってる"])) == "easy"

