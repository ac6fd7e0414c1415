"""The numpy engine: a whole BFS level at a time, as array code, in one process.

Built on :class:`~explorer.engine.array_level.ArrayLevel` (expansion, keys, store) with
the shared :class:`~explorer.engine.findings.Findings`. Counting, verdicts, stops and
coverage follow the scalar engine exactly: a batch is processed in the order the scalar
engine would have met its transitions, and when the scalar engine would have stopped
inside the batch (a violation, ``--max-states``), every figure is cut at that
transition. Anything the arrays cannot represent
(:class:`~pyspec.codegen.array_runtime.ArrayEvalError`, including every evaluation error of the
spec) or a fingerprint collision in exact mode raises
:class:`~explorer.engine.interface.HandOver`: the scalar engine reruns the search and
reports it exactly as it always does.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from explorer.engine import checkpoint
from explorer.engine.array_level import (
    MAX_BATCH_ROWS,
    RANK,
    ArrayLevel,
    Batch,
    Event,
    batch_rows,
)
from explorer.engine.findings import CoverageCounts, Findings
from explorer.engine.fingerprint import Collision, exact_note
from explorer.engine.interface import Engine, HandOver, Options, Progress
from explorer.engine.limits import Limits
from explorer.engine.links import NO_PARENT, Anchor, TraceBuilder
from explorer.engine.outcome import Counts, Setup, assemble
from explorer.engine.reduction import reduction
from explorer.result import Result, StopReason, Trace
from pyspec.codegen.array_runtime import ArrayEvalError
from pyspec.codegen.arrays import ArrayProgram
from pyspec.model import Model

#: The kind of program this engine runs (``Model.programs``).
PROGRAM = "arrays"


def array_program(model: Model) -> ArrayProgram:
    program = model.programs.get(PROGRAM)
    assert isinstance(program, ArrayProgram)
    return program


def check(model: Model, options: Options) -> Result:
    """Search a level at a time; raises HandOver for what the arrays cannot represent."""
    try:
        return ArraySearch(model, array_program(model), options).run()
    except (ArrayEvalError, Collision) as exc:
        raise HandOver(str(exc)) from None


ENGINE = Engine(name="numpy", check=check, program=PROGRAM,
                summary="a BFS level at a time as array code", checkpoints=True)

#: Stops after which a snapshot is written, so that the search can be resumed.
RESUMABLE = ("max_states", "timeout", "interrupted", "max_memory")


class ArraySearch:
    """One search; see the module doc."""

    def __init__(self, model: Model, program: ArrayProgram, options: Options) -> None:
        self.model = model
        self.options = options
        check_deadlock = (
            model.check_deadlock if options.check_deadlock is None else options.check_deadlock
        )
        self.findings: Findings[Anchor] = Findings(
            model, options.keep_going or bool(model.expect_violated), check_deadlock)
        self.coverage = CoverageCounts(model.actions)
        self.symmetry, self.notes = reduction(model, options)
        #: An exception the model raised computing the initial states, with its anchor.
        self.error: tuple[BaseException, Anchor] | None = None
        self.traces = TraceBuilder(model, self.symmetry)
        self.store = ArrayLevel(program, self.symmetry, options.fingerprint)
        layout = program.layout
        if options.fingerprint and layout.words == 1:
            self.notes.append(exact_note(layout.bits))
        self.cap = sys.maxsize if options.max_states is None else options.max_states
        self.total = 0
        self.head = 0
        self.cut_by_depth = False
        self.stopped: StopReason | None = None
        #: Checkpoints: what this search is, where each finding hangs (state id,
        #: position), the last batch boundary and when a snapshot was last written.
        self.identity = checkpoint.identity(
            model, ENGINE.name, program.source, self.symmetry, options, check_deadlock,
            self.findings.keep_going) if options.checkpoint or options.recover else None
        self.anchors: dict[tuple[str, int], tuple[int, int]] = {}
        self.mark: checkpoint.Mark | None = None
        self.saved_at = time.monotonic()

    def run(self) -> Result:
        self.limits = Limits(self.options)
        try:
            with self.limits.guard():
                if self.options.recover:
                    self._resume(self.options.recover)
                    self._explore()
                elif self._initial():
                    self._explore()
        except KeyboardInterrupt:
            self.stopped = self.limits.stop_reason()
        except MemoryError:
            self.stopped = "max_memory"
        if self.stopped in RESUMABLE and self.options.checkpoint:
            self._save_at_stop(self.options.checkpoint)
        if self.stopped is None and self.cut_by_depth:
            self.stopped = "max_depth"
        elapsed = self.limits.elapsed()
        store = self.store
        counts = Counts(store.count, self.total, store.frontier.levels.depth(store.count),
                        store.count - self.head)
        setup = Setup("numpy", store.fingerprints, self.symmetry, store.store_bytes)
        return assemble(self.model, setup, counts, elapsed, self.stopped, self.findings,
                        self.coverage, self.trace, self.error, self.notes)

    def trace(self, anchor: Anchor) -> Trace | None:
        return self.traces.trace(self.store.links, anchor)

    # -- the search -------------------------------------------------------------------

    def _initial(self) -> bool:
        try:
            inits = list(self.model.initial_states())
        except Exception as exc:  # the spec's evaluation error: reported with its position
            self.error = (exc, (-1, []))
            return False
        if not inits:
            return True
        batch = self.store.initial_batch(inits, len(self.findings.live_properties))
        go_on = self._absorb(batch, len(inits), base=0, initial=True)
        self.store.frontier.levels.start(1, self.store.count)
        self.store.next_level()
        return go_on

    def _progress(self, elapsed: float) -> Progress:
        stored = self.store.count
        return Progress(stored, self.total, self.store.frontier.levels.level,
                        stored - self.head, elapsed)

    def _explore(self) -> None:
        store, frontier = self.store, self.store.frontier
        levels = frontier.levels
        max_depth = self.options.max_depth
        polls = 0
        while len(frontier):
            base = frontier.start
            width = len(frontier)
            rows = MAX_BATCH_ROWS
            start = self.head - base  # 0 but in a resumed level
            while start < width:
                if self.identity is not None:
                    self._boundary(start == 0)
                polls += 1
                self.stopped = self.limits.poll(polls, self._progress)
                if self.stopped:
                    return
                end = min(width, start + rows)
                batch = store.expand(frontier.batch(start, end), self.findings.live_properties)
                beyond = max_depth is not None and levels.level >= max_depth
                if not self._absorb(batch, end - start, base + start, initial=False,
                                    beyond=beyond):
                    return
                rows = batch_rows(end - start, sum(len(r) for r in batch.rows))
                start = end
            store.next_level()
            if len(frontier):
                levels.start(levels.level + 1, store.count)

    def _absorb(self, batch: Batch, nrows: int, base: int, initial: bool,
                beyond: bool = False) -> bool:
        """Count, check and store one batch's transitions in the scalar engine's order;
        False when the search stops in it. ``base`` is the id of the batch's first row
        (for the initial states, which have no parents: 0)."""
        store, findings = self.store, self.findings
        arranged = store.arrange(batch, nrows, initial, findings.live_properties,
                                 findings.check_deadlock)
        rows, acts, words, keys = arranged.rows, arranged.acts, arranged.words, arranged.keys
        via, events = arranged.via, arranged.events
        m = len(rows)
        new_pos = np.zeros(0, dtype=np.int64)
        storable = np.zeros(0, dtype=bool)
        if beyond:
            self.cut_by_depth = self.cut_by_depth or m > 0
        elif m:
            new_pos = store.unseen(keys, words)
            storable = store.check_new_states(
                new_pos, words, events, initial, findings.live_invariants,
                findings.live_reachables, self.cap - store.count)
        stop = next(((pos, rank) for pos, rank, kind, _, _ in sorted(events)
                     if kind == "max_states" or not findings.keep_going and kind != "reachable"),
                    None)
        if stop is None:
            cut, rows_done = m, nrows
            stored = new_pos[storable]
        else:
            pos, rank = stop
            deadlock = rank == RANK["deadlock"]
            cut = pos if deadlock else pos + 1
            row = next(e[4] for e in events if e[:2] == stop) if deadlock else int(rows[pos])
            rows_done = row + 1
            # An invariant is checked on a successor after storing it; a property, the
            # state limit, and an invariant of an initial state stop before.
            last = pos if rank == RANK["invariant"] else pos - 1
            stored = new_pos[storable & (new_pos <= last)]
        for event in sorted(events):
            if stop is not None and event[:2] > stop:
                break
            self._record(event, rows, via, base, initial)
        self.total += cut
        sink = self.options.edges
        if sink is not None and not initial:
            sink.transitions(rows[:cut] + base, acts[:cut], arranged.bindings[:cut],
                             keys[:cut])
        if not initial:
            self.head = base + rows_done
            self.coverage.cover_batch(rows[:cut], acts[:cut], nrows)
            self.coverage.count_new(acts[stored])
        parents = (np.full(len(stored), NO_PARENT, dtype=np.int64) if initial
                   else rows[stored] + base)
        if sink is not None:
            sink.stored(keys[stored], [w[stored] for w in words], initial)
        store.store(keys[stored], [w[stored] for w in words], parents, via[stored])
        return stop is None

    def _record(self, event: Event, rows: np.ndarray, via: np.ndarray, base: int,
                initial: bool) -> None:
        """A violation, witness or limit met in a batch, as the scalar engine records it."""
        _, _, kind, index, where = event
        if kind == "max_states":
            self.stopped = "max_states"
            return
        if kind == "deadlock":
            anchor: Anchor = (base + where, [])
            at = (base + where, -1)
        elif initial:
            anchor = (-1, [(None, (), list(self.model.initial_states())[int(via[where])])])
            at = (-1, int(via[where]))
        else:
            parent = base + int(rows[where])
            state = self.store.layout.decode(self.store.frontier.state_words(parent))
            anchor = (parent, [self.model.successors(state)[int(via[where])]])
            at = (parent, int(via[where]))
        self.anchors.setdefault((kind, index), at)
        if self.findings.record(kind, index, anchor):  # type: ignore[arg-type]
            self.stopped = "violation"

    # -- checkpoints (explorer.engine.checkpoint) ---------------------------------------

    def _boundary(self, level_start: bool) -> None:
        """A batch boundary: mark it; at a level's start, write a snapshot when one is due."""
        self.mark = checkpoint.mark(self.store, self.coverage, self.findings.found,
                                    self.total, self.head, self.cut_by_depth, self.anchors)
        due = time.monotonic() - self.saved_at >= self.options.checkpoint_every_s
        if level_start and due and self.options.checkpoint:
            self._save(self.mark)

    def _save(self, at: checkpoint.Mark) -> None:
        assert self.identity is not None and self.options.checkpoint is not None
        checkpoint.write(self.options.checkpoint, self.identity, at, self.store)
        self.saved_at = time.monotonic()

    def _save_at_stop(self, directory: str) -> None:
        """A limit stopped the search: keep its last batch boundary, to be resumed."""
        if self.mark is None:
            self.notes.append(f"no checkpoint written to {directory}: the search stopped "
                              "before its first BFS level was stored")
            return
        try:
            self._save(self.mark)
        except MemoryError:
            self.notes.append(f"no checkpoint written to {directory}: out of memory")
            return
        self.notes.append(f"checkpoint {directory}: the search as of {self.mark.count:,} "
                          f"stored states; resume it with --recover {directory}")

    def _resume(self, directory: str) -> None:
        """Continue the search a snapshot holds (refused unless it is of this search)."""
        assert self.identity is not None
        loaded = checkpoint.read(directory, self.identity)
        checkpoint.restore(loaded, self.store, self.coverage)
        counters = loaded.counters
        self.total, self.head = int(counters["total"]), int(counters["head"])
        self.cut_by_depth = bool(counters["cut_by_depth"])
        found = checkpoint.found_at(loaded)
        for kind, index, sid, via in found:
            self.anchors[(kind, index)] = (sid, via)
        checkpoint.record_all(self.findings, [
            (kind, index, checkpoint.anchor(self.model, self.traces, self.store, sid, via))
            for kind, index, sid, via in found])
        self.notes.append(f"resumed from checkpoint {directory}: {self.store.count:,} states "
                          f"stored, {self.total:,} generated, exploring level "
                          f"{counters['level']}")
