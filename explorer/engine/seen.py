"""Seen-state stores (TLC's FPSet): exact, by fingerprint, and sharded across workers.

The scalar engine keeps a dict from a state's key to its id: the state itself
(:class:`StateKeys`, exact) or its 64-bit fingerprint (:class:`FingerprintKeys`, TLC's
way; states are dropped once explored and traces are replayed).

A level-at-a-time search asks "which of these candidate keys are new?" for a whole batch
at once (:class:`SeenSet`). Its keys live in two sorted arrays: ``old`` (every earlier
level) and ``level`` (this level's, merged in after each batch); a batch's distinct keys,
sorted, are looked up with one ``searchsorted`` per array, and ``level`` is merged into
``old`` once per level. That is 8 bytes per stored state and no re-sort of everything per
level. With several words per state and no ``--fingerprint``, the words themselves are
kept beside the keys and compared, so the search stays exact: two distinct states with
one fingerprint raise :class:`Collision` and the search is handed to the scalar engine.

Several workers split the keys by :class:`Shards`: a key belongs to one worker.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable

import numpy as np

from explorer.engine.fingerprint import U64, Collision, StateFingerprint, mix
from pyspec.model import State, TypeDesc


class StateKeys:
    """Exact: a state is its own key, and every stored state is kept."""

    seen_by = "state"
    #: None: the state is its key (no call in the hot loop).
    key: Callable[[State], Hashable] | None = None
    keeps_states = True

    def __init__(self) -> None:
        self.ids: dict[Hashable, int] = {}


class FingerprintKeys:
    """The key every engine gives a state (:class:`~explorer.engine.fingerprint.
    StateFingerprint`, never Python's ``hash``): its 64-bit fingerprint, or its packed
    word when it fits one (then the store is exact, as on the array engines); a state is
    kept only until it is explored."""

    keeps_states = False

    def __init__(self, var_types: tuple[TypeDesc, ...] | None) -> None:
        self.ids: dict[Hashable, int] = {}
        fingerprint = StateFingerprint(var_types)
        self.key: Callable[[State], Hashable] | None = fingerprint.of
        self.seen_by = "state" if fingerprint.exact else "fingerprint"
        #: The packed width of a one-word state, else None.
        self.exact_bits = fingerprint.layout.bits if fingerprint.exact else None  # type: ignore[union-attr]


class Shards:
    """Which of ``workers`` owns each key (TLC's distributed fingerprint set)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def owner(self, keys: np.ndarray) -> np.ndarray:
        return (mix(keys) % U64(self.workers)).astype(np.int64)


def _member(sorted_keys: np.ndarray, probe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sorted ``probe``: whether each is in ``sorted_keys``, and where."""
    if len(sorted_keys) == 0:
        return np.zeros(len(probe), dtype=bool), np.zeros(len(probe), dtype=np.int64)
    pos = np.searchsorted(sorted_keys, probe)
    at = np.minimum(pos, len(sorted_keys) - 1)
    return sorted_keys[at] == probe, at


class SeenSet:
    """The keys of every stored state; ``words`` > 0 also keeps each state's packed words
    (exact mode with fingerprints as keys)."""

    def __init__(self, words: int = 0) -> None:
        self.words = words
        self.old = np.zeros(0, dtype=U64)
        self.level = np.zeros(0, dtype=U64)
        self.old_words = np.zeros((0, words), dtype=U64)
        self.level_words = np.zeros((0, words), dtype=U64)

    def __len__(self) -> int:
        return len(self.old) + len(self.level)

    @property
    def nbytes(self) -> int:
        return (self.old.nbytes + self.level.nbytes + self.old_words.nbytes
                + self.level_words.nbytes)

    def contains(self, keys: np.ndarray, words: np.ndarray | None = None) -> np.ndarray:
        """Which of ``keys`` (sorted, distinct) are stored; ``words`` (one row per key)
        are checked against the stored words in exact mode."""
        found = np.zeros(len(keys), dtype=bool)
        for stored, stored_words in ((self.old, self.old_words),
                                     (self.level, self.level_words)):
            hit, at = _member(stored, keys)
            if self.words and words is not None and hit.any():
                if not np.array_equal(stored_words[at[hit]], words[hit]):
                    raise Collision("two distinct states with one 64-bit fingerprint")
            found |= hit
        return found

    def add(self, keys: np.ndarray, words: np.ndarray | None = None) -> None:
        """Store new keys (distinct, none stored yet, in any order)."""
        order = np.argsort(keys)
        ks = keys[order]
        at = np.searchsorted(self.level, ks)
        self.level = np.insert(self.level, at, ks)
        if self.words:
            assert words is not None
            self.level_words = np.insert(self.level_words, at, words[order], axis=0)

    def end_level(self) -> None:
        """Merge this level's keys into the old ones."""
        if len(self.level):
            at = np.searchsorted(self.old, self.level)
            self.old = np.insert(self.old, at, self.level)
            if self.words:
                self.old_words = np.insert(self.old_words, at, self.level_words, axis=0)
        self.level = np.zeros(0, dtype=U64)
        self.level_words = np.zeros((0, self.words), dtype=U64)
