"""The language for TLA+ users: no silent traps where TLC would behave differently
(E208, W503, with TLC's numbers), ``let`` and ``choose`` expressions, and errors that name
every TLA+ form a translator may write and say how to write it here."""

from __future__ import annotations

from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import errors_of, explore, model_of, spec_of, write

from pyspec.model import EvalError

HEAD = "var x: 0..3\nvar y: 0..3\ninit { x = 0  y = 0 }\n"


# -- x' read before it is assigned --------------------------------------------------


@pytest.mark.parametrize(("body", "line", "col", "words"), [
    ("action A {\n  y' = x'\n  x' = 1\n}", 5, 8, "x' is read before action 'A' assigns it;"),
    ("action A {\n  if x == 0 { x' = 1 }\n  y' = x'\n}", 6, 8,
     "before action 'A' assigns it on every path"),
    ("action A {\n  requires x' > 0\n  x' = 1\n}", 5, 12, "TLC stops with an error"),
    ("action A {\n  x' = x' + 1\n}", 5, 8, "Assign x' first, or read x"),
    ("action A {\n  either { x' = 1 } or { skip }\n  y' = x'\n}", 6, 8, "on every path"),
])
def test_reading_a_next_value_before_it_is_assigned(tmp_path: Path, body: str, line: int,
                                                    col: int, words: str) -> None:
    (d,) = errors_of(tmp_path, HEAD + body + "\n")
    assert (d.code, d.pos.line, d.pos.col) == ("E208", line, col)
    assert words in d.message


def test_next_values_read_after_assignment_or_accumulated_in_a_loop(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        var m: [0..2 -> 0..3], t: 0..9
        init { m = [k in 0..2 -> 0]  t = 0 }
        action A {
          requires t == 0
          for k in 0..2 { m'[k] = m'[k] + k }
          if m'[1] == 1 { t' = m'[2] + m'[1] } else { t' = 9 }
        }
    """)
    (s,) = m.initial_states()
    ((_, _, nxt),) = m.successors(s)
    assert m.describe_state(nxt)["t"] == 3


# -- or / exists in action position ---------------------------------------------------

GUARD = """
var x: 0..3
init { x = 0 }
def G = x < 2 or x < 3
action Next {
  requires G
  x' = x + 1
}
check deadlock off
"""

EITHER = """
var x: 0..3
init { x = 0 }
action Next {
  either { requires x < 2 } or { requires x < 3 }
  x' = x + 1
}
check deadlock off
"""


def test_an_or_in_a_guard_is_one_successor_and_warned_where_it_is(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, GUARD)
    (w,) = spec.warnings
    assert (w.code, w.pos.line, w.pos.col) == ("W503", 3, 9)
    assert "action 'Next' (through G)" in w.message and "either" in w.message
    stats = explore(spec.instantiate()).stats
    # TLC on G == x<2 \/ x<3 as Next's guard: 4 distinct, 6 generated.
    assert (stats.distinct_states, stats.total_states, stats.depth) == (4, 4, 4)


def test_either_counts_as_tlc_does(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, EITHER)
    assert spec.warnings == []
    stats = explore(spec.instantiate()).stats
    assert (stats.distinct_states, stats.total_states, stats.depth) == (4, 6, 4)


def test_exists_and_pick_conditions_are_warned_exclusive_tests_are_not(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, HEAD + """
enum K { GET, PIN, PUT }
action A(k: K) {
  requires k == GET or k == PIN
  requires exists v in 0..3: v > x
  pick v in 0..3 where v == x or v == y
  x' = v
}
action B {
  requires if x == 0 then true else y < 2 or y == 3
  x' = 1
}
action C {
  requires if x > 0 then true else y > 0
  requires not (forall v in 0..3: not (v > x))
  x' = 1
}
""")
    assert [(w.code, w.pos.line, w.pos.col) for w in spec.warnings] == [
        ("W503", 8, 12), ("W503", 9, 24), ("W503", 13, 37)]
    assert "one successor per witness of this 'exists'" in spec.warnings[0].message
    assert "or 'not (forall x in S: not P)' to keep one successor" in spec.warnings[0].message


def test_check_prints_warnings_on_stderr(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GUARD)
    code, out, err = run_cli(capsys, "check", str(path))
    assert code == 0 and "4 distinct states, 4 generated" in out
    assert f"{path}:3:9: warning[W503]:" in err


# -- let and choose ----------------------------------------------------------------------


def test_let_and_choose_expressions(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        const S = {3, 1, 2}
        var x: 0..9, y: 0..9
        init { x = 0  y = choose v in S: v > 1 }
        def Twice(a: int): int = let b = a + a in b + (let c = b in c - a)
        action A {
          requires x < 3
          x' = let s = x + 1 in if s > 2 then Twice(s) - s else s
          y' = choose v in 0..9: v > x and v > y
        }
        invariant Small = let t = (x + y) in t <= 18
        check deadlock off
    """)
    (s,) = m.initial_states()
    assert m.describe_state(s) == {"x": 0, "y": 2}
    result = explore(m)
    assert (result.stats.distinct_states, result.stats.total_states) == (4, 4)
    assert result.exit_code == 0 and result.error is None
    last = (2, 4)
    ((_, _, nxt),) = m.successors(last)
    assert m.describe_state(nxt) == {"x": 6, "y": 5}


