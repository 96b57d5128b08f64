"""Every danger of the studied probe sets (data/danger/) is read by the lexicon, and none of their hard negatives raises an alarm."""

from pathlib import Path

import pytest

from bot import evaluate

FOLDER = Path(__file__).resolve().parents[2] / "data" / "danger"
CASES = [c for path in sorted(FOLDER.glob("probe*.yml")) for c in evaluate.load(path)]


def test_the_probes_have_both_kinds():
    assert len(CASES) == 300 and sum(c["expected"]["crisis"] for c in CASES) == 155


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_danger_is_read_and_hard_negatives_are_not(case):
    assert evaluate.play_offline(case["turns"])["crisis"] is case["expected"]["crisis"], case["why"]


def _replies(turns):
    from bot import dialogue, triage

    state, names = dialogue.State(), set()
    for i in range(len(turns)):
        a = triage.assess(turns[: i + 1], asked=state.asked)
        names |= {name for name, _ in dialogue.plan(a, "share_situation", state, turns[i])}
    return names


LINES = {"utter_crisis", "utter_danger_check"}


def test_blind_probe_3_most_people_in_danger_are_shown_the_lines():
    """tests/crisis/probe3.yml was written blind after two rounds of study and is never studied:
    the lexicon alone flags 26 of its 60 dangers (measured 2026-11-26); with the second reader
    the crisis lines are shown to 49, and 9 of its 60 safe conversations get them or the check."""
    cases = evaluate.load(Path(__file__).resolve().parents[1] / "crisis" / "probe3.yml")
    danger = [c for c in cases if c["expected"]["crisis"]]
    safe = [c for c in cases if not c["expected"]["crisis"]]
    shown = sum(bool(_replies(c["turns"]) & LINES) for c in danger)
    alarmed = sum(bool(_replies(c["turns"]) & LINES) for c in safe)
    assert shown >= 46 and alarmed <= 12, (shown, alarmed)


def test_ordinary_conversations_are_rarely_asked_whether_they_are_safe():
    cases = [c for path in sorted((Path(__file__).resolve().parents[1] / "eval").glob("*.yml")) for c in evaluate.load(path)]
    safe = [c for c in cases if not c["expected"]["crisis"]]
    asked = sum("utter_danger_check" in _replies(c["turns"]) for c in safe)
    assert asked / len(safe) <= 0.065, asked  # measured: 37 of 646


def _between_thresholds():
    """A corpus message that no lexicon word reads and the learned reader puts between its thresholds."""
    import yaml

    from bot import danger_model, triage

    r = danger_model.reader()
    for path in sorted((FOLDER / "corpus").glob("*.yml")):
        for conv in yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"]:
            text = conv["turns"][0]
            a = triage.assess([text])
            if len(conv["turns"]) == 1 and not a.crisis and a.user_role != "employer" and r.low <= danger_model.score([text]) < r.high:
                return text
    raise AssertionError("no message between the thresholds in the corpus")


def test_between_the_thresholds_the_reader_asks_once_with_the_lines():
    from bot import dialogue, triage

    text = _between_thresholds()
    state = dialogue.State()
    a = triage.assess([text], asked=state.asked)
    assert not a.crisis and a.facts.possible_danger
    first = dialogue.plan(a, "share_situation", state, text)
    check = next(values for name, values in first if name == "utter_danger_check")
    assert "189" in check["lines"] and "119" in check["lines"]
    again = triage.assess([text, "会社員です"], asked=state.asked)
    assert "utter_danger_check" not in [n for n, _ in dialogue.plan(again, "inform", state, "会社員です")]
    # An employer asking about policy is not asked whether they are safe.
    employer = triage.assess(["従業員が親の介護で休みがちです。会社として何ができますか"])
    assert not employer.facts.possible_danger and not employer.crisis
