"""The compiled engine against the scalar engine: the same counts, verdicts, traces,
coverage and stops on every spec it supports, whatever the options; clean refusals and
``auto``'s notes for what it does not support.

Compiled code is cached on disk by its source, and loaded once per process per model,
so only a cold cache pays the compile time (a few seconds per kernel spec)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from explorer.engine.compiled import (
    PLAIN_PROGRAM,
    CompiledSearch,
    generated_source,
    program_of,
)
from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.engine.scalar import ScalarSearch
from explorer.result import Result
from pyspec.codegen.compiled_search import ID_BYTES
from pyspec.errors import ModelConfigError
from pyspec.loader import load_spec
from pyspec.model import NoProgram
from tests.explorer_testing import run_cli
from tests.pyspec_testing import TWO_COUNTERS, write
from tests.test_perf_backends import (
    ARRAY_CONSTRUCTS,
    CONSTRUCTS,
    EXAMPLES,
    KERNEL,
    LEAVING,
    OPTION_SETS,
    PAGES,
    assert_reported_by_scalar,
    summary,
)
from tests.test_perf_fingerprint import WIDE
from tests.test_pyspec_instances import COUNTER, MAIN, PROCS, PROCS_MAIN

pytest.importorskip("llvmlite")

ROOT = Path(__file__).resolve().parent.parent


def both_ways(make: callable, **options: object) -> tuple[Result, Result]:
    scalar = check(make(), Options(backend="scalar", **options))
    compiled = check(make(), Options(backend="compiled", **options))
    assert summary(compiled) == summary(scalar)
    return scalar, compiled


#: Constant sets as the types of variables, action parameters (members of model values,
#: ints and tuples); the numpy engine refuses them.
SET_TYPES = """
    const Prisoner = {p1, p2, p3}
    const Counter = p1
    const Others = Prisoner - {Counter}
    const Evens = {0, 2, 4}
    const Pairs = {(p, q) for p in Prisoner, q in Prisoner where p != q}
    var k: Others
    var e: Evens
    var last: Pairs
    var n: 0..3
    def far(x: int): bool = x == 4
    init {
      k = p2
      e = 0
      last = (p1, p2)
      n = 0
    }
    action Flip(i: Others) {
      requires i != k
      k' = i
      n' = (n + 1) % 4
    }
    action Step(x: Evens) {
      requires x > e or n == 3
      e' = x
    }
    action Wrap {
      requires far(e)
      e' = 2 * (n % 2)
    }
    action Send(p: Prisoner, q: Others) {
      requires p != q and (p, q) != last
      last' = (p, q)
    }
    invariant NotCounter = k != Counter and last[0] != last[1]
    reachable Far = e == 4 and k == p3 and last == (p3, p2)
"""
#: Sets of sequences and sequences of sequences (the numpy engine refuses the first).
NESTED_SEQUENCES = """
    var q: seq[0..1, 2]
    var seen: set[seq[0..1, 2]]
    var big: seq[seq[0..1, 1], 2]
    init {
      q = <<>>
      seen = {<<>>}
      big = <<>>
    }
    action Put(x: 0..1) {
      requires len(q) < 2
      q' = append(q, x)
      seen' = seen | {append(q, x)}
    }
    action Get {
      requires len(q) > 0
      q' = tail(q)
      big' = if len(big) < 2 then append(big, subseq(q, 1, 1)) else tail(big)
    }
    invariant Seen = q in seen
    reachable Both = <<1, 0>> in seen and <<0>> in seen and big == <<<<1>>, <<0>>>>
"""
#: Assignments to an item of a variable whose type is a constant set of tuples: the
#: updated tuple must still be one of the set's members.
MEMBER_UPDATES = """
    const Prisoner = {p1, p2, p3}
    const Pairs = {(p, q) for p in Prisoner, q in Prisoner where p != q}
    var last: Pairs
    var steps: 0..3
    init {
      last = (p1, p2)
      steps = 0
    }
    action Receiver(q: Prisoner) {
      requires q != last[0] and steps < 3
      last'[1] = q
      steps' = steps + 1
    }
    action Sender(p: Prisoner) {
      requires p != last[1] and steps < 3
      last'[0] = p
      steps' = steps + 1
    }
    invariant Apart = last[0] != last[1]
    reachable Reversed = last == (p2, p1)
