"""The compiled engine: the whole breadth-first search as machine code (numba).

:mod:`pyspec.codegen.compiled` turns a model into a Python module over packed states
(successors, checks, and the search loop itself); numba compiles it once and caches the
machine code on disk, in a private directory under the user's cache directory, keyed by
the generated source (the module file is named by its hash; numba's ``cache=True`` keeps
the code beside it). A second run of the same model only loads it.

The search is the scalar engine's loop (:class:`explorer.engine.scalar.ScalarSearch`) state
by state, so every count, cut, verdict and coverage figure is the scalar engine's: the
compiled loop runs a chunk of states at a time and returns to Python between chunks,
which looks at the limits (``--timeout``, ``--max-memory``, Ctrl-C), moves to the next
BFS level, grows the arrays (the seen-state table is rehashed into one twice its size)
and turns the violations and witnesses the chunk met into trace anchors. Initial states
are generated and checked by the scalar model, exactly as the scalar engine does.

Stores: an open-addressing table of the packed words (one word: 8 bytes a slot; several:
the words, or with ``--fingerprint`` one 64-bit fingerprint), parent ids (``uint32``)
and positions in the parent's successor list (``uint16``); a trace is rebuilt by
replaying the scalar model along them. An evaluation error of the spec in compiled code
raises :class:`~explorer.engine.interface.HandOver`: the scalar engine reruns the search
and reports it.
"""

from __future__ import annotations

import importlib.util
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np

from explorer.engine import machine_code
from explorer.engine.interface import Engine, HandOver, Options, Progress
from explorer.engine.limits import Limits
from explorer.engine.links import Anchor
from explorer.engine.machine_code import Entry, MachineModule, Signatures, signatures
from explorer.engine.outcome import Counts, Setup, assemble
from explorer.engine.scalar import ScalarSearch
from explorer.result import Result, Trace
from pyspec.codegen.compiled import CompiledEvalError, CompiledSource
from pyspec.codegen.lower_llvm import LoweringError
from pyspec.model import EvalError, Model, NoProgram

#: States the compiled loop explores between two returns to Python.
CHUNK_STATES = 1 << 15
#: The seen-state table is rehashed into one twice its size beyond this load.
MAX_LOAD = 0.75
#: Status codes of the compiled loop.
_DONE, _CHUNK, _STOP, _LEVEL, _GROW = range(5)
#: Slots of the counter array the compiled loop shares with Python.
(_COUNT, _TOTAL, _HEAD, _LEVEL_NO, _LEVEL_END, _LEVEL_START, _NXT_N, _CUT, _STOPPED,
 _NEVENTS, _KEEP, _DEADLOCK, _MAX_DEPTH, _CAP, _TABLE_LIMIT, _FP, _MAX_SUCC) = range(17)
_NO_PARENT = np.iinfo(np.uint32).max
#: The kind of program this engine runs (``Model.programs``).
PROGRAM = "compiled"


def llvmlite_available() -> bool:
    """Whether llvmlite can be imported (it comes with numba, an optional dependency)."""
    return importlib.util.find_spec("llvmlite") is not None


def cache_dir() -> Path:
    """The private directory of machine code of generated modules."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "cowspec" / "compiled"


@dataclass
class CompiledProgram:
    """A model's machine code, loaded."""

    source: CompiledSource
    module: MachineModule
    #: Seconds spent generating, compiling (or loading from the cache) the code.
    compile_s: float


_PROGRAMS: WeakKeyDictionary[Model, CompiledProgram] = WeakKeyDictionary()
_MODULES: dict[tuple[str, str], MachineModule] = {}


def generated_source(model: Model) -> CompiledSource:
    """The generated module of a model made from a spec file (NoProgram otherwise)."""
    if not llvmlite_available():
        raise NoProgram("llvmlite (installed with numba) is not installed")
    source = model.programs.get(PROGRAM)
    assert isinstance(source, CompiledSource)
    return source


