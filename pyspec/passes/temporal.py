"""Temporal properties and fairness lines: their shape, their predicates, their actions.

A temporal property is checked on the reachable state graph (:mod:`explorer.liveness`)
by a small automaton per form, so only the forms that automaton library knows are
accepted: ``always P``, ``eventually P``, ``always eventually P``, ``eventually always
P`` and ``P leads_to Q``, with P and Q state predicates, and the same with ``step A, B(e)``
(an action step that changes the state, TLA+'s ``<<A \\/ B(e)>>_vars``) in place of P
(of Q for ``leads_to``), under an optional ``forall`` prefix (one property per instance,
TLA+'s ``\\A x: F`` at the top of a formula). Anything else is reported here (E431)
rather than half-checked later. A ``step`` names actions that exist, with arguments of
their parameters' types that read no state (E433). A fairness line names actions that
exist, each once (E432); ``each`` takes one action, whose parameter bindings are its
instances.
"""

from __future__ import annotations

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.checked import TemporalShape
from pyspec.passes.typecheck import Scope, Typer
from pyspec.types import ANY, BOOL, SetT

#: The forms a formula (under its ``forall`` prefix) may take, as nested operators.
FORMS = ("always X, eventually X, always eventually X, eventually always X, P leads_to X "
         "(X: a predicate or 'step A')")


def check_temporal(typer: Typer) -> None:
    """Every temporal property's shape and predicates; every fairness line's actions."""
    s = typer.sym
    for name, d in s.temporals.items():
        if d.written_as != "property":
            typer.err(codes.TEMPORAL_OUTSIDE_PROPERTY,
                      f"{d.written_as} '{name}' uses a temporal operator: a property of "
                      f"behaviours is written 'property {name} = ...'", d.formula.pos)
            continue
        shape = _shape(typer, name, d.formula)
        if shape is not None:
            s.temporal_shapes[name] = shape
    for f in s.fairness:
        _check_fairness(typer, f)


def _shape(typer: Typer, name: str, formula: A.Temporal) -> TemporalShape | None:
    binders: list[A.Binder] = []
    while isinstance(formula, A.TForall):
        binders += formula.binders
        formula = formula.body
    form, atoms, step = _form(formula)
    if form is None:
        typer.err(codes.TEMPORAL_FORM,
                  f"property '{name}': this temporal formula is not supported; write one "
                  f"of {FORMS} (P, Q without temporal operators), under an optional "
                  "'forall x in S:'", formula.pos)
        return None
    scope = Scope(f"property '{name}'")
    env: dict = {}
    typed: list[tuple[A.Binder, object]] = []
    for b in binders:
        env = typer.binders([b], env, Scope(f"property '{name}'", reads_vars=False))
        t = typer.types.get(b.domain, ANY)
        typed.append((b, t.elem if isinstance(t, SetT) else ANY))
    for atom in atoms:
        typer.expect(atom, BOOL, typer.expr(atom, env, scope), f"property '{name}'")
    refs = tuple(_step_refs(typer, name, step, env)) if step is not None else ()
    return TemporalShape(form, tuple(typed), tuple(atoms), refs)  # type: ignore[arg-type]


def _step_refs(typer: Typer, name: str, step: A.TStep, env: dict
               ) -> list[tuple[str, tuple[A.Expr, ...] | None]]:
    """The actions (and argument expressions, None for every binding) of a ``step``."""
    out: list[tuple[str, tuple[A.Expr, ...] | None]] = []
    consts = Scope(f"property '{name}'", reads_vars=False)
    for ref in step.refs:
        params = typer.sym.action_params.get(ref.action)
        if params is None:
            typer.err(codes.TEMPORAL_STEP, f"'step' names '{ref.action}', which is not an "
                      "action", ref.pos)
            continue
        if ref.args is not None and len(ref.args) != len(params):
            typer.err(codes.TEMPORAL_STEP, f"action '{ref.action}' takes {len(params)} "
                      f"parameter(s), not {len(ref.args)}", ref.pos)
            continue
        for arg, (pname, ptype) in zip(ref.args or [], params):
            typer.expect(arg, ptype, typer.expr(arg, env, consts),
                         f"argument {pname} of step {ref.action}")
        out.append((ref.action, None if ref.args is None else tuple(ref.args)))
    return out


def _form(f: A.Temporal | A.Expr
          ) -> tuple[str | None, list[A.Expr], A.TStep | None]:
    """The form's name, its predicates and its ``step``, or (None, [], None) for an
    unsupported shape."""
    match f:
        case A.LeadsTo(left=p, right=A.TStep() as step) if _plain(p):
            return "leads_to_step", [p], step
        case A.LeadsTo(left=p, right=q):
            return "leads_to", [p, q], None
        case A.Always(body=A.Eventually(body=A.TStep() as step)):
            return "always_eventually_step", [], step
        case A.Eventually(body=A.Always(body=A.TStep() as step)):
            return "eventually_always_step", [], step
        case A.Always(body=A.TStep() as step):
            return "always_step", [], step
        case A.Eventually(body=A.TStep() as step):
            return "eventually_step", [], step
        case A.Always(body=A.Eventually(body=p)) if _plain(p):
            return "always_eventually", [p], None
        case A.Eventually(body=A.Always(body=p)) if _plain(p):
            return "eventually_always", [p], None
        case A.Always(body=p) if _plain(p):
            return "always", [p], None
        case A.Eventually(body=p) if _plain(p):
            return "eventually", [p], None
    return None, [], None


def _plain(e: object) -> bool:
    return not isinstance(e, A.Always | A.Eventually | A.LeadsTo | A.TForall | A.TStep)


def _check_fairness(typer: Typer, f: A.FairnessDecl) -> None:
    s = typer.sym
    seen: set[str] = set()
    for action, pos in f.actions:
        if action not in s.actions:
            typer.err(codes.FAIRNESS_ACTION, f"fairness names '{action}', which is not an "
                      "action", pos)
        elif action in seen:
            typer.err(codes.FAIRNESS_ACTION, f"fairness names action '{action}' twice", pos)
        seen.add(action)
    if f.each and len(f.actions) > 1:
        typer.err(codes.FAIRNESS_ACTION, "'fair ... each' takes one action (its instances "
                  "are its parameter bindings); write one line per action", f.actions[1][1])
