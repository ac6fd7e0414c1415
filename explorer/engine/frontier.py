"""The states waiting to be explored (TLC's IStateQueue), breadth-first, level by level.

:class:`StateQueue` is the scalar engine's: stored states in id order, so the list of
states *is* the queue and ``head`` the next to explore. :class:`LevelFrontier` is the
array engines': one BFS level of packed states, and the next level as it is found.
Both know the level being explored, which gives TLC's depth.
"""

from __future__ import annotations

import numpy as np

from explorer.engine.fingerprint import U64
from pyspec.model import State


class Levels:
    """The BFS level being explored and the id after its last state."""

    def __init__(self) -> None:
        self.level = 0
        self.level_end = 0

    def start(self, level: int, end: int) -> None:
        self.level, self.level_end = level, end

    def depth(self, distinct: int) -> int:
        """TLC's depth: the level being explored, plus one when states of the next level
        were already found."""
        if not distinct:
            return 0
        return self.level + (1 if distinct > self.level_end else 0)


class StateQueue:
    """Stored states by id; ``head`` is the next to explore."""

    def __init__(self) -> None:
        self.states: list[State | None] = []
        self.head = 0
        self.levels = Levels()

    def __len__(self) -> int:
        return len(self.states)


class LevelFrontier:
    """This level's packed states (one array per word) and the next level's blocks."""

    def __init__(self, words: int) -> None:
        self.words = words
        self.current: list[np.ndarray] = [np.zeros(0, dtype=U64)] * words
        self.next: list[list[np.ndarray]] = [[] for _ in range(words)]
        #: The id of the current level's first state.
        self.start = 0
        self.levels = Levels()

    def __len__(self) -> int:
        return len(self.current[0])

    def push(self, words: list[np.ndarray]) -> None:
        """States just stored, in id order, for the next level."""
        for w in range(self.words):
            self.next[w].append(words[w])

    def advance(self, stored: int) -> None:
        """The states found since the last call become the current level (``stored``:
        how many states are stored in all)."""
        self.start = stored - sum(len(w) for w in self.next[0])
        self.current = [np.concatenate(ws) if ws else np.zeros(0, dtype=U64)
                        for ws in self.next]
        self.next = [[] for _ in range(self.words)]

    def batch(self, start: int, end: int) -> list[np.ndarray]:
        return [w[start:end] for w in self.current]

    def state_words(self, sid: int) -> tuple[int, ...]:
        """The packed words of stored state ``sid`` of the current level."""
        at = sid - self.start
        return tuple(int(w[at]) for w in self.current)
