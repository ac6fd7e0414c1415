"""One shard of a cluster search (:mod:`explorer.engine.cluster`): a Ray actor's work.

A shard owns the states whose key hashes to it (:class:`~explorer.engine.seen.Shards`,
TLC's distributed fingerprint set) and explores the part of each BFS level it owns. The
level is split in four steps, each one call from the coordinator, so that every shard
ends a level at exactly the cut one process would have made:

1. :meth:`Shard.expand`: run the array code on its frontier, count and check the
   transitions, and route each distinct successor to its owner as one block of packed
   columns per destination (numpy arrays in Ray's object store);
2. :meth:`Shard.absorb`: take the blocks routed to it, find the successors it has not
   seen, and check them (constraints, invariants, witnesses); they stay *pending*;
3. :meth:`Shard.rank`: the global rank of the pending states whose ``T`` falls in this
   shard's range (:func:`range_bounds`: ranges of parent ranks, one per shard), among
   every shard's; each shard sends every ranker only its states of that ranker's range
   and gets their ranks back, 16 bytes per state whatever the number of shards;
4. :meth:`Shard.commit`: store the pending states before the cut (all of them when
   nothing stopped the level) under their one-process ids, and make them the frontier.

Every transition carries its place in one process's order, ``T = rank of its parent in
the level << VIA_BITS | its position among the parent's successors``: a successor's
first occurrence is the smallest ``T``, which names its parent and position (its parent
link); the new states of a level, in ``T`` order, get the ids one process would give
them. An initial state's ``T`` is its position among the initial states.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from explorer.engine.array_level import MAX_BATCH_ROWS, RANK, Arranged, ArrayLevel, Live, batch_rows
from explorer.engine.findings import CoverageCounts
from explorer.engine.fingerprint import U64, first_occurrences
from explorer.engine.interface import Options
from explorer.engine.links import GrowArray
from explorer.engine.seen import Shards
from pyspec.codegen.array_runtime import ArrayEvalError
from pyspec.codegen.arrays import ArrayProgram
from pyspec.model import Model
from pyspec.symmetry import Symmetry

#: Bits of ``T`` that hold a transition's position among its parent's successors.
VIA_BITS = 20
VIA_MASK = (1 << VIA_BITS) - 1
#: The parent of an initial state, in a shard's parent links.
NO_PARENT = -1
#: A violation, witness or limit met by a shard: (T, rank, kind, property index).
ShardEvent = tuple[int, int, str, int]
#: The columns of a routed block before the packed words (sent only for states of
#: several words: a one-word state is its own key).
COLUMNS = 3


@dataclass
class Expanded:
    """What :meth:`Shard.expand` reports of its share of a level."""

    generated: int
    events: list[ShardEvent]
    cut_by_depth: bool
    #: Bytes of the blocks it routed (to every shard, itself included).
    sent_bytes: int


@dataclass
class Absorbed:
    """What :meth:`Shard.absorb` reports: new states, how many fall in each shard's
    range of ``T``, and what their checks met."""

    new: int
    per_range: list[int]
    events: list[ShardEvent] = field(default_factory=list)


@dataclass
class Ranked:
    """What :meth:`Shard.rank` reports of its range."""

    #: The ``T`` of the state of global rank ``room`` when it is in this range.
    hit: int | None
    #: Bytes of ``T`` it received from other shards and of ranks it sent back to them.
    exchanged_bytes: int


#: Coverage counts by name (:class:`~explorer.engine.findings.CoverageCounts`' lists).
CoverageShare = dict[str, list[int]]
#: The lists of :class:`~explorer.engine.findings.CoverageCounts` a share holds.
COVERAGE_LISTS = ("enabled", "fired", "new", "group_enabled")


@dataclass
class Committed:
    """What :meth:`Shard.commit` reports."""

    stored: int
    #: Transitions up to the cut (the whole level when nothing cut it).
    generated: int
    frontier: int
    #: The level's coverage up to the cut: the coordinator keeps the sum of every
    #: level done, so that a lost shard takes no coverage with it and a checkpoint holds
    #: the coverage of its levels.
    coverage: CoverageShare


@dataclass
class Pending:
    """A level's new states before they are stored, in ``T`` order."""

    keys: np.ndarray
    words: list[np.ndarray]
    order: np.ndarray
    acts: np.ndarray


