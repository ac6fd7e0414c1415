"""Several processes, each owning a share of the seen states (``--workers N``).

As TLC's distributed fingerprint set: a state belongs to the worker its key hashes to.
The search stays level-synchronous. Each level has two phases, both run by every worker
at once: **expand** (a worker runs the array code on the frontier states it owns, counts
and checks the transitions, and routes each distinct successor to its owner, in one batch
file per destination) and **absorb** (a worker reads the successors routed to it, keeps
the new ones, checks them, and makes them its share of the next frontier). The
coordinator (this process) only sequences the phases, sums the counts and rebuilds
traces from the workers' parent links.

A complete search gets exactly the counts, depth and verdicts of one worker: every
transition is generated once, by its parent's owner, and every state stored once, by its
own. Traces are shortest (a BFS level at a time) but may be other shortest traces than
one worker's; a search that stops early (a violation without ``--continue``, a limit)
stops at the end of the phase it stopped in, so its partial counts differ. One worker
(:mod:`explorer.backend_numpy`) stays the reference for those.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

from explorer.backend_numpy import (
    _NONE,
    MAX_BATCH_ROWS,
    U64,
    NumpySearch,
    _Batch,
    _Grow,
    batch_rows,
)
from explorer.fingerprint import _mix, fingerprint, first_occurrences
from explorer.result import Result
from explorer.search import Options, RawStep, _Search
from pyspec.codegen.array_runtime import ArrayEvalError
from pyspec.codegen.arrays import ArrayProgram
from pyspec.model import Model

#: The columns of a routed successor, before its packed words: its key, its parent (a
#: local id of the sender), its place among the parent's successors, its action, and its
#: place in the sender's transition order.
_COLUMNS = ("key", "parent", "via", "act", "seq")

#: What a worker reports of a violation or witness: (kind, property index, order, the
#: anchor's parent as (worker, local id) or None for an initial state, position: the
#: transition's place in the parent's successors, the initial state's place, or -1 for
#: the state itself (a deadlock)).
_Found = tuple[str, int, int, tuple[int, int] | None, int]


def owner_of(keys: np.ndarray, workers: int) -> np.ndarray:
    """The worker each key belongs to."""
    return (_mix(keys) % U64(workers)).astype(np.int64)


@dataclass
class _Phase:
    """What a worker reports after a phase."""

    generated: int
    stored: int
    found: list[_Found]
    cut_by_depth: bool
    frontier: int


class _Part(NumpySearch):
    """One worker: a :class:`NumpySearch` whose store is its share of the states."""

    def __init__(self, model: Model, program: ArrayProgram, options: Options, me: int,
                 workers: int, folder: str) -> None:
        super().__init__(model, program, options)
        self.me, self.workers, self.folder = me, workers, folder
        self.parent_worker = _Grow(np.uint8)
        #: Per destination, blocks of routed successors: per block, the columns of
        #: :data:`_COLUMNS` then one column per packed word.
        self.out: list[list[list[np.ndarray]]] = [[] for _ in range(workers)]
        self.seq = 0
        self.found_now: list[_Found] = []
        self.generated = 0
        self.keep_going = True  # the coordinator decides when to stop

    # -- expand ---------------------------------------------------------------------

    def expand(self, level: int) -> _Phase:
        self.level = level
        self.generated = 0
        self.found_now = []
        base, width = self.level_start, len(self.frontier[0])
        start, rows = 0, MAX_BATCH_ROWS
        while start < width:
            end = min(width, start + rows)
            successors = self._expand([w[start:end] for w in self.frontier], base + start)
            rows = batch_rows(end - start, successors or 0)
            start = end
        for dst in range(self.workers):
            self._send(level, dst)
        return _Phase(self.generated, 0, self.found_now, self.cut_by_depth, 0)

    def _absorb(self, batch: _Batch, nrows: int, base: int, initial: bool,
                beyond: bool = False) -> bool:
        """Expand phase: count and check a batch's transitions, route its successors."""
        a = self._arrange(batch, nrows, initial)
        m = len(a.rows)
        self.generated += m
        self.head = base + nrows
        self._cover(a.rows, a.acts, nrows)
        for pos, _, kind, index, where in sorted(a.events):
            if kind == "deadlock":
                self.found_now.append((kind, 0, self.seq + pos, (self.me, base + where), -1))
            else:
                self.found_now.append((kind, index, self.seq + pos,
                                       (self.me, base + int(a.rows[where])), int(a.via[where])))
        if beyond:
            self.cut_by_depth = self.cut_by_depth or m > 0
        elif m:
            uniq, first = first_occurrences(a.keys, self.key_bits)
            first = np.sort(first)
            owner = owner_of(a.keys[first], self.workers)
            for dst in range(self.workers):
                pick = first[owner == dst]
                if len(pick):
                    self.out[dst].append(
                        [a.keys[pick], (base + a.rows[pick]).astype(U64),
                         a.via[pick].astype(U64), a.acts[pick].astype(U64),
                         (self.seq + pick).astype(U64), *(w[pick] for w in a.words)])
        self.seq += m
        return True

    def _send(self, level: int, dst: int) -> None:
        """Write the successors routed to ``dst`` during this phase to its file."""
        blocks = self.out[dst]
        with open(self._file(level, self.me, dst), "wb") as f:
            for c in range(len(_COLUMNS) + self.words):
                for block in blocks:
                    block[c].tofile(f)
        self.out[dst] = []

    def _file(self, level: int, src: int, dst: int) -> str:
        return os.path.join(self.folder, f"{level}-{src}-{dst}.bin")

    # -- absorb ---------------------------------------------------------------------

    def absorb(self, level: int) -> _Phase:
        """Keep the successors routed to this worker that it has not seen."""
        self.found_now = []
        blocks, sources = [], []
        for src in range(self.workers):
            path = self._file(level, src, self.me)
            block = np.fromfile(path, dtype=U64).reshape(len(_COLUMNS) + self.words, -1)
            os.unlink(path)
            blocks.append(block)
            sources.append(np.full(block.shape[1], src, dtype=np.int64))
        columns = np.concatenate(blocks, axis=1)
        cols = {name: columns[i] for i, name in enumerate(_COLUMNS)}
        cols.update({f"w{w}": columns[len(_COLUMNS) + w] for w in range(self.words)})
        # Successors from several sources: the first source's first occurrence is kept.
        stored = self._keep(cols, np.concatenate(sources), initial=level == 0)
        self._next_level()
        return _Phase(0, stored, self.found_now, False, len(self.frontier[0]))

    def _keep(self, cols: dict[str, np.ndarray], src: np.ndarray, initial: bool) -> int:
        keys = cols["key"]
        words = [cols[f"w{w}"] for w in range(self.words)]
        if not len(keys):
            return 0
        uniq, first = first_occurrences(keys, self.key_bits)
        found = self.seen.contains(
            uniq, np.stack([w[first] for w in words], axis=1) if self.exact_words else None)
        new_pos = np.sort(first[~found])
        events: list = []
        storable = self._check_new_states(new_pos, words, events, initial)
        for pos, _, kind, index, _ in sorted(events):
            if kind == "max_states":
                continue
            parent = None if initial else (int(src[pos]), int(cols["parent"][pos]))
            self.found_now.append((kind, index, int(cols["seq"][pos]), parent,
                                   int(cols["via"][pos])))
        stored = new_pos[storable]
        if not initial:
            self._count_new(cols["act"][stored].astype(np.int64))
        self.parent_worker.extend(src[stored] if not initial else
                                  np.zeros(len(stored), dtype=np.int64))
        parents = np.full(len(stored), _NONE, dtype=np.int64) if initial else \
            cols["parent"][stored].astype(np.int64)
        self._store(keys[stored], [w[stored] for w in words], parents,
                    cols["via"][stored].astype(np.int64))
        return len(stored)


