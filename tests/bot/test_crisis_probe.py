"""Every danger of tests/crisis/probe.yml is read, and none of its hard negatives raises an alarm."""

from pathlib import Path

import pytest

from bot import evaluate

CASES = evaluate.load(Path(__file__).resolve().parents[1] / "crisis" / "probe.yml")


def test_the_probe_has_both_kinds():
    assert sum(c["expected"]["crisis"] for c in CASES) == 85 and len(CASES) == 160


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_danger_is_read_and_hard_negatives_are_not(case):
    assert evaluate.play_offline(case["turns"])["crisis"] is case["expected"]["crisis"], case["why"]