"""
#: Defs without parameters that only invariants and reachability checks read (computed
#: once per checked state: ``readers``, a map of small sets read at a key known only at
#: run time, ``all_held``, and ``held``, which reads ``readers``), one an action reads
#: too (``owned``, computed where read), and a step that changes nothing (``Look``).
STATE_VALUES = """
    const Procs = {A, B}
    const Pages = {P0, P1, P2}
    var owner: [Pages -> 0..2]
    var mode: [Procs -> 0..1]
    init {
      owner = [g in Pages -> 0]
      mode = [p in Procs -> 0]
    }
    def code(p: Procs): int = if p == A then 1 else 2
    def readers: [Procs -> set[Pages]] = [p in Procs -> {g in Pages where owner[g] == code(p)}]
    def owned: int = card({g in Pages where owner[g] != 0})
    def all_held: bool = forall p in Procs: mode[p] == 1
    def held: int = card(readers[A]) + card(readers[B])
    action Take(p: Procs, g: Pages) {
      requires owner[g] == 0 and owned < 3
      owner'[g] = code(p)
    }
    action Drop(p: Procs, g: Pages) {
      requires owner[g] == code(p) and mode[p] == 0
      owner'[g] = 0
    }
    action Look(p: Procs) {
      requires owned == 1
      skip
    }
    action Toggle(p: Procs) {
      mode'[p] = 1 - mode[p]
    }
    invariant Disjoint = forall g in Pages: not (g in readers[A] and g in readers[B])
    invariant Counted = held == owned
    invariant HeldKeepTheirPages = all_held implies owned <= 3
    reachable AllOneOwner = exists p in Procs: card(readers[p]) == 3
"""
#: A state value that fails where no check reads it: ``first`` of an empty set.
FAILING_STATE_VALUE = """
    const Pages = {P0, P1}
    var used: set[Pages]
    init { used = {P0} }
    def first: Pages = min(used)
    action Use(g: Pages) {
      requires not (g in used)
      used' = used | {g}
    }
    action Free(g: Pages) {
      requires g in used
      used' = used - {g}
    }
    invariant FirstUsed = used == {} or first in used
"""
#: Every construct spec, each run by the compiled engine.
COMPILED_CONSTRUCTS = {**CONSTRUCTS, **ARRAY_CONSTRUCTS, "set_types": SET_TYPES,
                       "nested_sequences": NESTED_SEQUENCES, "member_updates": MEMBER_UPDATES,
                       "state_values": STATE_VALUES}


@pytest.fixture(scope="module")
def construct_specs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Each construct spec loaded once for the module (its compiled code is then loaded
    once per process)."""
    folder = tmp_path_factory.mktemp("constructs")
    out = {}
    for name, text in COMPILED_CONSTRUCTS.items():
        sub = folder / name
        sub.mkdir()
        out[name] = load_spec(str(write(sub, "module M\n" + text)))
    return out


@pytest.mark.parametrize("path", EXAMPLES + [PAGES], ids=lambda p: p.stem)
@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
def test_examples_agree(path: Path, options: dict) -> None:
    """Every example, every model (temporal properties left out: a liveness check picks
    the numpy or the scalar engine), without a hand-over to the scalar engine."""
    spec = load_spec(str(path))
    for name in spec.model_names or [None]:
        _, compiled = both_ways(lambda n=name: spec.instantiate(n), temporal=False, **options)
        assert compiled.stats.backend == "compiled"
        assert compiled.stats.compile_s is not None
        assert not any("handed over" in n for n in compiled.notes)


@pytest.mark.parametrize("name", sorted(COMPILED_CONSTRUCTS))
@pytest.mark.parametrize("options", OPTION_SETS, ids=str)
def test_constructs_agree(construct_specs: dict, name: str, options: dict) -> None:
    spec = construct_specs[name]
    _, compiled = both_ways(lambda: spec.instantiate(), **options)
    assert compiled.stats.backend == "compiled" or compiled.error is not None


#: A value stored outside a constant set type (the scalar engine reports it).
OUTSIDE_SET = (SET_TYPES + """
    action Bad {
      requires e == 4 and n == 2
      e' = e - 1
    }
""", "value 3 is not in Evens", (41, 12))
#: An item assigned so that the tuple leaves its constant set.
OUTSIDE_SET_ITEM = (MEMBER_UPDATES + """
    action Echo {
      requires steps == 2
      last'[1] = last[0]
    }
""", "value (p1, p1) is not in Pairs", (26, 18))
OUTSIDE = {"outside_set": OUTSIDE_SET, "outside_set_item": OUTSIDE_SET_ITEM}


