"""The scalar engine: one state at a time, the reference for every answer.

Parts: the seen-state keys of :mod:`explorer.engine.seen` (a dict from a state, or its
fingerprint, to its id), the :class:`~explorer.engine.frontier.StateQueue` (the list of
stored states in id order is the queue), :class:`~explorer.engine.links.ScalarLinks`
(parent id and position in the parent's successors), and
:class:`~explorer.engine.findings.Findings`. Nothing in the loop formats text or builds
per-state objects; labels are made only for the few states that end up in a trace.
"""

from __future__ import annotations

import sys

from explorer.engine.findings import CoverageCounts, Findings
from explorer.engine.fingerprint import exact_note
from explorer.engine.frontier import StateQueue
from explorer.engine.interface import Engine, Options, Progress
from explorer.engine.limits import POLL_EVERY, Limits
from explorer.engine.links import Anchor, ScalarLinks, TraceBuilder
from explorer.engine.outcome import Counts, Setup, assemble
from explorer.engine.reduction import reduction
from explorer.engine.seen import FingerprintKeys, StateKeys
from explorer.result import PropertyKind, Result, StopReason, Trace
from pyspec.errors import ModelConfigError
from pyspec.model import Model, State


def check(model: Model, options: Options) -> Result:
    """Explore every reachable state of ``model`` one at a time (or until a limit)."""
    return ScalarSearch(model, options).run()


ENGINE = Engine(name="scalar", check=check, program=None,
                summary="one state at a time")


