"""The code a random walk runs (``cowspec simulate --engine``): each engine's own.

A walk needs, for one state at a time, its successors in the scalar engine's order and
the checks (invariants, action properties, witnesses, constraints). :class:`ScalarCode`
runs the model's straight-line Python; :class:`ArrayCode` the numpy engine's array program
on batches of one packed state (:mod:`pyspec.codegen.arrays`); :class:`CompiledCode` the
compiled engine's machine code (:mod:`pyspec.codegen.compiled`), one call per step.
Every engine generates successors in the scalar order, so a seeded walk takes the same
positions on each; the array engines' states are their packed words, and a trace is
rebuilt by replaying the positions on the scalar model (:func:`explorer.replay.follow`).

``auto`` walks on the compiled code when llvmlite is installed and the model's machine
code is cached (a short walk does not pay a compile), else on the scalar code: a walk
looks at one state at a time, where the numpy engine's fixed cost per batch is all
overhead.
"""

from __future__ import annotations

from collections.abc import Hashable
from contextlib import suppress

import numpy as np

from explorer.engine import arrays, compiled
from explorer.engine.array_level import ArrayLevel
from explorer.engine.fingerprint import U64
from pyspec.codegen.array_runtime import ArrayEvalError, decode, new_batch
from pyspec.codegen.compiled import CompiledEvalError
from pyspec.errors import ModelConfigError
from pyspec.model import Model, NoProgram

#: ``--engine`` of ``simulate``.
ENGINES = ("auto", "scalar", "numpy", "compiled")

#: One successor: action index, parameters (scalar code only; () otherwise), next state.
Step = tuple[int, tuple, Hashable]

#: What an engine's code raises for an evaluation error of the spec; the walk is then
#: taken again on the scalar code, which reports the error with its position.
ENGINE_ERRORS = (ArrayEvalError, CompiledEvalError)


class ScalarCode:
    """The model's own successors and checks (the scalar engine's code)."""

    name = "scalar"
    #: Whether a trace must be rebuilt by replaying positions on the scalar model.
    replays = False

    def __init__(self, model: Model) -> None:
        self.model = model
        self.successors = model.successors
        self.inv = [c.fn for c in model.invariants]
        self.prop = [c.fn for c in model.action_properties]
        self.reach = [c.fn for c in model.reachables]
        self.cons = [c.fn for c in model.constraints]

    def initial(self) -> list[Hashable]:
        return list(self.model.initial_states())

    def invariant(self, k: int, s: Hashable) -> bool:
        return bool(self.inv[k](s))

    def property(self, k: int, s: Hashable, t: Hashable) -> bool:
        return bool(self.prop[k](s, t))

    def reachable(self, k: int, s: Hashable) -> bool:
        return bool(self.reach[k](s))

    def within(self, s: Hashable) -> bool:
        return all(c(s) for c in self.cons)


class ArrayCode:
    """The numpy engine's array program, over batches of one packed state."""

    name = "numpy"
    replays = True

    def __init__(self, model: Model) -> None:
        self.model = model
        self.program = arrays.array_program(model)
        self.layout = self.program.layout
        self.store = ArrayLevel(self.program, None, False)
        self.decoded: tuple[tuple[int, ...], tuple] | None = None

    def initial(self) -> list[Hashable]:
        return [self.layout.encode(s) for s in self.model.initial_states()]

    def _rows(self, s: tuple[int, ...]) -> list[np.ndarray]:
        return [np.array([w], dtype=U64) for w in s]

    def _state(self, s: tuple[int, ...]) -> tuple:
        """State ``s`` as a batch of one, decoded once for all its checks."""
        if self.decoded is None or self.decoded[0] != s:
            new_batch()
            self.decoded = (s, decode(tuple(self._rows(s)), self.layout))
        return self.decoded[1]

    def successors(self, s: tuple[int, ...]) -> list[Step]:
        self.decoded = None  # expand starts a batch of its own
        batch = self.store.expand(self._rows(s), [])
        done = self.store.arrange(batch, 1, False, [], False)
        words = [w.tolist() for w in done.words]
        return [(int(a), (), tuple(int(w[i]) for w in words))
                for i, a in enumerate(done.acts.tolist())]

    def invariant(self, k: int, s: tuple[int, ...]) -> bool:
        return bool(np.all(self.program.invariants[k](*self._state(s), True)))

    def property(self, k: int, s: tuple[int, ...], t: tuple[int, ...]) -> bool:
        self.decoded = None
        new_batch()
        both = decode(tuple(self._rows(s)), self.layout) + decode(tuple(self._rows(t)),
                                                                  self.layout)
        return bool(np.all(self.program.properties[k](*both, True)))

    def reachable(self, k: int, s: tuple[int, ...]) -> bool:
        return bool(np.all(self.program.reachables[k](*self._state(s), True)))

    def within(self, s: tuple[int, ...]) -> bool:
        if not self.program.constraints:
            return True
        state = self._state(s)
        return all(bool(np.all(fn(*state, True))) for fn in self.program.constraints)


class CompiledCode:
    """The compiled engine's machine code, one call per successor list or check."""

    name = "compiled"
    replays = True

    def __init__(self, model: Model) -> None:
        self.model = model
        program = compiled.program_of(model)
        self.source = program.source
        self.m = program.module
        self.layout = self.source.layout
        self.consts = np.array(self.source.constants + (0,), dtype=np.int64)
        self.sbuf = np.zeros((self.source.max_successors, self.layout.words), dtype=np.int64)
        self.abuf = np.zeros(self.source.max_successors, dtype=np.int64)

    def initial(self) -> list[Hashable]:
        return [self.layout.encode(s) for s in self.model.initial_states()]

    def successors(self, s: tuple[int, ...]) -> list[Step]:
        n = self.m.successors(self.consts, *s, self.sbuf, self.abuf)
        rows = self.sbuf[:n].tolist()
        return [(a, (), tuple(r)) for a, r in zip(self.abuf[:n].tolist(), rows)]

    def invariant(self, k: int, s: tuple[int, ...]) -> bool:
        return bool(self.m.check_invariant(self.consts, k, *s))

    def property(self, k: int, s: tuple[int, ...], t: tuple[int, ...]) -> bool:
        return bool(self.m.check_property(self.consts, k, *s, *t))

    def reachable(self, k: int, s: tuple[int, ...]) -> bool:
        return bool(self.m.check_reachable(self.consts, k, *s))

    def within(self, s: tuple[int, ...]) -> bool:
        return bool(self.m.constraints(self.consts, *s))


WalkCode = ScalarCode | ArrayCode | CompiledCode


def walk_code(model: Model, engine: str) -> WalkCode:
    """The code ``engine`` runs walks with; a model the engine cannot run is a bad option
    (exit 151), saying why."""
    if engine == "scalar":
        return ScalarCode(model)
    if engine == "auto":
        with suppress(NoProgram):  # no compiled program: the scalar code walks
            if compiled.is_compiled(compiled.generated_source(model)):
                return CompiledCode(model)
        return ScalarCode(model)
    try:
        return ArrayCode(model) if engine == "numpy" else CompiledCode(model)
    except NoProgram as exc:
        raise ModelConfigError(f"--engine {engine} cannot simulate model {model.name!r}: "
                               f"{exc}") from None
