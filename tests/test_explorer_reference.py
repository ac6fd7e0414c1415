"""TLC's own numbers on the tlaplus/Examples specs, translated by hand into Python models.

These are the reference results of ``model-checking-notes.md`` section 1: if the engine's
counting drifts from TLC's in any way (duplicates, initial states, depth), one of them
breaks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from explorer_testing import load

from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.run import run_model
from pyspec.loader import load_spec


@pytest.mark.parametrize(
    ("file", "defines", "distinct", "total", "depth"),
    [
        ("hourclock", {}, 12, 24, 1),
        ("tcommit", {"RM": 3}, 34, 94, 7),
        ("twophase", {"RM": 3}, 288, 1146, 11),
        ("ewd840", {"N": 3}, 302, 2001, 9),
    ],
)
def test_tlc_counts(file: str, defines: dict, distinct: int, total: int, depth: int) -> None:
    result = run_model(load(file, **defines), Options())
    assert (result.stats.distinct_states, result.stats.total_states, result.stats.depth) == (
        distinct,
        total,
        depth,
    )
    assert result.complete
    assert all(p.verdict == "holds" for p in result.properties)
    assert result.exit_code == 0


EXAMPLES = Path(__file__).parent.parent / "spec" / "examples"


@pytest.mark.parametrize(
    ("file", "distinct", "total", "depth"),
    [
        ("hourclock.cow", 12, 24, 1),
        ("tcommit.cow", 34, 94, 7),
        ("twophase.cow", 288, 1146, 11),
        ("ewd840.cow", 302, 2001, 9),
    ],
)
def test_tlc_counts_of_the_compiled_example_specs(
    file: str, distinct: int, total: int, depth: int
) -> None:
    model = load_spec(str(EXAMPLES / file)).instantiate()
    result = run_model(model, Options())
    stats = result.stats
    assert (stats.distinct_states, stats.total_states, stats.depth) == (distinct, total, depth)
    assert result.exit_code == 0


def test_compiled_diehard_expects_its_seven_state_solution() -> None:
    result = run_model(load_spec(str(EXAMPLES / "diehard.cow")).instantiate(), Options())
    (not_solved,) = [p for p in result.properties if p.name == "NotSolved"]
    assert (not_solved.verdict, not_solved.judgement) == ("violated", "pass")
    assert len(not_solved.trace.steps) == 7
    assert result.exit_code == 0


def test_deadlock_is_checked_as_the_cfg_says() -> None:
    """TCommit.cfg and EWD840.cfg turn deadlock checking off; TwoPhase.cfg leaves it on."""
    kinds = {f: [p.kind for p in check(load(f)).properties] for f in ("tcommit", "twophase")}
    assert "deadlock" not in kinds["tcommit"]
    assert "deadlock" in kinds["twophase"]


def test_twophase_five_rms_matches_stateright() -> None:
    assert check(load("twophase", RM=5)).stats.distinct_states == 8832


def test_diehard_shortest_counterexample_has_seven_states() -> None:
    result = run_model(load("diehard"), Options())
    (not_solved,) = [p for p in result.properties if p.name == "NotSolved"]
    assert not_solved.verdict == "violated"
    assert not_solved.trace is not None
    states = [(s.state["big"], s.state["small"]) for s in not_solved.trace.steps]
    assert len(states) == 7
    assert states[0] == (0, 0)
    assert states[-1][0] == 4
    assert all(big != 4 for big, _ in states[:-1])
    assert not_solved.trace.steps[0].action is None
    assert all(s.action is not None for s in not_solved.trace.steps[1:])
    assert result.exit_code == 12
