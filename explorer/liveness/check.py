"""A search with temporal properties: record the graph, then judge each property.

The safety search runs as usual, with the graph recorded: on the numpy engine (a
:class:`PackedRecorder` takes its batches) when the engine choice is a batch engine that
can run the model, else on the scalar engine with an :class:`EdgeRecorder` watching it.
Both record each transition's action instance (the action and its parameter binding),
which fairness per binding (``fair ... each``) and ``step A(p)`` are stated over; symmetry
reduction is off either way (TLC's pitfall). When the search explored every state, each
temporal property's instances are checked on the recorded graph
(:mod:`explorer.liveness.scc`); a violation comes with a lasso
(:mod:`explorer.liveness.lasso`). A search cut short (a limit, or a safety violation
that stopped it) leaves the graph partial: every temporal verdict is then ``unknown``.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from explorer.engine.arrays import PROGRAM
from explorer.engine.interface import Engine, HandOver, Options
from explorer.liveness.automaton import NEGATIONS
from explorer.liveness.graph import EdgeRecorder, PackedRecorder, StateGraph, Tee
from explorer.liveness.lasso import Lasso, lasso
from explorer.liveness.scc import STUTTER, Constraint, constraints, fair_components, product
from explorer.result import PropertyVerdict, Result, Trace, TraceStep, Why
from explorer.traces import describe_step
from pyspec.errors import ModelConfigError
from pyspec.model import Model, Temporal
from pyspec.runtime import describe
from pyspec.values import render


def check(model: Model, options: Options, reference: Engine, batch: Engine | None) -> Result:
    """The search with the graph recorded (on ``batch``, the numpy engine, when given and
    the spec allows, else on ``reference``), then the temporal verdicts."""
    if options.fingerprint:
        raise ModelConfigError("--fingerprint keeps no states, and the liveness check of "
                               f"{', '.join(t.name for t in model.temporal)} needs them")
    notes = pitfalls(model, options)
    recorder: EdgeRecorder | PackedRecorder
    result = None
    if batch is not None and options.observer is None:
        program = model.programs.get(PROGRAM)
        recorder = PackedRecorder(model, program.layout)  # type: ignore[attr-defined]
        try:
            result = batch.check(model, replace(options, edges=recorder, symmetry=False))
        except HandOver as exc:
            notes.append(f"the {batch.name} backend handed over to the {reference.name} "
                         f"engine ({exc})")
    if result is None:
        recorder = EdgeRecorder(model)
        observer = recorder if options.observer is None \
            else Tee(options.observer, recorder)
        result = reference.check(model, replace(options, observer=observer))
    result.notes.extend(notes)
    if result.error is not None:
        return result
    started = time.perf_counter()
    graph = recorder.freeze()
    complete = result.stopped is None
    cons = constraints(model, graph) if complete else []
    for t in model.temporal:
        result.properties.append(verdict(model, graph, t, cons, complete))
    if complete:
        result.notes.append(
            f"liveness: {graph.n:,} states, {len(graph.src):,} transitions, "
            f"{graph.nbytes / 2**20:.1f} MB of graph, checked in "
            f"{time.perf_counter() - started:.2f} s")
    return result


def pitfalls(model: Model, options: Options) -> list[str]:
    """TLC's known pitfalls, said where they apply."""
    notes = []
    if model.constraints:
        notes.append("liveness under a state constraint: behaviours that leave it are cut "
                     "off, so a temporal verdict may be wrong (as in TLC)")
    if model.symmetric and options.symmetry is not False:
        notes.append("symmetry reduction is off for the liveness check: on a reduced graph "
                     "TLC can miss or invent liveness violations")
    return notes


def verdict(model: Model, graph: StateGraph, t: Temporal, cons: list[Constraint],
            complete: bool) -> PropertyVerdict:
    expected = "violated" if t.name in model.expect_violated else "holds"
    out = PropertyVerdict(name=t.name, kind="temporal", verdict="unknown", expected=expected,
                          doc=t.doc, tags=t.tags, pos=t.pos)
    if not complete:
        return out
    aut = NEGATIONS[t.form]
    for k, values in enumerate(t.instances):
        atoms = graph.atoms[model.temporal.index(t)][k]
        steps = step_edges(graph, t.steps[k]) if t.steps else None
        p = product(graph, aut, atoms, steps)
        found = lasso(p, cons, fair_components(p, cons, p.reached))
        if found is not None:
            out.verdict = "violated"
            out.trace = lasso_trace(model, graph, found)
            where = instance_label(t, values)
            meaning = aut.meaning.replace("{S}", step_text(model, t.steps[k])) \
                if t.steps else aut.meaning
            out.why = (Why(text=f"{t.form.replace('_', ' ')}: {meaning}",
                           value="on the lasso", pos=t.pos, note=where),)
            return out
    out.verdict = "holds"
    return out


def step_text(model: Model, refs: tuple[tuple[int, tuple | None], ...]) -> str:
    """``Inc, Reset(k=0)``: the actions of a ``step``, each with its binding if given."""
    return ", ".join(model.actions[a].name if params is None
                     else model.action_label(a, params) for a, params in refs)


def step_edges(graph: StateGraph, refs: tuple[tuple[int, tuple | None], ...]) -> np.ndarray:
    """Per graph edge, whether its action instance is one a ``step`` names (an action
    with any parameters, or with the given ones)."""
    hit = np.array([any(a == ra and (rp is None or params == rp) for ra, rp in refs)
                    for a, params in graph.instances], dtype=bool)
    return hit[graph.inst] if len(hit) else np.zeros(len(graph.inst), dtype=bool)


def instance_label(t: Temporal, values: tuple) -> str:
    """``for k = 0`` for an instance of a ``forall`` property ('' without binders)."""
    parts = [f"{b} = {render(describe(v, ty))}"  # type: ignore[arg-type]
             for b, v, ty in zip(t.binders, values, t.binder_types)]
    return f"for {', '.join(parts)}" if parts else ""


def lasso_trace(model: Model, graph: StateGraph, found: Lasso) -> Trace:
    """The lasso as a described trace: steps, the loop index and the back edge."""
    steps = []
    for sid, label in zip(found.states, found.labels):
        state = graph.states[sid]
        if label is None:
            steps.append(describe_step(model, None, (), state))
        else:
            steps.append(describe_step(model, *_step(graph, label), state))
    back_state = graph.states[found.states[found.loop]]
    if found.back == STUTTER:
        back = TraceStep(state=model.describe_state(back_state), label="stuttering")
    else:
        back = describe_step(model, *_step(graph, found.back), back_state)
    return Trace(tuple(steps), loop=found.loop, back=back)


def _step(graph: StateGraph, edge: int) -> tuple[int, tuple]:
    """An edge's action and parameters."""
    return graph.instances[int(graph.inst[edge])]
