"""Every error code, at its exact position, with the caret display and exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import errors_of, spec_of, write

from pyspec.errors import ModelConfigError, SpecError
from pyspec.loader import load_spec

HEAD = "var x: 0..3\ninit { x = 0 }\n"

# code, spec, line, col, words in the message
CASES = [
    ("E001", "var x 0..3\n", 1, 7, "unexpected '0'"),
    ("E001", "var x: 0..3\ninit { x = 0 \n", 2, 14, "unexpected end of file"),
    ("E001", "var x: 0..3\ninit { x = 0 }\naction A { x' = $ }\n", 3, 17, "character '$'"),
    ("E003", "const Big = 99999999999999\n", 1, 13, "too large"),
    ("E004", 'import "missing.cow"\n', 1, 8, "cannot read"),
    ("E101", HEAD + "action A { requires pinned(x)  x' = 1 }\n", 3, 21,
     "unknown function 'pinned'"),
    ("E101", HEAD + "action A { x' = y }\n", 3, 17, "unknown name 'y'"),
    ("E101", "var x: Nope\n", 1, 8, "unknown type 'Nope'"),
    ("E102", "const N = 3\n" + HEAD + "invariant I = forall N in 0..N: true\n",
     4, 22, "'N' is already defined"),
    ("E102", HEAD + "var x: bool\n", 3, 5, "already declared"),
    ("E103", "const F = {F0}\nunion Pte { None, Present(frame: F, w: bool) }\nvar p: Pte\n"
     "init { p = Present(F0) }\n", 4, 12, "has 2 fields, given 1"),
    ("E104", HEAD + "action A { requires x == true  x' = 1 }\n", 3, 21,
     "cannot compare int with bool"),
    ("E104", HEAD + "action A { x' = x + true }\n", 3, 21, "should be int, not bool"),
    ("E105", "record P { ae: bool }\nvar p: P\ninit { p = P(true) }\n"
     "invariant I = p.exclusive\n", 4, 17, "no field 'exclusive'"),
    ("E106", "const Procs = {P0}\n" + HEAD + "action A { x' = Procs(1) }\n", 4, 17,
     "cannot be called"),
    ("E107", "union U { A, B, C }\nvar u: U\ninit { u = A }\n"
     "action Go { match u { A => { u' = B } } }\n", 4, 13, "not exhaustive: B, C"),
    ("E108", "enum K { X, Y }\nvar k: K\ninit { k = X }\n"
     "action Go { match k { _ => skip  X => skip } }\n", 4, 34, "can never match"),
    ("E109", "enum K { X, Y }\nenum J { Z }\nvar k: K\ninit { k = X }\n"
     "action Go { match k { Z => skip  _ => skip } }\n", 5, 23, "'Z' is not a variant of K"),
    ("E201", HEAD + "action A { x' = 1  x' = 2 }\n", 3, 20, "assigned twice"),
    ("E201", "var m: [0..1 -> bool]\ninit { m = [i in 0..1 -> false] }\n"
     "action A { m' = [i in 0..1 -> true]  m'[0] = false }\n", 3, 38, "whole and then again"),
    ("E202", "const N = 3\n" + HEAD + "action A { N' = 3 }\n", 4, 12, "not a variable"),
    ("E203", HEAD + "action A { y' = 1 }\n", 3, 12, "undeclared variable 'y'"),
    ("E204", "var x: 0..3, y: 0..3\ninit { x = 0 }\n", 2, 1, "does not assign y"),
    ("E205", HEAD + "invariant I = x' == x\n", 3, 15, "only be read in actions"),
    ("E206", HEAD + "action A { x = 1 }\n", 3, 12, "add a prime, x' = ..."),
    ("E207", "const P = {P0}\n" + HEAD + "action A { for p in P { requires x > 0 } }\n",
     4, 25, "inside a for loop"),
    ("E209", "var x: 0..3, y: 0..3\ninit { x = 0  y = x }\n", 2, 19, "cannot read variable"),
    ("E301", "var count: int\ninit { count = 0 }\n", 1, 12, "needs a finite type"),
    ("E302", "def f(n: int): int = f(n)\n", 1, 22, "defined in terms of itself"),
    ("E303", HEAD + "const M = x + 1\n", 3, 11, "reads variable 'x'"),
    ("E401", HEAD + "action A { x' = 1 }\nscenario S { Frok }\n", 4, 14, "unknown action 'Frok'"),
    ("E402", "const P = {P0}\n" + HEAD + "action A(p: P) { x' = 1 }\nscenario S { A(P0, P0) }\n",
     5, 14, "takes 1 parameter, the step gives 2"),
    ("E403", HEAD + "model m { expect violated Foo }\n", 3, 27, "'Foo' is not an invariant"),
    ("E404", HEAD + "action A { x' = 1 }\nscenario S { A  expect holds in linux-5.20 }\n",
     4, 33, "unknown model 'linux-5.20'"),
    ("E410", HEAD + "model m { const x = 1 }\n", 3, 11, "'x', which is not a constant"),
]


@pytest.mark.parametrize(("code", "text", "line", "col", "words"), CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_error_code_and_position(tmp_path: Path, code: str, text: str, line: int, col: int,
                                 words: str) -> None:
    errors = errors_of(tmp_path, text)
    match = [d for d in errors if d.code == code]
    assert match, f"expected {code}, got {[d.render() for d in errors]}"
    d = match[0]
    assert (d.pos.line, d.pos.col) == (line, col), d.render()
    assert words in d.message, d.message


def test_all_errors_are_collected_not_just_the_first(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, HEAD + "action A { x' = y }\naction B { z' = 1 }\n"
                       "invariant I = x == true\n")
    assert [d.code for d in errors] == ["E101", "E203", "E104"]


def test_rendering_has_the_line_and_a_caret_under_the_column(tmp_path: Path) -> None:
    (d,) = errors_of(tmp_path, HEAD + "action A { x' = x + true }\n")
    path = str(tmp_path / "spec.cow")
    assert d.render() == (
        f"{path}:3:21: error[E104]: the right side of '+' should be int, not bool\n"
        "    action A { x' = x + true }\n"
        "                        ^")


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, HEAD + "def unused = 3\naction A { requires false  x' = 1 }\n"
                   "const M = 3\naction B(k: 0..M) { requires x >= 0 and 5 <= k  x' = 1 }\n"
                   "action C(k: 0..M) { requires k < 3  x' = k }\n")
    assert [(w.code, w.pos.line, w.pos.col) for w in spec.warnings] == [
        ("W501", 3, 1), ("W502", 4, 21), ("W502", 6, 41)]
    assert spec.warnings[2].message == (
        "action 'B' can never be enabled: 'k' ranges over 0..3, so 'k >= 5' is never true")


def test_evaluation_error_names_the_spec_line(tmp_path: Path) -> None:
    from pyspec.model import EvalError

    spec = spec_of(tmp_path, HEAD + "action A { x' = x + 2 }\n")
    m = spec.instantiate()
    with pytest.raises(EvalError) as info:
        m.successors((2,))
    assert "outside its declared range 0..3" in info.value.message
    assert (info.value.pos.line, info.value.pos.col) == (3, 17)


@pytest.mark.parametrize(("expr", "message", "col"), [
    ("x / (x - x)", "division by zero", 17),
    ("min({y in 0..3 where y > 5})", "min of an empty set", 17),
])
def test_runtime_failures_are_eval_errors_with_positions(tmp_path: Path, expr: str,
                                                         message: str, col: int) -> None:
    from pyspec.model import EvalError

    m = spec_of(tmp_path, HEAD + f"action A {{ x' = {expr} }}\n").instantiate()
    with pytest.raises(EvalError) as info:
        m.successors((1,))
    assert info.value.message == message and info.value.pos.col == col


def test_union_field_of_the_wrong_variant(tmp_path: Path) -> None:
    from pyspec.model import EvalError

    m = spec_of(tmp_path, "union U { A, B(n: 0..3) }\nvar u: U, x: 0..3\n"
                "init { u = A  x = 0 }\naction Read { x' = u.n }\n").instantiate()
    with pytest.raises(EvalError, match="field 'n' read from a A value"):
        m.successors(m.initial_states()[0])


def test_model_errors(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, "const N = 2\nconst Procs = {P0, P1}\ntype T = 1..N\n"
                   "var x: T\ninit { x = 1 }\nscenario S { Go(P1) }\n"
                   "action Go(p: Procs) { x' = 1 }\n")
    with pytest.raises(ModelConfigError, match="unknown model 'nope'"):
        spec.instantiate("nope")
    with pytest.raises(ModelConfigError, match="no constant 'M'"):
        spec.instantiate(None, {"M": "3"})
    with pytest.raises(ModelConfigError, match="not a valid value for 'N'"):
        spec.instantiate(None, {"N": "true"})
    with pytest.raises(ModelConfigError, match="empty"):
        spec.instantiate(None, {"N": "0"})
    with pytest.raises(ModelConfigError) as info:
        spec.instantiate(None, {"Procs": "{P0}"})
    assert info.value.diagnostics[0].code == "E411"


def test_a_constant_computed_from_a_set_bounds_its_size(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, "const Procs = {P0, P1}\nconst NumProcs: 2..3 = card(Procs)\n"
                   "const Bias: 1..4 = 2\n" + HEAD + "action A { x' = 1 }\n")
    assert spec.instantiate(None, {"Procs": "3"}) is not None
    with pytest.raises(ModelConfigError) as info:
        spec.instantiate(None, {"Procs": "{P0, P1, P2, P3}"})
    assert info.value.message == ("constant NumProcs = card(Procs) = 4 is outside its "
                                  "declared range 2..3")
    with pytest.raises(ModelConfigError) as info:
        spec.instantiate(None, {"Bias": "5"})
    assert info.value.message == "constant Bias = 5 is outside its declared range 1..4"


def test_cli_exit_codes_for_spec_and_model_errors(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    bad = write(tmp_path, HEAD + "action A { x' = y }\n", "bad.cow")
    code, _, err = run_cli(capsys, "check", str(bad))
    assert code == 150
    assert f"{bad}:3:17: error[E101]: unknown name 'y'" in err
    good = write(tmp_path, HEAD + "action A { x' = 1 }\ncheck deadlock off\n", "good.cow")
    code, _, err = run_cli(capsys, "check", str(good), "--model", "nope")
    assert code == 151 and "unknown model 'nope'" in err
    code, _, err = run_cli(capsys, "check", str(good), "-D", "Q=1")
    assert code == 151


def test_spec_error_render_counts_errors(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(str(write(tmp_path, HEAD + "action A { x' = y  z' = 1 }\n")))
    assert info.value.render().endswith("2 errors")


def test_unused_definitions_of_imported_modules_are_not_reported(tmp_path: Path) -> None:
    (tmp_path / "lib.cow").write_text("def helper = 3\ndef other = 4\n")
    spec = spec_of(tmp_path, 'import "lib.cow"\n' + HEAD + "def mine = 1\n"
                   "action A { x' = helper }\ncheck deadlock off\n")
    assert [(w.code, w.message) for w in spec.warnings] == [
        ("W501", "'mine' is defined but never used")]


def test_every_error_code_is_documented_once() -> None:
    """pyspec.errorcodes and docs/language.md's table name the same codes."""
    from pyspec import errorcodes

    docs = (Path(__file__).resolve().parents[1] / "docs" / "language.md").read_text()
    table = re.findall(r"^\| ([EW]\d{3}) \|", docs, flags=re.MULTILINE)
    assert sorted(table) == sorted(errorcodes.ALL.values())
    assert len(set(errorcodes.ALL.values())) == len(errorcodes.ALL)