def block(keys: np.ndarray, tees: np.ndarray, acts: np.ndarray,
          words: list[np.ndarray]) -> np.ndarray:
    """Routed successors as one array: key, ``T``, action, then the packed words when a
    state has several."""
    extra = words if len(words) > 1 else []
    return np.stack([keys, tees, acts.astype(U64), *extra]) if len(keys) else \
        np.zeros((COLUMNS + len(extra), 0), dtype=U64)


def range_bounds(width: int, workers: int, initial: bool) -> np.ndarray:
    """Where each shard's range of ``T`` starts, but the first's: the level's ``width``
    parents (the initial states, whose ``T`` is their position) in ``workers`` equal
    runs of ranks. A range's states are ranked by one shard, so that what a shard sends
    and receives to rank its states does not grow with the number of shards."""
    starts = np.arange(1, workers, dtype=np.int64) * width // workers
    return starts.astype(U64) << U64(0 if initial else VIA_BITS)


def initial_blocks(keys: np.ndarray, words: list[np.ndarray], workers: int
                   ) -> list[np.ndarray]:
    """The initial states (``T``: their position) as one block per owner."""
    owner = Shards(workers).owner(keys)
    tees = np.arange(len(keys), dtype=U64)
    acts = np.zeros(len(keys), dtype=U64)
    return [block(keys[pick], tees[pick], acts[pick], [w[pick] for w in words])
            for pick in (np.flatnonzero(owner == dst) for dst in range(workers))]


