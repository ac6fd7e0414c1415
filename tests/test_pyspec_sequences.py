"""Bounded sequences (``seq[T, N]``) and ``check types on``: TLA+'s sequence operators with
one representation per sequence (no padding in counts, traces, ITF or JSON), a clear
error when a bound is hit, and a value leaving its type as a violation of ``TypeOK``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import errors_of, explore, model_of, write

from pyspec.layout import Layout, index_of, value_at
from pyspec.runtime import domain
from pyspec.values import SeqV

QUEUE = """
const N = 2
var q: seq[0..2, N]
var got: 0..2
init { q = <<>>  got = 0 }
action Put(x: 0..2) {
  requires len(q) < N
  q' = append(q, x)
}
action Get {
  requires len(q) > 0
  got' = head(q)
  q' = tail(q)
}
invariant Ops = len(q ++ <<1>>) == len(q) + 1 and subseq(q, 1, len(q)) == q
             and len(select v in q: v > 0) <= len(q)
             and (len(q) == 0 or (q[1] == head(q) and q[len(q)] in 0..2))
"""


def test_a_queue_has_one_state_per_sequence(tmp_path: Path) -> None:
    m = model_of(tmp_path, QUEUE)
    result = explore(m)
    # 1 + 3 + 9 sequences of at most two elements of 0..2, times three values of got.
    assert (result.stats.distinct_states, result.stats.total_states,
            result.stats.depth) == (39, 73, 5)
    assert result.exit_code == 0
    (s,) = m.initial_states()
    assert m.describe_state(s) == {"q": SeqV(()), "got": 0}


def test_sequence_operators(tmp_path: Path) -> None:
    m = model_of(tmp_path, """
        var s: seq[0..9, 5]
        init { s = <<3, 1, 4>> }
        action A {
          requires len(s) == 3
          s' = (tail(s) ++ <<head(s)>>) with [1 -> 7]
        }
        action B {
          requires len(s) == 3
          s' = append(subseq(s, 2, 3), s[1] + s[3])
        }
        action C {
          requires len(s) == 3
          s' = select v in s: v > 1
        }
        action D {
          requires len(s) == 3
          s'[2] = 9
        }
        action E {
          requires len(s) == 3
          s' = subseq(s, 3, 2)
        }
        check deadlock off
    """)
    (s,) = m.initial_states()
    nexts = [m.describe_state(t)["s"] for _, _, t in m.successors(s)]
    assert nexts == [SeqV((7, 4, 3)), SeqV((1, 4, 7)), SeqV((3, 4)), SeqV((3, 9, 4)),
                     SeqV(())]


@pytest.mark.parametrize(("expr", "message", "col"), [
    ("head(<<>>)", "head of the empty sequence", 23),
    ("tail(<<>>)", "tail of the empty sequence", 23),
    ("<<1, 2>>[3]", "index 3 is outside the sequence's domain 1..2", 32),
    ("subseq(<<1>>, 1, 2)", "subseq from 1 to 2 of a sequence of length 1", 23),
])
def test_sequence_errors_name_the_spec_position(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                expr: str, message: str, col: int) -> None:
    path = write(tmp_path, f"var x: 0..3\ninit {{ x = 0 }}\naction A {{ x' = len(<<{expr}>>) }}\n"
                 "check deadlock off\n")
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 150
    assert f"spec.cow:3:{col}: error[E900]: {message}" in out


def test_a_sequence_outgrowing_its_bound_stops_with_a_trace(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, """
        var q: seq[0..1, 2]
        init { q = <<>> }
        action Push { q' = append(q, 1) }
    """)
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 150
    assert "spec.cow:3:20: error[E900]: a sequence of length 3 exceeds its bound 2 " \
           "(seq[0..1, 2])" in out
    assert "q = <<1, 1>>" in out and "q = <<1, 1, 1>>" not in out


def test_traces_itf_and_json_show_no_padding(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, """
        var q: seq[0..3, 3]
        init { q = <<>> }
        action Push { requires len(q) < 3  q' = append(q, len(q)) }
        reachable Two = len(q) == 2
        check deadlock off
    """)
    itf, js = tmp_path / "t.itf.json", tmp_path / "r.json"
    code, out, _ = run_cli(capsys, "check", str(path), "--show-traces", "--itf", str(itf),
                           "--json", str(js))
    assert code == 0 and "4 distinct states, 4 generated" in out
    assert "q = <<0, 1>>" in out
    states = json.loads(next(tmp_path.glob("t.itf*")).read_text())["states"]
    assert [s["q"] for s in states] == [[], [{"#bigint": "0"}],
                                        [{"#bigint": "0"}, {"#bigint": "1"}]]
    trace = json.loads(js.read_text())["properties"][0]["trace"]
    assert [step["state"]["q"] for step in trace] == [[], [0], [0, 1]]


def test_sequences_pack_canonically(tmp_path: Path) -> None:
    t = ("seq", ("int", 0, 2), 2)
    values = domain(t)
    assert values[:5] == ((), (0,), (1,), (2,), (0, 0))
    assert [index_of(v, t) for v in values] == list(range(13))
    assert [value_at(i, t) for i in range(13)] == list(values)
    layout = Layout((t,))
    words = {layout.encode((v,)) for v in values}
    assert len(words) == 13
    assert all(layout.decode(layout.encode((v,))) == (v,) for v in values)


def test_every_engine_runs_sequences(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, QUEUE)
    for backend in ("numpy", "compiled"):
        code, out, _ = run_cli(capsys, "check", str(path), "--backend", backend)
        assert code == 0 and "39 distinct states, 73 generated" in out
        assert f"engine:      {backend}" in out
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 0 and "39 distinct states, 73 generated" in out


def test_sequence_type_errors(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """
        var q: seq[0..3, 2]
        var x: 0..3
        init { q = <<1, true>>  x = 0 }
        def a = append(q, true)
        def b = len(x)
        def c = q ++ {1}
        def d = select v in x: v > 0
        def e = head(q, 1)
        def f = Append(q, 1)
        var u: seq[0..3, x]
    """)
    assert [(d.code, d.pos.line, d.pos.col) for d in errors] == [
        ("E204", 3, 1), ("E104", 3, 17), ("E104", 4, 19), ("E104", 5, 13), ("E104", 6, 9),
        ("E104", 7, 21), ("E103", 8, 9), ("E101", 9, 9), ("E303", 10, 18)]
    assert "Append is TLA+, not this language: write append(s, x)" in errors[7].message


def test_tla_sequence_type_is_named(tmp_path: Path) -> None:
    (d,) = errors_of(tmp_path, "type Q = Seq\nvar q: 0..1\ninit { q = 0 }\n")
    assert (d.code, d.pos.line, d.pos.col) == ("E101", 1, 10)
    assert "seq[T, N]" in d.message


# -- check types on ----------------------------------------------------------------------

TYPES = """
check types on
var x: 0..3
var q: seq[0..1, 2]
init { x = 0  q = <<>> }
action Inc { requires x < 4  x' = x + 1 }
action Push { requires len(q) < 2  q' = append(q, 0) }
check deadlock off
"""


def test_a_value_leaving_its_type_violates_type_ok_with_a_trace(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, TYPES)
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 12
    assert "FAIL  invariant TypeOK  violated" in out
    assert "x = 4" in out
    code, out, _ = run_cli(capsys, "check", str(path), "--continue")
    assert code == 12 and "15 distinct states" in out


def test_type_ok_holds_when_values_stay_in_their_types(tmp_path: Path) -> None:
    m = model_of(tmp_path, TYPES.replace("x < 4", "x < 3"))
    result = explore(m)
    assert result.exit_code == 0
    assert (result.stats.distinct_states, result.stats.total_states) == (12, 18)
    assert [c.name for c in m.invariants] == ["TypeOK"]


def test_type_ok_can_be_expected_and_numpy_and_compiled_hand_it_over(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "check types on\nvar x: 0..3\ninit { x = 0 }\n"
                 "action Inc { requires x < 4  x' = x + 1 }\ncheck deadlock off\n"
                 "model bad { expect violated TypeOK }\n")
    code, out, _ = run_cli(capsys, "check", str(path), "--model", "bad")
    assert code == 0 and "invariant TypeOK" in out
    code, out, _ = run_cli(capsys, "check", str(path), "--model", "bad", "--backend", "numpy")
    assert code == 0 and "invariant TypeOK" in out and "handed over to the scalar engine" in out
    code, out, _ = run_cli(capsys, "check", str(path), "--model", "bad", "--backend",
                           "compiled")
    assert code == 0 and "invariant TypeOK" in out and "handed over to the scalar engine" in out


def test_type_ok_is_a_reserved_name_when_types_are_checked(tmp_path: Path) -> None:
    (d,) = errors_of(tmp_path, TYPES + "invariant TypeOK = x in 0..3\n")
    assert (d.code, d.pos.line, d.pos.col) == ("E102", 1, 1)


@pytest.mark.parametrize("bound", ["-1", "1001"])
def test_a_sequence_bound_outside_0_to_1000_is_a_model_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], bound: str) -> None:
    path = write(tmp_path, "const N = 3\nvar q: seq[0..1, N]\ninit { q = <<>> }\n"
                 "action P { requires len(q) < 2  q' = append(q, 1) }\n")
    code, _, err = run_cli(capsys, "check", str(path), "-D", f"N={bound}")
    assert code == 151
    assert f"the sequence bound N is {bound} in model default, not in 0..1,000" in err
    assert "spec.cow:2:18: error[E304]" in err
