"""Module parameters, shared models (`for model`) and scoped names: semantics, the
kernel specs' use of them, and the code and position of every error they add."""

from __future__ import annotations

from pathlib import Path

import pytest
from explorer_testing import run_cli
from pyspec_testing import ROOT, explore, write

from pyspec.errors import ModelConfigError, SpecError
from pyspec.loader import load_spec

KERNEL = ROOT / "spec" / "kernel"

LIB = """
param Size: int
param Fast: bool
var x: 0..5
init { x = 0 }
action Inc { requires x < Size  x' = x + (if Fast then 2 else 1) }
invariant Small = x <= 3
const Mode: 1..2 = 1
model small { const Mode = 1 }
model big extends small { const Mode = 2 }
"""


def lib_and_main(tmp_path: Path, main: str, lib: str = LIB) -> str:
    (tmp_path / "lib").mkdir(exist_ok=True)
    write(tmp_path / "lib", lib, "queue.cow")
    return str(write(tmp_path, main, "main.cow"))


def errors(path: str) -> list[tuple[str, str, int, int, str]]:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [(d.code, Path(d.pos.file).name, d.pos.line, d.pos.col, d.message)
            for d in info.value.diagnostics if d.severity == "error"]


# ---- module parameters ----------------------------------------------------------------

def test_parameters_bound_by_the_import_and_by_a_declaration(tmp_path: Path) -> None:
    main = lib_and_main(tmp_path, """
        import "lib/queue.cow" with { Fast = false }
        const Size: 1..5 = 4
    """)
    model = load_spec(main).instantiate()
    assert model.constants["Size"] == 4 and model.constants["Fast"] is False
    stats = explore(model, keep_going=True).stats
    assert (stats.distinct_states, stats.total_states, stats.depth) == (5, 5, 5)
    fast = lib_and_main(tmp_path, """
        import "lib/queue.cow" with { Fast = true, }
        const Size: 1..5 = 4
    """)
    result = explore(load_spec(fast).instantiate(), keep_going=True)
    assert (result.stats.distinct_states, result.stats.depth) == (3, 3)  # x = 0, 2, 4


def test_a_library_is_checked_alone_and_run_with_its_parameters_given(tmp_path: Path) -> None:
    lib_and_main(tmp_path, "const Unused = 1\n")
    spec = load_spec(str(tmp_path / "lib" / "queue.cow"))  # type-checks without an importer
    with pytest.raises(ModelConfigError) as info:
        spec.instantiate()
    assert info.value.code == "E423"
    assert info.value.message.startswith(
        f"parameters 'Size' (declared at {tmp_path}/lib/queue.cow:1:1), 'Fast' (declared at "
        f"{tmp_path}/lib/queue.cow:2:1) have no value: bind each where its module is imported")
    model = spec.instantiate(None, {"Size": "2", "Fast": "true"})
    assert explore(model, keep_going=True).stats.distinct_states == 2


