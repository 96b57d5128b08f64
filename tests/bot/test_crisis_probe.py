"""Every danger of the probe sets (tests/crisis/) is read, and none of their hard negatives raises an alarm."""

from pathlib import Path

import pytest

from bot import evaluate

FOLDER = Path(__file__).resolve().parents[1] / "crisis"
CASES = [c for path in sorted(FOLDER.glob("*.yml")) for c in evaluate.load(path)]


def test_the_probes_have_both_kinds():
    assert len(CASES) == 300 and sum(c["expected"]["crisis"] for c in CASES) == 155


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_danger_is_read_and_hard_negatives_are_not(case):
    assert evaluate.play_offline(case["turns"])["crisis"] is case["expected"]["crisis"], case["why"]
