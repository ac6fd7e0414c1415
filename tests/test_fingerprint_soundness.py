"""Fingerprints sound by construction: an injective serialisation of the state and a 64-bit
BLAKE2b digest, never Python's ``hash`` (salted per process, and ``hash(-1) == hash(-2)``,
which once made ``--fingerprint`` lose half the states of a spec and report PASS)."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from explorer.engine.fingerprint import StateFingerprint, canonical_encoding
from explorer.engine.interface import Options
from explorer.engine.registry import check
from pyspec.layout import size as type_size
from pyspec.layout import value_at
from pyspec.loader import load_spec
from tests.pyspec_testing import write
from tests.test_perf_backends import KERNEL, summary

ROOT = Path(__file__).resolve().parents[1]

#: The spec of the report: exact search finds the violation in 4 states; fingerprints by
#: ``hash`` merged x = -1 and x = -2 and reported "holds" with 2 states.
NEGATIVE = """
    var x: -3..0
    init { x = 0 }
    action Down { requires x > -3  x' = x - 1 }
    invariant Above = x > -3
    check deadlock off
"""

#: One variable of every kind of type, negative integers and sets of records included.
EVERY_TYPE = """
    module Every
    enum Color { Red, Green }
    const Procs = {p1, p2}
    record Cell { owner: Procs, level: -1..0 }
    union Slot { Empty, Held(by: Procs, n: -1..0) }
    var flag: bool
    var n: -2..1
    var color: Color
    var who: Procs
    var cell: Cell
    var slot: Slot
    var by: [Procs -> -1..1]
    var cells: set[Cell]
    var pair: tuple[bool, -1..0]
    init {
      flag = false  n = 0  color = Red  who = p1
      cell = Cell(owner: p1, level: 0)
      slot = Empty
      by = [p in Procs -> 0]
      cells = {}
      pair = (false, 0)
    }
    action Flip { flag' = not flag }
    action Down { requires n > -2  n' = n - 1 }
        action Swap(p: Procs) { who' = p  cell'.owner = p }
    action Lower { requires cell.level > -1  cell'.level = cell.level - 1 }
    action Take(p: Procs) { requires slot == Empty  slot' = Held(p, -1) }
    action Dec(p: Procs) { requires by[p] > -1  by'[p] = by[p] - 1 }
    action Keep { requires card(cells) < 2  cells' = cells | {cell} }
    action Tip { pair' = (not pair[0], -1) }
    check deadlock off
"""


@pytest.mark.parametrize("backend", ["scalar", "numpy"])
def test_negative_integers_keep_every_state(tmp_path: Path, backend: str) -> None:
    spec = load_spec(str(write(tmp_path, NEGATIVE)))
    exact = check(spec.instantiate(), Options(backend=backend))
    fps = check(spec.instantiate(), Options(backend=backend, fingerprint=True))
    # Every engine keys a one-word state by its packed word even with --fingerprint: exact
    # (tests/test_fingerprint_engines.py fingerprints the case widened to two words).
    assert fps.stats.seen_by == "state"
    assert summary(fps) == summary(exact)
    assert fps.stats.distinct_states == 4
    [above] = fps.properties
    assert (above.name, above.verdict) == ("Above", "violated")
    assert [s.state["x"] for s in above.trace.steps] == [0, -1, -2, -3]


def test_negative_integers_on_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, NEGATIVE)
    proc = subprocess.run(
        [sys.executable, "-m", "explorer.cli", "check", str(path), "--fingerprint",
         "--backend", "scalar"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 12, proc.stdout + proc.stderr
    assert "4 distinct states" in proc.stdout
    assert "FAIL  invariant Above  violated" in proc.stdout


#: Distinct values whose Python hashes are equal.
HASH_TWINS = [
    (-1, -2),
    ((-1, 0), (-2, 0)),
    (0, 2**61 - 1),
    (frozenset({-1}), frozenset({-2})),
    (((-1,), True), ((-2,), True)),
]


@pytest.mark.parametrize("a, b", HASH_TWINS)
def test_values_whose_python_hashes_collide(a: object, b: object) -> None:
    assert hash(a) == hash(b) and a != b
    generic = StateFingerprint(None).of
    assert generic(a) != generic(b)
    assert canonical_encoding(a) != canonical_encoding(b)


def test_every_value_type_fingerprinted_as_exactly(tmp_path: Path) -> None:
    spec = load_spec(str(write(tmp_path, EVERY_TYPE)))
    exact = check(spec.instantiate(), Options(backend="scalar"))
    fps = check(spec.instantiate(), Options(backend="scalar", fingerprint=True))
    assert exact.stats.distinct_states > 500
    assert summary(fps) == summary(exact)


def test_every_value_of_a_type_gets_its_own_fingerprint(tmp_path: Path) -> None:
    """All values of each variable's type (sets of records among them) map to distinct
    fingerprints, and a set's fingerprint does not depend on how the set was built."""
    model = load_spec(str(write(tmp_path, EVERY_TYPE))).instantiate()
    for t in model.var_types:
        fp = StateFingerprint((t,)).of
        values = [value_at(i, t) for i in range(type_size(t))]
        assert len({fp((v,)) for v in values}) == len(values), t
    cells_type = model.var_types[model.variables.index("cells")]
    fp = StateFingerprint((cells_type,)).of
    cells = [value_at(i, cells_type[1]) for i in range(type_size(cells_type[1]))]
    for a, b in itertools.combinations(cells, 2):
        assert fp((frozenset([a, b]),)) == fp((frozenset([b, a]),))


def test_generic_encoding_ignores_set_order() -> None:
    """Equal sets built in different orders (colliding slots included) encode alike."""
    a = frozenset([0, 8, 16, -1, -2])
    b = frozenset([-2, 16, -1, 8, 0])
    assert canonical_encoding(a) == canonical_encoding(b)
    assert canonical_encoding(frozenset({frozenset({1}), frozenset({2})})) == \
        canonical_encoding(frozenset({frozenset({2}), frozenset({1})}))
    assert canonical_encoding(True) != canonical_encoding(1)
    assert canonical_encoding("ab") != canonical_encoding(("a", "b"))


FINGERPRINTS_SCRIPT = """
from explorer.engine.fingerprint import StateFingerprint
state = (("Alpha", -1), frozenset({"x", "yy", "zzz", -5}), 2**70, None)
print(StateFingerprint(None).of(state))
print(StateFingerprint(((("set", ("int", -3, 3)),))).of((frozenset({3, -3, 0}),)))
"""


def test_fingerprints_do_not_depend_on_the_hash_seed() -> None:
    outs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run([sys.executable, "-c", FINGERPRINTS_SCRIPT], env=env,
                              capture_output=True, text=True, cwd=ROOT, check=True)
        outs.add(proc.stdout)
    assert len(outs) == 1


#: The kernel specs' reference model; every model of the examples (tests/test_perf_fingerprint).
REFERENCE = "linux-5.19"


@pytest.mark.parametrize("path", KERNEL, ids=lambda p: p.stem)
def test_fingerprint_and_exact_agree_on_the_kernel_specs(path: Path) -> None:
    """Differential: --fingerprint on the scalar engine against exact storage (the array
    engine, held to the scalar one by tests/test_perf_backends.py) on each kernel spec."""
    spec = load_spec(str(path))
    for name in [REFERENCE]:
        # Twelve levels: tens of thousands of states and every kind of value each spec
        # has, at a fraction of the whole search's time.
        whole = check(spec.instantiate(name),
                      Options(backend="numpy", keep_going=True, max_depth=12))
        fps = check(spec.instantiate(name),
                    Options(backend="scalar", keep_going=True, fingerprint=True, max_depth=12))
        assert whole.stats.distinct_states > 100
        assert summary(fps) == summary(whole), name
