"""Maps over a constant key set (``const Others = Prisoner - {Counter}``, then
``[Others -> V]``): TLA+'s functions over a subset or a set of tuples, with only those
keys in counts, traces and ITF, a key outside the set an evaluation error at its
position, run by every engine."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import errors_of, explore, model_of, write

from pyspec.layout import Layout, index_of, value_at
from pyspec.runtime import domain
from pyspec.values import MapV

SWITCH = """
const Prisoner = {P1, P2, P3}
const Counter = P1
const Others = Prisoner - {Counter}
var up: bool
var times: [Others -> 0..2]
var count: 0..3
init { up = false  times = [p in Others -> 0]  count = 0 }
action Flip(p: Prisoner) {
  requires p != Counter and not up and times[p] < 2
  up' = true
  times'[p] = times[p] + 1
}
action Count {
  requires up and count < 3
  up' = false
  count' = count + 1
}
check deadlock off
"""

PAIRS = """
const Procs = {A, B}
const Pairs = {(p, q) for p in Procs, q in Procs where p != q}
const Odd = {-1, 1, 3}
var sent: [Pairs -> 0..1]
var w: [Odd -> bool]
init { sent = [e in Pairs -> 0]  w = [k in Odd -> k > 0] }
action Send(p: Procs, q: Procs) {
  requires p != q and sent[(p, q)] == 0
  sent'[(p, q)] = 1
}
action Toggle(k: -1..3) {
  requires k in Odd
  w'[k] = not w[k]
}
"""


def test_a_map_over_a_subset_has_only_its_keys(tmp_path: Path) -> None:
    m = model_of(tmp_path, SWITCH)
    result = explore(m)
    # up, times[P2], times[P3] and count with count + up == times[P2] + times[P3].
    assert (result.stats.distinct_states, result.stats.total_states,
            result.stats.depth) == (16, 20, 8)
    (s,) = m.initial_states()
    assert m.describe_state(s)["times"] == MapV((("P2", 0), ("P3", 0)))


def test_the_key_set_follows_the_model(tmp_path: Path) -> None:
    assert explore(model_of(tmp_path, SWITCH, Counter="P2")).stats.distinct_states == 16
    result = explore(model_of(tmp_path, SWITCH, Prisoner="{P1, P2, P3, P4}"))
    assert (result.stats.distinct_states, result.stats.total_states) == (39, 59)


def test_maps_over_sets_of_tuples_and_ints(tmp_path: Path) -> None:
    result = explore(model_of(tmp_path, PAIRS))
    # Two pairs (A, B), (B, A) with a bit each, three keys of w with a bool each.
    assert (result.stats.distinct_states, result.stats.total_states,
            result.stats.depth) == (32, 129, 6)
    assert explore(model_of(tmp_path, PAIRS, Procs=3)).stats.distinct_states == 64 * 8
    assert explore(model_of(tmp_path, PAIRS, Odd="{1}")).stats.distinct_states == 4 * 2


def test_symmetry_leaves_a_key_sets_members_alone(tmp_path: Path) -> None:
    """A key set need not be closed under renaming, so its members' set is not permuted:
    the same states with and without symmetry."""
    spec = PAIRS.replace("const Procs = {A, B}", "const Procs = symmetric {A, B, C}") + \
        "var owner: Procs\ninit { owner = A }\naction Own(p: Procs) { owner' = p }\n"
    spec = spec.replace("init { sent", "init { owner = A  sent").replace(
        "init { owner = A }\n", "")
    for symmetry in (False, True):
        result = explore(model_of(tmp_path, spec), symmetry=symmetry)
        assert result.stats.distinct_states == 512 * 3


def test_a_key_outside_the_set_is_an_evaluation_error_with_a_trace(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SWITCH + "invariant Low = times[Counter] < 2\n")
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 150
    assert "spec.cow:19:23: error[E900]: key P1 is not in the map's domain Others" in out
    assert "times[P2] = 0" in out and "times[P1]" not in out
    path = write(tmp_path, PAIRS + "invariant Diag = sent[(A, A)] == 0\n")
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 150
    assert "spec.cow:15:23: error[E900]: key (A, A) is not in the map's domain Pairs" in out


def test_traces_and_itf_show_the_key_sets_members(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SWITCH + "reachable Counted = count == 1\n")
    itf = tmp_path / "t.itf.json"
    code, out, _ = run_cli(capsys, "check", str(path), "--show-traces", "--itf", str(itf))
    assert code == 0 and "16 distinct states, 20 generated" in out
    states = json.loads(next(tmp_path.glob("t.itf*")).read_text())["states"]
    assert states[0]["times"] == {"#map": [["P2", {"#bigint": "0"}],
                                           ["P3", {"#bigint": "0"}]]}


def test_key_sets_pack_as_their_members(tmp_path: Path) -> None:
    key = ("sub", "Odd", ("int", None, None), (-1, 1, 3))
    t = ("map", key, ("bool",))
    assert domain(key) == (-1, 1, 3)
    assert [index_of(k, key) for k in (-1, 1, 3)] == [0, 1, 2]
    assert [value_at(i, key) for i in range(3)] == [-1, 1, 3]
    values = domain(t)
    assert len(values) == 8
    layout = Layout((t,))
    assert layout.bits == 3
    assert all(layout.decode(layout.encode((v,))) == (v,) for v in values)


def test_every_engine_runs_key_sets(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SWITCH)
    for backend in ("numpy", "compiled"):
        code, out, _ = run_cli(capsys, "check", str(path), "--backend", backend)
        assert code == 0 and "16 distinct states, 20 generated" in out
        assert f"engine:      {backend}" in out
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 0 and "16 distinct states, 20 generated" in out


def test_check_types_on_checks_a_key_set_maps_values(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, SWITCH.replace("times[p] < 2", "times[p] < 3")
                 + "check types on\n")
    code, out, _ = run_cli(capsys, "check", str(path))
    assert code == 12 and "invariant TypeOK" in out


def test_key_set_errors(tmp_path: Path) -> None:
    errors = errors_of(tmp_path, """
        const Procs = {A, B}
        const Groups = {{A}, {B}}
        const N = 2
        const Small = {1, 2}
        var m: [Groups -> bool]
        var n: [N -> bool]
        var s: [Small -> bool]
        var k: set[Small]
        init { m = [g in Groups -> false]  n = [x in N -> true]  s = [x in Procs -> true]  k = {} }
    """)
    assert [(d.code, d.pos.line, d.pos.col) for d in errors] == [
        ("E106", 5, 9), ("E106", 6, 9), ("E106", 8, 12), ("E106", 9, 18), ("E106", 9, 46),
        ("E104", 9, 62)]
    assert "'Groups' holds set[Procs]" in errors[0].message
    assert errors[1].message.endswith("use a range or an enum as a type")
    assert ("a constant set is a map's keys, [Small -> V], a variable's type or an action "
            "parameter's type; inside another type, write its element type") in errors[2].message
    assert "or a constant set" in errors[4].message
    assert "should be [Small -> bool], not [Procs -> bool]" in errors[5].message


def test_a_type_alias_over_a_key_set_is_a_set_of_maps(tmp_path: Path) -> None:
    """``type Act = [Others -> bool]`` lists the maps over the key set, and a constant
    computed from it is evaluated after the key set, declared later or not."""
    m = model_of(tmp_path, """
        type Act = [Others -> bool]
        const NActs = card(Act)
        const Procs = {A, B, C}
        const Others = Procs - {A}
        var a: Act
        var n: 0..NActs
        init { pick x in Act  a = x  n = 0 }
        action Step(p: Procs) {
          requires p != A and n < NActs
          a'[p] = not a[p]
          n' = n + 1
        }
        check deadlock off
    """)
    result = explore(m)
    # Four maps over {B, C}; every one is reachable at every n in 0..4.
    assert (result.stats.distinct_states, result.stats.total_states,
            result.stats.depth) == (20, 36, 5)
