"""Scenarios (litmus tests) run as restricted models.

A scenario's model has states ``(steps done, inner state)``. From a state where ``k``
steps are done, only step ``k+1``'s action is enabled, and only with the parameters the
step fixes (``None`` = any); nondeterminism inside the step is still explored, so the
ordinary search checks every behaviour the scenario allows. One ``reachable`` witness per
step tells how far the scenario gets, which is how a scenario that expects to hold but
cannot run to its end is caught ("stuck at step k").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.judge import judge_scenario
from explorer.result import ScenarioResult
from pyspec.errors import ModelConfigError
from pyspec.model import Check, EvalError, Model, Scenario, ScenarioStep, State, Successor
from pyspec.values import Value

#: The trace of a run through every step is reported under this name; a scenario that
#: stops short reports the run that got furthest under FURTHEST.
END = "end"
FURTHEST = "furthest"


def step_text(model: Model, step: ScenarioStep) -> str:
    if step.text:
        return step.text
    info = model.actions[step.action]
    fixed = [f"{n}={v}" for n, v in zip(info.params, step.params, strict=False) if v is not None]
    return f"{info.name}({', '.join(fixed)})" if fixed else info.name


def _on_inner(fn: Callable[..., bool]) -> Callable[[State], bool]:
    return lambda st: fn(st[1])


def _on_inner_pair(fn: Callable[..., bool]) -> Callable[[State, State], bool]:
    return lambda st, nt: fn(st[1], nt[1])


class ScenarioModel(Model):
    """``inner`` restricted to the steps of ``scenario``, in order."""

    def __init__(self, inner: Model, scenario: Scenario) -> None:
        for i, step in enumerate(scenario.steps, 1):
            if not 0 <= step.action < len(inner.actions):
                raise ModelConfigError(
                    f"scenario {scenario.name!r} step {i}: no action number {step.action}"
                )
            if len(step.params) > len(inner.actions[step.action].params):
                raise ModelConfigError(
                    f"scenario {scenario.name!r} step {i}: too many parameters for "
                    f"{inner.actions[step.action].name}"
                )
        self.inner = inner
        self.scenario = scenario
        self.name = f"{inner.name}/{scenario.name}"
        self.spec_file = inner.spec_file
        self.constants = inner.constants
        self.variables = inner.variables
        self.actions = inner.actions
        self.invariants = tuple(replace(c, fn=_on_inner(c.fn)) for c in inner.invariants)
        self.action_properties = tuple(
            replace(c, fn=_on_inner_pair(c.fn)) for c in inner.action_properties
        )
        self.constraints = tuple(replace(c, fn=_on_inner(c.fn)) for c in inner.constraints)
        self.reachables = tuple(
            Check(f"step {k}", "reachable", fn=lambda st, k=k: st[0] == k)
            for k in range(1, len(scenario.steps) + 1)
        )
        self.check_deadlock = False
        self._steps = [(s.action, s.params) for s in scenario.steps]

    def initial_states(self) -> Sequence[State]:
        return [(0, s) for s in self.inner.initial_states()]

    def successors(self, state: State) -> Sequence[Successor]:
        k, s = state
        if k == len(self._steps):
            return []
        action, fixed = self._steps[k]
        return [
            (a, params, (k + 1, t))
            for a, params, t in self.inner.successors(s)
            if a == action
            and all(w is None or w == p for w, p in zip(fixed, params, strict=False))
        ]

    def describe_state(self, state: State) -> dict[str, Value]:
        return self.inner.describe_state(state[1])

    def describe_params(self, action: int, params: tuple) -> tuple[Value, ...]:
        return self.inner.describe_params(action, params)

    def explain_error(self, exc: BaseException) -> EvalError:
        return self.inner.explain_error(exc)

    def action_label(self, action: int, params: tuple) -> str:
        return self.inner.action_label(action, params)


def run_scenario(model: Model, scenario: Scenario, options: Options) -> ScenarioResult:
    """Check one scenario of ``model`` and judge it against its expectation."""
    restricted = ScenarioModel(model, scenario)
    unknown = sorted(
        set(scenario.expect_violated)
        - {c.name for c in (*model.invariants, *model.action_properties)}
    )
    if unknown:
        raise ModelConfigError(
            f"scenario {scenario.name!r} expects unknown properties to be violated: "
            + ", ".join(unknown)
        )
    # Litmus tests of a few states: the scalar engine, which runs every model.
    opts = replace(options, keep_going=True, check_deadlock=False, observer=None, progress=None,
                   backend="scalar", workers=1)
    r = check(restricted, opts)
    steps = [p for p in r.properties if p.kind == "reachable"]
    violated = [p for p in r.properties if p.kind != "reachable" and p.verdict == "violated"]
    reached = max((k for k, p in enumerate(steps, 1) if p.verdict == "reachable"), default=0)
    traces = {p.name: p.trace for p in violated if p.trace is not None}
    if steps and steps[-1].trace is not None:
        traces[END] = steps[-1].trace
    elif reached:
        furthest = steps[reached - 1].trace
        if furthest is not None:
            traces[FURTHEST] = furthest
    sr = ScenarioResult(
        name=scenario.name,
        steps=tuple(step_text(model, s) for s in scenario.steps),
        expect_violated=tuple(sorted(scenario.expect_violated)),
        violated=tuple(p.name for p in violated),
        reached=reached,
        stopped=r.stopped,
        stats=r.stats,
        traces=traces,
        error=r.error,
        doc=scenario.doc,
        pos=scenario.pos,
    )
    judge_scenario(sr)
    return sr
