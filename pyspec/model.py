"""The one interface between models and the explorer.

Compiled specs and hand-written Python models both implement :class:`Model`, so that
the explorer never knows which it is running. The interface is deliberately small and
fast to call from a search loop: states are opaque hashable values, successors come as
plain tuples ``(action index, parameter values, next state)``, and checks are plain
callables. Everything a report needs in words (names, docs, kernel tags, described
values) sits in frozen dataclasses beside it.

What engines need beyond that is declared here too, and set once when the model is made
(:func:`pyspec.loader.Spec.instantiate` for a spec): the variables' types
(``var_types``: packing, symmetry), the ``symmetric`` sets, and :class:`Programs`, the
code generated for the engines that do not run the scalar interface.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pyspec.values import Value

State = Hashable
Successor = tuple[int, tuple, State]
#: A value type as engines see it: ``("bool",)``, ``("int", lo, hi)``, ``("mv", set,
#: members)``, ``("map", key, value)``... (:mod:`pyspec.runtime` documents every form).
TypeDesc = tuple


class NoProgram(Exception):
    """The model has no program of the kind an engine asked for; the message says why."""


class Programs:
    """Code generated for the engines of one model, by kind, and what the spec says about
    them.

    Kinds: ``"arrays"`` (:class:`pyspec.codegen.arrays.ArrayProgram`, the numpy engines'),
    ``"compiler"`` (the :class:`pyspec.codegen.scalar.Compiler` that made the scalar code,
    to compile more of the spec's expressions for it: explanations of failures). Each
    program is generated on the first request and kept (a search that never needs it
    never pays for it); a generator raises :class:`NoProgram` when the spec uses what the
    kind cannot express. A hand-written model has no programs.
    """

    def __init__(self, makers: Mapping[str, Callable[[], object]] | None = None,
                 symmetry_warnings: Callable[[tuple[str, ...]], list[str]] | None = None):
        self._makers = dict(makers or {})
        self._made: dict[str, object | NoProgram] = {}
        self._symmetry_warnings = symmetry_warnings

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(self._makers)

    def get(self, kind: str) -> object:
        """The program of ``kind``; raises :class:`NoProgram`."""
        if kind not in self._made:
            maker = self._makers.get(kind)
            if maker is None:
                raise NoProgram("the model does not come from a spec file (only compiled "
                                f"specs have {kind} code)")
            try:
                self._made[kind] = maker()
            except NoProgram as exc:
                self._made[kind] = exc
        made = self._made[kind]
        if isinstance(made, NoProgram):
            raise made
        return made

    def symmetry_warnings(self, sets: tuple[str, ...]) -> list[str]:
        """Where the spec does not mix with symmetry reduction over ``sets``."""
        return [] if self._symmetry_warnings is None else self._symmetry_warnings(sets)


@dataclass(frozen=True)
class SourcePos:
    """Where something was written: 1-based line and column."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Tag:
    """An annotation such as ``@kernel("mm/memory.c: do_wp_page")`` or ``@patch(12)``."""

    name: str
    args: tuple[str | int, ...] = ()

    def __str__(self) -> str:
        inner = ", ".join(repr(a) if isinstance(a, str) else str(a) for a in self.args)
        return f"@{self.name}({inner})" if self.args else f"@{self.name}"


@dataclass(frozen=True)
class ActionInfo:
    """An action (a kind of transition) and what to say about it."""

    name: str
    params: tuple[str, ...] = ()
    doc: str = ""
    tags: tuple[Tag, ...] = ()
    pos: SourcePos | None = None

    def tag(self, name: str) -> Tag | None:
        return next((t for t in self.tags if t.name == name), None)


CheckKind = Literal["invariant", "property", "reachable", "constraint"]


@dataclass(frozen=True)
class Check:
    """A named predicate the explorer evaluates.

    ``fn`` takes one state for invariants, reachable witnesses and constraints, and
    ``(state, next_state)`` for action properties.
    """

    name: str
    kind: CheckKind
    fn: Callable[..., bool] = field(compare=False, repr=False)
    doc: str = ""
    tags: tuple[Tag, ...] = ()
    pos: SourcePos | None = None


#: The temporal forms a ``property`` may take (docs/language.md#temporal-properties).
TemporalForm = Literal["always", "eventually", "always_eventually", "eventually_always",
                       "leads_to", "always_step", "eventually_step", "always_eventually_step",
                       "eventually_always_step", "leads_to_step"]


@dataclass(frozen=True)
class Temporal:
    """A property of behaviours: ``form`` over one or two state predicates (``P``, and
    ``Q`` for ``leads_to``), once per instance of its ``forall`` binders.

    ``fn(state)`` returns, per instance (in ``instances`` order), the tuple of its
    predicates' values in that state. ``instances`` holds the binders' raw values
    (``((),)`` without binders) and ``binder_types`` their type descriptors, for labels.
    A ``*_step`` form (``step A, B(e)`` in place of P, or of Q for ``leads_to``) has, per
    instance, its actions in ``steps``: ``(action index, parameters)``, the parameters
    None for every binding.
    """

    name: str
    form: TemporalForm
    fn: Callable[[State], Sequence[tuple[bool, ...]]] = field(compare=False, repr=False)
    binders: tuple[str, ...] = ()
    binder_types: tuple[object, ...] = ()
    instances: tuple[tuple, ...] = ((),)
    doc: str = ""
    tags: tuple[Tag, ...] = ()
    pos: SourcePos | None = None
    steps: tuple[tuple[tuple[int, tuple | None], ...], ...] = ()


@dataclass(frozen=True)
class Fairness:
    """TLA+'s ``WF_vars``/``SF_vars`` over the disjunction of ``actions`` (indices into
    ``Model.actions``); with ``each``, one constraint per parameter binding of the
    (single) action, as ``\\A p: WF_vars(A(p))``."""

    strong: bool
    actions: tuple[int, ...]
    each: bool = False
    pos: SourcePos | None = None

    def text(self, model: Model) -> str:
        names = ", ".join(model.actions[a].name for a in self.actions)
        return f"fair {'strong' if self.strong else 'weak'} {'each ' if self.each else ''}{names}"


@dataclass(frozen=True)
class View:
    """An abstraction of a state, or of each element of it, to a small label.

    ``fn(state)`` returns ``[(element, label), ...]``: one pair per element for an
    element view (``element`` names it, e.g. ``"F0"``), or a single ``(None, label)`` for
    a whole-state view. The explorer draws the quotient graph over the labels.
    """

    name: str
    fn: Callable[[State], list[tuple[str | None, str]]] = field(compare=False, repr=False)
    element: str | None = None
    doc: str = ""
    pos: SourcePos | None = None


@dataclass(frozen=True)
class ScenarioStep:
    """One step of a scenario: an action with some parameters fixed (``None`` = any)."""

    action: int
    params: tuple[object | None, ...]
    text: str = ""
    pos: SourcePos | None = None


@dataclass(frozen=True)
class Scenario:
    """A litmus test: steps run in order, and the verdict this model expects.

    ``expect_violated`` empty means "every property holds and the last step is
    reached"; otherwise exactly the named properties are expected to be violated.
    """

    name: str
    steps: tuple[ScenarioStep, ...]
    expect_violated: frozenset[str] = frozenset()
    doc: str = ""
    tags: tuple[Tag, ...] = ()
    pos: SourcePos | None = None


class Model:
    """Base class of every checkable model.

    Subclasses set the attributes and implement :meth:`initial_states`,
    :meth:`successors` and :meth:`describe_state`. ``successors`` yields one entry per
    way an action produces a state (each binding of its parameters and each
    nondeterministic choice), duplicates included: that is what makes the explorer's
    "total states" equal to TLC's.
    """

    name: str = "model"
    spec_file: str | None = None
    constants: dict[str, Value] = {}
    variables: tuple[str, ...] = ()
    actions: tuple[ActionInfo, ...] = ()
    invariants: tuple[Check, ...] = ()
    action_properties: tuple[Check, ...] = ()
    reachables: tuple[Check, ...] = ()
    constraints: tuple[Check, ...] = ()
    views: tuple[View, ...] = ()
    scenarios: tuple[Scenario, ...] = ()
    #: Properties of behaviours (``property P = eventually ...``) and the fairness they
    #: are checked under (:mod:`explorer.liveness`).
    temporal: tuple[Temporal, ...] = ()
    fairness: tuple[Fairness, ...] = ()
    #: Properties (invariants, action properties, ``"deadlock"``) this model is
    #: expected to violate, e.g. a kernel version with a known bug.
    expect_violated: frozenset[str] = frozenset()
    check_deadlock: bool = True
    #: Sets of model values declared ``symmetric``: permuting their members maps
    #: reachable states to reachable states with the same verdicts. Symmetry reduction
    #: needs ``var_types`` too (the explorer says so when they are missing).
    symmetric: tuple[str, ...] = ()
    #: Per variable, its type (:data:`TypeDesc`): what packing states into words and
    #: symmetry reduction need. ``None``: not declared (a hand-written model may leave it
    #: out; it then runs on the scalar engine, without symmetry).
    var_types: tuple[TypeDesc, ...] | None = None
    #: Code generated for the other engines (none for a hand-written model).
    programs: Programs = Programs()

    def initial_states(self) -> Sequence[State]:
        raise NotImplementedError

    def successors(self, state: State) -> Sequence[Successor]:
        raise NotImplementedError

    def describe_state(self, state: State) -> dict[str, Value]:
        raise NotImplementedError

    def describe_params(self, action: int, params: tuple) -> tuple[Value, ...]:
        """Parameter values in words; by default the raw values, which suits Python models."""
        return tuple(params)

    def explain_error(self, exc: BaseException) -> EvalError:
        """Turn an exception raised while evaluating the model into an :class:`EvalError`."""
        if isinstance(exc, EvalError):
            return exc
        return EvalError(f"{type(exc).__name__}: {exc}", None)

    def action_label(self, action: int, params: tuple) -> str:
        from pyspec.values import render

        info = self.actions[action]
        vals = self.describe_params(action, params)
        if not info.params:
            return info.name
        inner = ", ".join(f"{n}={render(v)}" for n, v in zip(info.params, vals))
        return f"{info.name}({inner})"


class EvalError(Exception):
    """A spec went wrong while being evaluated: division by zero, a value out of its
    declared range, a field of the wrong union variant, ``min`` of an empty set."""

    def __init__(self, message: str, pos: SourcePos | None):
        super().__init__(message)
        self.message = message
        self.pos = pos