@pytest.mark.parametrize("name", sorted(LEAVING) + sorted(OUTSIDE))
@pytest.mark.parametrize("options", OPTION_SETS[:2], ids=str)
def test_values_leaving_their_types_are_reported_by_the_scalar_engine(
        tmp_path: Path, name: str, options: dict) -> None:
    """A sequence outgrowing its bound, a key outside its key set, a value (or a tuple
    through an assignment to one item) outside a constant set type, and under ``check
    types on`` a value outside its type (initially or later): the compiled code stops,
    and the scalar engine reports it: an error where it is, or a violation of TypeOK
    with its trace."""
    text, message, where = OUTSIDE[name] if name in OUTSIDE else LEAVING[name]
    spec = load_spec(str(write(tmp_path, "module M\n" + text)))
    _, compiled = both_ways(lambda: spec.instantiate(), **options)
    assert_reported_by_scalar(compiled, "compiled backend handed over", message, where)


def test_instances_agree(tmp_path: Path) -> None:
    """Two instances of one module with different bindings: their defs are functions
    of their own."""
    for lib, file, main in ((COUNTER, "counter.cow", MAIN), (PROCS, "procs.cow", PROCS_MAIN)):
        folder = tmp_path / file.split(".")[0]
        folder.mkdir()
        write(folder, lib, file)
        spec = load_spec(str(write(folder, main)))
        assert "def i_" in generated_source(spec.instantiate()).source
        for options in OPTION_SETS:
            _, compiled = both_ways(lambda s=spec: s.instantiate(), **options)
            assert compiled.stats.backend == "compiled"


def test_refcount_published_counts_and_fingerprint_option() -> None:
    spec = load_spec(str(ROOT / "spec" / "examples" / "refcount.cow"))
    _, compiled = both_ways(lambda: spec.instantiate(None, {"N": "3"}))
    assert (compiled.stats.distinct_states, compiled.stats.total_states,
            compiled.stats.depth) == (3634, 48664, 7)
    assert compiled.stats.store_bytes is not None
    _, fp = both_ways(lambda: spec.instantiate(None, {"N": "3"}), fingerprint=True)
    assert fp.stats.seen_by == "state" and any("no fingerprint" in n for n in fp.notes)


def test_wide_states_exact_and_fingerprinted(tmp_path: Path) -> None:
    spec = load_spec(str(write(tmp_path, WIDE)))
    assert generated_source(spec.instantiate()).layout.words == 2
    _, exact = both_ways(lambda: spec.instantiate())
    assert exact.stats.seen_by == "state"
    _, fps = both_ways(lambda: spec.instantiate(), fingerprint=True)
    assert fps.stats.seen_by == "fingerprint"
    assert fps.stats.collision_probability is not None


def test_evaluation_error_is_reported_by_the_scalar_engine(construct_specs: dict) -> None:
    spec = construct_specs["errors_and_arithmetic"]
    _, compiled = both_ways(lambda: spec.instantiate())
    assert compiled.error is not None and "outside its declared range" in compiled.error.message
    assert any("compiled backend handed over" in n for n in compiled.notes)


@pytest.mark.parametrize("name, inlined", [("thp", "d_zapped_base"), ("cow", None)])
def test_defs_reading_leaves_at_run_time_are_inlined(name: str, inlined: str | None) -> None:
    """A def that reads a leaf at an index known only at run time (thp's pages span words)
    is named in ``ALWAYS_INLINE``, and only such a def; cow's leaves are all read by a
    shift of one word, so its list is empty."""
    spec = load_spec(str(ROOT / "spec" / "kernel" / f"{name}.cow"))
    source = generated_source(spec.instantiate("linux-5.19")).source
    named = next(line for line in source.splitlines() if line.startswith("ALWAYS_INLINE = "))
    listed = set(ast.literal_eval(named.split(" = ", 1)[1]))
    bodies = {chunk.split("(", 1)[0]: chunk for chunk in source.split("\ndef ")[1:]}
    reading = {f for f, body in bodies.items()
               if f.startswith(("d_", "i_")) and "leaf_read(" in body}
    assert listed == reading
    assert (inlined in listed) if inlined else not listed


