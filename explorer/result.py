"""What a check found, as plain data.

Every pass after the search (judging, text, JSON, JUnit, ITF, diagrams) reads these
dataclasses and nothing else, so reports never need the model or its raw states: traces
are already described (:mod:`pyspec.values`) when they land here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pyspec.model import SourcePos, Tag
from pyspec.values import Value

PropertyKind = Literal["invariant", "property", "reachable", "deadlock", "temporal"]
#: ``holds``/``violated`` for invariants, action properties and deadlock freedom;
#: ``reachable``/``unreachable`` for witnesses; ``unknown`` when the search was cut first.
Verdict = Literal["holds", "violated", "reachable", "unreachable", "unknown"]
Judgement = Literal["pass", "fail", "unknown"]
#: Why a search ended early; ``None`` means it explored every reachable state.
StopReason = Literal[
    "violation", "max_states", "max_depth", "timeout", "max_memory", "interrupted", "error"
]


@dataclass(frozen=True)
class TraceStep:
    """One state of a trace and the transition that led to it (none for the first)."""

    state: dict[str, Value]
    action: str | None = None
    action_index: int | None = None
    params: tuple[tuple[str, Value], ...] = ()
    label: str = ""
    tags: tuple[Tag, ...] = ()


@dataclass(frozen=True)
class Trace:
    """A behaviour from an initial state, every state listed, the initial one first.

    A *lasso* (a temporal property's counterexample) goes on forever: after the last
    step, ``back`` leads to ``steps[loop]`` again (its state is that step's), and the
    cycle from there repeats; ``back.action`` is None for a stuttering step."""

    steps: tuple[TraceStep, ...]
    loop: int | None = None
    back: TraceStep | None = None


@dataclass(frozen=True)
class Why:
    """A sub-expression of a failed property and its value at the failing state, with
    the sub-expressions that make it so (:mod:`explorer.explain`). ``note`` says where
    it stands: ``for f = F0`` (a quantifier instance), ``arm Present(f, w)``, ``def X``."""

    text: str
    value: str
    pos: SourcePos | None = None
    note: str = ""
    parts: tuple[Why, ...] = ()


@dataclass
class PropertyVerdict:
    """A property's verdict as found, what the model expects, and whether they agree."""

    name: str
    kind: PropertyKind
    verdict: Verdict
    expected: Verdict
    judgement: Judgement = "unknown"
    trace: Trace | None = None
    doc: str = ""
    tags: tuple[Tag, ...] = ()
    pos: SourcePos | None = None
    #: The trace as a string ``cowspec simulate --replay`` accepts (:mod:`explorer.replay`).
    replay: str | None = None
    #: Why the property failed at the trace's last state (:mod:`explorer.explain`).
    why: tuple[Why, ...] = ()


@dataclass(frozen=True)
class ActionCoverage:
    """``enabled``: explored states where the action produced a successor; ``fired``:
    successors it generated; ``new``: distinct states it discovered first."""

    name: str
    tags: tuple[Tag, ...]
    enabled: int
    fired: int
    new: int

    def tag(self, name: str) -> str | None:
        """The first argument of the action's tag ``name`` (e.g. its kernel function)."""
        return next((str(t.args[0]) for t in self.tags if t.name == name and t.args), None)


@dataclass(frozen=True)
class TagCoverage:
    """The same counts for every action carrying one tag with one first argument, e.g.
    ``@kernel("mm/memory.c: do_wp_page")``; ``enabled`` counts explored states where any
    of them fired."""

    tag: str
    value: str
    actions: tuple[str, ...]
    enabled: int
    fired: int
    new: int


@dataclass
class Coverage:
    actions: list[ActionCoverage] = field(default_factory=list)
    #: Per (tag, first argument) any action carries, sorted.
    tags: list[TagCoverage] = field(default_factory=list)
    #: ``--strict-coverage``: an action that never fired fails the run.
    strict: bool = False
    judgement: Judgement = "pass"

    @property
    def never_fired(self) -> list[str]:
        return [a.name for a in self.actions if a.fired == 0]

    def tagged(self, tag: str) -> list[TagCoverage]:
        """The groups of one tag, e.g. ``kernel``: per kernel function."""
        return [g for g in self.tags if g.tag == tag]


@dataclass(frozen=True)
class Stats:
    distinct_states: int = 0
    total_states: int = 0
    depth: int = 0
    elapsed_s: float = 0.0
    #: States found but not explored when the search stopped.
    queue: int = 0
    #: The engine that ran the search (:data:`explorer.engine.registry.ENGINES`), or
    #: ``simulation`` (random walks, :mod:`explorer.simulate`).
    backend: str = "scalar"
    #: Bytes the engine's store of seen states and parent links takes, when it knows.
    store_bytes: int | None = None
    #: The largest the queue of states to expand took, in bytes, when the engine keeps it
    #: apart from the store (the compiled engine with fingerprints: its frontier window).
    queue_bytes: int | None = None
    #: Seconds the compiled engine spent generating and compiling (or loading from its
    #: cache) the model's machine code, before the search; None for the other engines.
    compile_s: float | None = None
    #: What identifies a seen state: ``state`` (the state itself, or its packed words) or
    #: ``fingerprint`` (a 64-bit hash of it, TLC's way).
    seen_by: str = "state"
    #: With fingerprints, TLC's optimistic estimate of the probability that two distinct
    #: states had one fingerprint (so that one of them was wrongly taken as seen).
    collision_probability: float | None = None
    #: The sets of model values the search permuted (symmetry reduction).
    symmetry: tuple[str, ...] = ()

    @property
    def states_per_s(self) -> float:
        return self.distinct_states / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class EvalFailure:
    """The model raised while being evaluated; ``trace`` leads to the state concerned."""

    message: str
    pos: SourcePos | None
    trace: Trace | None


@dataclass
class ScenarioResult:
    name: str
    steps: tuple[str, ...]
    expect_violated: tuple[str, ...]
    violated: tuple[str, ...]
    #: How many steps some behaviour completed (``len(steps)`` = the scenario ran to the end).
    reached: int
    stopped: StopReason | None
    stats: Stats
    judgement: Judgement = "unknown"
    reason: str = ""
    #: Violation traces by property name, and ``"end"``: a run of every step (or
    #: ``"furthest"``: the run that got furthest, when none reaches the end).
    traces: dict[str, Trace] = field(default_factory=dict)
    error: EvalFailure | None = None
    doc: str = ""
    pos: SourcePos | None = None

    @property
    def complete(self) -> bool:
        return self.stopped is None


@dataclass
class Result:
    spec: str | None
    model: str
    constants: dict[str, Value]
    stats: Stats
    stopped: StopReason | None
    properties: list[PropertyVerdict]
    coverage: Coverage
    error: EvalFailure | None = None
    scenarios: list[ScenarioResult] = field(default_factory=list)
    exit_code: int = 0
    #: How the search ran, when that is worth saying: the backend's fallback and why,
    #: symmetry and what it does to the properties checked.
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.stopped is None