# Messages a newcomer can act on: code, position and the whole message.
POLISHED = [
    ("E206", HEAD + "action A { x = 1 }\n", 3, 12,
     "an action assigns the next state: add a prime, x' = ..."),
    ("E001", HEAD + "invariant I = x = 1\n", 3, 17,
     "unexpected '='; use == to compare ('=' assigns)"),
    ("E001", HEAD + "action A { requires x = 1  x' = 1 }\n", 3, 23,
     "unexpected '='; use == to compare ('=' assigns)"),
    ("E101", HEAD + "def pinned = x > 0\ninvariant I = pinnd\n", 4, 15,
     "unknown name 'pinnd'; did you mean 'pinned'?"),
    ("E101", HEAD + "def pinned(n: 0..3) = n > 0\ninvariant I = pined(x)\n", 4, 15,
     "unknown function 'pined'; did you mean 'pinned'?"),
    ("E101", "enum Kind { A, B }\nvar k: Knd\ninit { k = A }\n", 2, 8,
     "unknown type 'Knd'; did you mean 'Kind'?"),
    ("E101", HEAD + "invariant I = frobnicate\n", 3, 15, "unknown name 'frobnicate'"),
    ("E203", HEAD + "action A { xx' = 1 }\n", 3, 12,
     "cannot assign to undeclared variable 'xx'; did you mean 'x'?"),
    ("E401", HEAD + "action Fork { x' = 1 }\nscenario S { Frok }\n", 4, 14,
     "unknown action 'Frok' in scenario 'S'; did you mean 'Fork'?"),
    ("E404", HEAD + "model linux-5.19 { }\nmodel m extends linux-5.91 { }\n", 4, 1,
     "model 'm' extends unknown model 'linux-5.91'; did you mean 'linux-5.19'?"),
    ("E201", HEAD + "action A { x' = 1  x' = 2 }\n", 3, 20,
     "'x' is assigned twice on one path through action 'A' (first at {spec}:3:12)"),
    ("E201", "var m: [0..1 -> bool]\ninit { m = [i in 0..1 -> false] }\n"
     "action A { m'[0] = true\n  if true { m'[0] = false } }\n", 4, 13,
     "m'[0] is assigned twice on one path through action 'A' (first at {spec}:3:12)"),
    ("E201", "var m: [0..1 -> bool]\ninit { m = [i in 0..1 -> false] }\n"
     "action A { m' = [i in 0..1 -> true]  m'[0] = false }\n", 3, 38,
     "'m' is assigned as a whole and then again in part on one path through action 'A' "
     "(whole at {spec}:3:12)"),
    ("E201", "const N = 1\n" + HEAD + "model m { const N = 2  const N = 3 }\n", 4, 24,
     "model 'm' sets 'N' twice (first at {spec}:4:11)"),
]


