"""Several processes, each owning a share of the seen states (``--workers N``).

As TLC's distributed fingerprint set: a state belongs to the worker its key hashes to
(:class:`~explorer.engine.seen.Shards`). The search stays level-synchronous. Each level
has two phases, both run by every worker at once: **expand** (a worker runs the array code
on the frontier states it owns, counts and checks the transitions, and routes each
distinct successor to its owner, in one batch file per destination) and **absorb** (a
worker reads the successors routed to it, keeps the new ones, checks them, and makes them
its share of the next frontier). The coordinator (this process) only sequences the
phases, sums the counts, records the findings and rebuilds traces from the workers'
parent links (:class:`~explorer.engine.links.ShardedLinks`).

A worker (:class:`Worker`) is an :class:`~explorer.engine.array_level.ArrayLevel` (its
share of the store) plus routing; the coordinator (:class:`Coordinator`) is built from the
same findings, limits, links and outcome parts as the one-process engines.

Workers die with the coordinator (a parent-death signal, and the end of their pipe), and
ignore Ctrl-C: the coordinator stops them. A worker that dies (killed, out of memory) ends
the search as interrupted, with the counts of the levels done and a note saying which
worker died and how; nothing waits on it.

A complete search gets exactly the counts, depth and verdicts of one worker: every
transition is generated once, by its parent's owner, and every state stored once, by its
own. Traces are shortest (a BFS level at a time) but may be other shortest traces than
one worker's. The state limit is exact for the stored states: after absorbing, each
worker says how many new states it may store, the coordinator gives out the room left
in worker order (``commit``), and a state beyond it stops the search, as one worker
stops, with exactly ``--max-states`` stored. Its generated count and coverage are those
of the whole level being expanded, where one worker stops at the transition that met
the limit: at most that level's transitions more. A search that stops early otherwise
(a violation without ``--continue``, a time or memory limit) stops at the end of the
phase it stopped in, so its partial counts differ. One worker
(:mod:`explorer.engine.arrays`) stays the reference for those.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from multiprocessing.connection import Connection

import numpy as np

from explorer.engine.array_level import MAX_BATCH_ROWS, ArrayLevel, Batch, batch_rows
from explorer.engine.arrays import PROGRAM, array_program
from explorer.engine.findings import CoverageCounts, Findings
from explorer.engine.fingerprint import U64, first_occurrences
from explorer.engine.interface import Engine, HandOver, Options, Progress
from explorer.engine.limits import Limits
from explorer.engine.links import NO_PARENT, GrowArray, ShardedLinks, TraceBuilder
from explorer.engine.outcome import Counts, Setup, assemble
from explorer.engine.reduction import reduction
from explorer.engine.seen import Shards
from explorer.result import Result, StopReason, Trace
from explorer.traces import RawStep
from pyspec.codegen.array_runtime import ArrayEvalError
from pyspec.codegen.arrays import ArrayProgram
from pyspec.model import Model
from pyspec.symmetry import Symmetry

#: The columns of a routed successor, before its packed words: its key, its parent (a
#: local id of the sender), its place among the parent's successors, its action, and its
#: place in the sender's transition order.
COLUMNS = ("key", "parent", "via", "act", "seq")

#: What a worker reports of a violation or witness: (kind, property index, order, the
#: anchor's parent as (worker, local id) or None for an initial state, position: the
#: transition's place in the parent's successors, the initial state's place, or -1 for
#: the state itself (a deadlock)).
Found = tuple[str, int, int, tuple[int, int] | None, int]
#: Where a worker's finding hangs off the store: (parent, position) as in :data:`Found`.
ShardAnchor = tuple[tuple[int, int] | None, int]


def check(model: Model, options: Options) -> Result:
    """``--workers N``; raises HandOver for what the arrays cannot represent."""
    try:
        return Coordinator(model, array_program(model), options).run()
    except ArrayEvalError as exc:
        raise HandOver(str(exc)) from None


ENGINE = Engine(name="numpy", check=check, program=PROGRAM,
                summary="the numpy engine in several processes, each owning a share of the "
                        "seen states (--workers N)")


@dataclass
class Phase:
    """What a worker reports after a phase."""

    generated: int
    stored: int
    found: list[Found]
    cut_by_depth: bool
    frontier: int
    #: Absorb: the new states it may store, once the coordinator allots it room for them.
    storable: int = 0


@dataclass
class Pending:
    """An absorbed batch of routed successors, checked, waiting for its room."""

    cols: dict[str, np.ndarray]
    words: list[np.ndarray]
    src: np.ndarray
    initial: bool
    #: Positions of the new states that may be stored, in order.
    storable: np.ndarray
    #: What the checks met, as :data:`~explorer.engine.array_level.Event`.
    events: list


@dataclass
class Share:
    """A worker's parent links, coverage and store size, collected at the end."""

    parent_worker: np.ndarray
    parents: np.ndarray
    positions: np.ndarray
    coverage: CoverageCounts
    store_bytes: int


