"""``import "m.cow" as X with { ... }``: TLA+'s ``X == INSTANCE M WITH ...``. One module
imported twice with different bindings gives two sets of definitions, ``X!Name`` and
``Y!Name``; a parameter bound to a name is substituted, one bound to an expression is a
def of the parameter's type, one left unbound stays the spec's parameter."""

from __future__ import annotations

from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import explore, write

from pyspec.errors import SpecError
from pyspec.loader import load_spec

COUNTER = """
param Max: int
param Step: int
const Start = 0
enum Mode { Up, Down }
def next(x: int): int = if x + Step > Max then Max else x + Step
def mode = if Step > 1 then Down else Up
"""

MAIN = """
import "counter.cow" as Small with { Max = 2, Step = 1 }
import "counter.cow" as Big with { Max = Limit, Step = 2 }
const Limit = 5
var a: 0..2
var b: 0..5
init { a = Small!Start  b = Big!Start }
action IncA { requires a < Small!Max  a' = Small!next(a) }
action IncB { requires b < Limit  b' = Big!next(b) }
invariant Modes = Small!mode == Small!Up and Big!mode == Big!Down and Big!Up != Big!Down
"""

PROCS = """
param Procs: set[Procs]
param owns(p: Procs): bool
param Cap: int
const Kinds = {K1, K2}
def free = {p in Procs where not owns(p)}
def room = card(free) <= Cap
def Grab(p: Procs) { requires not owns(p) }
"""

PROCS_MAIN = """
import "procs.cow" as A with { Procs = Clients, owns = held, Cap = 1 }
import "procs.cow" as B with { Procs = {s1, s2, s3}, owns = none, Cap = card(Clients) }
const Clients = {c1, c2}
var h: [Clients -> bool]
def held(c: Clients): bool = h[c]
def none(p: B!Procs): bool = false
init { h = [c in Clients -> false] }
action Take(c: Clients) { A!Grab(c)  h'[c] = true }
invariant AFree = card(A!free) + card({c in Clients where h[c]}) == 2
invariant BFree = card(B!free) == 3 and not B!room and B!Kinds != {}
reachable AllHeld = card(A!free) == 0 and not A!room == false
"""


def test_one_module_twice_with_different_bindings(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, COUNTER, "counter.cow")
    main = write(tmp_path, MAIN)
    model = load_spec(str(main)).instantiate()
    # a steps by 1 to 2, b by 2 to 5 (0, 2, 4, 5): every pair is reachable.
    stats = explore(model, check_deadlock=False).stats
    assert (stats.distinct_states, stats.total_states, stats.depth) == (12, 18, 6)
    assert model.constants == {"Small!Start": 0, "Big!Start": 0, "Limit": 5}
    code, out, _ = run_cli(capsys, "check", str(main), "--no-deadlock")
    assert code == 0 and "PASS  invariant Modes" in out


def test_parameters_bound_to_a_set_an_operator_and_an_expression(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, PROCS, "procs.cow")
    main = write(tmp_path, PROCS_MAIN)
    stats = explore(load_spec(str(main)).instantiate(), check_deadlock=False).stats
    assert (stats.distinct_states, stats.total_states) == (4, 5)
    code, out, _ = run_cli(capsys, "check", str(main), "--no-deadlock")
    assert code == 0
    assert "PASS  invariant AFree" in out and "PASS  invariant BFree" in out
    assert "B!Procs = {s1, s2, s3}" in out and "A!Kinds = {A!K1, A!K2}" in out


def test_a_parameter_the_import_leaves_unbound_is_the_specs(tmp_path: Path) -> None:
    write(tmp_path, COUNTER, "counter.cow")
    main = write(tmp_path, MAIN.replace("with { Max = Limit, Step = 2 }", "with { Max = Limit }")
                 + "const Step = 2\n")
    stats = explore(load_spec(str(main)).instantiate(), check_deadlock=False).stats
    assert stats.distinct_states == 12


def instance_errors(tmp_path: Path, main: str) -> list[tuple[str, str, int, int, str]]:
    write(tmp_path, PROCS, "procs.cow")
    write(tmp_path, "var x: bool\ninit { x = true }\ndef ok = x\n", "state.cow")
    with pytest.raises(SpecError) as info:
        load_spec(str(write(tmp_path, main)))
    return [(d.code, Path(d.pos.file).name, d.pos.line, d.pos.col, d.message)
            for d in info.value.diagnostics if d.severity == "error"]


def test_instance_errors(tmp_path: Path) -> None:
    found = instance_errors(tmp_path, """
        import "procs.cow" as A with { Procs = 3, owns = held(1), Cap = 1, Size = 2 }
        import "state.cow" as V
        def held(c: int): bool = true
    """)
    assert [e[:4] for e in found] == [
        ("E104", "spec.cow", 1, 40), ("E424", "spec.cow", 1, 50), ("E421", "spec.cow", 1, 68),
        ("E425", "state.cow", 1, 5), ("E425", "state.cow", 2, 1)]
    assert found[0][4] == ("'Procs' is a set of model values: bind it with a set of fresh "
                           "names, {a, b}, or the name of a set of model values")
    assert found[1][4] == ("parameter 'owns' takes arguments: bind it to the name of a def "
                           "with the same parameters")
    assert found[2][4] == "\"procs.cow\" declares no parameter 'Size'"
    assert found[3][4].startswith("'import \"state.cow\" as V' makes an instance of a module "
                                  "of definitions")


def test_an_instances_names_are_its_own(tmp_path: Path) -> None:
    """Without the prefix the module's names are unknown (the instance declares only
    ``X!Name``), and a binding of the wrong type is reported at the binding."""
    found = instance_errors(tmp_path, PROCS_MAIN.replace("card(A!free) == 0", "card(free) == 0"))
    assert [e[:4] for e in found] == [("E101", "spec.cow", 11, 26)]
    assert found[0][4].startswith("unknown name 'free'; did you mean ")
    found = instance_errors(tmp_path, PROCS_MAIN.replace("Cap = 1", "Cap = true"))
    assert [e[:4] for e in found] == [("E104", "spec.cow", 1, 68)]
    assert found[0][4] == "the result of 'A!Cap' should be int, not bool"
