"""The numpy backend against the scalar engine, on every spec: the same counts, verdicts,
traces, coverage and stops, whatever the options."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.result import Result
from pyspec.errors import ModelConfigError, SpecError
from pyspec.loader import load_spec
from pyspec.model import Model
from tests.pyspec_testing import write

ROOT = Path(__file__).resolve().parent.parent
#: Examples only the scalar engine runs, and what the numpy engine refuses in them.
SCALAR_ONLY = {
    "majority": "sequences", "changroberts": "sequences", "readerswriters": "sequences",
    "innerfifo": "sequences", "alternatingbit": "sequences", "writethroughcache": "sequences",
    "innersequential": "sequences", "singlelanebridge": "sequences",
    "diningphilosophers": "action definitions",
    "prisoners": "maps over a constant key set",
}
ALL_EXAMPLES = sorted((ROOT / "spec" / "examples").glob("*.cow"))
EXAMPLES = [p for p in ALL_EXAMPLES if p.stem not in SCALAR_ONLY]
KERNEL = sorted((ROOT / "spec" / "kernel").glob("*.cow"))
#: The examples without temporal properties: a liveness check picks its own engine (the
#: numpy or the scalar engine, never the compiled one, workers or fingerprints;
#: tests/test_liveness.py holds the two to one another).
SAFETY_EXAMPLES = [p for p in EXAMPLES if not load_spec(str(p)).instantiate().temporal]
PAGES = ROOT / "tests" / "explorer_specs" / "pages.cow"


def summary(r: Result) -> dict:
    """Everything a run reports that must not depend on the engine."""
    return {
        "counts": (r.stats.distinct_states, r.stats.total_states, r.stats.depth,
                   r.stats.queue, r.stopped),
        "verdicts": [(p.name, p.kind, p.verdict) for p in r.properties],
        "traces": {p.name: [(s.label, s.state) for s in p.trace.steps]
                   for p in r.properties if p.trace is not None},
        "coverage": [(a.name, a.enabled, a.fired, a.new) for a in r.coverage.actions],
        "kernel": [(k.value, k.enabled, k.fired, k.new) for k in r.coverage.tagged("kernel")],
        "error": None if r.error is None else (r.error.message, r.error.pos),
    }


def both_ways(make: callable, **options: object) -> tuple[Result, Result]:
    scalar = check(make(), Options(backend="scalar", **options))
    arrays = check(make(), Options(backend="numpy", **options))
    assert summary(arrays) == summary(scalar)
    return scalar, arrays


OPTION_SETS = [
    {},
    {"keep_going": True},
    {"keep_going": True, "max_states": 7},
    {"keep_going": True, "max_depth": 3},
    {"check_deadlock": False, "max_states": 40},
]


@pytest.mark.parametrize("path", EXAMPLES + [PAGES], ids=lambda p: p.stem)
@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
def test_examples_agree(path: Path, options: dict) -> None:
    spec = load_spec(str(path))
    for name in spec.model_names or [None]:
        _, arrays = both_ways(lambda n=name: spec.instantiate(n), **options)
        assert arrays.stats.backend == "numpy"


@pytest.mark.parametrize("stem", sorted(SCALAR_ONLY))
def test_scalar_only_examples_are_refused_by_the_numpy_engine(stem: str) -> None:
    """When the array compiler learns a construct, its examples move to the list above."""
    model = load_spec(str(ROOT / "spec" / "examples" / f"{stem}.cow")).instantiate()
    with pytest.raises(ModelConfigError) as info:
        check(model, Options(backend="numpy"))
    assert str(info.value).endswith(f": {SCALAR_ONLY[stem]}")


def test_refcount_agrees_with_the_published_counts() -> None:
    spec = load_spec(str(ROOT / "spec" / "examples" / "refcount.cow"))
    scalar, arrays = both_ways(lambda: spec.instantiate(None, {"N": "3"}))
    assert (arrays.stats.distinct_states, arrays.stats.total_states, arrays.stats.depth) == \
        (3634, 48664, 7)


@pytest.mark.parametrize("path", KERNEL, ids=lambda p: p.stem)
def test_kernel_models_agree(path: Path) -> None:
    """Every model of every kernel spec, to a bounded depth (the whole spaces take the
    benchmark's time), continuing past violations so that every verdict is compared."""
    try:
        spec = load_spec(str(path))
    except SpecError as exc:  # being written: its own tests report that
        pytest.skip(f"{path.name} does not load: {exc.diagnostics[0].message}")
    names = spec.model_names or [None]
    for name in names:
        both_ways(lambda n=name: spec.instantiate(n), keep_going=True, max_depth=5)
    both_ways(lambda: spec.instantiate(names[-1]), max_states=300)


# Small specs that exercise each construct the array compiler translates.
CONSTRUCTS = {
    "records_unions_match": """
        const Frames = {F0, F1}
        record Page { ae: bool, ref: 0..3 }
        union Pte { None, Present(frame: Frames, writable: bool), Swap(slot: 0..1) }
        var pte: [Frames -> Pte]
        var page: [Frames -> Page]
        init {
          pte = [f in Frames -> None]
          page = [f in Frames -> Page(ae: false, ref: 0)]
        }
        action Fault(f: Frames, w: bool) {
          requires pte[f] is None and page[f].ref < 3
          pte'[f] = Present(f, w)
          page'[f] = page[f] with {ref: page[f].ref + 1, ae: w}
        }
        action Protect(f: Frames) {
          match pte[f] {
            Present(g, w) => {
              requires w
              pte'[f] = Present(frame: g, writable: false)
              page'[g].ae = false
            }
            None => requires false
            Swap(_) => skip
          }
        }
        action SwapOut(f: Frames) {
          requires pte[f] is Present and not pte[f].writable
          let g = pte[f].frame
          pte'[f] = Swap(if page[g].ae then 1 else 0)
          page'[g] = page[g] with {ref: page[g].ref - 1}
        }
        invariant RefsBounded = forall f in Frames: page[f].ref <= 3
        property WritableStays = forall f in Frames:
          (pte[f] is Present and pte[f].writable) implies pte'[f] != None
        reachable BothSwapped = forall f in Frames: pte[f] is Swap
    """,
    "sets_and_comprehensions": """
        const Procs = {P0, P1, P2}
        enum Kind { GET, PIN }
        record Ref { holder: Procs, kind: Kind }
        var refs: set[Ref]
        var owners: set[Procs]
        var n: 0..6
        init {
          refs = {}
          owners = {}
          n = 0
        }
        action Grab(p: Procs, k: Kind) {
          requires Ref(p, k) not in refs and card(refs) < 3
          refs' = refs | {Ref(p, k)}
          owners' = owners | {p}
          n' = card(refs) + 1
        }
        action Drop(p: Procs) {
          pick r in refs where r.holder == p
          refs' = refs - {r}
          owners' = {q.holder for q in refs where q != r}
          n' = n - 1
        }
        action Pins {
          requires exists r in refs: r.kind == PIN
          owners' = {r.holder for r in refs where r.kind == PIN}
        }
        invariant Counted = n == card(refs)
        invariant OwnersHold = owners subset {r.holder for r in refs}
        invariant FirstOwner = card(owners) == 0 or min(owners) <= max(owners)
        reachable AllPinned = card({r in refs where r.kind == PIN}) == 3
    """,
    "either_pick_for_if": """
        type Slot = 0..3
        var a: [Slot -> 0..2]
        var turn: bool
        init {
          pick t in {true, false}
          a = [s in Slot -> 0]
          turn = t
        }
        action Step(s: Slot) {
          either {
            requires a[s] < 2
            a'[s] = a[s] + 1
          } or {
            requires a[s] > 0 and turn
            a'[s] = a[s] - 1
          }
          turn' = not turn
        }
        action Spread {
          requires turn
          for s in Slot {
            if a[s] == 0 {
              a'[s] = 1
            }
          }
          turn' = false
        }
        action Move {
          pick s in Slot where a[s] > 0
          if s < 3 {
            requires a[s + 1] < 2
            a'[s] = a[s] - 1
            a'[s + 1] = a[s + 1] + 1
          } else {
            a'[s] = 0
          }
          turn' = true
        }
        invariant Small = (sum s in Slot: a[s]) <= 8
        constraint Bounded = (sum s in Slot: a[s]) <= 6
    """,
    "errors_and_arithmetic": """
        var x: 0..5
        var y: -2..2
        init {
          x = 0
          y = 2
        }
        action Up { x' = x + 1 }
        action Div {
          requires y != 0
          y' = (x / y) % 3 - 1
        }
        action Down { y' = y - 1 }
        invariant NotFour = x != 4 or y >= 0
    """,
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTS))
@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
def test_constructs_agree(tmp_path: Path, name: str, options: dict) -> None:
    spec = load_spec(str(write(tmp_path, "module M\n" + CONSTRUCTS[name])))
    scalar, arrays = both_ways(lambda: spec.instantiate(), **options)
    assert arrays.stats.backend == "numpy" or arrays.error is not None


def test_evaluation_error_is_reported_by_the_scalar_engine(tmp_path: Path) -> None:
    spec = load_spec(str(write(tmp_path, "module M\n" + CONSTRUCTS["errors_and_arithmetic"])))
    scalar, arrays = both_ways(lambda: spec.instantiate())
    assert arrays.error is not None and "outside its declared range" in arrays.error.message
    assert any("scalar engine" in n for n in arrays.notes)


def test_numpy_backend_refuses_what_it_cannot_run(tmp_path: Path) -> None:
    from pyspec.errors import ModelConfigError

    spec = load_spec(str(write(tmp_path, """
        var xs: set[set[0..2]]
        init { xs = {} }
        action Add(i: 0..2) { xs' = xs | {{i}} }
    """)))
    model: Model = spec.instantiate()
    with pytest.raises(ModelConfigError, match="numpy"):
        check(model, Options(backend="numpy", max_states=10))
    auto = check(model, Options(backend="auto", max_states=10))
    assert auto.stats.backend == "scalar"
