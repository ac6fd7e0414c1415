"""Breadth-first exhaustive search with TLC's counting rules.

``check(model, options) -> Result`` is the one entry point; other backends (a numpy
frontier, fingerprints, several workers) can slot in behind the same signature.

The store is a dict from state to id plus flat arrays indexed by id: the parent id and
the position of the state in its parent's successor list. Ids are handed out in BFS
order, so the list of states *is* the queue, and a trace is rebuilt by walking parents
and asking each parent for its successors again. Nothing in the loop formats text or
builds per-state objects; labels are made only for the few states that end up in a
trace. The engine prints nothing: it reports progress through a callback.
"""

from __future__ import annotations

import resource
import sys
import time
from array import array
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from explorer.fingerprint import StateFingerprint, collision_probability
from explorer.result import (
    ActionCoverage,
    Coverage,
    EvalFailure,
    KernelCoverage,
    PropertyKind,
    PropertyVerdict,
    Result,
    Stats,
    StopReason,
    Trace,
    Verdict,
)
from explorer.traces import RawStep, describe_trace
from pyspec.errors import ModelConfigError
from pyspec.model import ActionInfo, Check, Model, State
from pyspec.symmetry import Symmetry, symmetric_sets


@dataclass(frozen=True)
class Progress:
    distinct_states: int
    total_states: int
    depth: int
    queue: int
    elapsed_s: float


class Observer(Protocol):
    """Sees every stored state and every generated transition, for graphs and views.

    ``next_id`` is -1 for a successor that is not stored (outside a constraint or past
    ``max_depth``). Observers run inside the model's error handling, so they may call
    model code (views, invariants).
    """

    def state(self, sid: int, state: State, level: int) -> None: ...

    def edge(
        self, sid: int, state: State, action: int, params: tuple, next_id: int, next_state: State
    ) -> None: ...


@dataclass
class Options:
    #: Collect one trace per violated property instead of stopping at the first.
    #: Forced on when the model expects violations, so that every property is judged.
    keep_going: bool = False
    #: ``None``: the model's own ``check_deadlock``.
    check_deadlock: bool | None = None
    max_states: int | None = None
    max_depth: int | None = None
    timeout_s: float | None = None
    max_memory_mb: float | None = None
    progress: Callable[[Progress], None] | None = None
    progress_interval_s: float = 2.0
    observer: Observer | None = None
    #: ``scalar`` (one state at a time, every state stored whole), ``numpy`` (a whole BFS
    #: level at a time as array code) or ``auto`` (numpy for large specs it supports).
    backend: str = "auto"
    #: Worker processes, each owning a share of the fingerprint space (numpy backend).
    workers: int = 1
    #: Store 64-bit fingerprints instead of whole states (traces are replayed).
    fingerprint: bool = False
    #: Symmetry reduction over the model's ``symmetric`` sets: None = when it declares
    #: some (TLC's rule: on when configured), False = off.
    symmetry: bool | None = None


#: Dequeued states between two looks at the clock; every tenth look also reads the RSS.
POLL_EVERY = 1000

#: Where a violation's trace hangs off the store: a stored state's id (-1: none) and the
#: raw transitions after it.
_Anchor = tuple[int, list[RawStep]]


#: Per kind: the verdict when a state was found, when none was, and the "bad" verdict.
_OUTCOMES: dict[PropertyKind, tuple[Verdict, Verdict, Verdict]] = {
    "invariant": ("violated", "holds", "violated"),
    "property": ("violated", "holds", "violated"),
    "deadlock": ("violated", "holds", "violated"),
    "reachable": ("reachable", "unreachable", "unreachable"),
}


def _opposite(bad: Verdict) -> Verdict:
    return "reachable" if bad == "unreachable" else "holds"


def check(model: Model, options: Options | None = None) -> Result:
    """Explore every reachable state of ``model`` (or until a limit) and report verdicts."""
    from explorer.backends import run_search

    validate_expectations(model)
    return run_search(model, options or Options())


