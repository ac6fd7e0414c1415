"""The compiled engine: the whole breadth-first search as machine code (LLVM).

:mod:`pyspec.codegen.compiled` turns a model into a Python module over packed states
(successors, checks, and the search loop itself); :mod:`pyspec.codegen.lower_llvm` lowers
it to LLVM IR and :mod:`explorer.engine.machine_code` compiles that once and caches the
object code on disk, in a private directory under the user's cache directory, keyed by the
generated source and the arguments' kinds. A second run of the same spec only loads it.

The search is the scalar engine's loop (:class:`explorer.engine.scalar.ScalarSearch`) state
by state, so every count, cut, verdict and coverage figure is the scalar engine's: the
compiled loop runs a chunk of states at a time and returns to Python between chunks,
which looks at the limits (``--timeout``, ``--max-memory``, Ctrl-C), moves to the next
BFS level, grows the arrays (the seen-state table is rehashed into a larger one)
and turns the violations and witnesses the chunk met into trace anchors. Initial states
are generated and checked by the scalar model, exactly as the scalar engine does.

The store (:mod:`pyspec.codegen.compiled_search`): every state in BFS order as a row of
bytes (each packed word in the bytes its bit fields need; words of nothing but sets'
bitmasks interned, each distinct value held once and named in the row by an id), a
seen-state table of ``uint32`` state ids with spare hash bits (or with ``--fingerprint``
of 64-bit fingerprints, the rows then a window from the next state to expand on), and per
state the number of children it added and its position in its parent's successor list
(``uint8`` when a state has fewer than 256 successors). The frontier is a range of the
rows. An exact table grows by half beyond a load of 0.7, rebuilt from the rows; a
fingerprint table by a fifth beyond 0.85, refilled from the old table. ``store_bytes`` is
every one of these arrays' ``nbytes``; with fingerprints the rows (the frontier window)
and the interned values are left out of it and reported apart, as ``queue_bytes``. A
trace is rebuilt by replaying the scalar model along the parent links. An evaluation
error of the spec in compiled code raises :class:`~explorer.engine.interface.HandOver`:
the scalar engine reruns the search and reports it.
"""

from __future__ import annotations

import importlib.util
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
from pyspec import private_cache
from pyspec.codegen.compiled import CompiledEvalError, CompiledSource
from pyspec.codegen.compiled_search import COUNTERS, ID_BYTES, INTERN_LOAD, row_format
from pyspec.codegen.lower_llvm import LoweringError
from pyspec.layout import Layout
from pyspec.model import EvalError, Model, NoProgram

#: States the compiled loop explores between two returns to Python.
CHUNK_STATES = 1 << 15
#: The store of states grows by this factor.
STORE_GROWTH = 1.125


@dataclass(frozen=True)
class Growth:
    """How a seen-state table and the parent links grow: the table beyond ``max_load``
    by ``factor`` (so its load stays between ``max_load / factor`` and ``max_load``), the
    links by ``links``."""

    max_load: float
    factor: float
    links: float
    #: Whether the load is counted before a state is expanded (which adds a few states,
    #: seldom its maximum) rather than after its most successors.
    before_expansion: bool

    def limit(self, slots: int, max_successors: int) -> int:
        """The most states a table of ``slots`` slots holds before it grows: the compiled
        loop expands a state only while ``count + max successors`` is at most this. One
        slot always stays empty (a probe stops at an empty slot)."""
        room = max_successors if self.before_expansion else 0
        return min(int(slots * self.max_load) + room, slots - 1)


#: An exact table: 4-byte slots, rebuilt from the rows when it grows.
EXACT = Growth(max_load=0.7, factor=1.5, links=STORE_GROWTH, before_expansion=False)
#: A fingerprint table (8-byte slots: a probe run is a cache line or two at these loads,
#: 9.4 to 11.3 bytes per state): fingerprints and parent links (what TLC keeps as its
#: FPSet and trace file) stay within 16 bytes per state.
FINGERPRINTS = Growth(max_load=0.85, factor=1.2, links=1.0625, before_expansion=True)
#: The largest table: a slot's index is a 32-bit hash times its size, in an int64.
MAX_SLOTS = 1 << 31
#: Status codes of the compiled loop.
_DONE, _CHUNK, _STOP, _LEVEL, _GROW = range(5)
#: Slots of the counter array the compiled loop shares with Python.
(_COUNT, _TOTAL, _HEAD, _LEVEL_NO, _LEVEL_END, _BASE, _IDBITS, _CUT, _STOPPED, _NEVENTS,
 _KEEP, _DEADLOCK, _MAX_DEPTH, _CAP, _TABLE_LIMIT, _FP, _MAX_SUCC, _INTERNED,
 _INTERN_LIMIT) = range(COUNTERS)
