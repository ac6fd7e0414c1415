"""A constant set where a type goes: written inline as a map's keys
(``[Prisoner - {Counter} -> 0..2]``, TLA+'s ``[Prisoner \\ {Counter} -> 0..2]``), and by
name or inline as a variable's or an action parameter's type (TLA+'s ``k \\in Other``).
Counts are checked against a breadth-first search written here in plain Python."""

from __future__ import annotations

from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import errors_of, explore, model_of, write

from pyspec.values import MapV

SPEC = """
const Prisoner = {p1, p2, p3}
const Counter = p1
const Other = Prisoner - {Counter}
var t: [Prisoner - {Counter} -> 0..2]
var last: Other
var k: Prisoner - {Counter}
init {
  t = [i in Prisoner - {Counter} -> 0]
  last = p2
  k = p3
}
action Flip(i: Prisoner - {Counter}) {
  requires t[i] < 2
  t'[i] = t[i] + 1
  last' = i
}
action Swap(j: Other) {
  k' = j
}
"""


def brute_force(prisoners: list[str], counter: str) -> tuple[int, int, int]:
    """Distinct states, generated states and depth of SPEC, searched directly."""
    others = [p for p in prisoners if p != counter]
    init = (tuple(0 for _ in others), "p2", "p3")
    seen, frontier, generated, depth = {init}, [init], 1, 1
    while frontier:
        nxt = []
        for t, last, k in frontier:
            succ = [(t[:n] + (t[n] + 1,) + t[n + 1:], i, k)
                    for n, i in enumerate(others) if t[n] < 2]
            succ += [(t, last, j) for j in others]
            generated += len(succ)
            for s in succ:
                if s not in seen:
                    seen.add(s)
                    nxt.append(s)
        frontier = nxt
        depth += bool(nxt)
    return len(seen), generated, depth


def test_inline_key_sets_and_set_types_give_the_direct_search_counts(tmp_path: Path) -> None:
    m = model_of(tmp_path, SPEC)
    result = explore(m)
    stats = result.stats
    assert (stats.distinct_states, stats.total_states, stats.depth) == \
        brute_force(["p1", "p2", "p3"], "p1") == (26, 85, 6)
    (s,) = m.initial_states()
    described = m.describe_state(s)
    assert described["t"] == MapV((("p2", 0), ("p3", 0)))
    assert (described["last"], described["k"]) == ("p2", "p3")
    # The sets written inline are not shown among the model's constants.
    assert set(m.constants) == {"Prisoner", "Counter", "Other"}


def test_the_sets_follow_the_model(tmp_path: Path) -> None:
    result = explore(model_of(tmp_path, SPEC, Prisoner="{p1, p2, p3, p4}"))
    stats = result.stats
    assert (stats.distinct_states, stats.total_states, stats.depth) == \
        brute_force(["p1", "p2", "p3", "p4"], "p1")


def test_a_value_outside_the_set_is_an_evaluation_error_at_its_position(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SPEC.replace("k' = j", "k' = Counter"))
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 150
    assert "spec.cow:18:8: error[E900]: value p1 is not in Prisoner - {Counter}" in out
    assert "k = p3" in out
    path = write(tmp_path, SPEC.replace("k' = j", "k' = Counter") + "check types on\n")
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 12 and "invariant TypeOK" in out and "k = p1" in out


def test_a_parameter_over_an_empty_set_never_fires(tmp_path: Path) -> None:
    result = explore(model_of(tmp_path, SPEC.replace("k = p3", "k = p2"),
                              Prisoner="{p1, p2}"), check_deadlock=False)
    # Only p2 is another prisoner: Flip twice, and Swap to p2 is a self-loop.
    assert (result.stats.distinct_states, result.stats.total_states) == (3, 6)
    spec = SPEC + "action Never(q: Other - {p2, p3}) { k' = q }\n"
    result = explore(model_of(tmp_path, spec))
    assert result.stats.distinct_states == 26 and "Never" in result.coverage.never_fired


def test_symmetry_leaves_a_set_types_members_alone(tmp_path: Path) -> None:
    spec = SPEC.replace("const Prisoner = {p1, p2, p3}",
                        "const Prisoner = symmetric {p1, p2, p3}")
    for symmetry in (False, True):
        assert explore(model_of(tmp_path, spec), symmetry=symmetry).stats.distinct_states == 26


def test_set_type_errors(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """
        const Prisoner = {p1, p2, p3}
        const Other = Prisoner - {p1}
        const N = 3
        var y: Prisoner
        var a: set[Prisoner - {p1}]
        var b: [Prisoner -> Other]
        var c: Prisoner - {y}
        var d: N - {1}
        var e: [Other -> bool]
        init { y = p1  a = {}  b = [p in Prisoner -> p2]  c = p2  d = 1
               e = [p in Prisoner - {p1} -> true] }
        def f(x: Other): bool = true
        invariant I = f(p2)
    """)
    assert [(d.code, d.pos.line, d.pos.col) for d in errors] == [
        ("E106", 5, 12), ("E106", 6, 21), ("E303", 7, 20), ("E104", 8, 8), ("E104", 8, 12),
        ("E104", 11, 12), ("E106", 12, 10)]
    assert errors[0].message == (
        "a set written as a type (Prisoner - {p1}) is a map's key set, a variable's type or "
        "an action parameter's type; inside another type, write its element type")
    assert "a variable's type or an action parameter's type" in errors[1].message
    assert errors[2].message == \
        "the set Prisoner - {y} must be constant, but reads variable 'y'"
    assert errors[3].message == "N - {1} is int, not a set"
    assert "should be [Other -> bool], not [Prisoner - {p1} -> bool]" in errors[5].message