def _serve(part: _Part, conn: Connection) -> None:
    """A worker's loop: run what the coordinator asks, answer with the outcome."""
    while True:
        command, arg = conn.recv()
        try:
            if command == "expand":
                conn.send(("ok", part.expand(arg)))
            elif command == "absorb":
                conn.send(("ok", part.absorb(arg)))
            elif command == "initial":
                part.out[part.me].append(arg)
                conn.send(("ok", None))
            elif command == "send":
                for dst in range(part.workers):
                    part._send(arg, dst)
                conn.send(("ok", None))
            elif command == "links":
                conn.send(("ok", (part.parent_worker.data[:part.parent_worker.n],
                                  part.parents.data[:part.parents.n],
                                  part.vias.data[:part.vias.n], part.fired, part.enabled,
                                  part.new, part.group_enabled, part._store_bytes())))
            elif command == "stop":
                conn.send(("ok", None))
                return
        except ArrayEvalError as exc:
            conn.send(("fallback", str(exc)))
        except Exception as exc:  # noqa: BLE001 - reported to the coordinator
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class ParallelSearch(_Search):
    """The coordinator of ``workers`` :class:`_Part` processes."""

    def __init__(self, model: Model, program: ArrayProgram, options: Options) -> None:
        super().__init__(model, options)
        self.program = program
        self.backend = "numpy"
        self.workers = options.workers
        self.links: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.bytes = 0
        self.count = 0

    def _stored(self) -> int:
        return self.count

    def _store_bytes(self) -> int | None:
        return self.bytes

    def run(self) -> Result:
        self.t0 = time.monotonic()
        folder = tempfile.mkdtemp(prefix="cowspec-", dir="/dev/shm" if os.path.isdir(
            "/dev/shm") else None)
        context = multiprocessing.get_context("fork")
        pipes, procs = [], []
        try:
            for me in range(self.workers):
                here, there = context.Pipe()
                part = _Part(self.model, self.program, self.options, me, self.workers, folder)
                proc = context.Process(target=_serve, args=(part, there), daemon=True)
                proc.start()
                pipes.append(here)
                procs.append(proc)
            self._search(pipes)
            self._collect(pipes)
            for conn in pipes:
                self._ask([conn], "stop", None)
        except KeyboardInterrupt:
            self.stopped = "interrupted"
        finally:
            for proc in procs:
                proc.join(timeout=5)
                if proc.is_alive():
                    proc.terminate()
            shutil.rmtree(folder, ignore_errors=True)
        if self.stopped is None and self.cut_by_depth:
            self.stopped = "max_depth"
        return self._result(time.monotonic() - self.t0)

    def _ask(self, pipes: list[Connection], command: str, arg: object) -> list:
        for conn in pipes:
            conn.send((command, arg))
        answers = []
        for conn in pipes:
            status, value = conn.recv()
            if status == "fallback":
                raise ArrayEvalError(value)
            if status == "error":
                raise RuntimeError(f"a worker failed: {value}")
            answers.append(value)
        return answers

    def _search(self, pipes: list[Connection]) -> None:
        inits = list(self.model.initial_states())
        layout = self.program.layout
        packed = [layout.encode(s) for s in inits]
        words = [np.array([p[w] for p in packed], dtype=U64) for w in range(layout.words)]
        if self.symmetry is not None and inits:
            words = self.symmetry.canonical_words(words)
        self.total = len(inits)
        if inits:
            keys = words[0] if layout.words == 1 else fingerprint(words)
            owner = owner_of(keys, self.workers)
            for w, conn in enumerate(pipes):
                pick = np.flatnonzero(owner == w)
                zeros = np.zeros(len(pick), dtype=U64)
                block = [keys[pick], zeros, pick.astype(U64), zeros, pick.astype(U64),
                         *(x[pick] for x in words)]
                self._ask([conn], "initial", block)
        self._ask(pipes, "send", 0)
        phases = self._ask(pipes, "absorb", 0)
        self._take(phases, level=0)
        self.level, self.level_end = 1, self.count
        polls = 0
        last = self.t0
        while any(p.frontier for p in phases) and not self.stopped:
            polls += 1
            last = self._poll(polls * 10, last)
            if self.stopped:
                return
            expanded = self._ask(pipes, "expand", self.level)
            self.head = self.count
            self.total += sum(p.generated for p in expanded)
            self.cut_by_depth = any(p.cut_by_depth for p in expanded)
            self._take(expanded, self.level)
            phases = self._ask(pipes, "absorb", self.level)
            self._take(phases, self.level)
            if self.stopped:
                return
            if any(p.frontier for p in phases):
                self.level += 1
                self.level_end = self.count

    def _take(self, phases: list[_Phase], level: int) -> None:
        """Counts and findings of one phase; the first finding of each property wins, in
        (order, worker) order."""
        self.count += sum(p.stored for p in phases)
        found = sorted((f[2], w, f) for w, p in enumerate(phases) for f in p.found)
        for _, _, (kind, index, _, parent, position) in found:
            if (kind, index) in self.found:
                continue
            anchor = (parent, position)
            if kind == "reachable":
                self.found[("reachable", index)] = anchor  # type: ignore[assignment]
                self.live_reach = [x for x in self.live_reach if x[0] != index]
            else:
                self._violated(kind, index, anchor)  # type: ignore[arg-type]
        if self.count >= self.cap and self.stopped is None:
            self.stopped = "max_states"

    def _collect(self, pipes: list[Connection]) -> None:
        """Parent links and coverage of every worker."""
        for answer in self._ask(pipes, "links", None):
            pw, parents, vias, fired, enabled, new, group_enabled, nbytes = answer
            self.links.append((pw, parents, vias))
            for a in range(len(self.fired)):
                self.fired[a] += fired[a]
                self.enabled[a] += enabled[a]
                self.new[a] += new[a]
            for g in range(len(self.group_enabled)):
                self.group_enabled[g] += group_enabled[g]
            self.bytes += nbytes

    # -- traces ---------------------------------------------------------------------

    def _trace(self, anchor):  # type: ignore[no-untyped-def, override]
        """Anchors are (parent as (worker, local id) or None, position)."""
        if anchor is None:
            return None
        parent, position = anchor
        if parent is None:
            tail: list[RawStep] = [(None, (), list(self.model.initial_states())[position])]
            return super()._trace((-1, tail))
        sid = parent[1] * self.workers + parent[0]
        if position < 0:  # a deadlocked state itself
            return super()._trace((sid, []))
        raw = self._path(sid)
        state = raw[-1][2]
        if self.symmetry is not None:
            state = self.symmetry.canonical(state)
        return super()._trace((sid, [self.model.successors(state)[position]]))

    def _chain(self, sid: int) -> list[int]:
        chain = []
        while True:
            chain.append(sid)
            w, i = sid % self.workers, sid // self.workers
            pw, parents, _ = self.links[w]
            if int(parents[i]) == _NONE:
                return chain[::-1]
            sid = int(parents[i]) * self.workers + int(pw[i])

    def _via(self, sid: int) -> int:
        return int(self.links[sid % self.workers][2][sid // self.workers])


def check_parallel(model: Model, program: ArrayProgram, options: Options) -> Result:
    """``--workers N``; anything the arrays cannot represent reruns on the scalar engine."""
    try:
        return ParallelSearch(model, program, options).run()
    except ArrayEvalError as exc:
        result = _Search(model, options).run()
        result.notes.append(f"the numpy backend handed over to the scalar engine ({exc})")
        return result

