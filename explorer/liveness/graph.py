"""The reachable state graph, kept compactly while a search runs, for the liveness check.

A temporal property is a property of infinite behaviours, so it needs what a safety
search throws away: every transition, also into states already seen. :class:`EdgeRecorder`
is a search observer (:class:`explorer.engine.interface.Observer`) that keeps, per
transition, three integers in ``array`` buffers (its source, its target, its *action
instance*: the action with its parameter binding, interned, which fairness is stated
over), and per stored state the values of every temporal property's predicates, one
byte each. The states themselves are the engine's (the scalar engine keeps them); the
recorder keeps a reference to each, to describe the few that end up in a counterexample.

On the numpy engine, :class:`PackedRecorder` takes the same from the engine's batches
(:class:`explorer.engine.interface.EdgeSink`): per transition its source id, action,
parameter binding number and successor key; per stored state its key and packed words.
Targets are found after the search by sorting the stored keys, and action instances by
interning (action, binding) pairs, a binding number being decoded to parameters from
the parameters' domains; the states are decoded from their words once each, to
evaluate the predicates, and again only for the states of a counterexample.

Cost, measured in ``docs/explorer.md``: scalar engine: 8 bytes per state reference plus
one byte per predicate instance, 24 bytes per transition while recording, 20 once frozen
(int64 sources and targets, int32 instances); numpy engine: 8 bytes per word and 8 per
key per state, 8 + 2 + 4 + 8 per transition while recording, 20 once frozen (int64
sources and targets, int32 instances).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from explorer.engine.interface import Observer
from explorer.liveness.automaton import arity
from pyspec.layout import Layout
from pyspec.model import Model, State
from pyspec.runtime import domain


@dataclass
class StateGraph:
    """The recorded graph: edges as parallel arrays (``dst`` -1: a successor that was
    not stored, outside a state constraint or past ``--max-depth``), the action instance
    of each edge (an index into ``instances``: ``(action, params)``), the initial
    states' ids, and per temporal property and instance a boolean array per predicate."""

    states: Sequence[State]
    src: np.ndarray
    dst: np.ndarray
    inst: np.ndarray
    instances: list[tuple[int, tuple]]
    initial: np.ndarray
    atoms: list[list[list[np.ndarray]]]

    @property
    def n(self) -> int:
        return len(self.states)

    @property
    def nbytes(self) -> int:
        """Bytes of the edge arrays and the predicate values (not the states)."""
        packed = self.states.nbytes if isinstance(self.states, PackedStates) \
            else 8 * len(self.states)
        return (self.src.nbytes + self.dst.nbytes + self.inst.nbytes + self.initial.nbytes
                + sum(a.nbytes for prop in self.atoms for inst in prop for a in inst)
                + packed)