def entry_signatures(source: CompiledSource) -> Signatures:
    """The kinds of arguments every entry point of the module is called with: the arrays
    this engine and :mod:`explorer.walk_code` pass."""
    words = source.layout.words
    a = _Arrays(words, 1, 16, source.max_successors, 1, 1, 1)
    ctr = np.zeros(17, dtype=np.int64)
    live = np.zeros(1, dtype=np.int64)
    state = (0,) * words
    return signatures([
        Entry("search", _search_arguments(a, ctr, live, 0, np.zeros((1, 4), dtype=np.int64))),
        Entry("rehash", (a.table, a.table, False)),
        Entry("seed", (a.table, a.cur, False)),
        Entry("successors", (a.consts, *state, a.sbuf, a.abuf)),
        Entry("check_invariant", (a.consts, 0, *state)),
        Entry("check_reachable", (a.consts, 0, *state)),
        Entry("check_property", (a.consts, 0, *state, *state)),
        Entry("constraints", (a.consts, *state)),
    ])


def is_compiled(source: CompiledSource) -> bool:
    """Whether the machine code of a generated module is loaded or in the cache (a run
    would not pay the compile time)."""
    entries = entry_signatures(source)
    key = (source.source, repr(entries))
    return key in _MODULES or machine_code.is_cached(cache_dir(), source.source, entries)


def program_of(model: Model) -> CompiledProgram:
    """The model's compiled program (generated, compiled or loaded from the cache once
    per process)."""
    if model in _PROGRAMS:
        return _PROGRAMS[model]
    t0 = time.monotonic()
    source = generated_source(model)
    entries = entry_signatures(source)
    key = (source.source, repr(entries))
    if key not in _MODULES:
        try:
            _MODULES[key] = machine_code.load(cache_dir(), source.source, entries)
        except LoweringError as exc:
            raise NoProgram(f"its generated code is outside what is lowered ({exc})") from None
    program = CompiledProgram(source, _MODULES[key], time.monotonic() - t0)
    _PROGRAMS[model] = program
    return program


class _Arrays:
    """What the compiled loop reads and writes besides the counters."""

    def __init__(self, words: int, key_words: int, table_slots: int, max_succ: int,
                 n_actions: int, n_groups: int, groups_per_action: int) -> None:
        self.cur = np.zeros((1, words), dtype=np.int64)
        self.nxt = np.zeros((max(1024, 2 * max_succ), words), dtype=np.int64)
        self.table = np.full((table_slots, key_words), -1, dtype=np.int64)
        self.parents = np.zeros(max(1024, 2 * max_succ), dtype=np.uint32)
        self.vias = np.zeros(len(self.parents), dtype=np.uint16 if max_succ < 2**16
                             else np.uint32)
        self.fired = np.zeros(max(1, n_actions), dtype=np.int64)
        self.enabled = np.zeros_like(self.fired)
        self.new = np.zeros_like(self.fired)
        self.stamp = np.full_like(self.fired, -1)
        self.group_of = np.full((len(self.fired), max(1, groups_per_action)), -1,
                                dtype=np.int64)
        self.genab = np.zeros(max(1, n_groups), dtype=np.int64)
        self.gstamp = np.full_like(self.genab, -1)
        self.sbuf = np.zeros((max_succ, words), dtype=np.int64)
        self.abuf = np.zeros(max_succ, dtype=np.int64)
        self.consts = np.zeros(1, dtype=np.int64)


def _search_arguments(a: _Arrays, ctr: np.ndarray, live: np.ndarray, budget: int,
                      events: np.ndarray) -> tuple:
    return (a.consts, a.cur, a.nxt, a.table, a.parents, a.vias, ctr, live, a.fired, a.enabled,
            a.new, a.group_of, a.genab, a.stamp, a.gstamp, events, a.sbuf, a.abuf, budget)


def _call(module: MachineModule, a: _Arrays, ctr: np.ndarray, live: np.ndarray,
          budget: int, events: np.ndarray) -> int:
    return int(module.search(*_search_arguments(a, ctr, live, budget, events)))


class _ArrayLinks:
    """Parent links in the compiled store's arrays (for trace replay)."""

    def __init__(self, arrays: _Arrays) -> None:
        self.a = arrays

    def chain(self, sid: int) -> list[int]:
        chain = []
        while sid >= 0:
            chain.append(sid)
            p = int(self.a.parents[sid])
            sid = -1 if p == _NO_PARENT else p
        return chain[::-1]

    def via(self, sid: int) -> int:
        return int(self.a.vias[sid])


