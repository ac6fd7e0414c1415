"""The numpy backend against the scalar engine, on every spec: the same counts, verdicts,
traces, coverage and stops, whatever the options."""

from __future__ import annotations

from pathlib import Path

import pytest

from explorer.engine.interface import Options
from explorer.engine.registry import ENGINES, check
from explorer.result import Result
from pyspec.errors import SpecError
from pyspec.loader import load_spec
from pyspec.model import Model
from tests.pyspec_testing import write

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "spec" / "examples").glob("*.cow"))
KERNEL = sorted((ROOT / "spec" / "kernel").glob("*.cow"))
#: The examples without temporal properties (a liveness check picks its own engine: the
#: numpy or the scalar engine, never the compiled one, workers or fingerprints;
#: tests/test_liveness.py holds the two to one another) that every engine runs.
SAFETY_EXAMPLES = [p for p in EXAMPLES if not load_spec(str(p)).instantiate().temporal]
PAGES = ROOT / "tests" / "explorer_specs" / "pages.cow"


def summary(r: Result) -> dict:
    """Everything a run reports that must not depend on the engine."""
    error_trace = None if r.error is None or r.error.trace is None else \
        [(s.label, s.state) for s in r.error.trace.steps]
    return {
        "counts": (r.stats.distinct_states, r.stats.total_states, r.stats.depth,
                   r.stats.queue, r.stopped),
        "verdicts": [(p.name, p.kind, p.verdict) for p in r.properties],
        "traces": {p.name: [(s.label, s.state) for s in p.trace.steps]
                   for p in r.properties if p.trace is not None},
        "coverage": [(a.name, a.enabled, a.fired, a.new) for a in r.coverage.actions],
        "kernel": [(k.value, k.enabled, k.fired, k.new) for k in r.coverage.tagged("kernel")],
        "error": None if r.error is None else (r.error.message, r.error.pos, error_trace),
    }


def both_ways(make: callable, **options: object) -> tuple[Result, Result]:
    scalar = check(make(), Options(backend="scalar", **options))
    arrays = check(make(), Options(backend="numpy", **options))
    assert summary(arrays) == summary(scalar)
    return scalar, arrays


def engines_agree(make: callable, **options: object) -> tuple[Result, Result]:
    """The two engines' searches themselves, without the liveness check (which runs a
    spec with fairness per parameter binding on the scalar engine)."""
    scalar = ENGINES["scalar"].check(make(), Options(backend="scalar", **options))
    arrays = ENGINES["numpy"].check(make(), Options(backend="numpy", **options))
    assert summary(arrays) == summary(scalar)
    return scalar, arrays


