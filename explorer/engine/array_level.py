"""One BFS level as array code: expand a batch of packed states, order, key and store them.

States are packed into 64-bit words (:mod:`pyspec.layout`); a level is an array of them
(:class:`~explorer.engine.frontier.LevelFrontier`). It is expanded in batches of rows:
the batch is unpacked into one array per leaf, every action of the model's array program
(:mod:`pyspec.codegen.arrays`) runs once over the batch and emits, per path, the rows it
enables and their successors (the parent's words plus the changed leaves' deltas). The
emitted blocks are put back into each parent's successor order (:meth:`ArrayLevel.arrange`),
which is the scalar model's order, so a successor is named by its position in its
parent's successor list and traces are rebuilt by replaying the scalar model. New states
are found with :class:`~explorer.engine.seen.SeenSet`.

:class:`ArrayLevel` holds what one store of packed states needs (its keys, parent links,
frontier); the one-process engine (:mod:`explorer.engine.arrays`) and each worker
(:mod:`explorer.engine.workers`) are built on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from explorer.engine.fingerprint import U64, Collision, fingerprint, first_occurrences
from explorer.engine.frontier import LevelFrontier
from explorer.engine.links import ArrayLinks
from explorer.engine.seen import SeenSet
from pyspec.codegen.array_runtime import ArrayEvalError, decode, new_batch, successor_words
from pyspec.codegen.arrays import ArrayProgram
from pyspec.model import State
from pyspec.symmetry import Symmetry

#: Rows per batch: a row index must fit 16 bits (the row-major sort is a radix sort).
MAX_BATCH_ROWS = 65_535
#: Successors a batch aims at, so that its arrays stay in the CPU caches.
BATCH_SUCCESSORS = 600_000

#: What happens first at one transition: the parent's deadlock (before any of its
#: transitions), an action property, an invariant of an initial state (checked before
#: storing it), the state limit, an invariant of a successor (after), a witness.
RANK = {"deadlock": 0, "property": 1, "invariant_initial": 2, "max_states": 3,
        "invariant": 4, "reachable": 5}

#: A met violation, witness or limit: (position of the transition, rank, kind, index of
#: the property, the transition, or for a deadlock the parent's row).
Event = tuple[int, int, str, int, int]

#: ``(index, function)`` of the checks still looked for.
Live = list[tuple[int, Callable[..., bool]]]


def batch_rows(rows: int, successors: int) -> int:
    """The next batch's size, from the last one's successors per row."""
    return max(256, min(MAX_BATCH_ROWS, BATCH_SUCCESSORS * rows // max(successors, 1)))


@dataclass
class Batch:
    """What the array code emitted for one batch of rows, in emission order."""

    rows: list[np.ndarray] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    words: list[list[np.ndarray]] = field(default_factory=list)
    #: Per emission, per live action property, which emitted rows violate it (or None).
    violations: list[list[np.ndarray | None]] = field(default_factory=list)
    #: Per emission, the number of the action's parameter binding (in the order of its
    #: parameters' domains, the last varying fastest).
    bindings: list[int] = field(default_factory=list)


@dataclass
class Arranged:
    """One batch's transitions in the scalar engine's order."""

    rows: np.ndarray
    acts: np.ndarray
    words: list[np.ndarray]
    keys: np.ndarray
    via: np.ndarray
    events: list[Event]
    #: Each transition's parameter binding number (:attr:`Batch.bindings`).
    bindings: np.ndarray


class ArrayLevel:
    """A store of packed states and the array program that expands them."""

    def __init__(self, program: ArrayProgram, symmetry: Symmetry | None,
                 fingerprints: bool) -> None:
        self.program = program
        self.layout = program.layout
        self.symmetry = symmetry
        self.words = self.layout.words
        #: Keys are fingerprints only when a state takes several words.
        self.fingerprints = fingerprints and self.words > 1
        self.exact_words = self.words > 1 and not fingerprints
        self.seen = SeenSet(self.words if self.exact_words else 0)
        self.key_bits = self.layout.bits if self.words == 1 else 64
        self.links = ArrayLinks()
        self.frontier = LevelFrontier(self.words)
        self.count = 0

    @property
    def store_bytes(self) -> int:
        return self.seen.nbytes + self.links.nbytes

    def pack(self, states: list[State]) -> list[np.ndarray]:
        """Packed words of ``states``, one array per word. A state some value of which
        is outside its type (an initial state under ``check types on``) has no packed
        form: the search goes back to the scalar engine."""
        packed = [self.layout.encode(s) for s in states]
        if self.program.check_types and any(self.layout.decode(p) != s
                                            for p, s in zip(packed, states)):
            raise ArrayEvalError("an initial state holds a value outside its type")
        return [np.array([p[w] for p in packed], dtype=U64) for w in range(self.words)]

    def keys(self, words: list[np.ndarray]) -> np.ndarray:
        return words[0] if self.words == 1 else fingerprint(words)

    def initial_batch(self, states: list[State], properties: int) -> Batch:
        """The initial states as one batch emitted by "action -1" of one row, so that a
        state's position (its link's ``via``) is its place among the initial states."""
        return Batch(rows=[np.zeros(len(states), dtype=np.int64)], actions=[-1],
                     words=[self.pack(states)],
                     violations=[[None] * properties], bindings=[0])

    def expand(self, words: list[np.ndarray], properties: Live) -> Batch:
        """Every successor of one batch of stored states, and which of them violate the
        live action ``properties``."""
        n = len(words[0])
        new_batch()
        state = decode(tuple(words), self.layout)
        batch = Batch()
        props = [self.program.properties[k] for k, _ in properties]

        def emit(action: int, mask: object, drafts: dict[int, object], binding: int) -> None:
            rows = np.arange(n) if mask is True else np.flatnonzero(mask)
            batch.rows.append(rows)
            batch.actions.append(action)
            batch.bindings.append(binding)
            batch.words.append(successor_words(self.layout, state, tuple(words), drafts,
                                               None if mask is True else rows))
            nxt = tuple(drafts.get(i, v) for i, v in enumerate(state))
            found: list[np.ndarray | None] = []
            for fn in props:
                ok = fn(*state, *nxt, mask)
                if ok is True:
                    found.append(None)
                    continue
                bad = ~np.broadcast_to(np.asarray(ok, dtype=bool), (n,))[rows]
                found.append(bad if bad.any() else None)
            batch.violations.append(found)

        for fn in self.program.actions:
            fn(*state, emit)
        if not batch.rows:
            batch.rows, batch.actions = [np.zeros(0, dtype=np.int64)], [0]
            batch.words = [[np.zeros(0, dtype=U64)] * self.words]
            batch.violations = [[None] * len(props)]
            batch.bindings = [0]
        return batch

    def arrange(self, batch: Batch, nrows: int, initial: bool, properties: Live,
                check_deadlock: bool) -> Arranged:
        """A batch's transitions in the scalar engine's order (per parent, in action
        order, then each action's own order), their keys, and the deadlocks and property
        violations among them."""
        rows = np.concatenate(batch.rows)
        acts = np.concatenate([np.full(len(r), a, dtype=np.int16)
                               for r, a in zip(batch.rows, batch.actions)])
        binds = np.concatenate([np.full(len(r), b, dtype=np.int32)
                                for r, b in zip(batch.rows, batch.bindings)])
        order = np.argsort(rows.astype(np.uint16), kind="stable")
        rows, acts, binds = rows[order], acts[order], binds[order]
        words = [np.concatenate([ws[w] for ws in batch.words])[order]
                 for w in range(self.words)]
        if self.symmetry is not None:
            words = self.symmetry.canonical_words(words)
        counts = np.bincount(rows, minlength=nrows)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        via = np.arange(len(rows)) - starts[rows]
        events: list[Event] = []
        if not initial and check_deadlock:
            dead = np.flatnonzero(counts == 0)
            if len(dead):
                events.append((int(starts[dead[0]]), RANK["deadlock"], "deadlock", 0,
                               int(dead[0])))
        for k, (pk, _) in enumerate(properties):
            flags = [v[k] if v[k] is not None else np.zeros(len(r), dtype=bool)
                     for v, r in zip(batch.violations, batch.rows)]
            hits = np.flatnonzero(np.concatenate(flags)[order])
            if len(hits):
                events.append((int(hits[0]), RANK["property"], "property", pk, int(hits[0])))
        return Arranged(rows, acts, words, self.keys(words), via, events, binds)

    def unseen(self, keys: np.ndarray, words: list[np.ndarray],
               compare: bool = True) -> np.ndarray:
        """Positions (sorted) of the first occurrence of each key not stored yet; in exact
        mode the stored words are compared, and with ``compare`` the candidates' too."""
        uniq, first = first_occurrences(keys, self.key_bits)
        if self.exact_words and compare:
            self._check_fingerprints(keys, words, uniq, first)
        found = self.seen.contains(
            uniq, np.stack([w[first] for w in words], axis=1) if self.exact_words else None)
        return np.sort(first[~found])

    def check_new_states(self, new_pos: np.ndarray, words: list[np.ndarray],
                         events: list[Event], initial: bool, invariants: Live,
                         reachables: Live, room: int) -> np.ndarray:
        """Constraints, invariants, witnesses and the state limit (``room`` states
        left) on a batch's new states (at their first positions ``new_pos``); returns which
        of them may be stored and adds what it met to ``events``."""
        storable = np.ones(len(new_pos), dtype=bool)
        if not len(new_pos):
            return storable
        n = len(new_pos)
        state = decode(tuple(w[new_pos] for w in words), self.layout)
        for fn in self.program.constraints:
            storable &= np.broadcast_to(np.asarray(fn(*state, True)), (n,))
        inv_rank = RANK["invariant_initial"] if initial else RANK["invariant"]
        for k, _ in invariants:
            ok = np.broadcast_to(np.asarray(self.program.invariants[k](*state, True)), (n,))
            bad = np.flatnonzero(~ok)
            if len(bad):
                at = int(new_pos[bad[0]])
                events.append((at, inv_rank, "invariant", k, at))
        for k, _ in reachables:
            ok = np.broadcast_to(np.asarray(self.program.reachables[k](*state, True)), (n,))
            hit = np.flatnonzero(ok)
            if len(hit):
                at = int(new_pos[hit[0]])
                events.append((at, RANK["reachable"], "reachable", k, at))
        stored_at = np.flatnonzero(storable)
        if len(stored_at) > room:
            at = int(new_pos[stored_at[room]])
            events.append((at, RANK["max_states"], "max_states", 0, at))
        return storable

    def store(self, keys: np.ndarray, words: list[np.ndarray], parents: np.ndarray,
              vias: np.ndarray) -> None:
        """New states (distinct, none stored yet), in id order, for the next level."""
        if not len(keys):
            return
        self.count += len(keys)
        self.seen.add(keys, np.stack(words, axis=1) if self.exact_words else None)
        self.links.extend(parents, vias)
        self.frontier.push(words)

    def next_level(self) -> None:
        """The states just found become the frontier."""
        self.frontier.advance(self.count)
        self.seen.end_level()

    def _check_fingerprints(self, keys: np.ndarray, words: list[np.ndarray],
                            uniq: np.ndarray, first: np.ndarray) -> None:
        """Exact mode: candidates with one fingerprint must be one state."""
        rep = first[np.searchsorted(uniq, keys)]
        for w in words:
            if not np.array_equal(w, w[rep]):
                raise Collision("two distinct states with one 64-bit fingerprint")
