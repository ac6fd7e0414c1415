"""The data-parallel engine: a whole BFS level at a time, as array code.

States are packed into 64-bit words (:mod:`pyspec.layout`); a level is an array of them.
It is expanded in batches of rows: the batch is unpacked into one array per leaf, every
action of the model's array code (:mod:`pyspec.vectorize`) runs once over the batch and
emits, per path, the rows it enables and their successors (the parent's words plus the
changed leaves' deltas). The emitted blocks are put back into each parent's successor
order, which is the scalar model's order, so a successor is named by its position in its
parent's successor list and traces are rebuilt by replaying the scalar model from an
initial state. New states are found with :class:`explorer.fingerprint.SeenSet`.

Counting, verdicts, stops and coverage follow the scalar engine exactly: a batch is
processed in the order the scalar engine would have met its transitions, and when the
scalar engine would have stopped inside the batch (a violation, ``--max-states``), every
figure is cut at that transition. Anything the arrays cannot represent
(:class:`~pyspec.array_runtime.ArrayEvalError`, including every evaluation error of the
spec) makes :func:`check_numpy` rerun the search on the scalar engine, which reports it
exactly as it always does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from explorer.fingerprint import Collision, SeenSet, fingerprint, first_occurrences
from explorer.result import Result
from explorer.search import Options, RawStep, _Search
from pyspec.codegen.array_runtime import ArrayEvalError, decode, new_batch, successor_words
from pyspec.codegen.arrays import ArrayProgram
from pyspec.model import Model

U64 = np.uint64
#: Rows per batch: a row index must fit 16 bits (the row-major sort is a radix sort).
MAX_BATCH_ROWS = 65_535
#: Successors a batch aims at, so that its arrays stay in the CPU caches.
BATCH_SUCCESSORS = 600_000
def batch_rows(rows: int, successors: int) -> int:
    """The next batch's size, from the last one's successors per row."""
    return max(256, min(MAX_BATCH_ROWS, BATCH_SUCCESSORS * rows // max(successors, 1)))


#: The parent link of an initial state.
_NONE = np.iinfo(np.uint32).max
#: What happens first at one transition: the parent's deadlock (before any of its
#: transitions), an action property, an invariant of an initial state (checked before
#: storing it), the state limit, an invariant of a successor (after), a witness.
_RANK = {"deadlock": 0, "property": 1, "invariant_initial": 2, "max_states": 3,
         "invariant": 4, "reachable": 5}

#: A met violation, witness or limit: (position of the transition, rank, kind, index of
#: the property, the transition, or for a deadlock the parent's row).
_Event = tuple[int, int, str, int, int]


class _Grow:
    """A growable array of ints (parent links, successor positions)."""

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

    def __getitem__(self, i: int) -> int:
        return int(self.data[i])

    @property
    def nbytes(self) -> int:
        return self.n * self.data.itemsize


@dataclass
class _Batch:
    """What the array code emitted for one batch of rows, in emission order."""

    rows: list[np.ndarray] = field(default_factory=list)
    actions: list[int] = field(default_factory=list)
    words: list[list[np.ndarray]] = field(default_factory=list)
    #: Per emission, per live action property, which emitted rows violate it (or None).
    violations: list[list[np.ndarray | None]] = field(default_factory=list)


@dataclass
class _Arranged:
    """One batch's transitions in the scalar engine's order."""

    rows: np.ndarray
    acts: np.ndarray
    words: list[np.ndarray]
    keys: np.ndarray
    via: np.ndarray
    events: list[_Event]


class NumpySearch(_Search):
    """Breadth-first search a level at a time; see the module doc."""

    def __init__(self, model: Model, program: ArrayProgram, options: Options) -> None:
        super().__init__(model, options)
        self.program = program
        self.layout = program.layout
        self.backend = "numpy"
        self.words = self.layout.words
        self.fingerprints = options.fingerprint and self.words > 1
        if options.fingerprint and self.words == 1:
            self.notes.append(f"a state packs into {self.layout.bits} bits: seen states are "
                              "stored exactly, 8 bytes each, with no fingerprint")
        self.exact_words = self.words > 1 and not options.fingerprint
        self.seen = SeenSet(self.words if self.exact_words else 0)
        self.key_bits = self.layout.bits if self.words == 1 else 64
        self.parents = _Grow(np.uint32)
        self.vias = _Grow(np.uint16)
        self.count = 0
        self.frontier: list[np.ndarray] = [np.zeros(0, dtype=U64)] * self.words
        self.next: list[list[np.ndarray]] = [[] for _ in range(self.words)]
        #: The id of the frontier's first state.
        self.level_start = 0


    # -- store ----------------------------------------------------------------------

    def _stored(self) -> int:
        return self.count

    def _store_bytes(self) -> int | None:
        return self.seen.nbytes + self.parents.nbytes + self.vias.nbytes

    def _chain(self, sid: int) -> list[int]:
        chain = []
        while sid >= 0:
            chain.append(sid)
            p = self.parents[sid]
            sid = -1 if p == _NONE else p
        return chain[::-1]

    def _via(self, sid: int) -> int:
        return self.vias[sid]

    # -- the search -------------------------------------------------------------------

    def _initial(self) -> bool:
        inits = list(self.model.initial_states())
        if not inits:
            return True
        packed = [self.layout.encode(s) for s in inits]
        words = [np.array([p[w] for p in packed], dtype=U64) for w in range(self.words)]
        batch = _Batch(rows=[np.arange(len(inits))], actions=[-1], words=[words],
                       violations=[[None] * len(self.live_props)])
        go_on = self._absorb(batch, len(inits), base=0, initial=True)
        self.level = 1
        self.level_end = self.count
        self._next_level()
        return go_on

    def _next_level(self) -> None:
        """The states just found become the frontier."""
        self.level_start = self.count - sum(len(w) for w in self.next[0])
        self.frontier = [np.concatenate(ws) if ws else np.zeros(0, dtype=U64)
                         for ws in self.next]
        self.next = [[] for _ in range(self.words)]
        self.seen.end_level()

    def _explore(self) -> None:
        last_progress = self.t0
        polls = 0
        while len(self.frontier[0]):
            base = self.level_start
            width = len(self.frontier[0])
            rows = MAX_BATCH_ROWS
            start = 0
            while start < width:
                polls += 1
                last_progress = self._poll(polls, last_progress)
                if self.stopped:
                    return
                end = min(width, start + rows)
                successors = self._expand([w[start:end] for w in self.frontier], base + start)
                if successors is None:
                    return
                rows = batch_rows(end - start, successors)
                start = end
            self._next_level()
            if len(self.frontier[0]):
                self.level += 1
                self.level_end = self.count

    def _expand(self, words: list[np.ndarray], base: int) -> int | None:
        """Every successor of one batch of stored states (ids ``base``...); returns how
        many there were, or None when the search stops in the batch."""
        n = len(words[0])
        new_batch()
        state = decode(tuple(words), self.layout)
        batch = _Batch()
        props = [self.program.properties[k] for k, _ in self.live_props]

        def emit(action: int, mask: object, drafts: dict[int, object]) -> None:
            rows = np.arange(n) if mask is True else np.flatnonzero(mask)
            batch.rows.append(rows)
            batch.actions.append(action)
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
        beyond = self.options.max_depth is not None and self.level >= self.options.max_depth
        go_on = self._absorb(batch, n, base, initial=False, beyond=beyond)
        return None if not go_on else sum(len(r) for r in batch.rows)

    def _arrange(self, batch: _Batch, nrows: int, initial: bool) -> _Arranged:
        """A batch's transitions in the scalar engine's order (per parent, in action
        order, then each action's own order), their keys, and the deadlocks and property
        violations among them."""
        rows = np.concatenate(batch.rows)
        acts = np.concatenate([np.full(len(r), a, dtype=np.int16)
                               for r, a in zip(batch.rows, batch.actions)])
        order = np.argsort(rows.astype(np.uint16), kind="stable")
        rows, acts = rows[order], acts[order]
        words = [np.concatenate([ws[w] for ws in batch.words])[order]
                 for w in range(self.words)]
        if self.symmetry is not None:
            words = self.symmetry.canonical_words(words)
        counts = np.bincount(rows, minlength=nrows)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        via = np.arange(len(rows)) - starts[rows]
        events: list[_Event] = []
        if not initial and self.check_deadlock:
            dead = np.flatnonzero(counts == 0)
            if len(dead):
                events.append((int(starts[dead[0]]), _RANK["deadlock"], "deadlock", 0,
                               int(dead[0])))
        for k, (pk, _) in enumerate(self.live_props):
            flags = [v[k] if v[k] is not None else np.zeros(len(r), dtype=bool)
                     for v, r in zip(batch.violations, batch.rows)]
            hits = np.flatnonzero(np.concatenate(flags)[order])
            if len(hits):
                events.append((int(hits[0]), _RANK["property"], "property", pk, int(hits[0])))
        keys = words[0] if self.words == 1 else fingerprint(words)
        return _Arranged(rows, acts, words, keys, via, events)

    def _absorb(self, batch: _Batch, nrows: int, base: int, initial: bool,
                beyond: bool = False) -> bool:
        """Count, check and store one batch's transitions in the scalar engine's order;
        False when the search stops in it. ``base`` is the id of the batch's first row
        (for the initial states, which have no parents: 0)."""
        arranged = self._arrange(batch, nrows, initial)
        rows, acts, words, keys = arranged.rows, arranged.acts, arranged.words, arranged.keys
        via, events = arranged.via, arranged.events
        m = len(rows)
        new_pos = np.zeros(0, dtype=np.int64)
        storable = np.zeros(0, dtype=bool)
        if beyond:
            self.cut_by_depth = self.cut_by_depth or m > 0
        elif m:
            uniq, first = first_occurrences(keys, self.key_bits)
            if self.exact_words:
                self._check_fingerprints(keys, words, uniq, first)
            found = self.seen.contains(
                uniq, np.stack([w[first] for w in words], axis=1) if self.exact_words else None)
            new_pos = np.sort(first[~found])
            storable = self._check_new_states(new_pos, words, events, initial)
        stop = next(((pos, rank) for pos, rank, kind, _, _ in sorted(events)
                     if kind == "max_states" or not self.keep_going and kind != "reachable"),
                    None)
        if stop is None:
            cut, rows_done = m, nrows
            stored = new_pos[storable]
        else:
            pos, rank = stop
            deadlock = rank == _RANK["deadlock"]
            cut = pos if deadlock else pos + 1
            row = next(e[4] for e in events if e[:2] == stop) if deadlock else int(rows[pos])
            rows_done = row + 1
            # An invariant is checked on a successor after storing it; a property, the
            # state limit, and an invariant of an initial state stop before.
            last = pos if rank == _RANK["invariant"] else pos - 1
            stored = new_pos[storable & (new_pos <= last)]
        for event in sorted(events):
            if stop is not None and event[:2] > stop:
                break
            self._record(event, rows, via, base, initial)
        self.total += cut
        if not initial:
            self.head = base + rows_done
            self._cover(rows[:cut], acts[:cut], nrows)
            self._count_new(acts[stored])
        parents = (np.full(len(stored), _NONE, dtype=np.int64) if initial
                   else rows[stored] + base)
        self._store(keys[stored], [w[stored] for w in words], parents, via[stored])
        return stop is None

    def _check_new_states(self, new_pos: np.ndarray, words: list[np.ndarray],
                          events: list[_Event], initial: bool) -> np.ndarray:
        """Constraints, invariants, witnesses and the state limit on a batch's new states
        (at their first positions ``new_pos``); returns which of them may be stored."""
        storable = np.ones(len(new_pos), dtype=bool)
        if not len(new_pos):
            return storable
        n = len(new_pos)
        state = decode(tuple(w[new_pos] for w in words), self.layout)
        for fn in self.program.constraints:
            storable &= np.broadcast_to(np.asarray(fn(*state, True)), (n,))
        inv_rank = _RANK["invariant_initial"] if initial else _RANK["invariant"]
        for k, _ in self.live_inv:
            ok = np.broadcast_to(np.asarray(self.program.invariants[k](*state, True)), (n,))
            bad = np.flatnonzero(~ok)
            if len(bad):
                at = int(new_pos[bad[0]])
                events.append((at, inv_rank, "invariant", k, at))
        for k, _ in self.live_reach:
            ok = np.broadcast_to(np.asarray(self.program.reachables[k](*state, True)), (n,))
            hit = np.flatnonzero(ok)
            if len(hit):
                at = int(new_pos[hit[0]])
                events.append((at, _RANK["reachable"], "reachable", k, at))
        room = self.cap - self.count
        stored_at = np.flatnonzero(storable)
        if len(stored_at) > room:
            at = int(new_pos[stored_at[room]])
            events.append((at, _RANK["max_states"], "max_states", 0, at))
        return storable

    def _record(self, event: _Event, rows: np.ndarray, via: np.ndarray, base: int,
                initial: bool) -> None:
        """A violation, witness or limit met in a batch, as the scalar engine records it."""
        _, _, kind, index, where = event
        if kind == "max_states":
            self.stopped = "max_states"
            return
        if kind == "deadlock":
            anchor: tuple[int, list[RawStep]] = (base + where, [])
        elif initial:
            anchor = (-1, [(None, (), list(self.model.initial_states())[int(via[where])])])
        else:
            parent = base + int(rows[where])
            at = parent - self.level_start
            state = self.layout.decode(tuple(int(w[at]) for w in self.frontier))
            anchor = (parent, [self.model.successors(state)[int(via[where])]])
        if kind == "reachable":
            self.found.setdefault(("reachable", index), anchor)
            self.live_reach = [x for x in self.live_reach if x[0] != index]
        else:
            self._violated(kind, index, anchor)  # type: ignore[arg-type]

    def _store(self, keys: np.ndarray, words: list[np.ndarray], parents: np.ndarray,
               vias: np.ndarray) -> None:
        if not len(keys):
            return
        self.count += len(keys)
        self.seen.add(keys, np.stack(words, axis=1) if self.exact_words else None)
        self.parents.extend(parents)
        self.vias.extend(vias)
        for w in range(self.words):
            self.next[w].append(words[w])

    def _count_new(self, acts: np.ndarray) -> None:
        per = np.bincount(acts.astype(np.int64), minlength=len(self.new))
        for a in range(len(self.new)):
            self.new[a] += int(per[a])

    def _cover(self, rows: np.ndarray, acts: np.ndarray, nrows: int) -> None:
        """Coverage of the transitions a batch really took: per action (and per kernel
        function), the parents it fired from."""
        if not len(rows):
            return
        n_actions = len(self.enabled)
        fired = np.bincount(acts.astype(np.int64), minlength=n_actions)
        took = np.zeros((nrows, n_actions), dtype=bool)
        took[rows, acts] = True
        enabled = took.sum(axis=0)
        for a in range(n_actions):
            self.fired[a] += int(fired[a])
            self.enabled[a] += int(enabled[a])
        if self.kernels:
            member = np.zeros((n_actions, len(self.kernels)), dtype=bool)
            for a, g in enumerate(self.group_of):
                if g >= 0:
                    member[a, g] = True
            per = (took.astype(np.int32) @ member.astype(np.int32) > 0).sum(axis=0)
            for g in range(len(self.kernels)):
                self.group_enabled[g] += int(per[g])

    def _check_fingerprints(self, keys: np.ndarray, words: list[np.ndarray],
                            uniq: np.ndarray, first: np.ndarray) -> None:
        """Exact mode: candidates with one fingerprint must be one state."""
        rep = first[np.searchsorted(uniq, keys)]
        for w in words:
            if not np.array_equal(w, w[rep]):
                raise Collision("two distinct states with one 64-bit fingerprint")


def check_numpy(model: Model, program: ArrayProgram, options: Options) -> Result:
    """Search with the array engine; anything it cannot represent reruns on the scalar
    engine (see the module doc)."""
    try:
        return NumpySearch(model, program, options).run()
    except (ArrayEvalError, Collision) as exc:
        result = _Search(model, options).run()
        result.notes.append(f"the numpy backend handed over to the scalar engine ({exc})")
        return result
