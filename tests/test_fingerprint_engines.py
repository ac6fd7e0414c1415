"""One fingerprint function on every engine: with ``--fingerprint``, the scalar engine, the
numpy engine, its workers and the compiled engine store the same 64-bit key for every
reachable state (the packed word of a one-word state, else the fingerprint of the packed
words), and the negative-integer case of issue 18 is found on each of them."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest

from explorer.engine.array_level import ArrayLevel
from explorer.engine.arrays import ArraySearch, array_program
from explorer.engine.fingerprint import (
    ALL_ONES,
    M1,
    M2,
    SEED,
    U64,
    fingerprint,
    fingerprint_words,
    mix,
    mix_int,
)
from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.engine.scalar import ScalarSearch
from explorer.engine.seen import Shards
from explorer.engine.workers import Phase, Worker
from pyspec.loader import load_spec
from pyspec.model import Model, NoProgram
from tests.pyspec_testing import write
from tests.test_perf_backends import EXAMPLES, summary
from tests.test_perf_fingerprint import WIDE

ROOT = Path(__file__).resolve().parents[1]
SPECS = EXAMPLES + sorted(ROOT.glob("tests/*_specs/*.cow"))

#: Issue 18's spec, widened to two words (``pad`` takes 62 bits) so that every engine
#: really fingerprints: x = -1 and x = -2 must stay two states.
NEGATIVE_WIDE = """
    module NegativeWide
    var x: -3..0
    var pad: set[0..61]
    init { x = 0  pad = {} }
    action Down { requires x > -3  x' = x - 1 }
    invariant Above = x > -3
    check deadlock off
"""

FP = Options(fingerprint=True, keep_going=True)


def scalar_keys(model: Model) -> set[int]:
    search = ScalarSearch(model, FP)
    search.run()
    return set(search.keys.ids)


def numpy_keys(model: Model) -> set[int]:
    search = ArraySearch(model, array_program(model), FP)
    search.run()
    seen = search.store.seen
    return {int(k) for k in np.concatenate([seen.old, seen.level])}


def absorb(crew: list[Worker], level: int) -> list[Phase]:
    ready = [w.absorb(level) for w in crew]
    return [w.commit([p.storable for p in ready]) for w in crew]


def worker_keys(model: Model, workers: int = 2) -> set[int]:
    """The keys the workers of ``--workers 2`` store, the workers driven in this process
    phase by phase as the coordinator drives them."""
    program = array_program(model)
    with tempfile.TemporaryDirectory() as folder:
        crew = [Worker(model, program, FP, None, me, workers, folder)
                for me in range(workers)]
        packer = ArrayLevel(program, None, True)
        inits = list(model.initial_states())
        words = packer.pack(inits)
        keys = packer.keys(words)
        owner = Shards(workers).owner(keys)
        for me, worker in enumerate(crew):
            pick = np.flatnonzero(owner == me)
            zeros = np.zeros(len(pick), dtype=U64)
            worker.route_initial([keys[pick], zeros, pick.astype(U64), zeros,
                                  pick.astype(U64), *(w[pick] for w in words)])
        for worker in crew:
            worker.send(0)
        phases = absorb(crew, 0)
        level = 1
        while any(p.frontier for p in phases):
            for worker in crew:
                worker.expand(level)
            phases = absorb(crew, level)
            level += 1
        out: set[int] = set()
        for worker in crew:
            seen = worker.store.seen
            out |= {int(k) for k in np.concatenate([seen.old, seen.level])}
        return out


def compiled_keys(model: Model) -> set[int]:
    from explorer.engine.compiled import CompiledSearch, program_of

    search = CompiledSearch(model, program_of(model), FP)
    search.run()
    table = search.a.ftable
    return {int(k) for k in table[table != -1].view(U64)}


def expected_keys(model: Model) -> set[int]:
    """The function itself, on the states an exact search reaches."""
    search = ScalarSearch(model, Options(keep_going=True))
    search.run()
    layout = array_program(model).layout
    packed = [layout.encode(s) for s in search.queue.states]
    if layout.words == 1:
        return {p[0] for p in packed}
    return {fingerprint_words(p) for p in packed}


def array_models() -> list[tuple[str, Path, str | None]]:
    """Every model of the example and test specs the numpy engine runs."""
    out = []
    for path in SPECS:
        spec = load_spec(str(path))
        for name in spec.model_names or [None]:
            try:
                array_program(spec.instantiate(name))
            except NoProgram:
                continue
            out.append((f"{path.stem}-{name}", path, name))
    return out


@pytest.mark.parametrize("label, path, name", array_models(), ids=lambda x: str(x))
def test_every_engine_stores_the_same_keys(label: str, path: Path, name: str | None) -> None:
    spec = load_spec(str(path))
    keys = expected_keys(spec.instantiate(name))
    assert len(keys) > 1
    assert scalar_keys(spec.instantiate(name)) == keys
    assert numpy_keys(spec.instantiate(name)) == keys
    assert worker_keys(spec.instantiate(name)) == keys


@pytest.mark.parametrize("text", [WIDE, NEGATIVE_WIDE], ids=["wide", "negative-wide"])
def test_wide_states_fingerprinted_alike_on_every_engine(tmp_path: Path, text: str) -> None:
    pytest.importorskip("llvmlite")
    spec = load_spec(str(write(tmp_path, text)))
    assert array_program(spec.instantiate()).layout.words == 2
    keys = expected_keys(spec.instantiate())
    assert scalar_keys(spec.instantiate()) == keys
    assert numpy_keys(spec.instantiate()) == keys
    assert worker_keys(spec.instantiate()) == keys
    assert compiled_keys(spec.instantiate()) == keys


@pytest.mark.parametrize("backend, workers", [("scalar", 1), ("numpy", 1), ("numpy", 2),
                                              ("compiled", 1)])
def test_negative_integers_found_on_every_engine(tmp_path: Path, backend: str,
                                                 workers: int) -> None:
    if backend == "compiled":
        pytest.importorskip("llvmlite")
    spec = load_spec(str(write(tmp_path, NEGATIVE_WIDE)))
    exact = check(spec.instantiate(), Options(backend="scalar"))
    fps = check(spec.instantiate(), Options(backend=backend, workers=workers, fingerprint=True))
    assert fps.stats.backend == backend
    assert fps.stats.seen_by == "fingerprint"
    assert summary(fps) == summary(exact)
    assert fps.stats.distinct_states == 4
    [above] = fps.properties
    assert (above.name, above.verdict) == ("Above", "violated")
    assert [s.state["x"] for s in above.trace.steps] == [0, -1, -2, -3]


def test_one_function_on_arrays_and_integers() -> None:
    rng = np.random.default_rng(18)
    words = [rng.integers(0, 2**63, size=500, dtype=np.int64).astype(U64) for _ in range(3)]
    words[0][:3] = [0, 1, 2**63 - 1]
    keys = fingerprint(words)
    assert [int(k) for k in keys] == [fingerprint_words([int(w[i]) for w in words])
                                      for i in range(500)]
    assert [int(x) for x in mix(words[1])] == [mix_int(int(x)) for x in words[1]]
    assert len(set(keys.tolist())) == 500


def unmix(y: int) -> int:
    """The inverse of :func:`mix_int` (each xorshift and multiplication is invertible)."""

    def unshift(x: int, k: int) -> int:
        out = x
        for _ in range(64 // k + 1):
            out = x ^ out >> k
        return out

    y = unshift(y, 31)
    y = y * pow(M2, -1, 2**64) % 2**64
    y = unshift(y, 27)
    y = y * pow(M1, -1, 2**64) % 2**64
    return unshift(y, 30)


def test_a_fingerprint_is_never_all_ones() -> None:
    """All ones is the compiled engine's empty slot: the word whose chain ends in all ones
    gets all ones minus one, on arrays and on integers."""
    word = unmix((ALL_ONES - SEED) % 2**64) ^ SEED
    assert mix_int(word ^ SEED) + SEED == ALL_ONES
    assert fingerprint_words([word]) == ALL_ONES - 1
    assert int(fingerprint([np.array([word], dtype=U64)])[0]) == ALL_ONES - 1
