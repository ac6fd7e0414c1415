"""Regression tests for pyspec bugs found while writing the kernel model."""

from __future__ import annotations

from pathlib import Path

from pyspec_testing import errors_of, explore, model_of

WITNESS = """
var x: 0..2
init { x = 0 }
action Up { requires x < 1  x' = x + 1 }
reachable Two = x == 2
reachable One = x == 1
check deadlock off
model m { expect violated Two }
"""


def test_a_model_may_expect_a_witness_to_be_unreachable(tmp_path: Path) -> None:
    """`expect violated W` for a reachable W means "W is unreachable in this model";
    the checker used to reject it (E403) although the explorer judges it."""
    result = explore(model_of(tmp_path, WITNESS, "m"), keep_going=True)
    verdicts = {p.name: (p.verdict, p.expected) for p in result.properties}
    assert verdicts["Two"] == ("unreachable", "unreachable")
    assert verdicts["One"] == ("reachable", "reachable")


def test_an_expectation_still_names_a_property(tmp_path: Path) -> None:
    errs = errors_of(tmp_path, WITNESS.replace("expect violated Two", "expect violated Three"))
    assert [e.code for e in errs] == ["E403"]
    assert "'Three' is not an invariant, action property or reachable witness" in errs[0].message