def per_binding(model: Model) -> bool:
    """Whether a model's liveness check needs each transition's parameters."""
    return bool(model.temporal) and any(f.each for f in model.fairness)


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
        make = lambda n=name: spec.instantiate(n)  # noqa: E731
        agree = engines_agree if per_binding(make()) else both_ways
        _, arrays = agree(make, **options)
        assert arrays.stats.backend == "numpy"


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
#: Constructs the array compiler translates beyond those above (the compiled one all
#: but ``check types on``).
ARRAY_CONSTRUCTS = {
    "sequences": """
        const N = 2
        type Val = 0..1
        record Item { v: Val, tag: bool }
        var q: seq[Val, N]
        var r: seq[Item, 2]
        var ms: [0..1 -> seq[Val, 2]]
        var k: 0..3
        init {
          q = <<>>
          r = <<Item(0, false)>>
          ms = [b in 0..1 -> <<>>]
          k = 0
        }
        action Put(x: Val) {
          requires len(q) < N
          q' = append(q, x)
        }
        action Get {
          requires len(q) > 0
          k' = head(q) + len(tail(q))
          q' = tail(q)
        }
        action Drop {
          pick i in 1..len(q)
          q' = subseq(q, 1, i - 1) ++ subseq(q, i + 1, len(q))
        }
        action Bump {
          requires len(q) >= 2
          q'[2] = (q[2] + 1) % 2
          r' = r with [1 -> Item(q[1], q[1] > 0)]
        }
        action Keep {
          let p = select x in q: x > 0
          q' = select x in q: x != 1
          ms'[if len(q) > 1 then 1 else 0] = subseq(p, 1, if len(p) > 2 then 2 else len(p))
        }
        action Grow {
          requires len(r) < 2
          r' = append(r, Item(1, true))
        }
        action Tag(i: 1..2) {
          requires i <= len(r)
          r'[i].tag = not r[i].tag
        }
        action Swap {
          requires len(q) == 2 and q != <<1, 1>>
          q' = <<q[2]>> ++ <<q[1]>>
          k' = if q == <<>> then 0 else len(ms[1] ++ ms[0])
        }
        invariant Ops = len(q ++ <<1>>) == len(q) + 1 and subseq(q, 1, len(q)) == q
        invariant Lit = q != <<1, 1, 1>> or k >= 0
        invariant Heads = len(q) == 0 or head(q) == q[1]
        reachable Full = len(q) == N and q[1] == 1
        property Grows = len(q') <= len(q) + 1
        invariant NoPair = not (q == <<1, 0>> and len(r) == 2 and r[2].tag)
    """,
    # Every sequence operator with lengths, indices and bounds that differ per state.
    "sequence_operators_per_row": """
        var q: seq[0..2, 2]
        var r: seq[0..2, 4]
        var k: 0..2
        var ms: [0..1 -> seq[0..2, 1]]
        init {
          q = <<>>
          r = <<>>
          k = 0
          ms = [i in 0..1 -> <<>>]
        }
        action Put(x: 0..2) {
          requires len(q) < 2 and len(r) < 2
          q' = append(q, x)
        }
        action Get {
          requires len(q) > 0
          q' = tail(q)
        }
        action Sub {
          r' = if len(q) > 0 then subseq(q, head(q) % len(q) + 1, len(q)) else <<>>
        }
        action Twice {
          requires len(r) < 2
          r' = q ++ q
        }
        action Sel {
          requires len(q) > 0
          r' = select x in q ++ q: x != head(q)
        }
        action With {
          requires len(q) > 0
          r' = q with [len(q) -> k]
        }
        action App {
          requires len(q) > 0
          r' = append(tail(q), len(q))
        }
        action Point {
          requires len(r) > 0 and len(q) > 0
          r'[len(r)] = head(q)
          r'[1] = q[len(q)]
        }
        action Mid {
          requires len(q) >= 1 and len(r) >= 1
          r' = subseq(q ++ r, len(q), len(q) + 1)
        }
        action Ch {
          requires exists i in 1..len(r): r[i] == 2
          k' = (choose i in 1..len(r): r[i] == 2) % 3
        }
        action Eq { k' = if r == q ++ <<>> then 1 elif r == <<>> then 2 else 0 }
        action Map(i: 0..1) {
          requires len(q) > 0 and head(q) < 2
          ms'[head(q)] = subseq(q, 1, 1)
          ms'[i] = if ms[i] == <<>> then <<i>> else tail(ms[i])
        }
        action Cat2 {
          requires len(ms[k % 2]) + len(q) <= 4
          r' = ms[k % 2] ++ q
        }
        invariant Lens = len(r) <= 4 and len(q) <= 2
    """,
    "action_definitions": """
        const P = {A, B}
        var owner: [P -> 0..2]
        var log: seq[P, 3]
        var turn: bool
        def Give(p: P, n: 0..2) {
          owner'[p] = n
        }
        def Note(p: P) {
          requires len(log) < 3
          log' = append(log, p)
        }
        def Hand(p: P) {
          either {
            Give(p, 1)
          } or {
            requires turn
            Give(p, 2)
          }
          turn' = not turn
        }
        init {
          owner = [p in P -> 0]
          log = <<>>
          turn = false
        }
        action Take(p: P) {
          requires owner[p] == 0
          Hand(if p == A then B else A)
          Note(p)
        }
        action Back(p: P) {
          if owner[p] > 0 {
            Give(p, owner[p] - 1)
          } else {
            turn' = not turn
          }
        }
        action Settle {
          requires len(log) > 0
          for p in P {
            if owner[p] == 2 {
              Give(p, 1)
            }
          }
          log' = tail(log)
        }
        invariant Bounded = len(log) <= 3
        reachable BothTwo = owner[A] == 2 and owner[B] == 2
        property TurnFlips = owner'[A] == owner[A] or turn' != turn or owner'[A] < owner[A]
    """,
    "key_set_maps": """
        const Prisoner = {p1, p2, p3}
        const Counter = p1
        const OtherPrisoner = Prisoner - {Counter}
        const Pairs = {(p, q) for p in Prisoner, q in Prisoner where p != q}
        const Evens = {0, 2, 4}
        var timesSwitched: [OtherPrisoner -> 0..2]
        var sent: [Pairs -> bool]
        var byNum: [Evens -> 0..1]
        init {
          timesSwitched = [i in OtherPrisoner -> 0]
          sent = [e in Pairs -> false]
          byNum = [n in Evens -> 0]
        }
        action Flip(i: Prisoner) {
          requires i != Counter and timesSwitched[i] < 2
          timesSwitched'[i] = timesSwitched[i] + 1
        }
        action Send(p: Prisoner, q: Prisoner) {
          requires p != q and not sent[(p, q)]
          requires if p == Counter then true else timesSwitched[p] > 0
          sent'[(p, q)] = true
        }
        action Num(n: 0..4) {
          requires n % 2 == 0 and byNum[n] == 0
          byNum' = byNum with [n -> 1 - byNum[n]]
        }
        invariant Sum = (sum i in OtherPrisoner: timesSwitched[i]) <= 3
        reachable AllSent = forall e in Pairs: sent[e]
    """,
    "check_types_holding": """
        check types on
        var x: 0..3
        var q: seq[0..1, 2]
        init {
          x = 0
          q = <<>>
        }
        action Inc { x' = if x < 3 then x + 1 else 0 }
        action Put(b: 0..1) {
          requires len(q) < 2
          q' = append(q, b)
        }
        action Get {
          requires len(q) > 0
          q' = tail(q)
        }
    """,
}
#: Specs where a value leaves its type: the numpy engine hands over to the scalar engine,
#: which reports it: an error with its message and position (line, col), or under
#: ``check types on`` a TypeOK violation (no message) with the labels of its trace.
LEAVING = {
    "sequence_over_its_bound": ("""
        var q: seq[0..1, 2]
        var n: 0..3
        init {
          q = <<>>
          n = 0
        }
        action Put(b: 0..1) {
          q' = append(q, b)
        }
        action Count {
          requires n < 3
          n' = n + 1
        }
    """, "a sequence of length 3 exceeds its bound 2 (seq[0..1, 2])", (10, 16)),
    "key_outside_its_set": ("""
        const Prisoner = {p1, p2, p3}
        const Others = Prisoner - {p1}
        var n: [Others -> 0..2]
        init { n = [i in Others -> 0] }
        action Up(i: Prisoner) {
          requires i == p3 or n[p3] == 1
          n'[i] = 1
        }
    """, "key p1 is not in the map's domain Others", (9, 14)),
    "check_types_initially_violated": ("""
        check types on
        var x: 0..3
        init { x = 5 }
        action Dec {
          requires x > 0
          x' = x - 1
        }
    """, None, ["initial state"]),
    # Three appends to a sequence bounded by 2 come before four increments.
    "check_types_violated": ("""
        check types on
        var x: 0..3
        var q: seq[0..1, 2]
        init {
          x = 0
          q = <<>>
        }
        action Inc {
          x' = if x < 4 then x + 1 else 0
        }
        action Put(b: 0..1) {
          requires len(q) < 3
          q' = append(q, b)
        }
        action Get {
          requires len(q) > 0
          q' = tail(q)
        }
    """, None, ["initial state"] + ["Put(b=0)"] * 3),
}