#: States per block of the running sums that find a state's parent (trace replay).
_BLOCK = 4096
#: The kind of program this engine runs (``Model.programs``).
PROGRAM = "compiled"
#: The same code without state values (each def computed where it is read): the search
#: again when a state value fails to evaluate where no check reads it.
PLAIN_PROGRAM = "compiled-plain"


def llvmlite_available() -> bool:
    """Whether llvmlite can be imported (a dependency, but the other engines run
    without it)."""
    return importlib.util.find_spec("llvmlite") is not None


def cache_dir() -> Path:
    """The private directory of machine code of generated modules."""
    return private_cache.cache_dir() / "compiled"


@dataclass
class CompiledProgram:
    """A model's machine code, loaded."""

    source: CompiledSource
    module: MachineModule
    #: Seconds spent generating, compiling (or loading from the cache) the code.
    compile_s: float


_PROGRAMS: WeakKeyDictionary[Model, dict[str, CompiledProgram]] = WeakKeyDictionary()
_MODULES: dict[tuple[str, str], MachineModule] = {}


def generated_source(model: Model, name: str = PROGRAM) -> CompiledSource:
    """The generated module of a model made from a spec file (NoProgram otherwise)."""
    if not llvmlite_available():
        raise NoProgram("llvmlite is not installed")
    source = model.programs.get(name)
    assert isinstance(source, CompiledSource)
    return source


def entry_signatures(source: CompiledSource) -> Signatures:
    """The kinds of arguments every entry point of the module is called with: the arrays
    this engine and :mod:`explorer.walk_code` pass."""
    words = source.layout.words
    a = _Store(source.layout, source.max_successors, 1, 1, 1)
    ctr = np.zeros(COUNTERS, dtype=np.int64)
    live = np.zeros(1, dtype=np.int64)
    state = (0,) * words
    return signatures([
        Entry("search", _search_arguments(a, ctr, live, 0, np.zeros((1, 4), dtype=np.int64))),
        Entry("put", (a.rows, a.ivals, a.itable, ctr, a.sbuf, 0)),
        Entry("seed", (a.rows, a.ivals, a.table, a.ftable, ctr, 0, 0)),
        *([Entry("reintern", (a.ivals, a.itable, 0))] if a.format.interned else []),
        Entry("refill", (a.ftable, a.ftable)),
        Entry("successors", (a.consts, *state, a.sbuf, a.abuf)),
        Entry("check_invariant", (a.consts, 0, *state)),
        Entry("check_reachable", (a.consts, 0, *state)),
        Entry("check_property", (a.consts, 0, *state, *state)),
        Entry("constraints", (a.consts, *state)),
    ])


def _module_key(source: CompiledSource, entries: Signatures) -> tuple[str, str]:
    """The key of a loaded module in this process: its source and its arguments' kinds."""
    return source.source, repr(entries)


def is_compiled(source: CompiledSource) -> bool:
    """Whether the machine code of a generated module is loaded or in the cache (a run
    would not pay the compile time)."""
    entries = entry_signatures(source)
    return (_module_key(source, entries) in _MODULES
            or machine_code.is_cached(cache_dir(), source.source, entries))


def program_of(model: Model, name: str = PROGRAM) -> CompiledProgram:
    """The model's compiled program ``name`` (generated, compiled or loaded from the
    cache once per process)."""
    if name in _PROGRAMS.get(model, {}):
        return _PROGRAMS[model][name]
    t0 = time.monotonic()
    source = generated_source(model, name)
    entries = entry_signatures(source)
    key = _module_key(source, entries)
    if key not in _MODULES:
        try:
            _MODULES[key] = machine_code.load(cache_dir(), source.source, entries)
        except LoweringError as exc:
            raise NoProgram(f"its generated code is outside what is lowered ({exc})") from None
    program = CompiledProgram(source, _MODULES[key], time.monotonic() - t0)
    _PROGRAMS.setdefault(model, {})[name] = program
    return program