class EdgeRecorder:
    """Observer: every stored state (and its predicates' values) and every transition."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.states: list[State] = []
        self.initial = array("q")
        self.src = array("q")
        self.dst = array("q")
        self.inst = array("q")
        self.ids: dict[tuple[int, tuple], int] = {}
        self.instances: list[tuple[int, tuple]] = []
        #: Per property, per instance, per predicate: one byte per state.
        self.values: list[list[list[bytearray]]] = [
            [[bytearray() for _ in range(arity(t.form))] for _ in t.instances]
            for t in model.temporal]

    def state(self, sid: int, state: State, level: int) -> None:
        self.states.append(state)
        if level == 1:
            self.initial.append(sid)
        for t, columns in zip(self.model.temporal, self.values):
            for per_instance, cols in zip(t.fn(state), columns):
                for v, col in zip(per_instance, cols):
                    col.append(1 if v else 0)

    def edge(self, sid: int, state: State, action: int, params: tuple, next_id: int,
             next_state: State) -> None:
        key = (action, params)
        k = self.ids.get(key)
        if k is None:
            k = self.ids[key] = len(self.instances)
            self.instances.append(key)
        self.src.append(sid)
        self.dst.append(next_id)
        self.inst.append(k)

    def freeze(self) -> StateGraph:
        """The recorded graph as numpy arrays."""
        return StateGraph(
            states=self.states,
            src=np.frombuffer(self.src, dtype=np.int64).copy(),
            dst=np.frombuffer(self.dst, dtype=np.int64).copy(),
            inst=np.frombuffer(self.inst, dtype=np.int64).astype(np.int32),
            instances=self.instances,
            initial=np.frombuffer(self.initial, dtype=np.int64).copy(),
            atoms=[[[np.frombuffer(bytes(c), dtype=np.uint8).astype(bool) for c in cols]
                    for cols in prop] for prop in self.values],
        )


class Tee:
    """Two observers behind one: the diagrams' and the liveness check's."""

    def __init__(self, first: Observer, second: Observer) -> None:
        self.first, self.second = first, second

    def state(self, sid: int, state: State, level: int) -> None:
        self.first.state(sid, state, level)
        self.second.state(sid, state, level)

    def edge(self, sid: int, state: State, action: int, params: tuple, next_id: int,
             next_state: State) -> None:
        self.first.edge(sid, state, action, params, next_id, next_state)
        self.second.edge(sid, state, action, params, next_id, next_state)


class PackedStates(Sequence):
    """Stored states as packed words (one array per word), decoded on demand."""

    def __init__(self, layout: Layout, words: list[np.ndarray]) -> None:
        self.layout = layout
        self.words = words

    def __len__(self) -> int:
        return len(self.words[0]) if self.words else 0

    def __getitem__(self, i):  # type: ignore[override]
        return self.layout.decode(tuple(int(w[i]) for w in self.words))

    @property
    def nbytes(self) -> int:
        return sum(w.nbytes for w in self.words)


class PackedRecorder:
    """Edge sink of the numpy engine; see the module doc."""

    def __init__(self, model: Model, layout: Layout) -> None:
        self.model = model
        self.layout = layout
        self.batches: list[tuple[np.ndarray, ...]] = []
        self.keys: list[np.ndarray] = []
        self.words: list[list[np.ndarray]] = []
        self.initial = 0

    def transitions(self, src, acts, bindings, keys) -> None:  # noqa: ANN001 - numpy arrays
        self.batches.append((src.astype(np.int64), acts.astype(np.int16),
                             bindings.astype(np.int32), keys.copy()))

    def stored(self, keys, words, initial) -> None:  # noqa: ANN001 - numpy arrays
        self.keys.append(keys.copy())
        self.words.append([w.copy() for w in words])
        if initial:
            self.initial += len(keys)

    def freeze(self) -> StateGraph:
        nwords = self.layout.words
        keys = np.concatenate(self.keys) if self.keys else np.zeros(0, dtype=np.uint64)
        words = [np.concatenate([ws[w] for ws in self.words]) if self.words
                 else np.zeros(0, dtype=np.uint64) for w in range(nwords)]
        self.keys, self.words = [], []
        cols = list(zip(*self.batches)) if self.batches else [[], [], [], []]

        def joined(parts: Sequence[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts) if len(parts) else np.zeros(0, dtype=dtype)

        src, acts = joined(cols[0], np.int64), joined(cols[1], np.int16)
        ekeys = joined(cols[3], np.uint64)
        inst, instances = self.instances(acts, joined(cols[2], np.int32))
        self.batches = []
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        at = np.minimum(np.searchsorted(sorted_keys, ekeys), max(len(keys) - 1, 0))
        found = sorted_keys[at] == ekeys if len(keys) else np.zeros(len(ekeys), dtype=bool)
        dst = np.where(found, order[at] if len(keys) else 0, -1).astype(np.int64)
        states = PackedStates(self.layout, words)
        values = [[[bytearray() for _ in range(arity(t.form))] for _ in t.instances]
                  for t in self.model.temporal]
        for i in range(len(states)):
            state = states[i]
            for t, columns in zip(self.model.temporal, values):
                for per_instance, cs in zip(t.fn(state), columns):
                    for v, col in zip(per_instance, cs):
                        col.append(1 if v else 0)
        return StateGraph(
            states=states, src=src, dst=dst, inst=inst, instances=instances,
            initial=np.arange(self.initial, dtype=np.int64),
            atoms=[[[np.frombuffer(bytes(c), dtype=np.uint8).astype(bool) for c in cols]
                    for cols in prop] for prop in values])

    def instances(self, acts: np.ndarray, bindings: np.ndarray
                  ) -> tuple[np.ndarray, list[tuple[int, tuple]]]:
        """Each edge's action instance (interned, in order of action and binding) and the
        instances as ``(action, parameters)``: binding ``b`` of an action is the b-th
        tuple of its parameters' domains, the last varying fastest (as the array code's
        nested loops number them)."""
        if not len(acts):
            return np.zeros(0, dtype=np.int32), []
        width = int(bindings.max()) + 1
        pairs, inst = np.unique(acts.astype(np.int64) * width + bindings, return_inverse=True)
        types = self.model.param_types  # type: ignore[attr-defined]
        out = []
        for pair in pairs.tolist():
            a, b = divmod(pair, width)
            params = []
            for t in reversed(types[a]):
                values = domain(t)
                b, i = divmod(b, len(values))
                params.append(values[i])
            out.append((a, tuple(reversed(params))))
        return inst.astype(np.int32), out