def test_an_unbound_parameter_exits_151_with_its_code(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    lib_and_main(tmp_path, "const Unused = 1\n")
    code, _, err = run_cli(capsys, "check", str(tmp_path / "lib" / "queue.cow"), "-D", "Size=3")
    assert code == 151
    assert err.startswith("error[E423]: parameter 'Fast' (declared at ")
    assert "-D Fast=..." in err


def test_a_parameter_declared_by_two_modules_is_one(tmp_path: Path) -> None:
    write(tmp_path, "param Size: int\ndef Twice = Size * 2\n", "other.cow")
    main = lib_and_main(tmp_path, """
        import "lib/queue.cow" with { Fast = false }
        import "other.cow"
        const Size: 1..5 = 2
        invariant T = Twice == 4
    """)
    assert explore(load_spec(main).instantiate(), keep_going=True).stats.distinct_states == 3


@pytest.mark.parametrize(("main", "expected"), [
    ('import "lib/queue.cow" with { Fast = false, Slow = 1 }\nconst Size = 2\n',
     [("E421", "main.cow", 1, 45, "\"lib/queue.cow\" (and what it imports) declares no "
       "parameter 'Slow'")]),
    ('import "lib/queue.cow" with { Fast = false, Size = 3 }\nconst Size = 2\n',
     [("E422", "main.cow", 1, 45, "parameter 'Size' is bound here and by its declaration "
       "at ")]),
    ('import "lib/queue.cow" with { Fast = 3, Size = 3 }\n',
     [("E104", "main.cow", 1, 38, "constant 'Fast' should be bool, not int")]),
    ('import "lib/queue.cow" with { Fast = false }\nconst Size = true\n',
     [("E104", "main.cow", 2, 1, "'Size' is bool, but the parameter declared at ")]),
    ('import "lib/queue.cow" with { Fast = false }\nvar Size: bool\n',
     [("E104", "main.cow", 2, 5, "'Size' is bool, but the parameter declared at ")]),
    ('import "lib/queue.cow" with { Fast = false }\nenum Size { S0 }\n',
     [("E422", "main.cow", 2, 1, "the parameter 'Size' declared at ")]),
    ('import "lib/queue.cow" with { Fast = false }\ndef Size(n: int): int = n\n',
     [("E103", "main.cow", 2, 1, "def 'Size' takes 1 argument(s), but the parameter it "
       "binds, declared at ")]),
    ('import "lib/queue.cow" with { Fast = false }\nparam Size: bool\n',
     [("E104", "main.cow", 2, 1, "parameter 'Size' is bool here but int at ")]),
])
def test_parameter_errors(tmp_path: Path, main: str,
                          expected: list[tuple[str, str, int, int, str]]) -> None:
    # (only the errors in main.cow: the library's uses of a mistyped parameter fail too)
    found = [e for e in errors(lib_and_main(tmp_path, main)) if e[1] == "main.cow"]
    assert [(c, f, line, col) for c, f, line, col, _ in found] == \
        [(c, f, line, col) for c, f, line, col, _ in expected]
    for (_, _, _, _, message), (_, _, _, _, words) in zip(found, expected):
        assert message.startswith(words)


def test_two_imports_binding_one_parameter(tmp_path: Path) -> None:
    write(tmp_path, 'import "lib/queue.cow" with { Fast = true }\n', "a.cow")
    main = lib_and_main(tmp_path, 'import "a.cow"\nimport "lib/queue.cow" with { Fast = false }\n'
                        "const Size = 2\n")
    ((code, file, line, col, message),) = errors(main)
    assert (code, file, line, col) == ("E422", "main.cow", 2, 31)
    assert message.startswith("parameter 'Fast' is already bound at ")


# ---- shared models ----------------------------------------------------------------------

def test_for_model_adds_expectations_that_extending_models_inherit(tmp_path: Path) -> None:
    main = lib_and_main(tmp_path, """
        import "lib/queue.cow" with { Fast = false }
        const Size: 1..5 = 4
        for model small {
          expect violated Small
          check deadlock off
        }
        model bigger extends big { const Mode = 2 }
    """)
    spec = load_spec(main)
    assert spec.model_names == ["small", "big", "bigger"]
    for name in spec.model_names:
        model = spec.instantiate(name)
        assert model.expect_violated == frozenset({"Small"}) and not model.check_deadlock


@pytest.mark.parametrize(("main", "expected"), [
    ("for model small { const Mode = 2  expect violated Small }\n",
     [("E420", 3, 19, "'for model small' states expectations only; 'Mode' is set where")]),
    ("for model smal { expect violated Small }\n",
     [("E404", 3, 1, "'for model smal': no model 'smal' is declared; did you mean 'small'?")]),
    ("for model small { expect violated Big }\n",
     [("E403", 3, 35, "'Big' is not an invariant")]),
    ("for model small { }\nfor model small { }\n",
     [("E102", 4, 1, "'for model small' is already written at ")]),
])
def test_for_model_errors(tmp_path: Path, main: str,
                          expected: list[tuple[str, int, int, str]]) -> None:
    head = 'import "lib/queue.cow" with { Fast = false }\nconst Size = 2\n'
    found = errors(lib_and_main(tmp_path, head + main))
    assert [(c, line, col) for c, _, line, col, _ in found] == \
        [(c, line, col) for c, line, col, _ in expected]
    assert found[0][4].startswith(expected[0][3])


# ---- the kernel specs ----------------------------------------------------------------

SHARED = ["linux-5.7", "linux-5.8", "linux-5.17", "linux-5.18", "linux-5.19",
          "linux-5.19-without-patch-1", "linux-5.19-without-patch-2",
          "linux-5.19-without-patch-9", "linux-5.19-without-patch-12",
          "linux-5.19-without-patch-15", "linux-5.19-without-patch-16",
          "linux-5.19-without-swp-exclusive", "linux-6.x"]


def test_kernel_specs_declare_their_version_models_once() -> None:
    blocks = {p.name: p.read_text().count("\nmodel ")
              for p in [*KERNEL.glob("*.cow"), *KERNEL.glob("lib/*.cow")]}
    assert blocks["versions.cow"] == len(SHARED)
    for path in sorted(KERNEL.glob("*.cow")):
        spec = load_spec(str(path))
        assert spec.model_names[:len(SHARED)] == SHARED, path.name
        assert all(n.endswith("-wide") for n in spec.model_names[len(SHARED):]), path.name
        assert blocks[path.name] == len(spec.model_names) - len(SHARED)


@pytest.mark.parametrize(("spec", "model", "expected"), [
    ("cow.cow", "linux-5.19-without-patch-16",
     {"PinCoherent", "GetCoherent", "GetDmaIsolation", "AnonPinCoherent", "PinnedStaysMapped",
      "PinnedImpliesExclusive", "UnshareCopied", "UnshareMarkedExclusive"}),
    ("gupfast.cow", "linux-5.19-without-patch-1", {"PinnedInForkWindow"}),
    ("hugetlb.cow", "linux-5.19-wide", {"Isolation", "DmaIsolation", "GetCoherent",
                                        "GetDmaIsolation"}),
    ("thp.cow", "linux-5.8", {
        "Isolation", "IsolationMappedOrPinned", "DmaIsolation", "GetDmaIsolation",
        "PinCoherent", "AnonPinCoherent", "GetCoherent", "ForkCopiedPinnedPage",
        "UnshareCopied", "UnshareMarkedExclusive", "SplitPassedExclusive",
        "ReadExclusivePmdMigrationEntry", "HugeZeropagePinned"}),
])
def test_kernel_expectations_through_shared_models(spec: str, model: str,
                                                   expected: set[str]) -> None:
    assert load_spec(str(KERNEL / spec)).instantiate(model).expect_violated == expected


def test_a_kernel_library_module_is_checked_alone() -> None:
    # The small-page state with its init (state_init.cow); a rule module such as
    # faults.cow reads that state and runs in a spec that imports an init with it.
    spec = load_spec(str(KERNEL / "lib" / "state_init.cow"))
    with pytest.raises(ModelConfigError) as info:
        spec.instantiate("linux-5.19")
    assert info.value.code == "E423"
    assert "'MaxRefs'" in info.value.message and "'Hugetlb'" in info.value.message
    model = spec.instantiate("linux-5.19", {"MaxRefs": "1", "Hugetlb": "false"})
    assert model.constants["Version"] == "V5_19"


# ---- scoped names ----------------------------------------------------------------------

SCOPED = """
const Clients = {c1, c2}
enum Pc { Start, Work, Done }
var pc: [Clients -> Pc]
var `in`: 0..3
var `match`: bool
init { pc = [c in Clients -> Start]  `in` = 0  `match` = false }
action Start(c1: Clients) { requires pc[c1] == Start  pc'[c1] = Work }
action Work(c: Clients) {
  requires pc[c] == Work and `in` < 3
  pc'[c] = Done
  `in`' = `in` + 1
  `match`' = not `match`
}
invariant Distinct = forall c1, c2 in Clients: c1 != c2 implies c1 != c2
invariant Count = `in` == card({c in Clients where pc[c] == Done})
reachable BothDone = forall c in Clients: pc[c] == Done
check deadlock off
"""


@pytest.mark.parametrize("backend", ["scalar", "numpy"])
def test_scoped_names(tmp_path: Path, backend: str) -> None:
    model = load_spec(str(write(tmp_path, SCOPED))).instantiate()
    result = explore(model, backend=backend)
    stats = result.stats
    assert (stats.distinct_states, stats.total_states, stats.depth) == (9, 13, 5)
    assert stats.backend == backend
    assert {p.name: p.verdict for p in result.properties} == {
        "Distinct": "holds", "Count": "holds", "BothDone": "reachable"}
    final = model.describe_state(max(model.initial_states()))
    assert set(final) >= {"in", "match"}


@pytest.mark.parametrize(("text", "code", "line", "col", "words"), [
    ("action A { skip }\naction A { skip }\n", "E102", 2, 1,
     "action 'A' is already declared at "),
    ("const S = {s1}\ninvariant I = choose a, b in S: true\n", "E001", 2, 25,
     "choose binds one name"),
    ("const S = {s1}\nconst N = 1\ninvariant I = forall s1, N in S: true\n", "E102", 3, 26,
     "'N' is already defined"),
    ("var in: 0..3\ninit { in = 0 }\naction A { requires in < 3  in' = in + 1 }\n", "E001",
     3, 29, "unexpected 'in'; 'in' is a keyword: as a name, write it in backquotes (`in`)"),
])
def test_scoped_name_errors(tmp_path: Path, text: str, code: str, line: int, col: int,
                            words: str) -> None:
    with pytest.raises(SpecError) as info:
        load_spec(str(write(tmp_path, text)))
    d = next(d for d in info.value.diagnostics if d.severity == "error")
    assert (d.code, d.pos.line, d.pos.col) == (code, line, col)
    assert d.message.startswith(words)


# ---- parameters that are sets of model values, variables and operators ----------------

PROPS = """
param Procs: set[Procs]
param held: [Procs -> bool]
param busy: int
param owns(p: Procs): bool
param Cap: int
invariant UnderCap = busy <= Cap
invariant Counted = card({p in Procs where owns(p)}) == busy
"""

PROPS_MAIN = """
import "lib/queue.cow"
const Procs = {a, b, c}
const Cap = 2
var held: [Procs -> bool]
def busy = card({p in Procs where held[p]})
def owns(p: Procs): bool = held[p]
init { held = [p in Procs -> false] }
action Take(p: Procs) { requires not held[p] and busy < Cap  held'[p] = true }
action Drop(p: Procs) { requires held[p]  held'[p] = false }
"""


def test_a_variable_a_state_reading_def_and_an_operator_bind_parameters(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """TLA+'s ``INSTANCE M WITH x <- v, Op <- Impl``: the importer's var, a def that reads
    state, and a def with parameters bind the library's parameters of the same names."""
    main = lib_and_main(tmp_path, PROPS_MAIN, PROPS)
    result = explore(load_spec(main).instantiate())
    # At most two of three processes hold: 1 + 3 + 3 states.
    assert (result.stats.distinct_states, result.stats.total_states) == (7, 19)
    code, out, _ = run_cli(capsys, "check", main)
    assert code == 0 and "PASS  invariant UnderCap" in out and "PASS  invariant Counted" in out


@pytest.mark.parametrize(("change", "expected"), [
    (("def owns(p: Procs): bool = held[p]", "def owns(p: Procs, q: Procs): bool = held[p]"),
     ("E103", 6, 1, "def 'owns' takes 2 argument(s), but the parameter it binds, declared at")),
    (("def owns(p: Procs): bool = held[p]", "def owns(p: 0..2): bool = true"),
     ("E104", 6, 10, "parameter 'p' of 'owns' is int, but the parameter declared at")),
    (("def owns(p: Procs): bool = held[p]", "def owns(p: Procs): int = 1"),
     ("E104", 6, 1, "'owns' is int, but the parameter declared at")),
    (("def owns(p: Procs): bool = held[p]", "const owns = 1"),
     ("E422", 6, 1, "the parameter 'owns' declared at")),
    (("var held: [Procs -> bool]", "var held: [Procs -> 0..1]"),
     ("E104", 4, 5, "'held' is [Procs -> int], but the parameter declared at")),
])
def test_binding_errors(tmp_path: Path, change: tuple[str, str],
                        expected: tuple[str, int, int, str]) -> None:
    main = lib_and_main(tmp_path, PROPS_MAIN.replace(*change), PROPS)
    found = [e for e in errors(main) if e[1] == "main.cow"]
    assert [(c, line, col) for c, _, line, col, _ in found][:1] == [expected[:3]]
    assert found[0][4].startswith(expected[3])


def test_an_operator_parameter_nothing_binds_is_an_error_at_its_declaration(
        tmp_path: Path) -> None:
    lib_and_main(tmp_path, "const Unused = 1\n", PROPS)
    found = errors(str(tmp_path / "lib" / "queue.cow"))
    assert found[0][:4] == ("E424", "queue.cow", 4, 1)
    assert found[0][4] == (
        "parameter 'owns' takes arguments, so only a def binds it: declare 'def owns(...)' "
        "with the same parameters and result type in the spec that imports this module")


MV_LIB = """
param Procs: set[Procs]
var owner: [Procs -> bool]
init { owner = [p in Procs -> false] }
action Take(p: Procs) { requires not owner[p]  owner'[p] = true }
"""


def test_a_set_of_model_values_as_a_parameter(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``param Procs: set[Procs]``: the import names its members, or the importer declares
    the set, or a model or ``-D`` gives it; with none of these, E423."""
    main = lib_and_main(tmp_path, 'import "lib/queue.cow" with { Procs = {p, q, r} }\n',
                        MV_LIB)
    model = load_spec(main).instantiate()
    assert model.constants["Procs"].items == ("p", "q", "r")
    assert explore(model, check_deadlock=False).stats.distinct_states == 8
    main = lib_and_main(tmp_path, 'import "lib/queue.cow"\nconst Procs = {p, q}\n', MV_LIB)
    assert explore(load_spec(main).instantiate(),
                   check_deadlock=False).stats.distinct_states == 4
    lib = str(tmp_path / "lib" / "queue.cow")
    code, out, _ = run_cli(capsys, "check", lib, "-D", "Procs=3", "--no-deadlock")
    assert code == 0 and "Procs = {Procs0, Procs1, Procs2}" in out
    assert "8 distinct states" in out
    code, out, _ = run_cli(capsys, "check", lib, "-D", "Procs={x, y}", "--no-deadlock")
    assert code == 0 and "Procs = {x, y}" in out and "4 distinct states" in out
    code, _, err = run_cli(capsys, "check", lib)
    assert code == 151 and err.startswith("error[E423]: parameter 'Procs' (declared at ")
    bad = lib_and_main(tmp_path, 'import "lib/queue.cow" with { Procs = 3 }\n', MV_LIB)
    ((code, file, line, col, message),) = errors(bad)
    assert (code, file, line, col) == ("E104", "main.cow", 1, 39)
    assert message == "'Procs' is a set of model values: bind it with a set of fresh names, {a, b}"