@pytest.mark.parametrize("name", sorted(CONSTRUCTS) + sorted(ARRAY_CONSTRUCTS))
@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
def test_constructs_agree(tmp_path: Path, name: str, options: dict) -> None:
    text = {**CONSTRUCTS, **ARRAY_CONSTRUCTS}[name]
    spec = load_spec(str(write(tmp_path, "module M\n" + text)))
    scalar, arrays = both_ways(lambda: spec.instantiate(), **options)
    assert arrays.stats.backend == "numpy" or arrays.error is not None


def test_evaluation_error_is_reported_by_the_scalar_engine(tmp_path: Path) -> None:
    spec = load_spec(str(write(tmp_path, "module M\n" + CONSTRUCTS["errors_and_arithmetic"])))
    scalar, arrays = both_ways(lambda: spec.instantiate())
    assert arrays.error is not None and "outside its declared range" in arrays.error.message
    assert any("scalar engine" in n for n in arrays.notes)


@pytest.mark.parametrize("name", sorted(LEAVING))
@pytest.mark.parametrize("options", OPTION_SETS[:2], ids=str)
def test_values_leaving_their_types_are_reported_by_the_scalar_engine(
        tmp_path: Path, name: str, options: dict) -> None:
    text, message, where = LEAVING[name]
    spec = load_spec(str(write(tmp_path, "module M\n" + text)))
    scalar, arrays = both_ways(lambda: spec.instantiate(), **options)
    assert_reported_by_scalar(arrays, "handed over to the scalar engine", message, where)
    if message is not None:
        assert arrays.error is not None
        assert arrays.error.trace is not None and arrays.error.trace.steps


def assert_reported_by_scalar(result: Result, note: str, message: str | None,
                              where: object) -> None:
    """A value left its type and the engine handed the search over (``note``): the
    scalar engine reports an evaluation error ``message`` at ``where`` (line, column),
    or with ``message`` None (``check types on``) a violation of TypeOK whose trace's
    step labels are ``where``."""
    assert any(note in n for n in result.notes)
    if message is None:
        typeok = next(p for p in result.properties if p.name == "TypeOK")
        assert typeok.verdict == "violated" and typeok.trace is not None
        assert [st.label for st in typeok.trace.steps] == where
    else:
        assert result.error is not None and result.error.message == message
        assert (result.error.pos.line, result.error.pos.col) == where


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