def test_defs_only_checks_read_are_state_values(construct_specs: dict) -> None:
    """The defs without parameters that only invariants and reachability checks read are
    computed once per checked state, before the checks; a def an action reads is not;
    the program the search falls back on has none."""
    model = construct_specs["state_values"].instantiate()
    assert generated_source(model).state_values == ("readers", "all_held", "held")
    assert generated_source(model, PLAIN_PROGRAM).state_values == ()


def test_a_failing_state_value_searches_again_without_state_values(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``first`` fails on the empty set (``min`` of it), where the only check reading it
    does not read it: the compiled engine searches again without state values and gives
    the scalar engine's answer itself, without handing over."""
    import explorer.engine.compiled as engine

    spec = load_spec(str(write(tmp_path, "module M\n" + FAILING_STATE_VALUE)))
    assert generated_source(spec.instantiate()).state_values == ("first",)
    programs: list[str] = []

    def recorded(model: object, name: str = engine.PROGRAM) -> object:
        programs.append(name)
        return program_of(model, name)

    monkeypatch.setattr(engine, "program_of", recorded)
    scalar, compiled = both_ways(lambda: spec.instantiate())
    assert programs == [engine.PROGRAM, PLAIN_PROGRAM]
    assert (scalar.stats.distinct_states, scalar.stats.total_states) == (4, 9)
    assert compiled.stats.backend == "compiled" and compiled.error is None
    assert not any("handed over" in n for n in compiled.notes)


def test_one_program_per_model_source() -> None:
    """Models with the same generated source share one loaded module."""
    spec = load_spec(str(ROOT / "spec" / "examples" / "refcount.cow"))
    a, b = program_of(spec.instantiate()), program_of(spec.instantiate())
    assert a.module is b.module


@pytest.mark.parametrize("path", KERNEL, ids=lambda p: p.stem)
def test_kernel_models_agree_or_are_refused_cleanly(path: Path) -> None:
    """Every model of the kernel spec: the same answers to a bounded depth where the
    generator supports the model; else ``--backend compiled`` refuses it with the reason
    and ``auto`` says why it ran another engine."""
    spec = load_spec(str(path))
    for name in spec.model_names or [None]:
        try:
            generated_source(spec.instantiate(name))
        except NoProgram as exc:
            with pytest.raises(ModelConfigError, match="--backend compiled cannot run"):
                check(spec.instantiate(name), Options(backend="compiled", max_depth=2))
            auto = check(spec.instantiate(name), Options(backend="auto", max_depth=4))
            assert auto.stats.backend != "compiled"
            assert any(str(exc) in n for n in auto.notes) or auto.stats.backend == "scalar"
            continue
        both_ways(lambda n=name: spec.instantiate(n), keep_going=True, max_depth=5)


def test_cli_compiled_backend_and_refusals(capsys: pytest.CaptureFixture[str],
                                          tmp_path: Path) -> None:
    refcount = str(ROOT / "spec" / "examples" / "refcount.cow")
    code, out, _ = run_cli(capsys, "check", refcount, "--backend", "compiled")
    assert code == 0 and "engine:      compiled" in out and "compile:" in out
    assert "3,634 distinct states" in out
    code, out, _ = run_cli(capsys, "check", refcount, "--backend", "compiled",
                           "--max-states", "100")
    assert code == 152 and "100 distinct states" in out
    huge = write(tmp_path, """
        module M
        var xs: set[0..1000]
        init { xs = {} }
        action Add(i: 0..1000) {
          requires card(xs) < 2
          xs' = xs | {i}
        }
    """)
    code, _, err = run_cli(capsys, "check", str(huge), "--backend", "compiled")
    assert code == 151 and "--backend compiled cannot run" in err and "992" in err


def test_sets_of_sets_agree(tmp_path: Path) -> None:
    """Sets of small sets: bitmasks over the inner sets' bitmasks (the array engine
    cannot run them)."""
    spec = load_spec(str(write(tmp_path, """
        module M
        var xs: set[set[0..2]]
        init { xs = {} }
        action Add(i: 0..2, j: 0..2) { xs' = xs | {{i, j}} }
        action Drop { pick s in xs where card(s) == 2
                      xs' = xs - {s} }
        invariant Small = card(xs) < 5
    """)))
    for options in OPTION_SETS:
        both_ways(lambda: spec.instantiate(), **options)


def test_auto_compiles_a_large_search_once_and_caches_it(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold cache: auto compiles the spec (a few seconds, once) and writes its machine
    code to the cache, where the next run loads it; numpy gives the same answers."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    spec = load_spec(str(write(tmp_path, TWO_COUNTERS)))
    cold = check(spec.instantiate(), Options(backend="auto"))
    assert cold.stats.backend == "compiled"
    assert len(list((tmp_path / "cowspec" / "compiled").glob("m_*.o"))) == 1
    warm = check(spec.instantiate(), Options(backend="auto"))
    assert warm.stats.backend == "compiled"
    assert summary(warm) == summary(cold)
    assert summary(check(spec.instantiate(), Options(backend="numpy"))) == summary(cold)


#: Map entries picked at run time (``bits`` spreads over two words, so some of its
#: entries are read and written by a shift and some by the fallback), whole-variable
#: updates written leaf by leaf (a key updated twice, a record copied from another entry).
UPDATES = """
    module M
    record Page { ae: bool, ref: 0..4, kind: 0..1 }
    var page: [0..1 -> Page]
    var bits: [0..30 -> 0..3]
    var n: 0..3
    init {
      page = [f in 0..1 -> Page(ae: false, ref: 0, kind: 0)]
      bits = [i in 0..30 -> 0]
      n = 0
    }
    action Bump(f: 0..1) {
      requires page[f].ref < 3
      page' = page with [f -> page[f] with {ref: page[f].ref + 1}]
                   with [f -> page[f] with {ae: true, ref: page[f].ref + 2}]
    }
    action Copy(f: 0..1, g: 0..1) {
      requires f != g and page[f].ref > page[g].ref + 1
      page' = page with [g -> page[f] with {kind: 1 - page[g].kind}]
    }
    action Set(i: 0..30) {
      requires n < 3 and bits[i] == 0 and i % 10 == n * 3
      bits' = bits with [i -> n + 1]
      n' = n + 1
    }
    invariant RefsEven = forall f in 0..1: page[f].ref % 2 == 0 or page[f].kind > 0
"""
#: The same with a key outside the map's domain on one path.
UPDATES_OUTSIDE = UPDATES + """
    action Poke {
      requires n == 3
      bits' = bits with [n * 20 -> 1]
      n' = 0
    }
"""


def test_updates_leaf_by_leaf_agree(tmp_path: Path) -> None:
    """The same counts, verdicts, traces and evaluation error as the scalar engine for
    updates the compiled code writes leaf by leaf."""
    spec = load_spec(str(write(tmp_path, UPDATES)))
    assert generated_source(spec.instantiate()).layout.words == 2
    for options in OPTION_SETS:
        both_ways(lambda: spec.instantiate(), **options)
    (tmp_path / "outside").mkdir()
    spec = load_spec(str(write(tmp_path / "outside", UPDATES_OUTSIDE)))
    _, compiled = both_ways(lambda: spec.instantiate())
    assert compiled.error is not None
    assert compiled.error.message == "key 60 is not in the map's domain 0..30"
    assert any("compiled backend handed over" in n for n in compiled.notes)


#: Two words a state (a set of 65 elements is two bitmask parts), 28,800 states, an
#: invariant broken 110 steps deep: traces whose parents lie many store blocks back.
LONG_WIDE = """
    module M
    var xs: set[0..64]
    var a: 0..59
    var b: 0..59
    init {
      xs = {}
      a = 0
      b = 0
    }
    action IncA { requires a < 59
                  a' = a + 1 }
    action IncB { requires b < 59
                  b' = b + 1 }
    action Add(i: 0..64) { requires i % 32 == 0 and not (i in xs)
                           xs' = xs | {i} }
    action Del(i: 0..64) { requires i % 32 == 0 and i in xs
                           xs' = xs - {i} }
    invariant Near = a + b < 110
"""


@pytest.mark.parametrize("fingerprint", [False, True], ids=["exact", "fingerprint"])
def test_long_traces_of_a_large_store_agree(tmp_path: Path, fingerprint: bool) -> None:
    """The store grows, its table is rehashed, and (fingerprinted) its window of states
    moves many times; the traces rebuilt from its parent links are the scalar engine's."""
    spec = load_spec(str(write(tmp_path, LONG_WIDE)))
    assert generated_source(spec.instantiate()).layout.words == 2
    for options in ({}, {"keep_going": True}, {"max_states": 20000, "keep_going": True}):
        _, compiled = both_ways(lambda: spec.instantiate(), fingerprint=fingerprint,
                                **options)
        assert compiled.stats.seen_by == ("fingerprint" if fingerprint else "state")
        if "max_states" in options:
            assert compiled.stopped == "max_states" and compiled.stats.distinct_states == 20000
        else:
            assert len(compiled.properties[0].trace.steps) == 111


#: Two sets of 64 possible elements: three words of nothing but bitmask parts (``a``'s
#: two parts, ``b``'s first), interned, and a word of ``b``'s second part and ``n``, kept
#: in the row; 4,095 distinct values of the interned words (65 of ``a`` times 63 of
#: ``b``'s first part), so that their table grows many times, and an invariant broken 3
#: steps deep.
INTERNED = """
    module M
    var a: set[0..63]
    var b: set[0..63]
    var n: 0..2
    init {
      a = {}
      b = {}
      n = 0
    }
    action AddA(i: 0..63) { requires card(a) == 0
                            a' = {i} }
    action AddB(i: 0..63) { requires card(b) == 0
                            b' = {i} }
    action Clear { requires card(a) == 1 and card(b) == 1
                   a' = {}
                   b' = {} }
    action Step { n' = (n + 1) % 3 }
    invariant Apart = not (a == {5} and b == {63} and n == 1)
"""


def stored_states(search: CompiledSearch) -> list[tuple]:
    """Every state of the compiled store, decoded from its rows (the row's own words,
    then the interned words from their id) in id order."""
    a, layout = search.a, search.layout
    fmt = a.format
    states = []
    for row in a.rows[: search.count].astype(np.int64):
        words = [0] * layout.words
        at = 0
        for w, width in zip(fmt.kept, fmt.widths):
            words[w] = sum(int(row[at + k]) << (8 * k) for k in range(width))
            at += width
        if fmt.interned:
            vid = sum(int(row[fmt.id_at + k]) << (8 * k) for k in range(ID_BYTES))
            for k, w in enumerate(fmt.interned):
                words[w] = int(a.ivals[vid, k])
        states.append(layout.decode(tuple(words)))
    return states


def test_interned_words_agree_and_rebuild_every_stored_state(tmp_path: Path) -> None:
    """Words of nothing but sets are stored once per distinct value and named by an id
    in the rows: the counts, verdicts and traces are the scalar engine's under every
    option set and with fingerprints, and every row rebuilds the scalar engine's
    state of that id."""
    spec = load_spec(str(write(tmp_path, INTERNED)))
    for options in OPTION_SETS:
        both_ways(lambda: spec.instantiate(), **options)
        both_ways(lambda: spec.instantiate(), fingerprint=True, **options)
    model = spec.instantiate()
    compiled = CompiledSearch(model, program_of(model), Options(keep_going=True))
    result = compiled.run()
    scalar = ScalarSearch(spec.instantiate(), Options(keep_going=True))
    scalar.run()
    assert compiled.a.format.interned == (0, 1, 2) and compiled.a.format.kept == (3,)
    assert result.stats.distinct_states == compiled.count == len(scalar.queue) == 65 * 65 * 3
    assert stored_states(compiled) == scalar.queue.states
    assert len(compiled.a.itable) >= 2 * 65 * 63


def test_kernel_rows_hold_the_references_by_id() -> None:
    """The kernel model's GUP references (a set of 128 possible members, two words of
    bitmask) are interned: cow.cow's states take at most the issue's 40 bytes each,
    parent links and tables included, and the rows rebuild the scalar engine's states."""
    spec = load_spec(str(ROOT / "spec" / "kernel" / "cow.cow"))
    whole = check(spec.instantiate("linux-5.19"), Options(backend="compiled"))
    assert whole.stats.distinct_states == 38121
    assert whole.stats.store_bytes / whole.stats.distinct_states <= 40
    model = spec.instantiate("linux-5.19")
    search = CompiledSearch(model, program_of(model), Options(max_states=3000))
    search.run()
    assert len(search.a.format.interned) == 2
    scalar = ScalarSearch(spec.instantiate("linux-5.19"), Options(max_states=3000))
    scalar.run()
    assert stored_states(search) == scalar.queue.states


def test_parent_links_are_the_scalar_engines() -> None:
    """Every stored state's parent and position (kept as a count of children per state)
    are the scalar engine's, across many blocks of the running sums."""
    spec = load_spec(str(ROOT / "spec" / "examples" / "refcount.cow"))
    scalar = ScalarSearch(spec.instantiate(None, {"N": "4"}), Options())
    scalar.run()
    model = spec.instantiate(None, {"N": "4"})
    compiled = CompiledSearch(model, program_of(model), Options())
    compiled.run()
    assert compiled.count == len(scalar.queue) == 43369
    links = compiled.array_links
    for sid in range(0, compiled.count, 331):
        assert links.chain(sid) == scalar.links.chain(sid)
        assert links.via(sid) == scalar.links.via(sid)


def test_bytes_per_state_are_the_arrays_held() -> None:
    """The reported store is every array the compiled store holds; a one-word state
    costs at most 16 bytes, parent links included."""
    spec = load_spec(str(ROOT / "spec" / "examples" / "refcount.cow"))
    model = spec.instantiate(None, {"N": "4"})
    search = CompiledSearch(model, program_of(model), Options())
    result = search.run()
    a = search.a
    held = sum(x.nbytes for x in (a.rows, a.ivals, a.itable, a.table, a.ftable, a.kids,
                                  a.vias, a.initial_vias))
    assert result.stats.store_bytes == held
    assert held / result.stats.distinct_states <= 16
    layout = generated_source(model).layout
    assert layout.words == 1 and a.rows.shape[1] == (layout.bits + 7) // 8 == 3
    assert a.kids.dtype == np.uint8 and a.vias.dtype == np.uint8


def test_fingerprints_and_parent_links_take_at_most_16_bytes_per_state() -> None:
    """With --fingerprint the seen set (the fingerprints) and the parent links of a kernel
    model's states take at most 16 bytes per state wherever the search stops, once its
    table has grown many times; the window of states to expand is reported apart, and
    the counts are the exact store's."""
    spec = load_spec(str(ROOT / "spec" / "kernel" / "cow.cow"))
    exact = check(spec.instantiate("linux-5.17"), Options(backend="compiled"))
    assert exact.stats.distinct_states == 102978 and exact.stats.queue_bytes is None
    for cap in (*range(20000, 102978, 8000), None):
        model = spec.instantiate("linux-5.17")
        search = CompiledSearch(model, program_of(model),
                                Options(fingerprint=True, max_states=cap))
        result = search.run()
        a = search.a
        assert result.stats.distinct_states == (cap or 102978)
        assert result.stats.store_bytes == sum(x.nbytes for x in (
            a.table, a.ftable, a.kids, a.vias, a.initial_vias))
        assert result.stats.queue_bytes == a.rows.nbytes + a.ivals.nbytes + a.itable.nbytes
        assert a.rows.nbytes > 0 and a.format.interned
        assert result.stats.store_bytes / result.stats.distinct_states <= 16
    assert summary(result) == summary(exact) and result.stats.seen_by == "fingerprint"
    assert len(a.ftable) > 16 * 4096 and a.vias.dtype == np.uint16


def test_store_grows_keeping_its_rows_in_place_or_by_copy() -> None:
    """A grown array keeps its rows and has zeros after them: grown in place when nothing
    else refers to it, copied when a view of it is alive (which must stay valid)."""
    spec = load_spec(str(ROOT / "spec" / "examples" / "refcount.cow"))
    model = spec.instantiate(None, {"N": "4"})
    a = CompiledSearch(model, program_of(model), Options()).a
    first = np.arange(3 * a.rows.shape[1], dtype=np.uint8).reshape(3, -1) + 1
    a.rows[:3] = first
    alone = id(a.rows)  # not a reference: a reference would make numpy refuse
    a.grow("rows", 5000)
    assert id(a.rows) == alone and a.rows.shape[0] == 5000
    assert (a.rows[:3] == first).all() and not a.rows[3:].any()
    view, before = a.rows[:3], a.rows
    a.grow("rows", 9000)
    assert a.rows is not before and a.rows.shape[0] == 9000
    assert (a.rows[:3] == first).all() and not a.rows[3:].any() and (view == first).all()
    a.kids[:2] = (7, 9)
    a.grow("kids", 3000)
    assert len(a.kids) == 3000 and list(a.kids[:3]) == [7, 9, 0]