def check_scalar(model: Model, options: Options) -> Result:
    """The scalar engine: one state at a time, every state stored whole."""
    return _Search(model, options).run()


def validate_expectations(model: Model) -> None:
    """A misspelt expectation would otherwise be silently ignored."""
    known = {c.name for c in (*model.invariants, *model.action_properties, *model.reachables)}
    known.add("deadlock")
    unknown = sorted(set(model.expect_violated) - known)
    if unknown:
        raise ModelConfigError(
            f"model {model.name!r} expects unknown properties to be violated: "
            + ", ".join(unknown)
        )


def symmetry_notes(model: Model, sets: tuple[str, ...]) -> list[str]:
    """Where the spec does not mix with symmetry reduction over ``sets``."""
    from pyspec import symmetry
    from pyspec.codegen.arrays import spec_of

    spec = spec_of(model)
    if spec is None:
        return []
    return symmetry.warnings(spec.checked, sets)  # type: ignore[attr-defined]


def rss_mb() -> float:
    """Resident memory now (Linux), else the peak: an earlier model's peak in the same
    process must not stop the next model's search."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def kernel_of(info: ActionInfo) -> str | None:
    tag = info.tag("kernel")
    return str(tag.args[0]) if tag is not None and tag.args else None


class _Search:
    def __init__(self, model: Model, options: Options) -> None:
        self.model = model
        self.options = options
        self.keep_going = options.keep_going or bool(model.expect_violated)
        self.check_deadlock = (
            model.check_deadlock if options.check_deadlock is None else options.check_deadlock
        )
        #: First violation (or witness) of each (kind, index), in BFS order: the shortest.
        self.found: dict[tuple[PropertyKind, int], _Anchor] = {}
        self.ids: dict[State, int] = {}
        self.states: list[State] = []
        self.parent = array("q")
        self.via = array("q")
        n = len(model.actions)
        self.enabled = [0] * n
        self.fired = [0] * n
        self.new = [0] * n
        kernels = [kernel_of(a) for a in model.actions]
        self.kernels = sorted({k for k in kernels if k is not None})
        self.group_of = [-1 if k is None else self.kernels.index(k) for k in kernels]
        self.group_enabled = [0] * len(self.kernels)
        self.total = 0
        self.level = 0
        self.level_end = 0
        self.head = 0
        self.cut_by_depth = False
        self.stopped: StopReason | None = None
        self.error: tuple[BaseException, _Anchor] | None = None
        self.live_inv = list(enumerate(c.fn for c in model.invariants))
        self.live_props = list(enumerate(c.fn for c in model.action_properties))
        self.live_reach = list(enumerate(c.fn for c in model.reachables))
        self.constraints = [c.fn for c in model.constraints]
        self.cap = sys.maxsize if options.max_states is None else options.max_states
        self.t0 = 0.0
        self.backend = "scalar"
        #: What the user should know about how the search ran (a fallback, a warning).
        self.notes: list[str] = []
        #: Seen states by 64-bit fingerprint (:class:`StateFingerprint`): a state is kept
        #: only until it is explored, and traces are replayed.
        self.fingerprints = options.fingerprint
        self.fingerprint_of = StateFingerprint(getattr(model, "var_types", None)).of
        if self.fingerprints and options.observer is not None:
            raise ModelConfigError("--fingerprint keeps no states for diagrams to draw")
        #: Symmetric sets permuted; states are stored canonical (:mod:`pyspec.symmetry`).
        self.symmetry: Symmetry | None = None
        sets = symmetric_sets(model, options.symmetry)
        if sets and options.observer is not None:
            self.notes.append("symmetry reduction is off: diagrams draw every state")
        elif sets:
            try:
                self.symmetry = Symmetry(model.var_types, sets)  # type: ignore[attr-defined]
            except ValueError as exc:
                raise ModelConfigError(f"symmetry reduction cannot rename {exc}") from None
            self.notes.extend(symmetry_notes(model, tuple(sorted(sets))))

    def run(self) -> Result:
        self.t0 = time.monotonic()
        try:
            if self._initial():
                self._explore()
        except KeyboardInterrupt:
            self.stopped = "interrupted"
        except MemoryError:
            self.stopped = "max_memory"
        if self.stopped is None and self.cut_by_depth:
            self.stopped = "max_depth"
        return self._result(time.monotonic() - self.t0)

    # -- the search ------------------------------------------------------------------

    def _violated(self, kind: PropertyKind, index: int, anchor: _Anchor) -> bool:
        """Record a violation; True when the search must stop here."""
        self.found.setdefault((kind, index), anchor)
        if kind == "invariant":
            self.live_inv = [x for x in self.live_inv if x[0] != index]
        elif kind == "property":
            self.live_props = [x for x in self.live_props if x[0] != index]
        if self.keep_going:
            return False
        self.stopped = "violation"
        return True

    def _check_new(self, sid: int, a: int | None, params: tuple, t: State) -> bool:
        """Invariants and witnesses on a state generated for the first time, reached from
        stored state ``sid`` (-1: an initial state) by ``a``; True = stop."""
        stop = False
        for k, fn in self.live_inv:
            if not fn(t):
                stop = self._violated("invariant", k, (sid, [(a, params, t)])) or stop
        for k, fn in self.live_reach:
            if fn(t):
                self.found[("reachable", k)] = (sid, [(a, params, t)])
                self.live_reach = [x for x in self.live_reach if x[0] != k]
        return stop

    def _stored(self) -> int:
        """Distinct states stored so far."""
        return len(self.states)

    def _full(self) -> bool:
        if self._stored() >= self.cap:
            self.stopped = "max_states"
            return True
        return False

    def _store(self, t: State, parent: int, via: int) -> int:
        tid = len(self.states)
        self.ids[self.fingerprint_of(t) if self.fingerprints else t] = tid
        self.states.append(t)
        self.parent.append(parent)
        self.via.append(via)
        return tid

    def _initial(self) -> bool:
        """Generate, check and store the initial states; False when the search must stop."""
        observer = self.options.observer
        try:
            inits = list(self.model.initial_states())
        except Exception as exc:
            self.error = (exc, (-1, []))
            return False
        t = None
        try:
            for i, t in enumerate(inits):
                self.total += 1
                c = t if self.symmetry is None else self.symmetry.canonical(t)
                if (self.fingerprint_of(c) if self.fingerprints else c) in self.ids:
                    continue
                if self._check_new(-1, None, (), t):
                    return False
                if not all(c(t) for c in self.constraints):
                    continue
                if self._full():
                    return False
                tid = self._store(c, -1, i)
                if observer is not None:
                    observer.state(tid, t, 1)
        except Exception as exc:
            self.error = (exc, (-1, [] if t is None else [(None, (), t)]))
            return False
        self.level = 1
        self.level_end = len(self.states)
        return True

    def _poll(self, polls: int, last_progress: float) -> float:
        """Limits and progress, looked at every POLL_EVERY states; returns the progress time."""
        opts = self.options
        now = time.monotonic()
        if opts.timeout_s is not None and now - self.t0 >= opts.timeout_s:
            self.stopped = "timeout"
        elif opts.max_memory_mb is not None and polls % 10 == 0 and rss_mb() > opts.max_memory_mb:
            self.stopped = "max_memory"
        if opts.progress is not None and now - last_progress >= opts.progress_interval_s:
            opts.progress(self._progress(now))
            return now
        return last_progress

    def _progress(self, now: float) -> Progress:
        stored = self._stored()
        return Progress(stored, self.total, self.level, stored - self.head, now - self.t0)

    def _explore(self) -> None:
        """The hot loop: locals only, no per-successor objects, one frame."""
        model = self.model
        successors = model.successors
        ids, states = self.ids, self.states
        add_state, add_parent, add_via = states.append, self.parent.append, self.via.append
        check_new = self._check_new
        enabled, fired, new = self.enabled, self.fired, self.new
        group_of, group_enabled = self.group_of, self.group_enabled
        constraints = self.constraints
        observer = self.options.observer
        max_depth = self.options.max_depth
        cap = self.cap
        fingerprints = self.fingerprints
        fingerprint_of = self.fingerprint_of
        canonical = None if self.symmetry is None else self.symmetry.canonical
        stamp = [-1] * len(enabled)
        gstamp = [-1] * len(group_enabled)
        next_poll = POLL_EVERY
        polls = 0
        last_progress = self.t0
        while self.head < len(states):
            sid = self.head
            if sid == self.level_end:
                self.level += 1
                self.level_end = len(states)
            if sid >= next_poll:
                next_poll = sid + POLL_EVERY
                polls += 1
                last_progress = self._poll(polls, last_progress)
                if self.stopped:
                    return
            s = states[sid]
            self.head = sid + 1
            if fingerprints:
                states[sid] = None
            try:
                succs = successors(s)
            except Exception as exc:
                self.error = (exc, (sid, []))
                return
            n = len(succs)
            self.total += n
            if not n and self.check_deadlock and self._violated("deadlock", 0, (sid, [])):
                return
            beyond = max_depth is not None and self.level >= max_depth
            level = self.level + 1
            props = self.live_props
            stop = False
            pos, a, params, t = -1, None, (), None
            try:
                for pos, (a, params, t) in enumerate(succs):
                    fired[a] += 1
                    if stamp[a] != sid:
                        stamp[a] = sid
                        enabled[a] += 1
                        g = group_of[a]
                        if g >= 0 and gstamp[g] != sid:
                            gstamp[g] = sid
                            group_enabled[g] += 1
                    if props:
                        for k, fn in props:
                            if not fn(s, t):
                                anchor = (sid, [(a, params, t)])
                                stop = self._violated("property", k, anchor) or stop
                        props = self.live_props
                        if stop:
                            break
                    c = t if canonical is None else canonical(t)
                    k = fingerprint_of(c) if fingerprints else c
                    if k in ids:
                        if observer is not None:
                            observer.edge(sid, s, a, params, ids[k], t)
                        continue
                    tid = -1
                    if beyond:
                        self.cut_by_depth = True
                    elif constraints and not all(c(t) for c in constraints):
                        stop = check_new(sid, a, params, t)
                    elif len(states) >= cap:
                        self.stopped = "max_states"
                        stop = True
                        break
                    else:
                        tid = len(states)
                        ids[k] = tid
                        add_state(c)
                        add_parent(sid)
                        add_via(pos)
                        new[a] += 1
                        if observer is not None:
                            observer.state(tid, t, level)
                        stop = check_new(sid, a, params, t)
                    if observer is not None:
                        observer.edge(sid, s, a, params, tid, t)
                    if stop:
                        break
            except Exception as exc:
                self.error = (exc, (sid, [] if t is None else [(a, params, t)]))
                return
            if stop:
                # Successors after the one that stopped the search were never looked at.
                self.total -= n - pos - 1
                return

    # -- the result ------------------------------------------------------------------

    def _depth(self) -> int:
        stored = self._stored()
        if not stored:
            return 0
        return self.level + (1 if stored > self.level_end else 0)

    def _trace(self, anchor: _Anchor | None) -> Trace | None:
        if anchor is None:
            return None
        sid, tail = anchor
        raw = self._path(sid) + tail
        return describe_trace(self.model, raw if self.symmetry is None else self._genuine(raw))

    def _genuine(self, raw: list[RawStep]) -> list[RawStep]:
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

    def _chain(self, sid: int) -> list[int]:
        """Stored state ids from an initial state to ``sid``."""
        chain: list[int] = []
        while sid >= 0:
            chain.append(sid)
            sid = int(self.parent[sid])
        return chain[::-1]

    def _via(self, sid: int) -> int:
        """Where stored state ``sid`` sits in its parent's successors (for an initial state:
        in the initial states)."""
        return self.via[sid]

    def _path(self, sid: int) -> list[RawStep]:
        """The transitions from an initial state to stored state ``sid``, replayed: each
        state is a parent's successor at a stored position (parents canonical under
        symmetry, as they were explored)."""
        raw: list[RawStep] = []
        state = None
        for n in self._chain(sid):
            if state is None:
                state = list(self.model.initial_states())[self._via(n)]
                raw.append((None, (), state))
            else:
                parent = state if self.symmetry is None else self.symmetry.canonical(state)
                a, params, state = self.model.successors(parent)[self._via(n)]
                raw.append((a, params, state))
        return raw

    def _verdicts(self) -> list[PropertyVerdict]:
        m = self.model
        complete = self.stopped is None
        out: list[PropertyVerdict] = []
        groups: list[tuple[PropertyKind, tuple[Check | None, ...]]] = [
            ("invariant", m.invariants),
            ("property", m.action_properties),
            ("deadlock", (None,) if self.check_deadlock else ()),
            ("reachable", m.reachables),
        ]
        for kind, checks in groups:
            found, missing, bad = _OUTCOMES[kind]
            for k, c in enumerate(checks):
                name = c.name if c is not None else "deadlock"
                anchor = self.found.get((kind, k))
                out.append(
                    PropertyVerdict(
                        name=name,
                        kind=kind,
                        verdict=found if anchor is not None else missing if complete else "unknown",
                        expected=bad if name in m.expect_violated else _opposite(bad),
                        trace=self._trace(anchor),
                        doc=c.doc if c is not None else "",
                        tags=c.tags if c is not None else (),
                        pos=c.pos if c is not None else None,
                    )
                )
        return out

    def _coverage(self) -> Coverage:
        acts = self.model.actions
        actions = [
            ActionCoverage(a.name, kernel_of(a), self.enabled[i], self.fired[i], self.new[i])
            for i, a in enumerate(acts)
        ]
        kernel = []
        for g, name in enumerate(self.kernels):
            members = [i for i, x in enumerate(self.group_of) if x == g]
            kernel.append(
                KernelCoverage(
                    kernel=name,
                    actions=tuple(acts[i].name for i in members),
                    enabled=self.group_enabled[g],
                    fired=sum(self.fired[i] for i in members),
                    new=sum(self.new[i] for i in members),
                )
            )
        return Coverage(actions=actions, kernel=kernel)

    def _result(self, elapsed: float) -> Result:
        m = self.model
        stored = self._stored()
        stats = Stats(
            distinct_states=stored,
            total_states=self.total,
            depth=self._depth(),
            elapsed_s=elapsed,
            queue=stored - self.head,
            backend=self.backend,
            store_bytes=self._store_bytes(),
            seen_by="fingerprint" if self.fingerprints else "state",
            symmetry=self.symmetry.sets if self.symmetry is not None else (),
            collision_probability=collision_probability(stored, self.total)
            if self.fingerprints else None,
        )
        error: EvalFailure | None = None
        properties: list[PropertyVerdict] = []
        if self.error is not None:
            self.stopped = "error"
            exc, anchor = self.error
            error = self._failure(exc, anchor)
        try:
            properties = self._verdicts()
        except Exception as exc:
            self.stopped = "error"
            error = error or self._failure(exc, None)
        return Result(
            spec=m.spec_file,
            model=m.name,
            constants=dict(m.constants),
            stats=stats,
            stopped=self.stopped,
            properties=properties,
            coverage=self._coverage(),
            error=error,
            notes=list(self.notes),
        )

    def _store_bytes(self) -> int | None:
        """What the store of seen states takes, when the engine can tell."""
        return None

    def _failure(self, exc: BaseException, anchor: _Anchor | None) -> EvalFailure:
        info = self.model.explain_error(exc)
        try:
            trace = self._trace(anchor)
        except Exception:
            trace = None
        return EvalFailure(info.message, info.pos, trace)
