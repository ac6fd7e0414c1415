"""Parent links and traces rebuilt from them (TLC's TLCTrace).

A stored state keeps two numbers: its parent's id (-1 for an initial state) and its
position in its parent's successor list (for an initial state: in the initial states).
A trace is rebuilt by walking parents back to an initial state and replaying the model
forwards, asking each state for its successors again, so nothing but these two numbers
is kept per state and labels are made only for the few states a report shows.
"""

from __future__ import annotations

from array import array
from typing import Protocol

import numpy as np

from explorer.result import Trace
from explorer.traces import RawStep, describe_trace
from pyspec.model import Model
from pyspec.symmetry import Symmetry

#: Where a finding hangs off the store: a stored state's id (-1: none) and the raw
#: transitions after it.
Anchor = tuple[int, list[RawStep]]

#: The parent link of an initial state in an array store.
NO_PARENT = np.iinfo(np.uint32).max


class Links(Protocol):
    """What trace rebuilding needs of a store of parent links."""

    def chain(self, sid: int) -> list[int]:
        """Stored state ids from an initial state to ``sid``."""
        ...

    def via(self, sid: int) -> int:
        """Where ``sid`` sits in its parent's successors (or in the initial states)."""
        ...


class ScalarLinks:
    """Parent links appended one state at a time (``parent.append`` in a hot loop)."""

    def __init__(self) -> None:
        self.parent = array("q")
        self.position = array("q")

    def chain(self, sid: int) -> list[int]:
        chain: list[int] = []
        while sid >= 0:
            chain.append(sid)
            sid = int(self.parent[sid])
        return chain[::-1]

    def via(self, sid: int) -> int:
        return self.position[sid]


class GrowArray:
    """A growable numpy array of ints that widens its type when a value needs it."""

    def __init__(self, dtype: type) -> None:
        self.data = np.zeros(1024, dtype=dtype)
        self.n = 0

    def extend(self, values: np.ndarray) -> None:
        need = self.n + len(values)
        if len(values) and int(values.max()) > np.iinfo(self.data.dtype).max:
            self.data = self.data.astype(np.int64)
        if need > len(self.data):
            grown = np.zeros(max(need, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.n] = self.data[: self.n]
            self.data = grown
        self.data[self.n : need] = values
        self.n = need

    def values(self) -> np.ndarray:
        return self.data[: self.n]

    def __getitem__(self, i: int) -> int:
        return int(self.data[i])

    @property
    def nbytes(self) -> int:
        return self.n * self.data.itemsize


class ArrayLinks:
    """Parent links appended a batch at a time (:data:`NO_PARENT` for initial states)."""

    def __init__(self) -> None:
        self.parents = GrowArray(np.uint32)
        self.positions = GrowArray(np.uint16)

    def extend(self, parents: np.ndarray, positions: np.ndarray) -> None:
        self.parents.extend(parents)
        self.positions.extend(positions)

    def chain(self, sid: int) -> list[int]:
        chain = []
        while sid >= 0:
            chain.append(sid)
            p = self.parents[sid]
            sid = -1 if p == NO_PARENT else p
        return chain[::-1]

    def via(self, sid: int) -> int:
        return self.positions[sid]

    @property
    def nbytes(self) -> int:
        return self.parents.nbytes + self.positions.nbytes


class ShardedLinks:
    """The links of several workers: global id ``local * workers + worker``; each
    worker also keeps the worker of each state's parent."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        #: Per worker: (parent's worker, parent's local id, position).
        self.shards: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def global_id(self, worker: int, local: int) -> int:
        return local * self.workers + worker

    def chain(self, sid: int) -> list[int]:
        chain: list[int] = []
        while sid >= 0:
            chain.append(sid)
            w, i = sid % self.workers, sid // self.workers
            pw, parents, _ = self.shards[w]
            parent = int(parents[i])
            sid = -1 if parent == NO_PARENT else parent * self.workers + int(pw[i])
        return chain[::-1]

    def via(self, sid: int) -> int:
        return int(self.shards[sid % self.workers][2][sid // self.workers])


class TraceBuilder:
    """Rebuilds and describes traces by replaying ``model``; under symmetry the stored
    states are canonical and the trace is turned into one genuine behaviour."""

    def __init__(self, model: Model, symmetry: Symmetry | None) -> None:
        self.model = model
        self.symmetry = symmetry

    def path(self, links: Links, sid: int) -> list[RawStep]:
        """The transitions from an initial state to stored state ``sid``, replayed: each
        state is a parent's successor at a stored position (parents canonical under
        symmetry, as they were explored)."""
        raw: list[RawStep] = []
        state = None
        for n in links.chain(sid):
            if state is None:
                state = list(self.model.initial_states())[links.via(n)]
                raw.append((None, (), state))
            else:
                a, params, state = self.model.successors(self.explored(state))[links.via(n)]
                raw.append((a, params, state))
        return raw

    def explored(self, state: object) -> object:
        """The state as the search explored it (its canonical form under symmetry)."""
        return state if self.symmetry is None else self.symmetry.canonical(state)

    def trace(self, links: Links, anchor: Anchor | None) -> Trace | None:
        if anchor is None:
            return None
        sid, tail = anchor
        raw = self.path(links, sid) + tail
        return describe_trace(self.model, raw if self.symmetry is None else self.genuine(raw))

    def genuine(self, raw: list[RawStep]) -> list[RawStep]:
        """Transitions taken from canonical states, turned into one behaviour from the
        first state: at each step the first successor of the state reached so far that is
        the same action to the same orbit."""
        assert self.symmetry is not None
        canonical = self.symmetry.canonical
        out = raw[:1]
        state = raw[0][2]
        for a, _, t in raw[1:]:
            target = canonical(t)
            step = next(((b, p, u) for b, p, u in self.model.successors(state)
                         if b == a and canonical(u) == target), None)
            if step is None:  # the spec is not symmetric: show what was explored
                return raw
            out.append(step)
            state = step[2]
        return out
