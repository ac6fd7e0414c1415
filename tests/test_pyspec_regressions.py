"""Regression tests for pyspec bugs found while writing the kernel model."""

from __future__ import annotations

from pathlib import Path

from pyspec_testing import errors_of, explore, model_of, spec_of

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


def test_empty_parentheses_are_kept_apart_from_none(tmp_path: Path) -> None:
    """``f()``, ``Step()`` and ``V()`` are written with empty parentheses; the grammar (not
    a look at the raw text) tells them from ``f``, ``Step`` and ``V``."""
    spec = spec_of(tmp_path, """
        union U { V, W(x: 0..1) }
        var u: U
        def f() = 1
        def g = 2
        init { u = V }
        action A { match u { V() => u' = W(0)  W(_) => u' = V } }
        action B(p: 0..1) { requires p == 0; u' = u }
        scenario S { A() B(_) A; B(0) }
        """)
    sym = spec.checked.symbols
    assert sym.defs["f"].params == [] and sym.defs["g"].params is None
    steps = sym.scenarios["S"].steps
    assert [(s.action, s.args) for s in steps[:3]] == [("A", []), ("B", [None]), ("A", None)]
    arms = sym.actions["A"].body.stmts[0].arms  # type: ignore[attr-defined]
    assert [[(p.ctor, p.args) for p in pats] for pats, _ in arms] == [[("V", [])],
                                                                      [("W", [None])]]


def test_a_temporal_forall_takes_a_group_of_names(tmp_path: Path) -> None:
    """``forall a, b in S:`` before a temporal property binds both names (the fuzz
    campaign found the group handed on unspread, an internal error)."""
    spec = """
        const Procs = {p1, p2}
        var done: set[Procs]
        init { done = {} }
        action Finish(p: Procs) { requires not (p in done)  done' = done | {p} }
        fair weak each Finish
        check deadlock off
        property BothFinish = forall a, b in Procs: eventually (a in done and b in done)
        property FirstOnly = forall a, b in Procs: always (a in done implies b in done)
    """
    result = explore(model_of(tmp_path, spec), keep_going=True)
    verdicts = {p.name: p.verdict for p in result.properties}
    assert verdicts == {"BothFinish": "holds", "FirstOnly": "violated"}