def test_numpy_refuses_set_types_the_compiled_engine_runs_them_and_auto_runs_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, """
        const Prisoner = {p1, p2, p3}
        var k: Prisoner - {p1}
        init { k = p2 }
        action Go(j: Prisoner - {p1}) { k' = j }
    """)
    code, _, err = run_cli(capsys, "check", str(path), "--backend", "numpy")
    assert code == 151
    assert ("cannot run model default: a constant set as a variable's or a parameter's type"
            in err)
    code, out, _ = run_cli(capsys, "check", str(path), "--backend", "compiled")
    assert code == 0 and "2 distinct states, 5 generated" in out
    assert "engine:      compiled" in out
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 0 and "2 distinct states, 5 generated" in out


UNION = """
const A = {a1, a2}
const B = {b1}
const Node = A | B
var x: A
var y: Node
var seen: [Node -> bool]
init { x = a1  y = b1  seen = [n in Node -> false] }
action Go(p: A, q: Node) {
  requires if p != x then true else q != y
  x' = p
  y' = q
  seen'[q] = true
}
invariant Types = x in A and y in A | B and card(A & B) == 0 and card(Node) == card(A) + card(B)
"""


def union_brute_force(a: list[str], b: list[str]) -> tuple[int, int]:
    """Distinct and generated states of UNION, searched directly."""
    node = a + b
    init = (a[0], b[0], frozenset())
    seen, frontier, generated = {init}, [init], 1
    while frontier:
        nxt = []
        for x, y, marked in frontier:
            for p in a:
                for q in node:
                    if (p, q) != (x, y):
                        generated += 1
                        s = (p, q, marked | {q})
                        if s not in seen:
                            seen.add(s)
                            nxt.append(s)
        frontier = nxt
    return len(seen), generated


def test_sets_of_model_values_joined_by_a_union(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """TLA+'s ``A \\cup B`` of two constants' model values: the union is the set of model
    values, A's then B's, and A and B its constant subsets (types of x and p)."""
    m = model_of(tmp_path, UNION)
    stats = explore(m).stats
    assert (stats.distinct_states, stats.total_states) == \
        union_brute_force(["a1", "a2"], ["b1"])
    assert m.constants["Node"].items == ("a1", "a2", "b1")
    stats = explore(model_of(tmp_path, UNION.replace("y = b1", "y = a1"),
                             A=3, B="{z, w}")).stats
    assert (stats.distinct_states, stats.total_states) == \
        union_brute_force(["a1", "a2", "a3"], ["z", "w"])
    path = write(tmp_path, UNION)
    code, out, _ = run_cli(capsys, "check", str(path), "-D", "Node=3")
    assert code == 151
    assert "error[E410]: 'Node' joins A, B: give those their model values" in out + _


def test_union_errors(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """
        const A = {a1, a2}
        const B = symmetric {b1}
        const C = {c1}
        const AB = A | B
        const AC = A | C
        def CB = C | B
    """)
    assert [(d.code, d.pos.line, d.pos.col) for d in errors] == [
        ("E104", 4, 1), ("E102", 5, 1), ("E104", 5, 12), ("E104", 6, 10)]
    assert errors[0].message == (
        "'B' is part of the union 'AB' of sets of model values and cannot be symmetric "
        "(symmetry reduction permutes a whole set of model values)")
    assert errors[1].message == ("'A' is already joined into another set of model values; "
                                 "a set can be part of one union")
    assert errors[3].message.endswith(
        "(declare their union, const All = C | AB: then both are sets of All's model values)")


@pytest.mark.parametrize("backend", ["scalar", "numpy", "compiled"])
def test_every_engine_runs_a_union_of_model_values(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], backend: str) -> None:
    path = write(tmp_path, """
        const A = {a1, a2}
        const B = {b1}
        const Node = A | B
        var y: Node
        var seen: [Node -> bool]
        init { y = a1  seen = [n in Node -> false] }
        action Go(q: Node) { requires q in A or seen[q]  y' = q  seen'[q] = true }
        action Mark(q: Node) { requires not (q in A)  seen'[q] = true }
    """)
    code, out, _ = run_cli(capsys, "check", str(path), "--backend", backend)
    assert code == 0 and "14 distinct states, 52 generated" in out
    code, out, _ = run_cli(capsys, "check", str(path), "--backend", backend,
                           "-D", "A=3", "-D", "B={x, w}")
    assert code == 0 and "84 distinct states, 521 generated" in out