def link_dtype(max_succ: int) -> type:
    """The smallest unsigned type of a position in a successor list (and of a count of
    children)."""
    for dtype in (np.uint8, np.uint16):
        if max_succ <= np.iinfo(dtype).max:
            return dtype
    return np.uint32


class _Store:
    """What the compiled loop reads and writes besides the counters: the state store and
    its seen-state table (see :mod:`pyspec.codegen.compiled_search`), and coverage."""

    def __init__(self, layout: Layout, max_succ: int, n_actions: int, n_groups: int,
                 groups_per_action: int) -> None:
        self.format = row_format(layout)
        rows = max(1024, 2 * max_succ)
        self.rows = np.zeros((rows, self.format.row_bytes), dtype=np.uint8)
        #: The interned words' distinct values and their table (one entry each when no
        #: word is interned, so that every model runs one compiled function).
        self.ivals = np.zeros((1, max(1, len(self.format.interned))), dtype=np.int64)
        self.itable = np.zeros(1, dtype=np.uint32)
        #: Exact table (``uint32`` ids) and fingerprint table; the one not in use has one
        #: slot, so that both modes run one compiled function.
        self.table = np.zeros(1, dtype=np.uint32)
        self.ftable = np.full(1, -1, dtype=np.int64)
        self.kids = np.zeros(rows, dtype=link_dtype(max_succ))
        self.vias = np.zeros(rows, dtype=link_dtype(max_succ))
        #: The initial states' positions among the initial states (none has a parent).
        self.initial_vias = np.zeros(0, dtype=np.int64)
        self.fired = np.zeros(max(1, n_actions), dtype=np.int64)
        self.enabled = np.zeros_like(self.fired)
        self.new = np.zeros_like(self.fired)
        self.stamp = np.full_like(self.fired, -1)
        self.group_of = np.full((len(self.fired), max(1, groups_per_action)), -1,
                                dtype=np.int64)
        self.genab = np.zeros(max(1, n_groups), dtype=np.int64)
        self.gstamp = np.full_like(self.genab, -1)
        self.sbuf = np.zeros((max_succ, layout.words), dtype=np.int64)
        self.abuf = np.zeros(max_succ, dtype=np.int64)
        #: Each successor's key and slot hash, computed (and its slot prefetched) before
        #: the successors are looked up one by one.
        self.hbuf = np.zeros((max_succ, 3), dtype=np.int64)
        self.consts = np.zeros(1, dtype=np.int64)

    @property
    def nbytes(self) -> int:
        """Every array the store holds per state: rows, tables, parent links."""
        return sum(a.nbytes for a in (self.rows, self.ivals, self.itable, self.table,
                                      self.ftable, self.kids, self.vias, self.initial_vias))

    def grow(self, name: str, length: int) -> None:
        """Array ``name`` with ``length`` rows, the new ones zero. In place where nothing
        else refers to it: ``realloc`` moves a large block's pages instead of copying
        them, so the pages a search grows into are written once (a copy into a new
        array has the kernel zero and numpy write the whole array again at every step of
        growth, nine times the final size at a growth of 1.125)."""
        shape = (length, *getattr(self, name).shape[1:])
        try:
            getattr(self, name).resize(shape)
        except ValueError:  # a view of it is alive: copied instead
            old = getattr(self, name)
            grown = np.zeros(shape, dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)

    def sizes(self, fingerprints: bool) -> tuple[int, int | None]:
        """``store_bytes`` and ``queue_bytes`` of the result. Exact: every array, and no
        queue of its own (the frontier is a range of the rows). Fingerprints: every array
        but the rows, and the rows with their interned values, a window of the frontier
        kept apart from the seen set (as TLC's queue of states to expand is); it only
        grows, so this is its peak."""
        if not fingerprints:
            return self.nbytes, None
        queue = self.rows.nbytes + self.ivals.nbytes + self.itable.nbytes
        return self.nbytes - queue, queue