class Worker:
    """One worker: its share of the states and the routing of successors."""

    def __init__(self, model: Model, program: ArrayProgram, options: Options,
                 symmetry: Symmetry | None, me: int, workers: int, folder: str) -> None:
        self.model = model
        self.options = options
        self.me, self.workers, self.folder = me, workers, folder
        self.shards = Shards(workers)
        self.store = ArrayLevel(program, symmetry, options.fingerprint)
        check_deadlock = (
            model.check_deadlock if options.check_deadlock is None else options.check_deadlock
        )
        #: Every check stays live in a worker: the coordinator decides what was found first.
        self.checks: Findings[ShardAnchor] = Findings(model, True, check_deadlock)
        self.coverage = CoverageCounts(model.actions)
        self.parent_worker = GrowArray(np.uint8)
        #: Per destination, blocks of routed successors: per block, the columns of
        #: :data:`COLUMNS` then one column per packed word.
        self.out: list[list[list[np.ndarray]]] = [[] for _ in range(workers)]
        self.seq = 0
        self.found_now: list[Found] = []
        #: The last absorbed batch, until :meth:`commit` stores it.
        self.pending = Pending({}, [], np.zeros(0, dtype=np.int64), True,
                               np.zeros(0, dtype=np.int64), [])
        self.generated = 0
        self.cut_by_depth = False

    # -- expand ---------------------------------------------------------------------

    def expand(self, level: int) -> Phase:
        self.generated = 0
        self.found_now = []
        frontier = self.store.frontier
        base, width = frontier.start, len(frontier)
        max_depth = self.options.max_depth
        beyond = max_depth is not None and level >= max_depth
        start, rows = 0, MAX_BATCH_ROWS
        while start < width:
            end = min(width, start + rows)
            batch = self.store.expand(frontier.batch(start, end), self.checks.live_properties)
            self._route(batch, end - start, base + start, beyond)
            rows = batch_rows(end - start, sum(len(r) for r in batch.rows))
            start = end
        self.send(level)
        return Phase(self.generated, 0, self.found_now, self.cut_by_depth, 0)

    def _route(self, batch: Batch, nrows: int, base: int, beyond: bool) -> None:
        """Count and check a batch's transitions, route its successors to their owners."""
        a = self.store.arrange(batch, nrows, False, self.checks.live_properties,
                               self.checks.check_deadlock)
        m = len(a.rows)
        self.generated += m
        self.coverage.cover_batch(a.rows, a.acts, nrows)
        for pos, _, kind, index, where in sorted(a.events):
            if kind == "deadlock":
                self.found_now.append((kind, 0, self.seq + pos, (self.me, base + where), -1))
            else:
                self.found_now.append((kind, index, self.seq + pos,
                                       (self.me, base + int(a.rows[where])), int(a.via[where])))
        if beyond:
            self.cut_by_depth = self.cut_by_depth or m > 0
        elif m:
            _, first = first_occurrences(a.keys, self.store.key_bits)
            first = np.sort(first)
            owner = self.shards.owner(a.keys[first])
            for dst in range(self.workers):
                pick = first[owner == dst]
                if len(pick):
                    self.out[dst].append(
                        [a.keys[pick], (base + a.rows[pick]).astype(U64),
                         a.via[pick].astype(U64), a.acts[pick].astype(U64),
                         (self.seq + pick).astype(U64), *(w[pick] for w in a.words)])
        self.seq += m

    def route_initial(self, block: list[np.ndarray]) -> None:
        """Initial states the coordinator routed to this worker."""
        self.out[self.me].append(block)

    def send(self, level: int) -> None:
        """Write the successors routed to each worker during this phase to its file."""
        for dst in range(self.workers):
            blocks = self.out[dst]
            with open(self._file(level, self.me, dst), "wb") as f:
                for c in range(len(COLUMNS) + self.store.words):
                    for block in blocks:
                        block[c].tofile(f)
            self.out[dst] = []

    def _file(self, level: int, src: int, dst: int) -> str:
        return os.path.join(self.folder, f"{level}-{src}-{dst}.bin")

    # -- absorb ---------------------------------------------------------------------

    def absorb(self, level: int) -> Phase:
        """Check the successors routed to this worker that it has not seen; they are
        stored by :meth:`commit`, as many as the coordinator has room for."""
        blocks, sources = [], []
        for src in range(self.workers):
            path = self._file(level, src, self.me)
            block = np.fromfile(path, dtype=U64).reshape(len(COLUMNS) + self.store.words, -1)
            os.unlink(path)
            blocks.append(block)
            sources.append(np.full(block.shape[1], src, dtype=np.int64))
        columns = np.concatenate(blocks, axis=1)
        cols = {name: columns[i] for i, name in enumerate(COLUMNS)}
        words = [columns[len(COLUMNS) + w] for w in range(self.store.words)]
        # Successors from several sources: the first source's first occurrence is kept.
        self.pending = self._check(cols, words, np.concatenate(sources), initial=level == 0)
        return Phase(0, 0, [], False, 0, storable=len(self.pending.storable))

    def _check(self, cols: dict[str, np.ndarray], words: list[np.ndarray], src: np.ndarray,
               initial: bool) -> Pending:
        keys = cols["key"]
        events: list = []
        new_pos = np.zeros(0, dtype=np.int64)
        storable = np.zeros(0, dtype=bool)
        if len(keys):
            # The senders compared candidates with one key; only the stored words are left.
            new_pos = self.store.unseen(keys, words, compare=False)
            storable = self.store.check_new_states(
                new_pos, words, events, initial, self.checks.live_invariants,
                self.checks.live_reachables, len(new_pos))
        return Pending(cols, words, src, initial, new_pos[storable], events)

    def commit(self, room: list[int]) -> Phase:
        """Store the first ``room[me]`` new states of the absorbed batch (all of them but
        when the state limit cuts the level); what the checks met beyond the first state
        left out is dropped, as one worker would never have met it."""
        self.found_now = []
        pending = self.pending
        cols, words, src, initial = pending.cols, pending.words, pending.src, pending.initial
        stored = pending.storable[: room[self.me]]
        cut = (int(pending.storable[len(stored)]) if len(stored) < len(pending.storable)
               else sys.maxsize)
        for pos, _, kind, index, _ in sorted(pending.events):
            if pos >= cut:
                break
            parent = None if initial else (int(src[pos]), int(cols["parent"][pos]))
            self.found_now.append((kind, index, int(cols["seq"][pos]), parent,
                                   int(cols["via"][pos])))
        self._keep(cols, words, src, initial, stored)
        self.store.next_level()
        return Phase(0, len(stored), self.found_now, False, len(self.store.frontier))

    def _keep(self, cols: dict[str, np.ndarray], words: list[np.ndarray], src: np.ndarray,
              initial: bool, stored: np.ndarray) -> None:
        store = self.store
        keys = cols["key"]
        if not initial:
            self.coverage.count_new(cols["act"][stored].astype(np.int64))
        self.parent_worker.extend(src[stored] if not initial else
                                  np.zeros(len(stored), dtype=np.int64))
        parents = np.full(len(stored), NO_PARENT, dtype=np.int64) if initial else \
            cols["parent"][stored].astype(np.int64)
        store.store(keys[stored], [w[stored] for w in words], parents,
                    cols["via"][stored].astype(np.int64))

    def share(self) -> Share:
        links = self.store.links
        return Share(self.parent_worker.values(), links.parents.values(),
                     links.positions.values(), self.coverage, self.store.store_bytes)


