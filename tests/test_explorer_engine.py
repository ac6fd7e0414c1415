"""The search engine: counting rules, deadlock, constraints, properties, witnesses,
coverage, limits, evaluation errors and determinism."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
from explorer_testing import load
from pyspec_testing import TWO_COUNTERS, write

from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.judge import judge
from explorer.report_json import result_json
from explorer.result import Result
from explorer.run import run_model
from pyspec.errors import ModelConfigError
from pyspec.loader import load_spec
from pyspec.model import Check, Model


def verdicts(result: Result) -> dict[str, str]:
    return {p.name: p.verdict for p in result.properties}


def naive_bfs(model: Model) -> dict:
    """An independent, slow BFS (no constraints): the oracle for counts and coverage."""
    n = len(model.actions)
    enabled, fired, new = [0] * n, [0] * n, [0] * n
    inits = list(model.initial_states())
    level = {s: 1 for s in inits}
    queue = deque(dict.fromkeys(inits))
    total = len(inits)
    while queue:
        s = queue.popleft()
        succs = list(model.successors(s))
        total += len(succs)
        for a in {a for a, _, _ in succs}:
            enabled[a] += 1
        for a, _, t in succs:
            fired[a] += 1
            if t not in level:
                level[t] = level[s] + 1
                new[a] += 1
                queue.append(t)
    return {
        "distinct": len(level),
        "total": total,
        "depth": max(level.values()),
        "coverage": [(enabled[i], fired[i], new[i]) for i in range(n)],
    }


@pytest.mark.parametrize(
    ("file", "name", "defines"),
    [
        ("twophase", None, {"RM": 4}),
        ("ewd840", None, {"N": 3}),
        ("toys", "coverage", {}),
        ("toys", "pages", {}),
        ("toys", "grid", {"SIZE": 7}),
    ],
)
def test_counts_and_coverage_agree_with_a_naive_search(file, name, defines) -> None:
    model = load(file, name, **defines)
    expected = naive_bfs(model)
    result = check(model, Options(keep_going=True))
    assert result.stats.distinct_states == expected["distinct"]
    assert result.stats.total_states == expected["total"]
    assert result.stats.depth == expected["depth"]
    got = [(a.enabled, a.fired, a.new) for a in result.coverage.actions]
    assert got == expected["coverage"]


def test_kernel_coverage_groups_actions_by_their_kernel_tag() -> None:
    result = check(load("toys", "coverage"))
    groups = {k.value: k for k in result.coverage.tagged("kernel")}
    wp = groups["mm/memory.c: do_wp_page"]
    assert wp.actions == ("Inc", "Reset")
    by_name = {a.name: a for a in result.coverage.actions}
    assert wp.fired == by_name["Inc"].fired + by_name["Reset"].fired
    assert wp.new == by_name["Inc"].new + by_name["Reset"].new
    # Inc and Reset are never enabled in the same state, so the group's count is the sum.
    assert wp.enabled == by_name["Inc"].enabled + by_name["Reset"].enabled
    assert groups["mm/gup.c: gup_fast"].fired == 0


def test_never_fired_action_is_a_warning_unless_strict() -> None:
    relaxed = run_model(load("toys", "coverage"), Options())
    assert relaxed.coverage.never_fired == ["Never"]
    assert relaxed.exit_code == 0
    strict = run_model(load("toys", "coverage"), Options(), strict_coverage=True)
    assert strict.coverage.judgement == "fail"
    assert strict.exit_code == 12
    cut = run_model(load("toys", "coverage"), Options(max_states=2), strict_coverage=True)
    assert cut.coverage.judgement == "unknown"
    assert cut.exit_code == 152


def test_deadlock_found_with_shortest_trace() -> None:
    result = run_model(load("toys", "chain"), Options())
    assert verdicts(result)["deadlock"] == "violated"
    (dl,) = result.properties
    assert [s.state["x"] for s in dl.trace.steps] == [0, 1, 2, 3]
    assert result.exit_code == 11


def test_deadlock_check_switched_off() -> None:
    result = run_model(load("toys", "chain"), Options(check_deadlock=False))
    assert "deadlock" not in verdicts(result)
    assert result.complete
    assert result.exit_code == 0


def test_constraint_excluded_successor_is_counted_and_checked_but_not_stored() -> None:
    result = check(load("toys", "bounded"))
    # States 0..5 stored; 6 generated from 5 but outside the constraint.
    assert (result.stats.distinct_states, result.stats.total_states) == (6, 7)
    assert result.stats.depth == 6
    bad = check(load("toys", "bounded-bad"))
    assert verdicts(bad)["NotSix"] == "violated"
    (p,) = bad.properties
    assert [s.state["x"] for s in p.trace.steps] == [0, 1, 2, 3, 4, 5, 6]


def test_action_property_checked_on_transitions_into_seen_states() -> None:
    result = run_model(load("toys", "monotone"), Options())
    (p,) = result.properties
    assert p.kind == "property" and p.verdict == "violated"
    assert [s.state["x"] for s in p.trace.steps] == [0, 1, 2, 0]
    assert p.trace.steps[-1].action == "Reset"
    assert result.exit_code == 12


def test_stop_at_first_violation_leaves_other_verdicts_unknown() -> None:
    result = check(load("diehard"))
    assert result.stopped == "violation"
    assert verdicts(result) == {"TypeOK": "unknown", "NotSolved": "violated", "deadlock": "unknown"}


def test_continue_judges_every_property_with_the_same_shortest_trace() -> None:
    first = check(load("diehard"))
    every = check(load("diehard"), Options(keep_going=True))
    assert every.complete
    assert verdicts(every) == {"TypeOK": "holds", "NotSolved": "violated", "deadlock": "holds"}
    assert every.properties[1].trace == first.properties[1].trace


def test_expected_violation_forces_a_complete_search_and_passes() -> None:
    result = run_model(load("diehard", "solve"), Options())
    assert result.complete
    assert {p.name: p.judgement for p in result.properties} == {
        "TypeOK": "pass",
        "NotSolved": "pass",
        "deadlock": "pass",
    }
    assert result.exit_code == 0


def test_expected_violation_not_found_fails() -> None:
    model = load("twophase")
    model.expect_violated = frozenset({"TCConsistent"})
    result = run_model(model, Options())
    assert {p.name: p.judgement for p in result.properties}["TCConsistent"] == "fail"
    assert result.exit_code == 12


def test_unknown_expectation_is_a_model_error() -> None:
    model = load("twophase")
    model.expect_violated = frozenset({"NoSuchProperty"})
    with pytest.raises(ModelConfigError, match="NoSuchProperty"):
        check(model)


def test_reachable_witness_is_shortest() -> None:
    result = run_model(load("diehard", "witness"), Options())
    solved = {p.name: p for p in result.properties}["Solved"]
    assert solved.verdict == "reachable" and solved.judgement == "pass"
    assert len(solved.trace.steps) == 7
    assert solved.trace.steps[-1].state["big"] == 4
    assert result.exit_code == 0


def test_unreachable_witness_fails_only_after_an_exhaustive_search() -> None:
    done = run_model(load("diehard", "impossible"), Options())
    assert verdicts(done)["SixGallons"] == "unreachable"
    assert done.exit_code == 12
    cut = run_model(load("diehard", "impossible"), Options(max_states=5))
    assert verdicts(cut)["SixGallons"] == "unknown"
    assert cut.exit_code == 152


def test_max_states_stops_with_partial_statistics() -> None:
    result = run_model(load("toys", "grid"), Options(max_states=100))
    assert result.stopped == "max_states"
    assert result.stats.distinct_states == 100
    assert result.stats.total_states > 100
    assert result.stats.queue > 0
    assert set(verdicts(result).values()) == {"unknown"}
    assert result.exit_code == 152


def test_max_states_equal_to_the_state_space_is_not_a_cut() -> None:
    assert check(load("toys", "chain"), Options(max_states=4)).stopped == "violation"
    result = check(load("toys", "chain"), Options(max_states=4, check_deadlock=False))
    assert result.complete


def test_max_depth_explores_exactly_the_first_levels() -> None:
    depth = 5
    result = run_model(load("toys", "grid"), Options(max_depth=depth))
    within = sum(1 for x in range(depth) for y in range(depth) if x + y < depth)
    assert result.stopped == "max_depth"
    assert result.stats.distinct_states == within
    assert result.stats.depth == depth
    # Every stored state is expanded, even on the last level: two successors each.
    assert result.stats.total_states == 1 + 2 * within
    assert result.exit_code == 152
    deep = check(load("toys", "grid", SIZE=7), Options(max_depth=100))
    assert deep.complete


def test_timeout_and_memory_limits_stop_cleanly() -> None:
    timed = check(load("toys", "grid"), Options(timeout_s=1e-9))
    assert timed.stopped == "timeout"
    assert 0 < timed.stats.distinct_states < 200 * 200
    mem = check(load("toys", "grid"), Options(max_memory_mb=1))
    assert mem.stopped == "max_memory"
    assert 0 < mem.stats.distinct_states < 200 * 200


def test_interrupt_gives_partial_statistics() -> None:
    result = run_model(load("toys", "interrupt"), Options())
    assert result.stopped == "interrupted"
    assert result.stats.distinct_states == 51
    assert result.exit_code == 152


def test_progress_is_reported_through_the_callback() -> None:
    seen = []
    check(load("toys", "grid", SIZE=60), Options(progress=seen.append, progress_interval_s=0))
    assert seen
    assert [p.distinct_states for p in seen] == sorted(p.distinct_states for p in seen)
    assert all(p.depth >= 1 and p.queue >= 0 for p in seen)


def test_error_in_an_invariant_points_at_the_spec_with_a_trace() -> None:
    result = run_model(load("toys", "crash"), Options())
    assert result.error is not None
    assert result.error.message == "division by zero"
    assert str(result.error.pos) == "toys.cow:7:12"
    assert [s.state["x"] for s in result.error.trace.steps] == [0, 1, 2]
    assert result.exit_code == 150


def test_error_in_a_successor_function_traces_to_the_state_being_expanded() -> None:
    result = run_model(load("toys", "crash", WHERE="step"), Options())
    assert result.stopped == "error"
    assert [s.state["x"] for s in result.error.trace.steps] == [0, 1, 2]
    assert result.exit_code == 150


def test_default_explain_error_names_the_exception() -> None:
    model = load("toys", "chain")
    model.successors = lambda s: [][1]  # type: ignore[method-assign]
    result = check(model)
    assert result.error.message.startswith("IndexError")
    assert result.error.pos is None


def test_same_model_same_result() -> None:
    def run() -> dict:
        doc = result_json(judge(check(load("twophase", RM=4), Options(keep_going=True))))
        doc.pop("elapsed_s"), doc.pop("states_per_s")
        return doc

    assert run() == run()


def test_trace_steps_name_action_parameters_and_tags() -> None:
    twophase = load("twophase")
    twophase.invariants = (Check("NoCommit", "invariant", fn=lambda s: s[1] != 1),)
    (p, _) = check(twophase).properties
    last = p.trace.steps[-1]
    assert last.action == "TMCommit" and last.params == () and last.label == "TMCommit"
    prepare = next(s for s in p.trace.steps if s.action == "RMPrepare")
    assert prepare.params == (("rm", "r1"),)
    assert prepare.label == "RMPrepare(rm=r1)"
    # Three RMs prepare, the TM hears each, then commits.
    assert len(p.trace.steps) == 8

    toy = load("toys", "tagged")
    (q, _) = check(toy).properties
    assert q.trace.steps[-1].tags == toy.actions[0].tags
    assert {t.name for t in q.trace.steps[-1].tags} == {"kernel", "patch"}


def test_auto_says_when_llvmlite_is_missing(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Without llvmlite, ``auto`` runs the numpy engine and its note names the reason in
    plain words (it once read "it does not support numba is not installed")."""
    from explorer.engine import compiled

    monkeypatch.setattr(compiled, "llvmlite_available", lambda: False)
    spec = load_spec(str(write(tmp_path, TWO_COUNTERS)))
    result = check(spec.instantiate(), Options(backend="auto"))
    assert result.stats.backend == "numpy"
    assert result.notes == [
        "the compiled engine did not run: llvmlite is not installed"]


SECOND_INITIAL_STATE = """
var start: 0..2
var x: 0..3
init {
  pick s in 0..2
  start = s
  x = 0
}
action Up { requires x < 3  x' = x + 1 }
invariant NotFromTwo = not (start == 2 and x == 2)
check deadlock off
"""


@pytest.mark.parametrize("backend", ["scalar", "numpy", "compiled"])
def test_a_trace_starts_from_the_initial_state_it_came_from(tmp_path: Path,
                                                           backend: str) -> None:
    """A violation reached from the third initial state is traced from that state: the
    numpy engine once stored every initial state at position 0, so its traces began at
    the first initial state (a trace that does not violate anything), or failed to
    replay with an IndexError."""
    if backend == "compiled":
        pytest.importorskip("llvmlite")
    model = load_spec(str(write(tmp_path, SECOND_INITIAL_STATE))).instantiate()
    result = check(model, Options(backend=backend))
    (prop,) = result.properties
    assert prop.verdict == "violated"
    assert [(s.state["start"], s.state["x"]) for s in prop.trace.steps] == \
        [(2, 0), (2, 1), (2, 2)]
