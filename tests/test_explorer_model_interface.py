"""What an engine may use of a model is what pyspec.model.Model declares: variable types,
symmetric sets, generated programs. Hand-written models get the same treatment."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.engine.interface import Options
from explorer.engine.registry import check
from pyspec.codegen.arrays import ArrayProgram
from pyspec.errors import ModelConfigError
from pyspec.loader import load_spec
from pyspec.model import ActionInfo, Model, NoProgram, Tag
from tests.pyspec_testing import write

PROCS = ("P0", "P1", "P2")


class Tokens(Model):
    """Three processes, each idle or holding; any idle one may take, any holder may drop.
    Symmetric in the processes: 8 states, 4 orbits (how many hold)."""

    name = "tokens"
    variables = ("held",)
    actions = (ActionInfo("Take", ("p",), tags=(Tag("step", ("take",)),)),
               ActionInfo("Drop", ("p",), tags=(Tag("step", ("drop",)), Tag("patch", (2,)))))
    check_deadlock = False

    def __init__(self, declare_types: bool) -> None:
        self.symmetric = ("Procs",)
        if declare_types:
            self.var_types = (("map", ("mv", "Procs", PROCS), ("bool",)),)

    def initial_states(self):
        return [((False, False, False),)]

    def successors(self, state):
        (held,) = state
        out = []
        for a, want in ((0, False), (1, True)):
            for p in range(3):
                if held[p] == want:
                    out.append((a, (p,), (held[:p] + (not want,) + held[p + 1:],)))
        return out

    def describe_state(self, state):
        return {"held": str(state[0])}


def test_a_python_model_with_types_gets_symmetry_reduction() -> None:
    reduced = check(Tokens(declare_types=True), Options(backend="scalar"))
    full = check(Tokens(declare_types=True), Options(backend="scalar", symmetry=False))
    assert (reduced.stats.distinct_states, full.stats.distinct_states) == (4, 8)
    assert reduced.stats.symmetry == ("Procs",) and full.stats.symmetry == ()


def test_symmetric_sets_without_types_are_refused() -> None:
    with pytest.raises(ModelConfigError, match="declares symmetric sets .*var_types"):
        check(Tokens(declare_types=False), Options(backend="scalar"))
    plain = check(Tokens(declare_types=False), Options(backend="scalar", symmetry=False))
    assert plain.stats.distinct_states == 8


def test_coverage_is_counted_per_any_tag() -> None:
    r = check(Tokens(declare_types=True), Options(backend="scalar", symmetry=False))
    groups = {(g.tag, g.value): (g.actions, g.enabled, g.fired, g.new) for g in r.coverage.tags}
    # 8 states: 7 with an idle process (Take enabled), 7 with a holder (Drop enabled);
    # 12 transitions of each kind; Take finds the 7 states after the initial one.
    assert groups == {("step", "take"): (("Take",), 7, 12, 7),
                      ("step", "drop"): (("Drop",), 7, 12, 0),
                      ("patch", "2"): (("Drop",), 7, 12, 0)}
    assert [a.tag("patch") for a in r.coverage.actions] == [None, "2"]


def test_a_hand_written_model_has_no_programs() -> None:
    model = Tokens(declare_types=True)
    assert model.programs.kinds == ()
    with pytest.raises(NoProgram, match="does not come from a spec file"):
        model.programs.get("arrays")
    with pytest.raises(ModelConfigError, match="--backend numpy cannot run model tokens"):
        check(model, Options(backend="numpy"))


SPEC = """
var x: 0..7
init { x = 0 }
action Up { requires x < 7  x' = x + 1 }
"""


def test_a_spec_model_declares_its_types_and_generates_its_array_program_once(
        tmp_path: Path) -> None:
    model = load_spec(str(write(tmp_path, SPEC))).instantiate()
    assert model.var_types == (("int", 0, 7),)
    assert model.programs.kinds == ("arrays", "compiler", "compiled", "compiled-plain")
    program = model.programs.get("arrays")
    assert isinstance(program, ArrayProgram)
    assert model.programs.get("arrays") is program
    r = check(model, Options(backend="numpy"))
    assert (r.stats.backend, r.stats.distinct_states) == ("numpy", 8)