def _search_arguments(a: _Store, ctr: np.ndarray, live: np.ndarray, budget: int,
                      events: np.ndarray) -> tuple:
    return (a.consts, a.rows, a.ivals, a.itable, a.table, a.ftable, a.kids, a.vias, ctr,
            live, a.fired, a.enabled, a.new, a.group_of, a.genab, a.stamp, a.gstamp, events,
            a.sbuf, a.abuf, a.hbuf, budget)


def _call(module: MachineModule, a: _Store, ctr: np.ndarray, live: np.ndarray,
          budget: int, events: np.ndarray) -> int:
    return int(module.search(*_search_arguments(a, ctr, live, budget, events)))


class _StoreLinks:
    """Parent links of the compiled store, for trace replay: a state's children have
    consecutive ids, so its parent is found from the running sum of ``kids``."""

    def __init__(self, search: CompiledSearch) -> None:
        self.search = search

    def chain(self, sid: int) -> list[int]:
        a = self.search.a
        first = len(a.initial_vias)
        kids = a.kids[: self.search.count]
        starts = np.arange(0, len(kids), _BLOCK)
        ends = np.cumsum(np.add.reduceat(kids, starts, dtype=np.int64)) if len(kids) else []
        chain = [sid]
        while sid >= first:
            t = sid - first  # children of states before the parent
            k = int(np.searchsorted(ends, t, side="right"))
            block = np.cumsum(kids[k * _BLOCK: (k + 1) * _BLOCK], dtype=np.int64)
            before = int(ends[k - 1]) if k else 0
            sid = k * _BLOCK + int(np.searchsorted(block + before, t, side="right"))
            chain.append(sid)
        return chain[::-1]

    def via(self, sid: int) -> int:
        a = self.search.a
        return int(a.initial_vias[sid] if sid < len(a.initial_vias) else a.vias[sid])