#: Linux's prctl option that sends a signal to a process when its parent dies.
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, folder: str) -> None:
    """End when the coordinator dies, however it dies (Linux; elsewhere the closed pipe
    ends the worker at its next command): the kernel sends SIGTERM, which removes the
    shared files in ``folder`` (a coordinator killed by SIGKILL cannot) and exits."""

    def end(signum: int, frame: object) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        os._exit(128 + signum)

    signal.signal(signal.SIGTERM, end)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before the signal was asked for
        end(signal.SIGTERM, None)


def serve(worker: Worker, conn: Connection, parent: int) -> None:
    """A worker's loop: run what the coordinator asks, answer with the outcome."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the coordinator stops the workers
    die_with_parent(parent, worker.folder)
    while True:
        try:
            command, arg = conn.recv()
        except (EOFError, OSError):
            return  # the coordinator is gone
        try:
            if command == "expand":
                conn.send(("ok", worker.expand(arg)))
            elif command == "absorb":
                conn.send(("ok", worker.absorb(arg)))
            elif command == "commit":
                conn.send(("ok", worker.commit(arg)))
            elif command == "initial":
                worker.route_initial(arg)
                conn.send(("ok", None))
            elif command == "send":
                worker.send(arg)
                conn.send(("ok", None))
            elif command == "share":
                conn.send(("ok", worker.share()))
            elif command == "stop":
                conn.send(("ok", None))
                return
        except ArrayEvalError as exc:
            conn.send(("fallback", str(exc)))
        except Exception as exc:  # noqa: BLE001 - reported to the coordinator
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class WorkerLost(Exception):  # noqa: N818 - an event, reported as a note
    """A worker process died; the message says which and how."""


class Coordinator:
    """Sequences ``workers`` :class:`Worker` processes and records what they find."""

    def __init__(self, model: Model, program: ArrayProgram, options: Options) -> None:
        self.model = model
        self.program = program
        self.options = options
        self.workers = options.workers
        check_deadlock = (
            model.check_deadlock if options.check_deadlock is None else options.check_deadlock
        )
        self.findings: Findings[ShardAnchor] = Findings(
            model, options.keep_going or bool(model.expect_violated), check_deadlock)
        self.coverage = CoverageCounts(model.actions)
        self.symmetry, self.notes = reduction(model, options)
        self.traces = TraceBuilder(model, self.symmetry)
        self.links = ShardedLinks(self.workers)
        self.shards = Shards(self.workers)
        self.cap = sys.maxsize if options.max_states is None else options.max_states
        self.bytes = 0
        self.procs: list[multiprocessing.process.BaseProcess] = []
        self.count = 0
        self.total = 0
        self.head = 0
        self.level, self.level_end = 0, 0
        self.cut_by_depth = False
        self.stopped: StopReason | None = None
        #: An exception the model raised computing the initial states.
        self.error: tuple[BaseException, ShardAnchor] | None = None

    def run(self) -> Result:
        self.limits = Limits(self.options)
        # Named after this process, so that what a run leaves in /dev/shm is traceable.
        folder = tempfile.mkdtemp(prefix=f"cowspec-{os.getpid()}-", dir="/dev/shm" if
                                  os.path.isdir("/dev/shm") else None)
        context = multiprocessing.get_context("fork")
        pipes: list[Connection] = []
        procs = self.procs
        done = False
        try:
            for me in range(self.workers):
                here, there = context.Pipe()
                worker = Worker(self.model, self.program, self.options, self.symmetry, me,
                                self.workers, folder)
                proc = context.Process(target=serve, args=(worker, there, os.getpid()),
                                       daemon=True)
                proc.start()
                there.close()  # the worker's end: its death must read as EOF here
                pipes.append(here)
                procs.append(proc)
            with self.limits.guard():  # the workers are forked: no thread before here
                self._search(pipes)
            self._collect(pipes)
            for conn in pipes:
                self._ask([conn], "stop", None)
            done = True
        except KeyboardInterrupt:
            self.stopped = self.limits.stop_reason()
        except WorkerLost as exc:
            self.stopped = "interrupted"
            self.notes.append(f"{exc}: the search stopped with the counts of the levels "
                              "done; the other workers were stopped")
        finally:
            for proc in procs:
                if not done:
                    proc.kill()
                proc.join(timeout=5)
            shutil.rmtree(folder, ignore_errors=True)
        if self.stopped is None and self.cut_by_depth:
            self.stopped = "max_depth"
        elapsed = self.limits.elapsed()
        depth = 0 if not self.count else self.level + (1 if self.count > self.level_end else 0)
        counts = Counts(self.count, self.total, depth, self.count - self.head)
        setup = Setup("numpy", self.options.fingerprint, self.symmetry, self.bytes)
        return assemble(self.model, setup, counts, elapsed, self.stopped, self.findings,
                        self.coverage, self.trace, self.error, self.notes)

    def _ask(self, pipes: list[Connection], command: str, arg: object) -> list:
        try:
            for conn in pipes:
                conn.send((command, arg))
        except OSError:
            raise self._lost() from None
        answers = []
        for conn in pipes:
            try:
                status, value = conn.recv()
            except (EOFError, OSError):
                raise self._lost() from None
            if status == "fallback":
                raise ArrayEvalError(value)
            if status == "error":
                raise RuntimeError(f"a worker failed: {value}")
            answers.append(value)
        return answers

    def _lost(self) -> WorkerLost:
        """Which worker died, and how."""
        for w, proc in enumerate(self.procs):
            proc.join(timeout=1)
            code = proc.exitcode
            if code is not None:
                how = (f"killed by {signal.Signals(-code).name}" if code < 0
                       else f"exit status {code}")
                return WorkerLost(f"worker {w} (pid {proc.pid}) died, {how}")
        return WorkerLost("a worker stopped answering")

    def _progress(self, elapsed: float) -> Progress:
        return Progress(self.count, self.total, self.level, self.count - self.head, elapsed)

    def _search(self, pipes: list[Connection]) -> None:
        try:
            inits = list(self.model.initial_states())
        except Exception as exc:  # the spec's evaluation error: reported with its position
            self.error = (exc, (None, None))  # type: ignore[assignment]
            return
        packer = ArrayLevel(self.program, self.symmetry, self.options.fingerprint)
        words = packer.pack(inits)
        if self.symmetry is not None and inits:
            words = self.symmetry.canonical_words(words)
        self.total = len(inits)
        if inits:
            keys = packer.keys(words)
            owner = self.shards.owner(keys)
            for w, conn in enumerate(pipes):
                pick = np.flatnonzero(owner == w)
                zeros = np.zeros(len(pick), dtype=U64)
                block = [keys[pick], zeros, pick.astype(U64), zeros, pick.astype(U64),
                         *(x[pick] for x in words)]
                self._ask([conn], "initial", block)
        self._ask(pipes, "send", 0)
        phases = self._absorb(pipes, 0)
        self.level, self.level_end = 1, self.count
        polls = 0
        while any(p.frontier for p in phases) and not self.stopped:
            polls += 1
            self.stopped = self.limits.poll(polls * 10, self._progress)
            if self.stopped:
                return
            expanded = self._ask(pipes, "expand", self.level)
            self.head = self.count
            self.total += sum(p.generated for p in expanded)
            self.cut_by_depth = any(p.cut_by_depth for p in expanded)
            self._take(expanded)
            phases = self._absorb(pipes, self.level)
            if self.stopped:
                return
            if any(p.frontier for p in phases):
                self.level += 1
                self.level_end = self.count

    def _absorb(self, pipes: list[Connection], level: int) -> list[Phase]:
        """The absorb phase, then the storing of its new states within the state limit:
        the room left is given to the workers in worker order, and a state beyond it stops
        the search (``max_states``) with exactly the limit stored."""
        ready = self._ask(pipes, "absorb", level)
        room, left = [], self.cap - self.count
        for p in ready:
            room.append(min(p.storable, left))
            left -= room[-1]
        phases = self._ask(pipes, "commit", room)
        self._take(phases)
        if sum(p.storable for p in ready) > sum(room) and self.stopped is None:
            self.stopped = "max_states"
        return phases

    def _take(self, phases: list[Phase]) -> None:
        """Counts and findings of one phase; the first finding of each property wins, in
        (order, worker) order."""
        self.count += sum(p.stored for p in phases)
        found = sorted((f[2], w, f) for w, p in enumerate(phases) for f in p.found)
        for _, _, (kind, index, _, parent, position) in found:
            if (kind, index) in self.findings.found:
                continue
            if self.findings.record(kind, index, (parent, position)):  # type: ignore[arg-type]
                self.stopped = "violation"

    def _collect(self, pipes: list[Connection]) -> None:
        """Parent links and coverage of every worker."""
        for share in self._ask(pipes, "share", None):
            self.links.shards.append((share.parent_worker, share.parents, share.positions))
            self.coverage.add(share.coverage)
            self.bytes += share.store_bytes

    def trace(self, anchor: ShardAnchor) -> Trace | None:
        """Anchors are (parent as (worker, local id) or None, position); None when a
        worker died before its parent links were collected."""
        if len(self.links.shards) < self.workers:
            return None
        parent, position = anchor
        if position is None:  # before any state: computing the initial states failed
            return self.traces.trace(self.links, (-1, []))
        if parent is None:
            tail: list[RawStep] = [(None, (), list(self.model.initial_states())[position])]
            return self.traces.trace(self.links, (-1, tail))
        sid = self.links.global_id(*parent)
        if position < 0:  # a deadlocked state itself
            return self.traces.trace(self.links, (sid, []))
        state = self.traces.path(self.links, sid)[-1][2]
        step = self.model.successors(self.traces.explored(state))[position]
        return self.traces.trace(self.links, (sid, [step]))
