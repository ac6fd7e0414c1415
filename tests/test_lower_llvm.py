"""The lowering of compiled modules to LLVM IR (pyspec/codegen/lower_llvm.py) and their
machine code (explorer/engine/machine_code.py).

A compiled module is plain Python, so the reference is CPython itself: each program below
is run both ways on the same arguments and must give the same results, the same array
contents afterwards and the same errors. The programs use every construct of the subset
the generator writes, including the corners where C and Python disagree (``//`` and ``%``
of negative numbers, ``and``/``or`` returning an operand, a loop variable read after its
loop, narrow array element types)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("llvmlite")

from explorer.engine import perf_map  # noqa: E402
from explorer.engine.machine_code import (  # noqa: E402
    Entry,
    MachineModule,
    is_cached,
    load,
    signatures,
)
from pyspec.codegen.compiled import CompiledEvalError  # noqa: E402
from pyspec.codegen.lower_llvm import LoweringError, lower  # noqa: E402

ARITHMETIC = '''
import numpy as np
from pyspec.codegen.compiled import CompiledEvalError

TABLE = np.array([3, -1, 4, 1, -5], dtype=np.int64)
LIMIT = 7
PAIR = (5, -6)

def quotient(a, b):
    return a // b

def remainder(a, b):
    return a % b

def by_constants(a):
    return (a // 4) * 1000 + (a % 4) * 100 + (a // 3) * 10 + (a % 3) + (a // -2) + (a % -5)

def shifts(a, s):
    return (a >> s) ^ (a << s) ^ ~a ^ -a

def either(a, b):
    return (a and b) * 1000 + (a or b) + (not a) * 7

def chained(a, b, c):
    return int(a < b <= c) + 2 * int(a == b != c) + 4 * int(a > b >= c)

def pick(i):
    t = (11, 22, 33, 44)
    return t[i] + (t[2] if i > 1 else t[0]) + TABLE[i] + LIMIT + PAIR[1]

def parts(a):
    return (a & 7, (a >> 3) & 7, a >> 6)

def reassembled(a):
    x, y, z = parts(a)
    w = parts(a + 1)
    return x + y * 10 + z * 100 + w[0] * 1000

def loops(n):
    total = 0
    last = -1
    for last in range(n):
        if last == 5:
            continue
        if last > 8:
            break
        total += last
    for b in (False, True):
        total += 3 * int(b)
    for k in range(n, 0, -2):
        total = total * 3 + k
    j = 0
    while j < n and j < 40:
        j += 3
    return total * 100 + last + j

def checked(a):
    if a > 100:
        raise CompiledEvalError('value outside its declared range 0..100')
    return a + 1

def caller(a):
    b = checked(a) + checked(a // 2)
    return b
'''

ARRAYS = '''
def prefetch(element):
    return 0

def fill(out, small, n):
    prefetch(out[1, 2])
    for i in range(len(out)):
        for j in range(out.shape[1]):
            out[i, j] = i * 100 + j + n
    for i in range(len(small)):
        small[i] = n * 1000 + i - 5
    out[0, :] = out[len(out) - 1, :]
    small[0] += 60000
    out[1, 1] -= 1
    return small[1] + small[0]
'''

INTS = st.integers(min_value=-(2**40), max_value=2**40)


def _compile(tmp_path: Path, source: str, entries: list[Entry]) -> MachineModule:
    return load(tmp_path, source, signatures(entries))


def _python(source: str) -> dict[str, object]:
    namespace: dict[str, object] = {}
    exec(compile(source, "<module>", "exec"), namespace)  # the test's own program
    return namespace


@pytest.fixture(scope="module")
def arithmetic(tmp_path_factory: pytest.TempPathFactory) -> tuple[MachineModule, dict]:
    two, one, three = (0, 0), (0,), (0, 0, 0)
    entries = [Entry("quotient", two), Entry("remainder", two), Entry("by_constants", one),
               Entry("shifts", two), Entry("either", two), Entry("chained", three),
               Entry("pick", one), Entry("reassembled", one), Entry("loops", one),
               Entry("caller", one)]
    return (_compile(tmp_path_factory.mktemp("llvm"), ARITHMETIC, entries),
            _python(ARITHMETIC))


@settings(max_examples=300, deadline=None)
@given(INTS, INTS.filter(lambda b: b != 0))
def test_floor_division_and_remainder_are_pythons(arithmetic, a: int, b: int) -> None:
    machine, python = arithmetic
    assert machine.quotient(a, b) == python["quotient"](a, b)
    assert machine.remainder(a, b) == python["remainder"](a, b)
    assert machine.by_constants(a) == python["by_constants"](a)


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-(2**20), max_value=2**20), st.integers(min_value=0, max_value=20),
       INTS, st.integers(-3, 3))
def test_operators_are_pythons(arithmetic, a: int, s: int, b: int, c: int) -> None:
    machine, python = arithmetic
    assert machine.shifts(a, s) == python["shifts"](a, s)
    for x, y in ((a, b), (0, b), (a, 0), (c, c)):
        assert machine.either(x, y) == python["either"](x, y)
    assert machine.chained(c, a % 4, b % 4) == python["chained"](c, a % 4, b % 4)
    assert machine.reassembled(a & 0xFFFF) == python["reassembled"](a & 0xFFFF)


@pytest.mark.parametrize("n", [0, 1, 5, 6, 9, 12, 30, 50])
def test_loops_and_their_variables_are_pythons(arithmetic, n: int) -> None:
    machine, python = arithmetic
    assert machine.loops(n) == python["loops"](n)
    if n < 4:
        assert machine.pick(n) == python["pick"](n)


def test_an_error_unwinds_to_the_caller_with_its_message(arithmetic) -> None:
    machine, python = arithmetic
    assert machine.caller(100) == python["caller"](100)
    with pytest.raises(CompiledEvalError, match="outside its declared range 0..100"):
        machine.caller(101)
    assert machine.caller(3) == 4 + 2  # the error was taken: the next call runs clean
    with pytest.raises(CompiledEvalError, match="division by zero"):
        machine.quotient(5, 0)


def test_arrays_of_every_dtype_are_read_and_written_in_place(tmp_path: Path) -> None:
    out = np.zeros((3, 4), dtype=np.int64)
    small = np.zeros(5, dtype=np.uint16)
    machine = _compile(tmp_path, ARRAYS, [Entry("fill", (out, small, 0))])
    result = machine.fill(out, small, 9)
    out_py, small_py = np.zeros((3, 4), dtype=np.int64), np.zeros(5, dtype=np.uint16)
    with np.errstate(over="ignore"):
        expected = _python(ARRAYS)["fill"](out_py, small_py, 9)
    assert result == expected
    assert out.tolist() == out_py.tolist()
    assert small.tolist() == small_py.tolist()  # uint16 wrapped as numpy wraps it
    with pytest.raises(TypeError, match="uint16"):
        machine.fill(out, np.zeros(5, dtype=np.int64), 1)
    with pytest.raises(TypeError, match="C-contiguous"):
        machine.fill(out[:, ::2], small, 1)


def test_machine_code_is_cached_by_source_and_signature(tmp_path: Path) -> None:
    entries = signatures([Entry("quotient", (0, 0))])
    assert not is_cached(tmp_path, ARITHMETIC, entries)
    load(tmp_path, ARITHMETIC, entries)
    assert is_cached(tmp_path, ARITHMETIC, entries)
    assert not is_cached(tmp_path, ARITHMETIC + "\n", entries)
    assert not is_cached(tmp_path, ARITHMETIC, signatures([Entry("remainder", (0, 0))]))
    warm = load(tmp_path, ARITHMETIC, entries)  # from the cache: no lowering
    assert warm.quotient(-7, 2) == -4


def test_functions_always_inline_names_are_inlined_into_their_callers(tmp_path: Path) -> None:
    """``ALWAYS_INLINE`` marks its functions for LLVM to inline everywhere, and nothing
    else; the result is the same as without it."""
    source = ("ALWAYS_INLINE = ('helper',)\n"
              "def helper(a, i):\n    return (a >> (i * 3)) & 7\n"
              "def other(a):\n    return a + 1\n"
              "def f(a):\n    return helper(a, 0) + helper(a, 2) * other(a)\n")
    entries = signatures([Entry("f", (0,))])
    ir = lower(source, entries).ir
    defines = [line for line in ir.splitlines() if line.startswith("define internal")]
    assert [("alwaysinline" in d, "helper" in d) for d in defines if "_f(" not in d] \
        == [(True, True), (False, False)]
    compiled = load(tmp_path, source, entries)
    python = _python(source)
    for a in (0, 1, 0o777, 12345, -1):
        assert compiled.f(a) == python["f"](a)


@pytest.mark.parametrize("body, message", [
    ("def f(a):\n    return [a]\n", "line 2: an expression the lowering does not know (List)"),
    ("def f(a):\n    return a / 2\n", "line 2: an operator the lowering does not know (Div)"),
    ("def f(a):\n    x = (a, a)\n    x = a\n    return a\n",
     "line 3: x holds a tuple of 2 and a integer"),
    ("def f(a):\n    return g(a)\n", "line 2: a call of g, which the module does not define"),
    ("def f(a):\n    return f(a)\n", "line 2: a recursive call of f"),
    ("def f(a):\n    raise ValueError('x')\n",
     "line 2: a raise of other than CompiledEvalError('message')"),
])
def test_python_outside_the_subset_is_refused_with_its_line(body: str, message: str) -> None:
    with pytest.raises(LoweringError) as err:
        lower(body, signatures([Entry("f", (0,))]))
    assert str(err.value) == message



def test_machine_code_somebody_else_could_write_is_never_loaded(tmp_path: Path) -> None:
    """Cached machine code is run, so it is read as the parse cache is
    (pyspec/private_cache.py): a file group or others may write reads as absent, and the
    code is compiled and written again, private (0600)."""
    entries = signatures([Entry("quotient", (0, 0))])
    load(tmp_path, ARITHMETIC, entries)
    (obj,) = tmp_path.glob("m_*.o")
    assert obj.stat().st_mode & 0o777 == 0o600
    obj.chmod(0o666)
    assert not is_cached(tmp_path, ARITHMETIC, entries)
    assert load(tmp_path, ARITHMETIC, entries).quotient(-7, 2) == -4
    assert obj.stat().st_mode & 0o777 == 0o600 and is_cached(tmp_path, ARITHMETIC, entries)


def test_loaded_functions_are_named_in_the_perf_map_when_asked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With COWSPEC_PERF_MAP set, each function of a loaded module gets a perf map line
    ``START SIZE NAME`` (hex) at the address it was loaded at and with its size in the
    object file (internal functions LLVM kept apart included, the entry points here); without
    it, nothing is written."""
    the_map = tmp_path / "perf.map"
    monkeypatch.setattr(perf_map, "map_path", lambda: the_map)
    entries = signatures([Entry("quotient", (0, 0)), Entry("pick", (0,))])
    monkeypatch.delenv(perf_map.ENVIRONMENT, raising=False)
    load(tmp_path, ARITHMETIC, entries)
    assert not the_map.exists()
    monkeypatch.setenv(perf_map.ENVIRONMENT, "1")
    module = load(tmp_path, ARITHMETIC, entries)  # from the cache: the object file is read
    (obj,) = tmp_path.glob("m_*.o")
    symbols = dict(perf_map.functions(obj.read_bytes()))
    lines = [line.split(" ") for line in the_map.read_text().splitlines()]
    spans = {name: (int(start, 16), int(size, 16)) for start, size, name in lines}
    assert {"cs_quotient", "cs_pick", "cs_take_error"} <= set(spans)
    assert {name: size for name, (_, size) in spans.items()} == symbols
    ordered = sorted(spans.values())
    assert all(start + size <= after for (start, size), (after, _) in zip(ordered, ordered[1:]))
    assert module.quotient(-7, 2) == -4


def test_perf_map_reads_only_elf_object_files() -> None:
    assert list(perf_map.functions(b"MZ\x90\x00" + bytes(60))) == []


def test_a_perf_map_that_cannot_be_written_costs_nothing_but_the_names(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(perf_map, "map_path", lambda: tmp_path / "no such folder" / "perf.map")
    monkeypatch.setenv(perf_map.ENVIRONMENT, "1")
    module = load(tmp_path, ARITHMETIC, signatures([Entry("quotient", (0, 0))]))
    assert module.quotient(-7, 2) == -4
    assert not (tmp_path / "no such folder").exists()
