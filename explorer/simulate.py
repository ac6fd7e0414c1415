"""Random walks through a model too large to exhaust (TLC's ``-simulate``, Quint's ``run``).

Each walk starts at an initial state chosen uniformly and takes, at every step, a
successor chosen uniformly among all the successors the model generates (so an action
with more parameter bindings is chosen more often, as in TLC). Every state visited is
checked against the invariants and witnesses (once: a state met again has the same
outcome), every step against the action properties, and a state without successors is a
deadlock. The generator is seeded: the same model,
options and seed give the same walks, step for step.

The walks run on one engine's code (``SimOptions.engine``, :mod:`explorer.walk_code`):
every engine lists a state's successors in the scalar engine's order, so the same seed
takes the same positions, hence the same walks, traces and statistics, on each. An
evaluation error of the spec in an engine's code makes the scalar code take the walks
again, which reports it with its position (a note says so).

A violation's trace is the walk that found it, not necessarily the shortest. A property
no walk violated is ``unknown``: a simulation proves nothing, so a run that finds nothing
wrong exits 0 without claiming that anything holds. The walk prints nothing; it returns a
:class:`~explorer.result.Result` (so every report of ``check`` reads it) and the
simulation's own statistics.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from explorer.engine.registry import validate_expectations
from explorer.replay import follow
from explorer.result import (
    ActionCoverage,
    Coverage,
    EvalFailure,
    PropertyKind,
    PropertyVerdict,
    Result,
    Stats,
    Trace,
    Verdict,
)
from explorer.traces import RawStep, describe_trace
from explorer.walk_code import ENGINE_ERRORS, ScalarCode, WalkCode, walk_code
from pyspec.model import Check, Model, State

#: The outcome of a property a walk violated (found a state for), and the one expected.
_FOUND: dict[PropertyKind, Verdict] = {
    "invariant": "violated", "property": "violated", "deadlock": "violated",
    "reachable": "reachable",
}


@dataclass(frozen=True)
class SimOptions:
    traces: int = 100
    #: Steps per walk at most (a walk ends earlier at a deadlock or outside a constraint).
    depth: int = 100
    seed: int = 0
    #: ``None``: the model's own ``check_deadlock``.
    check_deadlock: bool | None = None
    #: Go on after an unexpected violation (one trace per violated property).
    keep_going: bool = False
    timeout_s: float | None = None
    #: Replay exactly this walk (successor positions, :mod:`explorer.replay`) instead of
    #: random ones.
    script: list[int] | None = None
    #: Whose code the walks run on (:data:`explorer.walk_code.ENGINES`).
    engine: str = "scalar"


@dataclass(frozen=True)
class SimStats:
    traces: int
    steps: int
    distinct_states: int
    longest: int
    elapsed_s: float
    seed: int
    #: Deadlocks met (each ends a walk), whether or not deadlock is checked.
    deadlocks: int = 0
    #: The engine whose code the walks ran on.
    engine: str = "scalar"

    @property
    def steps_per_s(self) -> float:
        return self.steps / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass
class Simulation:
    result: Result
    stats: SimStats
    #: Per found property (kind, index): the successor positions of its walk.
    positions: dict[tuple[PropertyKind, int], list[int]] = field(default_factory=dict)
    #: The replayed walk (``options.script``), whole.
    walk: Trace | None = None


class _Found(Exception):
    """Ends every walk: an unexpected violation, or an evaluation error."""


class _Walker:
    def __init__(self, model: Model, options: SimOptions, code: WalkCode) -> None:
        self.model = model
        self.options = options
        self.code = code
        self.rng = random.Random(options.seed)
        self.keep_going = options.keep_going or bool(model.expect_violated)
        self.check_deadlock = (model.check_deadlock if options.check_deadlock is None
                               else options.check_deadlock)
        self.found: dict[tuple[PropertyKind, int], tuple[list[RawStep], list[int]]] = {}
        self.live_inv = list(enumerate(model.invariants))
        self.live_props = list(enumerate(model.action_properties))
        self.live_reach = list(enumerate(model.reachables))
        self.constrained = bool(model.constraints)
        n = len(model.actions)
        self.enabled, self.fired, self.new = [0] * n, [0] * n, [0] * n
        #: Every state visited, whole: its invariants and witnesses were checked already.
        self.seen: set[State] = set()
        self.steps = self.traces = self.longest = self.deadlocks = 0
        self.error: EvalFailure | None = None
        self.stopped_by_timeout = False
        #: The walk under way: raw steps and successor positions.
        self.raw: list[RawStep] = []
        self.pos: list[int] = []

    # -- the walks -------------------------------------------------------------------

    def run(self) -> None:
        t0 = time.monotonic()
        deadline = None if self.options.timeout_s is None else t0 + self.options.timeout_s
        script = self.options.script
        try:
            inits = self.code.initial()
            for _ in range(1 if script is not None else self.options.traces):
                if deadline is not None and time.monotonic() >= deadline:
                    self.stopped_by_timeout = True
                    break
                self.traces += 1
                self._walk(inits, script)
        except _Found:
            pass
        except ENGINE_ERRORS:
            raise  # the scalar code takes the walks again (simulate)
        except Exception as exc:  # the model raised: report it at the walk's last state
            info = self.model.explain_error(exc)
            self.error = EvalFailure(info.message, info.pos,
                                     self._describe(self.raw, self.pos) if self.raw else None)
        self.elapsed = time.monotonic() - t0

    def _walk(self, inits: list, script: list[int] | None) -> None:
        rng = self.rng
        if not inits:
            return
        first = script[0] if script is not None else rng.randrange(len(inits))
        state = inits[first]
        self.raw, self.pos = [(None, (), state)], [first]
        try:
            self._steps(state, script)
        finally:
            self.longest = max(self.longest, len(self.raw) - 1)

    def _steps(self, state: State, script: list[int] | None) -> None:
        """The walk from ``state`` (its first state, already in ``self.raw``)."""
        code, rng = self.code, self.rng
        successors = code.successors
        if state not in self.seen:
            self._visit(state)
        depth = len(script) - 1 if script is not None else self.options.depth
        for k in range(depth):
            if self.constrained and not code.within(state):
                break
            succs = successors(state)
            if not succs:
                self.deadlocks += 1
                if self.check_deadlock:
                    self._violated("deadlock", 0)
                break
            self._count_enabled(succs)
            i = script[k + 1] if script is not None else rng.randrange(len(succs))
            a, params, nxt = succs[i]
            self.fired[a] += 1
            self.steps += 1
            self.raw.append((a, params, nxt))
            self.pos.append(i)
            for j, _ in self.live_props:
                if not code.property(j, state, nxt):
                    self._violated("property", j)
            state = nxt
            if state not in self.seen:
                self.new[a] += 1
                self._visit(state)

    def _count_enabled(self, succs: list) -> None:
        for a in {a for a, _, _ in succs}:
            self.enabled[a] += 1

    def _visit(self, state: State) -> None:
        """A state met for the first time: invariants and witnesses (a state met again
        was checked then, with the same outcome)."""
        self.seen.add(state)
        code = self.code
        for j, _ in self.live_inv:
            if not code.invariant(j, state):
                self._violated("invariant", j)
        for j, _ in self.live_reach:
            if code.reachable(j, state):
                self._record("reachable", j)

    def _record(self, kind: PropertyKind, index: int) -> None:
        self.found[(kind, index)] = (list(self.raw), list(self.pos))
        if kind == "invariant":
            self.live_inv = [x for x in self.live_inv if x[0] != index]
        elif kind == "property":
            self.live_props = [x for x in self.live_props if x[0] != index]
        elif kind == "reachable":
            self.live_reach = [x for x in self.live_reach if x[0] != index]

    def _violated(self, kind: PropertyKind, index: int) -> None:
        self._record(kind, index)
        if not self.keep_going:
            raise _Found

    # -- the outcome -----------------------------------------------------------------

    def _describe(self, raw: list[RawStep], positions: list[int]) -> Trace:
        """A walk as a trace; an engine's packed states are replayed on the scalar model."""
        return describe_trace(self.model, follow(self.model, positions) if self.code.replays
                              else raw)

    def simulation(self) -> Simulation:
        m = self.model
        groups: list[tuple[PropertyKind, tuple[Check | None, ...]]] = [
            ("invariant", m.invariants),
            ("property", m.action_properties),
            ("deadlock", (None,) if self.check_deadlock else ()),
            ("reachable", m.reachables),
        ]
        props: list[PropertyVerdict] = []
        for kind, checks in groups:
            for k, c in enumerate(checks):
                name = c.name if c is not None else "deadlock"
                bad = "unreachable" if kind == "reachable" else "violated"
                good = "reachable" if kind == "reachable" else "holds"
                hit = self.found.get((kind, k))
                props.append(PropertyVerdict(
                    name=name,
                    kind=kind,
                    verdict=_FOUND[kind] if hit is not None else "unknown",
                    expected=bad if name in m.expect_violated else good,
                    trace=self._describe(*hit) if hit is not None else None,
                    doc=c.doc if c is not None else "",
                    tags=c.tags if c is not None else (),
                    pos=c.pos if c is not None else None,
                ))
        coverage = Coverage(actions=[
            ActionCoverage(a.name, a.tags, self.enabled[i], self.fired[i], self.new[i])
            for i, a in enumerate(m.actions)
        ])
        stats = SimStats(self.traces, self.steps, len(self.seen), self.longest, self.elapsed,
                         self.options.seed, self.deadlocks, self.code.name)
        result = Result(
            spec=m.spec_file,
            model=m.name,
            constants=dict(m.constants),
            stats=Stats(distinct_states=len(self.seen), total_states=self.steps,
                        depth=self.longest + 1 if self.traces else 0, elapsed_s=self.elapsed,
                        backend="simulation"),
            stopped="error" if self.error is not None else
            "timeout" if self.stopped_by_timeout else None,
            properties=props,
            coverage=coverage,
            error=self.error,
        )
        walk = (self._describe(self.raw, self.pos) if self.options.script is not None
                else None)
        return Simulation(result, stats, {k: pos for k, (_, pos) in self.found.items()}, walk)


def simulate(model: Model, options: SimOptions) -> Simulation:
    """Random walks (or the one ``options.script`` names); judge the result with
    :func:`explorer.judge.judge` as a check's."""
    validate_expectations(model)
    code = walk_code(model, options.engine)
    try:
        walker = _Walker(model, options, code)
        walker.run()
    except ENGINE_ERRORS as exc:
        walker = _Walker(model, options, ScalarCode(model))
        walker.run()
        sim = walker.simulation()
        sim.result.notes.append(f"the walks on the {code.name} engine's code met an "
                                f"evaluation error and were taken again on the scalar "
                                f"engine's ({exc})")
        return sim
    return walker.simulation()