class CompiledSearch(ScalarSearch):
    """The scalar engine's search, its loop compiled; see the module doc."""

    def __init__(self, model: Model, program: CompiledProgram, options: Options) -> None:
        super().__init__(model, options)
        assert self.symmetry is None, "the registry runs symmetric models elsewhere"
        self.program = program
        self.module = program.module
        self.layout = program.source.layout
        words = self.layout.words
        self.fingerprints = options.fingerprint and words > 1
        key_words = words if words > 1 and not self.fingerprints else 1
        src = program.source
        cov = self.coverage
        self.a = _Arrays(words, key_words, 1 << 12, src.max_successors, len(model.actions),
                         len(cov.groups), max((len(g) for g in cov.groups_of), default=0))
        for a, groups in enumerate(cov.groups_of):
            self.a.group_of[a, : len(groups)] = groups
        self.a.consts = np.array(src.constants + (0,), dtype=np.int64)
        self.ctr = np.zeros(17, dtype=np.int64)
        self.ctr[_KEEP] = self.findings.keep_going
        self.ctr[_DEADLOCK] = self.findings.check_deadlock
        self.ctr[_MAX_DEPTH] = -1 if options.max_depth is None else options.max_depth
        self.ctr[_CAP] = min(self.cap, 2**62)
        self.ctr[_FP] = self.fingerprints
        self.ctr[_MAX_SUCC] = src.max_successors
        self.ctr[_TABLE_LIMIT] = int(len(self.a.table) * MAX_LOAD)
        n_checks = src.invariants + src.properties + src.reachables
        self.live = np.ones(n_checks + 1, dtype=np.int64)
        self.events = np.zeros((n_checks + 1, 4), dtype=np.int64)
        self.count = 0
        #: The initial states are in the compiled store (before: the scalar engine's).
        self.handed_over = False
        self.array_links = _ArrayLinks(self.a)

    def run(self) -> Result:
        self.limits = Limits(self.options)
        try:
            with self.limits.guard():
                go_on = self._initial()  # the scalar engine's: generated, checked, stored
                self._take_initial()
                if go_on:
                    self._explore()
        except KeyboardInterrupt:
            self.stopped = self.limits.stop_reason()
        except MemoryError:
            self.stopped = "max_memory"
        if self.stopped is None and self.cut_by_depth:
            self.stopped = "max_depth"
        elapsed = self.limits.elapsed()
        stored = self._stored()
        head = int(self.ctr[_HEAD]) if self.handed_over else self.queue.head
        depth = self.level + (1 if stored > self.level_end else 0) if stored else 0
        counts = Counts(stored, self.total, depth, stored - head)
        store = self.a.table.nbytes + stored * (self.a.parents.itemsize + self.a.vias.itemsize)
        setup = Setup("compiled", self.fingerprints, None, store)
        result = assemble(self.model, setup, counts, elapsed, self.stopped, self.findings,
                          self.coverage, self.trace, self.error, self.notes)
        result.stats = replace(result.stats, compile_s=self.program.compile_s)
        return result

    def trace(self, anchor: Anchor) -> Trace | None:
        links = self.array_links if self.handed_over else self.links
        return self.traces.trace(links, anchor)  # type: ignore[arg-type]

    def _stored(self) -> int:
        return self.count if self.handed_over else len(self.queue)

    @property
    def level(self) -> int:
        return int(self.ctr[_LEVEL_NO]) if self.handed_over else self.queue.levels.level

    @property
    def level_end(self) -> int:
        return int(self.ctr[_LEVEL_END]) if self.handed_over else self.queue.levels.level_end

    def _progress(self, elapsed: float) -> Progress:
        stored = self._stored()
        return Progress(stored, self.total, self.level, stored - int(self.ctr[_HEAD]), elapsed)

    # -- the search -------------------------------------------------------------------

    def _take_initial(self) -> None:
        """The initial states the scalar engine's code stored, moved to the compiled
        store."""
        states = self.queue.states
        n = len(states)
        rows = np.array([self.layout.encode(s) for s in states],
                        dtype=np.int64).reshape(n, self.layout.words)
        self._ensure(n)
        self.module.seed(self.a.table, rows, bool(self.fingerprints))
        self.a.parents[:n] = _NO_PARENT
        self.a.vias[:n] = np.asarray(self.links.position, dtype=np.int64)
        self.a.cur = rows
        self.count = n
        self.ctr[_COUNT] = n
        self.ctr[_TOTAL] = self.total
        self.ctr[_LEVEL_NO] = self.queue.levels.level
        self.ctr[_LEVEL_END] = self.queue.levels.level_end
        self.handed_over = True

    def _ensure(self, extra: int) -> None:
        """Room for ``extra`` more states in the table, the parent links and the next
        level."""
        a, need = self.a, self.count + extra
        if need > self.ctr[_TABLE_LIMIT]:
            slots = len(a.table)
            while need > slots * MAX_LOAD:
                slots *= 2
            table = np.full((slots, a.table.shape[1]), -1, dtype=np.int64)
            self.module.rehash(a.table, table, bool(self.fingerprints))
            a.table = table
            self.ctr[_TABLE_LIMIT] = int(slots * MAX_LOAD)
        if need > len(a.parents):
            size = max(need, 2 * len(a.parents))
            a.parents = np.resize(a.parents, size)
            a.vias = np.resize(a.vias, size)
        if self.ctr[_NXT_N] + extra > len(a.nxt):
            grown = np.zeros((max(self.ctr[_NXT_N] + extra, 2 * len(a.nxt)), a.nxt.shape[1]),
                             dtype=np.int64)
            grown[: self.ctr[_NXT_N]] = a.nxt[: self.ctr[_NXT_N]]
            a.nxt = grown

    def _explore(self) -> None:
        polls = 0
        seen_events = 0
        extra = int(self.ctr[_MAX_SUCC])
        while True:
            status = _call(self.module, self.a, self.ctr, self.live, CHUNK_STATES,
                           self.events)
            self._sync()
            while seen_events < self.ctr[_NEVENTS]:
                self._record(*(int(x) for x in self.events[seen_events]))
                seen_events += 1
            if status == _DONE:
                return
            if status == _STOP:
                self.stopped = "violation" if self.ctr[_STOPPED] == 1 else "max_states"
                return
            if status == _LEVEL:
                self._next_level()
            elif status == _GROW:
                self._ensure(extra)
            polls += 1
            self.stopped = self.limits.poll(polls, self._progress)
            if self.stopped:
                return

    def _next_level(self) -> None:
        """The states just found become the frontier (the scalar engine's level step)."""
        c, a = self.ctr, self.a
        c[_LEVEL_START] = c[_HEAD]
        c[_LEVEL_NO] += 1
        c[_LEVEL_END] = c[_COUNT]
        a.cur, a.nxt = a.nxt[: c[_NXT_N]], a.cur
        if len(a.nxt) < 1024:
            a.nxt = np.zeros((1024, a.cur.shape[1]), dtype=np.int64)
        c[_NXT_N] = 0

    def _sync(self) -> None:
        """The compiled loop's figures, where the scalar engine's code reads them."""
        c, cov, a = self.ctr, self.coverage, self.a
        self.count = int(c[_COUNT])
        self.total = int(c[_TOTAL])
        self.cut_by_depth = bool(c[_CUT])
        n = len(cov.enabled)
        cov.enabled = [int(x) for x in a.enabled[:n]]
        cov.fired = [int(x) for x in a.fired[:n]]
        cov.new = [int(x) for x in a.new[:n]]
        cov.group_enabled = [int(x) for x in a.genab[: len(cov.group_enabled)]]

    def _record(self, kind: int, index: int, sid: int, pos: int) -> None:
        """A violation, witness or deadlock the compiled loop met, as the scalar engine
        records it (its trace anchored at a stored state)."""
        tail: list = []
        if pos >= 0:
            state = self.traces.path(self.array_links, sid)[-1][2]
            tail = [self.model.successors(state)[pos]]
        name = ("invariant", "property", "reachable", "deadlock")[kind]
        self.findings.record(name, index, (sid, tail))  # type: ignore[arg-type]


def check(model: Model, options: Options) -> Result:
    """Search with the compiled engine; an evaluation error of the spec hands the search
    over to the scalar engine, which reports it (see the module doc)."""
    try:
        program = program_of(model)
        if program.source.check_types:
            typed_initial_states(model, program.source)
        return CompiledSearch(model, program, options).run()
    except CompiledEvalError as exc:
        raise HandOver(str(exc)) from None


def typed_initial_states(model: Model, source: CompiledSource) -> None:
    """Under ``check types on`` an initial state may hold a value outside its type,
    which has no packed form: the scalar engine then runs the search (and reports the
    violation of TypeOK)."""
    try:
        states = model.initial_states()
    except EvalError as exc:
        raise CompiledEvalError(exc.message) from None
    if any(source.layout.decode(source.layout.encode(s)) != s for s in states):
        raise CompiledEvalError("an initial state holds a value outside its type")


ENGINE = Engine(name="compiled", check=check, program=PROGRAM,
                summary="the search as machine code, with numba")