def test_choose_without_a_witness_is_an_evaluation_error(tmp_path: Path) -> None:
    m = spec_of(tmp_path, HEAD + "action A { x' = choose v in 0..3: v > 5 }\n").instantiate()
    with pytest.raises(EvalError) as info:
        m.successors((0, 0))
    assert "choose: no element" in info.value.message
    assert (info.value.pos.line, info.value.pos.col) == (4, 17)


def test_let_and_choose_are_typed_and_scoped(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, HEAD + "def f = let x = 1 in x\n"
                       "def g = choose v in 0..3: v + 1\n"
                       "action A { x' = f + g  y' = let z = true in z }\n")
    assert [(d.code, d.pos.line, d.pos.col) for d in errors] == [
        ("E102", 4, 9), ("E104", 5, 27), ("E104", 6, 29)]


def test_the_numpy_engine_runs_let_and_choose(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, HEAD + "action A { x' = let n = x + 1 in n % 4 }\n")
    code, out, _ = run_cli(capsys, "check", str(path), "--backend", "numpy")
    assert code == 0 and "4 distinct states, 5 generated" in out and "engine:      numpy" in out
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 0 and "4 distinct states, 5 generated" in out


# -- TLA+ forms name themselves -----------------------------------------------------------


@pytest.mark.parametrize(("text", "col", "form", "advice"), [
    ("action A { x' = CHOOSE v \\in 0..3: v > x }", 17, "CHOOSE", "choose x in S: P"),
    ("action A { requires \\E v \\in 0..3: v > x  x' = 1 }", 21, "\\E", "exists x in S"),
    ("action A { requires \\A v \\in 0..3: v > x  x' = 1 }", 21, "\\A", "forall x in S"),
    ("action A { requires x > 0 /\\ x < 3  x' = 1 }", 27, "/\\", "write 'and'"),
    ("action A { requires x > 0 \\/ x < 3  x' = 1 }", 27, "\\/", "either"),
    ("action A { requires LET y == x IN y > 0  x' = 1 }", 21, "LET", "let x = e in body"),
    ("action A { requires x \\in 0..2  x' = 1 }", 23, "\\in", "write 'in'"),
    ("def f = UNION {{1}, {2}}", 9, "UNION", "not supported"),
    ("def f = DOMAIN y", 9, "DOMAIN", "maps are total"),
    ("def f = CASE x > 0 -> 1 [] OTHER -> 2", 9, "CASE", "elif"),
    ("def f = [v in 0..3 |-> v]", 20, "[x \\in S |-> e]", "[x in S -> e]"),
    ("def f = y \\o y", 11, "\\o", "s ++ t"),
    ("def f = [y EXCEPT ![1] = 2]", 12, "EXCEPT", "f with [k -> v]"),
    ("action A { UNCHANGED <<x>> }", 12, "UNCHANGED", "leave it out"),
    ("Next == x' = x + 1", 1, "the definition 'Next == ...'", "def Next = ..."),
    ("def f = SUBSET {1, 2}", 9, "SUBSET", "type T = set[S]"),
    ("def f = x > 0 => x < 3", 15, "=>", "implies"),
])
def test_tla_forms_are_named_with_how_to_write_them(tmp_path: Path, text: str, col: int,
                                                    form: str, advice: str) -> None:
    (d,) = errors_of(tmp_path, HEAD + text + "\n")
    assert (d.code, d.pos.line, d.pos.col) == ("E001", 4, col)
    assert d.message.startswith(f"{form} is TLA+, not this language: ")
    assert advice in d.message


def test_an_inline_set_type_says_to_declare_it(tmp_path: Path) -> None:
    (d,) = errors_of(tmp_path, HEAD + "action A { pick s in set[0..3]  x' = card(s) }\n")
    assert (d.code, d.pos.line, d.pos.col) == ("E101", 4, 22)
    assert "declare 'type T = set[...]'" in d.message


# -- empty domains ----------------------------------------------------------------------

EMPTY = """
const P = {p1, p2}
var x: 0..3
init { x = 0 }
action A(p: P, k: 0..1) {
  requires x < 3
  x' = x + k
}
action B(p: P) { x' = 0 }
action C {
  requires x < 3
  x' = x + 1
}
check deadlock off
"""


@pytest.mark.parametrize("backend", ["scalar", "numpy"])
@pytest.mark.parametrize("value", ["0", "{}"])
def test_an_action_over_an_empty_set_never_fires(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 backend: str, value: str) -> None:
    path = write(tmp_path, EMPTY)
    code, out, _ = run_cli(capsys, "check", str(path), "-D", f"P={value}", "--backend", backend)
    assert code == 0 and "4 distinct states, 4 generated, depth 4" in out
    assert "never fired: A, B" in out