class ScalarSearch:
    """One search; see the module doc."""

    def __init__(self, model: Model, options: Options) -> None:
        self.model = model
        self.options = options
        check_deadlock = (
            model.check_deadlock if options.check_deadlock is None else options.check_deadlock
        )
        self.findings: Findings[Anchor] = Findings(
            model, options.keep_going or bool(model.expect_violated), check_deadlock)
        self.coverage = CoverageCounts(model.actions)
        if options.fingerprint and options.observer is not None:
            raise ModelConfigError("--fingerprint keeps no states for diagrams to draw")
        self.keys = FingerprintKeys(model.var_types) if options.fingerprint else StateKeys()
        self.queue = StateQueue()
        self.links = ScalarLinks()
        self.symmetry, self.notes = reduction(model, options)
        if isinstance(self.keys, FingerprintKeys) and self.keys.exact_bits is not None:
            self.notes.append(exact_note(self.keys.exact_bits))
        self.traces = TraceBuilder(model, self.symmetry)
        self.constraints = [c.fn for c in model.constraints]
        self.cap = sys.maxsize if options.max_states is None else options.max_states
        self.total = 0
        self.cut_by_depth = False
        self.stopped: StopReason | None = None
        self.error: tuple[BaseException, Anchor] | None = None

    def run(self) -> Result:
        self.limits = Limits(self.options)
        try:
            with self.limits.guard():
                if self._initial():
                    self._explore()
        except KeyboardInterrupt:
            self.stopped = self.limits.stop_reason()
        except MemoryError:
            self.stopped = "max_memory"
        if self.stopped is None and self.cut_by_depth:
            self.stopped = "max_depth"
        elapsed = self.limits.elapsed()
        stored = len(self.queue)
        counts = Counts(stored, self.total, self.queue.levels.depth(stored),
                        stored - self.queue.head)
        setup = Setup("scalar", self.keys.seen_by == "fingerprint", self.symmetry)
        return assemble(self.model, setup, counts, elapsed, self.stopped, self.findings,
                        self.coverage, self.trace, self.error, self.notes)

    def trace(self, anchor: Anchor) -> Trace | None:
        return self.traces.trace(self.links, anchor)

    # -- the search ------------------------------------------------------------------

    def _violated(self, kind: PropertyKind, index: int, anchor: Anchor) -> bool:
        if self.findings.record(kind, index, anchor):
            self.stopped = "violation"
            return True
        return False

    def _check_new(self, sid: int, a: int | None, params: tuple, t: State) -> bool:
        """Invariants and witnesses on a state generated for the first time, reached from
        stored state ``sid`` (-1: an initial state) by ``a``; True = stop."""
        stop = False
        findings = self.findings
        for k, fn in findings.live_invariants:
            if not fn(t):
                stop = self._violated("invariant", k, (sid, [(a, params, t)])) or stop
        for k, fn in findings.live_reachables:
            if fn(t):
                findings.record("reachable", k, (sid, [(a, params, t)]))
        return stop

    def _full(self) -> bool:
        if len(self.queue) >= self.cap:
            self.stopped = "max_states"
            return True
        return False

    def _initial(self) -> bool:
        """Generate, check and store the initial states; False when the search must stop."""
        observer = self.options.observer
        ids, key = self.keys.ids, self.keys.key
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
                if (c if key is None else key(c)) in ids:
                    continue
                if self._check_new(-1, None, (), t):
                    return False
                if not all(c(t) for c in self.constraints):
                    continue
                if self._full():
                    return False
                tid = len(self.queue)
                ids[c if key is None else key(c)] = tid
                self.queue.states.append(c)
                self.links.parent.append(-1)
                self.links.position.append(i)
                if observer is not None:
                    observer.state(tid, t, 1)
        except Exception as exc:
            self.error = (exc, (-1, [] if t is None else [(None, (), t)]))
            return False
        self.queue.levels.start(1, len(self.queue))
        return True

    def _progress(self, elapsed: float) -> Progress:
        stored = len(self.queue)
        return Progress(stored, self.total, self.queue.levels.level, stored - self.queue.head,
                        elapsed)

    def _explore(self) -> None:
        """The hot loop: locals only, no per-successor objects, one frame."""
        model = self.model
        successors = model.successors
        queue, levels, findings = self.queue, self.queue.levels, self.findings
        ids, key = self.keys.ids, self.keys.key
        states = queue.states
        drop_explored = not self.keys.keeps_states
        add_state = states.append
        add_parent, add_via = self.links.parent.append, self.links.position.append
        check_new = self._check_new
        cov = self.coverage
        enabled, fired, new = cov.enabled, cov.fired, cov.new
        groups_of, group_enabled = cov.groups_of, cov.group_enabled
        constraints = self.constraints
        observer = self.options.observer
        max_depth = self.options.max_depth
        cap = self.cap
        canonical = None if self.symmetry is None else self.symmetry.canonical
        poll = self.limits.poll
        stamp = [-1] * len(enabled)
        gstamp = [-1] * len(group_enabled)
        next_poll = POLL_EVERY
        polls = 0
        while queue.head < len(states):
            sid = queue.head
            if sid == levels.level_end:
                levels.start(levels.level + 1, len(states))
            if sid >= next_poll:
                next_poll = sid + POLL_EVERY
                polls += 1
                self.stopped = poll(polls, self._progress)
                if self.stopped:
                    return
            s = states[sid]
            queue.head = sid + 1
            if drop_explored:
                states[sid] = None
            try:
                succs = successors(s)
            except Exception as exc:
                self.error = (exc, (sid, []))
                return
            n = len(succs)
            self.total += n
            if not n and findings.check_deadlock and self._violated("deadlock", 0, (sid, [])):
                return
            beyond = max_depth is not None and levels.level >= max_depth
            level = levels.level + 1
            props = findings.live_properties
            stop = False
            pos, a, params, t = -1, None, (), None
            try:
                for pos, (a, params, t) in enumerate(succs):
                    fired[a] += 1
                    if stamp[a] != sid:
                        stamp[a] = sid
                        enabled[a] += 1
                        for g in groups_of[a]:
                            if gstamp[g] != sid:
                                gstamp[g] = sid
                                group_enabled[g] += 1
                    if props:
                        for k, fn in props:
                            if not fn(s, t):
                                anchor = (sid, [(a, params, t)])
                                stop = self._violated("property", k, anchor) or stop
                        props = findings.live_properties
                        if stop:
                            break
                    c = t if canonical is None else canonical(t)
                    k = c if key is None else key(c)
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
