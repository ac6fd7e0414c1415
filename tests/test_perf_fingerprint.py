"""Fingerprint mode and the seen-set: same answers as whole states, collisions caught in
exact mode, TLC's collision estimate reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import explorer.engine.array_level
from explorer.engine.fingerprint import (
    StateFingerprint,
    collision_probability,
    first_occurrences,
)
from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.engine.seen import SeenSet
from pyspec.codegen.arrays import ArrayProgram
from pyspec.loader import load_spec
from tests.pyspec_testing import write
from tests.test_perf_backends import SAFETY_EXAMPLES, summary

#: A state of 70 bits: two words, so fingerprints are 64-bit hashes of the words.
WIDE = """
    module Wide
    var xs: set[0..64]
    var n: 0..3
    init {
      xs = {}
      n = 0
    }
    action Add(i: 0..64) {
      requires n < 3 and i % 16 == 0
      xs' = xs | {i}
      n' = n + 1
    }
    action Clear {
      requires n == 3
      xs' = {}
      n' = 0
    }
    invariant Few = card(xs) <= 3
"""


@pytest.mark.parametrize("path", SAFETY_EXAMPLES, ids=lambda p: p.stem)
def test_scalar_fingerprints_change_nothing_but_the_store(path: Path) -> None:
    spec = load_spec(str(path))
    for name in spec.model_names or [None]:
        whole = check(spec.instantiate(name), Options(backend="scalar", keep_going=True))
        fps = check(spec.instantiate(name),
                    Options(backend="scalar", keep_going=True, fingerprint=True))
        assert summary(fps) == summary(whole)
        # A state that packs into one word is keyed by that word, exactly, on every engine.
        one_word = StateFingerprint(spec.instantiate(name).var_types).exact
        assert fps.stats.seen_by == ("state" if one_word else "fingerprint")
        assert fps.stats.collision_probability == (None if one_word else collision_probability(
            fps.stats.distinct_states, fps.stats.total_states))


def test_scalar_wide_states_fingerprinted(tmp_path: Path) -> None:
    spec = load_spec(str(write(tmp_path, WIDE)))
    whole = check(spec.instantiate(), Options(backend="scalar"))
    fps = check(spec.instantiate(), Options(backend="scalar", fingerprint=True))
    assert summary(fps) == summary(whole)
    assert fps.stats.seen_by == "fingerprint"
    assert fps.stats.collision_probability == collision_probability(
        fps.stats.distinct_states, fps.stats.total_states)


def test_wide_states_exact_and_fingerprinted(tmp_path: Path) -> None:
    spec = load_spec(str(write(tmp_path, WIDE)))
    model = spec.instantiate()
    program = model.programs.get("arrays")
    assert isinstance(program, ArrayProgram) and program.layout.words == 2
    scalar = check(spec.instantiate(), Options(backend="scalar"))
    exact = check(model, Options(backend="numpy"))
    fps = check(spec.instantiate(), Options(backend="numpy", fingerprint=True))
    assert summary(exact) == summary(scalar) == summary(fps)
    assert (exact.stats.seen_by, fps.stats.seen_by) == ("state", "fingerprint")
    assert fps.stats.store_bytes < exact.stats.store_bytes


def test_exact_mode_catches_a_fingerprint_collision(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """With a fingerprint that collides all the time, exact mode must notice and hand the
    search to the scalar engine, which gets the true answer."""
    spec = load_spec(str(write(tmp_path, WIDE)))
    scalar = check(spec.instantiate(), Options(backend="scalar"))
    monkeypatch.setattr(explorer.engine.array_level, "fingerprint",
                        lambda words: words[1] & np.uint64(3))
    exact = check(spec.instantiate(), Options(backend="numpy"))
    assert summary(exact) == summary(scalar)
    assert any("fingerprint" in n for n in exact.notes)


def test_first_occurrences_both_ways() -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 50, 1000).astype(np.uint64)
    for bits in (6, 64):  # packed with the position, or argsort
        uniq, first = first_occurrences(keys, bits)
        assert list(uniq) == sorted(set(keys.tolist()))
        assert [int(keys[f]) for f in first] == list(uniq)
        assert all(keys.tolist().index(int(k)) == f for k, f in zip(uniq, first))


def test_seen_set_levels_and_words() -> None:
    seen = SeenSet(words=2)
    keys = np.array([5, 1, 9], dtype=np.uint64)
    words = np.array([[1, 2], [3, 4], [5, 6]], dtype=np.uint64)
    seen.add(keys, words)
    probe = np.array([1, 4, 5, 9], dtype=np.uint64)
    assert seen.contains(probe, np.array([[3, 4], [0, 0], [1, 2], [5, 6]],
                                         dtype=np.uint64)).tolist() == [True, False, True, True]
    seen.end_level()
    assert len(seen) == 3 and seen.old.tolist() == [1, 5, 9]
    with pytest.raises(explorer.engine.fingerprint.Collision):
        seen.contains(np.array([5], dtype=np.uint64), np.array([[9, 9]], dtype=np.uint64))


def test_collision_probability_is_tlcs() -> None:
    assert collision_probability(10, 30) == 10 * 20 / 2**64
    assert collision_probability(5, 5) == 0.0