def test_a_let_value_that_needs_parentheses_says_so(tmp_path: Path) -> None:
    (d,) = errors_of(tmp_path, HEAD + "def f = let ok = x < 3 in ok\n")
    assert (d.code, d.pos.line, d.pos.col) == ("E001", 4, 20)
    assert "parenthesise a comparison" in d.message
    spec = spec_of(tmp_path, HEAD + "def f = let ok = (x < 3) in ok\n"
                   "action A { requires f  x' = x + 1 }\n")
    assert spec.warnings == []


# -- action definitions -------------------------------------------------------------------

SEND = """
const Msgs = {M1, M2}
var msgs: set[Msgs]
var count: 0..3
init { msgs = {}  count = 0 }
def Send(m: Msgs) {
  requires count < 3
  msgs' = msgs | {m}
  count' = count + 1
}
def SendAny {
  pick m in Msgs
  Send(m)
}
action A(m: Msgs) { Send(m) }
action B {
  either { SendAny() } or { skip }
}
action C(x: Msgs) {
  let m = x
  Send(m)
  requires count' > 0
}
check deadlock off
"""


def test_action_definitions_run_on_the_callers_paths(tmp_path: Path) -> None:
    m = model_of(tmp_path, SEND)
    (s,) = m.initial_states()
    words = [(label, st["msgs"].items, st["count"])
             for label, st in [(m.action_label(a, p), m.describe_state(t))
                               for a, p, t in m.successors(s)]]
    assert words == [
        ("A(m=M1)", ("M1",), 1), ("A(m=M2)", ("M2",), 1),
        ("B", ("M1",), 1), ("B", ("M2",), 1), ("B", (), 0),
        ("C(x=M1)", ("M1",), 1), ("C(x=M2)", ("M2",), 1)]
    result = explore(m)
    assert (result.stats.distinct_states, result.stats.total_states,
            result.stats.depth) == (9, 46, 4)


def test_action_definitions_run_on_every_engine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SEND)
    for backend in ("numpy", "compiled"):
        _, out, _ = run_cli(capsys, "check", str(path), "--backend", backend)
        assert "9 distinct states, 46 generated, depth 4" in out
        assert f"engine:      {backend}" in out


def test_action_definition_errors(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """
        var x: 0..3
        init { x = 0 }
        def Bump(k: 0..3) { x' = k }
        def Loop { Loop() }
        def V = x + 1
        action A { Bump(true) }
        action B { Nope(1) }
        action C { V() }
        action D { A() }
        action E { Loop() }
        action F(k: 0..3) { Bump(k, 1) }
        def Local { let y = 1  x' = y }
        action G { let y = 2  Local() }
        action H { x' = 1  Bump(2) }
    """)
    assert [(d.code, d.pos.line, d.pos.col) for d in errors] == [
        ("E201", 3, 21), ("E302", 4, 12), ("E104", 6, 17), ("E101", 7, 12), ("E106", 8, 12),
        ("E106", 9, 12), ("E103", 11, 21), ("E102", 13, 23)]
    assert "'x' is assigned twice on one path through action 'H'" in errors[0].message
    assert "'V' is a def with a value" in errors[4].message
    assert "'y' is a local name both here and in the body of 'Local'" in errors[7].message


def test_a_branching_guard_in_an_action_definition_is_warned(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, HEAD + "def Step {\n  requires x < 2 or x < 3\n  x' = x + 1\n}\n"
                   "action A { Step() }\n")
    (w,) = spec.warnings
    assert (w.code, w.pos.line, w.pos.col) == ("W503", 5, 12)
    assert "in action position of action definition 'Step'" in w.message


LET_QUEUE = """
var q: seq[0..2, 2]
var out: 0..2
init { q = <<1>>  out = 0 }
action Take {
  let h = head(q)
  if len(q) > 0 { out' = h  q' = tail(q) }
}
"""


def test_an_error_in_a_lets_value_says_it_is_a_lets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A let is evaluated where it is written, TLA+'s LET where its name is used: an
    evaluation error in the value is the only difference, and it says so."""
    code, out, _ = run_cli(capsys, "check", str(write(tmp_path, LET_QUEUE)))
    assert code == 150
    assert ("spec.cow:5:11: error[E900]: head of the empty sequence (while evaluating the "
            "value of 'let h' at line 5: TLA+'s LET is evaluated only where its name is "
            "used; if this state does not need h, move the let to where it is used)") in out
    spec = LET_QUEUE.replace("action Take {\n  let h = head(q)\n  if len(q) > 0 { out' = h",
                             "action Take {\n  if len(q) > 0 { let h = head(q)  out' = h")
    result = explore(model_of(tmp_path, spec), check_deadlock=False)
    assert (result.stats.distinct_states, result.stats.total_states) == (2, 3)
    expr = LET_QUEUE.replace(
        "  let h = head(q)\n  if len(q) > 0 { out' = h  q' = tail(q) }",
        "  out' = let h = head(q) in if len(q) > 0 then h else 0\n  q' = tail(q)")
    code, out, _ = run_cli(capsys, "check", str(write(tmp_path, expr)))
    assert code == 150
    assert ("spec.cow:5:18: error[E900]: head of the empty sequence (while evaluating the "
            "value of 'let h' at line 5:") in out