@pytest.mark.parametrize(("code", "text", "line", "col", "message"), POLISHED,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(POLISHED)])
def test_messages_say_what_to_do(tmp_path: Path, code: str, text: str, line: int, col: int,
                                 message: str) -> None:
    errors = errors_of(tmp_path, text)
    d = errors[0]
    assert (d.code, d.pos.line, d.pos.col) == (code, line, col), d.render()
    assert d.message == message.format(spec=tmp_path / "spec.cow")


def test_an_unknown_model_on_the_command_line_gets_a_suggestion(tmp_path: Path) -> None:
    spec = spec_of(tmp_path, HEAD + "model linux-5.19 { }\n")
    with pytest.raises(ModelConfigError) as info:
        spec.instantiate("linux-5.91")
    assert info.value.message == (f"unknown model 'linux-5.91' (models in {tmp_path / 'spec.cow'}"
                                  ": linux-5.19); did you mean 'linux-5.19'?")


def test_the_keyword_list_in_the_docs_is_the_grammar_s() -> None:
    """Every word the grammar reserves is in docs/language.md's keyword list (the type
    names bool, int and string are listed under Types)."""
    root = Path(__file__).resolve().parents[1]
    grammar = (root / "pyspec" / "grammar.lark").read_text()
    words = set(re.findall(r'"([a-z]+)"', grammar)) - {"bool", "int", "string"}
    docs = (root / "docs" / "language.md").read_text()
    listed = docs.split("Keywords (", 1)[1].split(") cannot be", 1)[0]
    assert set(re.findall(r"`([a-z]+)`", listed)) == words