class CompiledSearch(ScalarSearch):
    """The scalar engine's search, its loop compiled; see the module doc."""

    def __init__(self, model: Model, program: CompiledProgram, options: Options) -> None:
        super().__init__(model, options)
        assert self.symmetry is None, "the registry runs symmetric models elsewhere"
        self.program = program
        self.module = program.module
        self.layout = program.source.layout
        self.fingerprints = options.fingerprint and self.layout.words > 1
        self.growth = FINGERPRINTS if self.fingerprints else EXACT
        src = program.source
        cov = self.coverage
        self.a = _Store(self.layout, src.max_successors, len(model.actions), len(cov.groups),
                        max((len(g) for g in cov.groups_of), default=0))
        for a, groups in enumerate(cov.groups_of):
            self.a.group_of[a, : len(groups)] = groups
        self.a.consts = np.array(src.constants + (0,), dtype=np.int64)
        self.ctr = np.zeros(COUNTERS, dtype=np.int64)
        self.ctr[_KEEP] = self.findings.keep_going
        self.ctr[_DEADLOCK] = self.findings.check_deadlock
        self.ctr[_MAX_DEPTH] = -1 if options.max_depth is None else options.max_depth
        self.ctr[_CAP] = min(self.cap, 2**62)
        self.ctr[_FP] = self.fingerprints
        self.ctr[_MAX_SUCC] = src.max_successors
        self._new_table(1 << 12)
        n_checks = src.invariants + src.properties + src.reachables
        self.live = np.ones(n_checks + 1, dtype=np.int64)
        self.events = np.zeros((n_checks + 1, 4), dtype=np.int64)
        self.count = 0
        #: The initial states are in the compiled store (before: the scalar engine's).
        self.handed_over = False
        self.array_links = _StoreLinks(self)

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
        setup = Setup("compiled", self.fingerprints, None, *self.a.sizes(self.fingerprints))
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
        words = np.array([self.layout.encode(s) for s in states],
                         dtype=np.int64).reshape(n, self.layout.words)
        self._ensure(n)
        a = self.a
        self.module.put(a.rows, a.ivals, a.itable, self.ctr, words, 0)
        a.initial_vias = np.asarray(self.links.position, dtype=np.int64)
        self.module.seed(a.rows, a.ivals, a.table, a.ftable, self.ctr, 0, n)
        self.count = n
        self.ctr[_COUNT] = n
        self.ctr[_TOTAL] = self.total
        self.ctr[_LEVEL_NO] = self.queue.levels.level
        self.ctr[_LEVEL_END] = self.queue.levels.level_end
        self.handed_over = True

    def _new_table(self, slots: int) -> None:
        """An empty seen-state table of ``slots`` slots (the old one dropped first)."""
        a, c = self.a, self.ctr
        if self.fingerprints:
            a.ftable = np.full(slots, -1, dtype=np.int64)
        else:
            a.table = np.zeros(0, dtype=np.uint32)
            a.table = np.zeros(slots, dtype=np.uint32)
            c[_IDBITS] = slots.bit_length()  # an id + 1 is at most the table's load
        c[_TABLE_LIMIT] = self.growth.limit(slots, int(c[_MAX_SUCC]))

    def _ensure(self, extra: int) -> None:
        """Room for ``extra`` more states in the table, the store and the parent links.
        An exact table is rebuilt from the store, a fingerprint table from the old one."""
        self._ensure_interned(extra)
        a, c, need = self.a, self.ctr, self.count + extra
        if need > c[_TABLE_LIMIT]:
            slots = len(a.ftable if self.fingerprints else a.table)
            while need > self.growth.limit(slots, int(c[_MAX_SUCC])):
                slots = int(slots * self.growth.factor)
            if slots > MAX_SLOTS:
                raise MemoryError("the seen-state table would exceed 2**31 slots")
            old = a.ftable
            self._new_table(slots)
            if self.fingerprints:
                self.module.refill(old, a.ftable)
            else:
                self.module.seed(a.rows, a.ivals, a.table, a.ftable, c, 0, self.count)
        base = int(c[_BASE])
        if need - base > len(a.rows):
            head = int(c[_HEAD])
            if self.fingerprints and head - base >= len(a.rows) // 4:
                self._slide()
                base = head
        if need - base > len(a.rows):
            a.grow("rows", max(need - base, int(len(a.rows) * STORE_GROWTH)))
        if need > len(a.vias):
            size = max(need, int(len(a.vias) * self.growth.links))
            a.grow("kids", size)
            a.grow("vias", size)

    def _ensure_interned(self, extra: int) -> None:
        """Room for ``extra`` more interned values (each new state adds at most one):
        ``ivals`` grows in place, its table doubles and is refilled from it."""
        a, c = self.a, self.ctr
        need = int(c[_INTERNED]) + extra
        if not a.format.interned or need <= c[_INTERN_LIMIT]:
            return
        if need >= 1 << (8 * ID_BYTES):
            raise MemoryError("the interned values would outgrow their ids")
        slots = len(a.itable)
        if need > slots * INTERN_LOAD:
            while need > slots * INTERN_LOAD:
                slots *= 2
            a.itable = np.zeros(slots, dtype=np.uint32)
            self.module.reintern(a.ivals, a.itable, int(c[_INTERNED]))
        if need > len(a.ivals):
            a.grow("ivals", max(need, int(len(a.ivals) * STORE_GROWTH)))
        c[_INTERN_LIMIT] = min(int(slots * INTERN_LOAD), len(a.ivals))

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
        """The states just found become the frontier (the scalar engine's level step):
        a range of the store, nothing is copied. With fingerprints the window of the
        store drops the level just expanded."""
        c = self.ctr
        c[_LEVEL_NO] += 1
        c[_LEVEL_END] = c[_COUNT]
        if self.fingerprints:
            self._slide()

    def _slide(self) -> None:
        """Fingerprints: the store keeps only the states from the next to expand on."""
        c, rows = self.ctr, self.a.rows
        base, head = int(c[_BASE]), int(c[_HEAD])
        rows[: self.count - head] = rows[head - base: self.count - base]
        c[_BASE] = head

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
    over to the scalar engine, which reports it (see the module doc). A program with
    state values, computed before the checks ask for them, may fail where no check
    reads them: it searches again without them first."""
    try:
        program = program_of(model)
        if program.source.check_types:
            typed_initial_states(model, program.source)
        try:
            return CompiledSearch(model, program, options).run()
        except CompiledEvalError:
            if not program.source.state_values:
                raise
        return CompiledSearch(model, program_of(model, PLAIN_PROGRAM), options).run()
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
                summary="the search as machine code, with LLVM")