class Shard:
    """One shard's store, frontier and parent links (see the module doc).

    Parent links are kept by id (``gids``, ascending, with ``parents`` and ``vias``): a
    trace is rebuilt by asking every shard for the link of an id (:meth:`link`)."""

    def __init__(self, model: Model, program: ArrayProgram, options: Options,
                 symmetry: Symmetry | None, me: int, workers: int) -> None:
        self.model = model
        self.options = options
        self.check_deadlock = (
            model.check_deadlock if options.check_deadlock is None else options.check_deadlock
        )
        self.me, self.workers = me, workers
        self.shards = Shards(workers)
        self.store = ArrayLevel(program, symmetry, options.fingerprint)
        self.words = self.store.words
        self.gids = GrowArray(np.int64)
        self.parents = GrowArray(np.int64)
        self.vias = GrowArray(np.uint16)
        self.frontier: list[np.ndarray] = [np.zeros(0, dtype=U64)] * self.words
        self.frontier_gids = np.zeros(0, dtype=np.int64)
        self.level_coverage = CoverageCounts(model.actions)
        self.pending: Pending | None = None
        self.level_start = 0
        self.initial = False
        self.out: list[list[np.ndarray]] = [[] for _ in range(workers)]

    def pid(self) -> int:
        return os.getpid()

    def node(self) -> str:
        """The id of the Ray node this shard runs on (its machine's raylet)."""
        import ray  # only in an actor, where Ray runs: the coordinator imports this module

        return str(ray.get_runtime_context().get_node_id())

    # -- 1. expand --------------------------------------------------------------------

    def expand(self, level_start: int, beyond: bool, properties: list[int]) -> tuple:
        """Expand this shard's frontier; returns the report, then one block per shard."""
        self.level_start, self.initial = level_start, False
        self.level_coverage = CoverageCounts(self.model.actions)
        live = self._live(self.model.action_properties, properties)
        events: list[ShardEvent] = []
        generated, cut_by_depth = 0, False
        for a, tees, ranks in self._transitions(live):
            generated += len(a.rows)
            self.level_coverage.cover_batch(a.rows, a.acts, len(ranks))
            for pos, rank, kind, index, where in a.events:
                # A deadlock's T is its state's, as if it had a first successor.
                t = int(tees[pos]) if kind != "deadlock" else int(ranks[where]) << VIA_BITS
                events.append((t, rank, kind, index))
            if beyond:
                cut_by_depth = cut_by_depth or len(a.rows) > 0
            elif len(a.rows):
                _, first = first_occurrences(a.keys, self.store.key_bits)
                first = np.sort(first)
                owner = self.shards.owner(a.keys[first])
                for dst in range(self.workers):
                    pick = first[owner == dst]
                    if len(pick):
                        self.out[dst].append(self._block(a.keys[pick], tees[pick],
                                                         a.acts[pick],
                                                         [w[pick] for w in a.words]))
        blocks = [self._send(dst) for dst in range(self.workers)]
        report = Expanded(generated, events, cut_by_depth, sum(b.nbytes for b in blocks))
        return (report, *blocks)

    def _transitions(self, live: Live, upto: int | None = None
                     ) -> Iterator[tuple[Arranged, np.ndarray, np.ndarray]]:
        """Every batch of this shard's frontier (or of its first ``upto`` rows), arranged
        in one process's order, with each transition's ``T`` and the rows' ranks."""
        width = len(self.frontier_gids) if upto is None else upto
        start, rows = 0, MAX_BATCH_ROWS
        while start < width:
            end = min(width, start + rows)
            batch = self.store.expand([w[start:end] for w in self.frontier], live)
            a = self.store.arrange(batch, end - start, False, live, self.check_deadlock)
            if len(a.via) and int(a.via.max()) > VIA_MASK:
                raise ArrayEvalError(f"a state with more than {VIA_MASK + 1:,} successors")
            ranks = self.frontier_gids[start:end] - self.level_start
            tees = (ranks[a.rows].astype(U64) << U64(VIA_BITS)) | a.via.astype(U64)
            yield a, tees, ranks
            rows = batch_rows(end - start, sum(len(r) for r in batch.rows))
            start = end

    def _block(self, keys: np.ndarray, tees: np.ndarray, acts: np.ndarray,
               words: list[np.ndarray]) -> np.ndarray:
        return block(keys, tees, acts, words)

    def _send(self, dst: int) -> np.ndarray:
        """One level's successors for ``dst``, each key once (its smallest ``T``: the
        blocks were made in ``T`` order)."""
        blocks, self.out[dst] = self.out[dst], []
        width = COLUMNS + (self.words if self.words > 1 else 0)
        if not blocks:
            return np.zeros((width, 0), dtype=U64)
        block = np.concatenate(blocks, axis=1) if len(blocks) > 1 else blocks[0]
        _, first = first_occurrences(block[0], self.store.key_bits)
        return np.ascontiguousarray(block[:, np.sort(first)])

    # -- 2. absorb --------------------------------------------------------------------

    def absorb(self, initial: bool, invariants: list[int], reachables: list[int],
               width: int, *blocks: np.ndarray) -> tuple:
        """Find and check the new states among the blocks routed here (the initial
        states: ``initial``; the level has ``width`` parents); returns the report, then
        the sorted ``T`` of the new states that may be stored, one piece per shard's
        range (:func:`range_bounds`)."""
        if initial:
            self.initial, self.level_start = True, 0
        width = COLUMNS + (self.words if self.words > 1 else 0)
        cols = np.concatenate([b.reshape(width, -1) for b in blocks], axis=1)
        cols = cols[:, np.argsort(cols[1], kind="stable")]
        keys, tees, acts = cols[0], cols[1], cols[2]
        words = [keys] if self.words == 1 else [cols[COLUMNS + w] for w in range(self.words)]
        store = self.store
        new_pos = store.unseen(keys, words) if len(keys) else np.zeros(0, dtype=np.int64)
        found: list = []
        inv = self._live(self.model.invariants, invariants)
        reach = self._live(self.model.reachables, reachables)
        storable = store.check_new_states(new_pos, words, found, self.initial, inv, reach,
                                          sys.maxsize)
        events = [(int(tees[at]), rank, kind, index) for at, rank, kind, index, _ in found]
        keep = new_pos[storable]
        order = tees[keep]
        self.pending = Pending(keys[keep], [w[keep] for w in words], order, acts[keep])
        cuts = np.searchsorted(order, range_bounds(width, self.workers, self.initial))
        pieces = np.split(order, cuts)
        return (Absorbed(len(keep), [len(x) for x in pieces], events), *pieces)

    # -- 3. rank ----------------------------------------------------------------------

    def rank(self, offset: int, room: int, *pieces: np.ndarray) -> tuple:
        """The global ranks of the pending states in this shard's range: ``pieces`` are
        every shard's sorted ``T`` in the range, ``offset`` how many states the ranges
        before it hold. Returns the report (with the ``T`` of the state of rank ``room``
        when it is in this range: the one that the state limit stops at), then each
        shard's ranks, in the order of its piece."""
        merged = np.sort(np.concatenate(pieces)) if pieces else np.zeros(0, dtype=U64)
        ranks = [offset + np.searchsorted(merged, piece).astype(np.int64) for piece in pieces]
        hit = int(merged[room - offset]) if 0 <= room - offset < len(merged) else None
        exchanged = sum(p.nbytes + r.nbytes for src, (p, r) in enumerate(zip(pieces, ranks))
                        if src != self.me)
        return (Ranked(hit, exchanged), *ranks)

    # -- 4. commit --------------------------------------------------------------------

    def commit(self, count: int, cut: int | None, rank: int, properties: list[int],
               *ranks: np.ndarray) -> Committed:
        """Store the pending states before the cut at ``T`` = ``cut`` (all of them
        without a cut) under ids from ``count`` on, and make them the next frontier;
        counts the transitions up to the cut. ``rank`` is the stop's (:data:`RANK`): a
        successor is stored before its invariant is checked, and a deadlock stops before
        its state's first transition, the other stops after it. ``ranks``: the global
        ranks of the pending states, from each range's ranker (none: this shard holds
        the whole level, in order)."""
        inclusive = rank == RANK["invariant"]
        p = self.pending
        if p is None:
            p = Pending(np.zeros(0, dtype=U64), [np.zeros(0, dtype=U64)] * self.words,
                        np.zeros(0, dtype=U64), np.zeros(0, dtype=U64))
        order = np.concatenate(ranks) if ranks else np.arange(len(p.order), dtype=np.int64)
        keep = np.ones(len(p.order), dtype=bool) if cut is None else \
            (p.order <= U64(cut)) if inclusive else (p.order < U64(cut))
        generated = -1
        coverage = CoverageCounts(self.model.actions)
        if not self.initial:
            if cut is None:
                coverage = self.level_coverage
            else:
                generated = self._cover_upto(coverage, cut, rank != RANK["deadlock"],
                                             properties)
            coverage.count_new(p.acts[keep].astype(np.int64))
        gids = count + order[keep]
        tees = p.order[keep]
        if self.initial:
            parents = np.full(len(gids), NO_PARENT, dtype=np.int64)
            vias = tees.astype(np.int64)
        else:
            parents = self.level_start + (tees >> U64(VIA_BITS)).astype(np.int64)
            vias = (tees & U64(VIA_MASK)).astype(np.int64)
        store = self.store
        if len(gids):
            store.seen.add(p.keys[keep], np.stack([w[keep] for w in p.words], axis=1)
                           if store.exact_words else None)
        store.seen.end_level()
        self.gids.extend(gids)
        self.parents.extend(parents)
        self.vias.extend(vias)
        self.frontier = [w[keep] for w in p.words]
        self.frontier_gids = gids
        self.pending = None
        return Committed(len(gids), generated, len(gids),
                         {name: list(getattr(coverage, name)) for name in COVERAGE_LISTS})

    def _cover_upto(self, coverage: CoverageCounts, cut: int, inclusive: bool,
                    properties: list[int]) -> int:
        """Coverage and transitions of the level up to the cut: the rows before it are
        expanded again (a cut happens once per search)."""
        rank = cut >> VIA_BITS
        upto = int(np.searchsorted(self.frontier_gids - self.level_start, rank, side="right"))
        live = self._live(self.model.action_properties, properties)
        generated = 0
        for a, tees, ranks in self._transitions(live, upto):
            take = (tees <= U64(cut)) if inclusive else (tees < U64(cut))
            generated += int(take.sum())
            coverage.cover_batch(a.rows[take], a.acts[take], len(ranks))
        return generated

    # -- links, snapshots -------------------------------------------------------------

    def link(self, gid: int) -> tuple[int, int] | None:
        """The parent link (parent id, position) of state ``gid`` when it is here."""
        gids = self.gids.values()
        at = int(np.searchsorted(gids, gid))
        if at < len(gids) and int(gids[at]) == gid:
            return int(self.parents[at]), int(self.vias[at])
        return None

    def store_bytes(self) -> int:
        """The size of this shard's store: seen keys (and words), ids and parent links."""
        return self.store.seen.nbytes + self.gids.nbytes + self.parents.nbytes \
            + self.vias.nbytes

    def save(self, path: str) -> tuple[str, int]:
        """Write this shard's store, links and frontier (at a level boundary) to
        ``path`` (``.npz``, via a temporary name); returns its SHA-256 and size."""
        seen = self.store.seen
        tmp = Path(path).with_name(f".{Path(path).name}.tmp")
        with open(tmp, "wb") as f:
            np.savez(f, seen_keys=seen.old, seen_words=seen.old_words,
                     gids=self.gids.values(), parents=self.parents.values(),
                     vias=self.vias.values(), frontier=np.stack(self.frontier),
                     frontier_gids=self.frontier_gids)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        return h.hexdigest(), os.path.getsize(path)

    def load(self, paths: list[str], level_start: int) -> tuple[int, int, int]:
        """Take this shard's part of a snapshot written by any number of shards: the
        seen keys and frontier states it owns now, and every ``workers``-th file's
        parent links (any shard may answer for a link). Returns how many seen states, links
        and frontier states it took."""
        keys, words, fwords, fgids = [], [], [], []
        links: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for n, path in enumerate(paths):
            with np.load(path, allow_pickle=False) as data:
                k = data["seen_keys"]
                mine = self.shards.owner(k) == self.me
                keys.append(k[mine])
                if self.store.exact_words:
                    words.append(data["seen_words"][mine])
                fw = data["frontier"]
                fk = self.store.keys(list(fw))
                mine = self.shards.owner(fk) == self.me
                fwords.append(fw[:, mine])
                fgids.append(data["frontier_gids"][mine])
                if n % self.workers == self.me:
                    links.append((data["gids"], data["parents"], data["vias"]))
        k = np.concatenate(keys)
        order = np.argsort(k)
        seen = self.store.seen
        seen.old = k[order]
        if self.store.exact_words:
            seen.old_words = np.concatenate(words)[order]
        if links:
            g = np.concatenate([x[0] for x in links])
            order = np.argsort(g)
            self.gids.extend(g[order])
            self.parents.extend(np.concatenate([x[1] for x in links])[order])
            self.vias.extend(np.concatenate([x[2] for x in links])[order])
        g = np.concatenate(fgids)
        order = np.argsort(g)
        fw = np.concatenate(fwords, axis=1)[:, order]
        self.frontier = [np.ascontiguousarray(w) for w in fw]
        self.frontier_gids = g[order]
        self.level_start = level_start
        return len(seen), self.gids.n, len(g)

    @staticmethod
    def _live(checks: tuple, indexes: list[int]) -> Live:
        return [(k, checks[k].fn) for k in indexes]
