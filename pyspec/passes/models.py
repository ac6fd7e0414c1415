"""Pass 5: models and scenarios name what exists: a model's constants, its ``extends``
and its expectations (E401-E410); a scenario's actions, arguments and models.

A constant's value given by a model or by ``-D`` has the constant's type and reads no
state (:func:`check_override`).
"""

from __future__ import annotations

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.checked import TYPE_OK
from pyspec.errors import did_you_mean
from pyspec.model import SourcePos
from pyspec.passes.typecheck import Scope, Typer
from pyspec.types import ANY


def check_models(typer: Typer) -> None:
    """Every model extends a model, sets constants, expects properties that exist."""
    s = typer.sym
    # A model may expect a reachable witness to be "violated", i.e. unreachable (a
    # kernel version without that path); the explorer judges it so.
    props = {n for n, c in s.checks.items()
             if c.kind in ("invariant", "property", "reachable")} | set(s.temporals)
    if s.check_types:
        props.add(TYPE_OK)
    for name, m in s.models.items():
        if m.extends is not None and m.extends not in s.models:
            typer.err(codes.UNKNOWN_MODEL,
                     f"model '{name}' extends unknown model '{m.extends}'"
                     f"{did_you_mean(m.extends, s.models)}", m.pos)
        seen: dict[str, SourcePos] = {}
        chain = [name]
        cur = m
        while cur.extends is not None and cur.extends in s.models:
            if cur.extends in chain:
                typer.err(codes.CYCLE, f"model '{name}' extends itself through "
                         f"{' -> '.join(chain + [cur.extends])}", m.pos)
                break
            chain.append(cur.extends)
            cur = s.models[cur.extends]
        for c in m.consts:
            if c.name not in s.consts:
                typer.err(codes.NOT_A_CONSTANT,
                         f"model '{name}' sets '{c.name}', which is not a constant",
                         c.pos)
                continue
            if c.name in seen:
                typer.err(codes.ASSIGNED_TWICE, f"model '{name}' sets '{c.name}' twice "
                         f"(first at {seen[c.name]})", c.pos)
            seen.setdefault(c.name, c.pos)
            check_override(typer, c.name, c.value)
            if c.symmetric and c.name not in s.mv_sets:
                typer.err(codes.TYPE_MISMATCH, f"only a set of model values can be symmetric, "
                          f"and '{c.name}' is {typer.const_type(c.name)}", c.pos)
        _check_expectations(typer, m, props)
    for name, r in s.model_refinements.items():
        if name not in s.models:
            typer.err(codes.UNKNOWN_MODEL, f"'for model {name}': no model '{name}' is declared"
                      f"{did_you_mean(name, s.models)}", r.pos)
        for c in r.consts:
            typer.err(codes.REFINEMENT_SETS_CONSTANT,
                      f"'for model {name}' states expectations only; '{c.name}' is set where "
                      f"the model is declared (a model of other constants: model NAME extends "
                      f"{name} {{ const {c.name} = ... }})", c.pos)
        _check_expectations(typer, r, props)


def _check_expectations(typer: Typer, m: A.ModelDecl, props: set[str]) -> None:
    for pname, pos in m.expect_violated + m.expect_holds:
        if pname not in props:
            typer.err(codes.NOT_A_PROPERTY,
                     f"'{pname}' is not an invariant, action property or "
                     "reachable witness", pos)


def check_override(typer: Typer, name: str, value: A.Expr) -> None:
    """A model's or the command line's value for a constant: same type, constant."""
    s = typer.sym
    if name in s.mv_unions:
        typer.err(codes.NOT_A_CONSTANT, f"'{name}' joins {', '.join(s.mv_unions[name])}: "
                  "give those their model values", value.pos)
        return
    if name in s.mv_sets or any(name in u for u in s.mv_unions.values()):
        names = isinstance(value, A.SetLit) and all(isinstance(i, A.Name)
                                                    for i in value.items)
        count = isinstance(value, A.Int) and value.value >= 0
        if not (names or count):
            typer.err(codes.TYPE_MISMATCH,
                     f"'{name}' is a set of model values: give a set of names such "
                     "as {P0, P1}, or how many there are", value.pos)
        return
    ctx = Scope(f"the value of '{name}'", reads_vars=False, const_deps=set())
    typer.expect(value, s.const_types.get(name, ANY), typer.expr(value, {}, ctx),
                f"constant '{name}'")


def check_scenarios(typer: Typer) -> None:
    """Every scenario step names an action with its arguments; expectations name
    properties and models that exist."""
    s = typer.sym
    props = {n for n, c in s.checks.items() if c.kind in ("invariant", "property")}
    if s.check_types:
        props.add(TYPE_OK)
    for name, sc in s.scenarios.items():
        if not sc.steps:
            typer.err(codes.STEP_ARITY, f"scenario '{name}' has no steps", sc.pos)
        for step in sc.steps:
            if step.action not in s.actions:
                typer.err(codes.UNKNOWN_ACTION,
                         f"unknown action '{step.action}' in scenario '{name}'"
                         f"{did_you_mean(step.action, s.actions)}",
                         step.pos)
                continue
            params = s.action_params.get(step.action, [])
            args = step.args if step.args is not None else [None] * len(params)
            if len(args) != len(params):
                typer.err(codes.STEP_ARITY,
                         f"action '{step.action}' takes {len(params)} parameter"
                         f"{'s' if len(params) != 1 else ''}, the step gives {len(args)}",
                         step.pos)
                continue
            for arg, (pname, ptype) in zip(args, params):
                if arg is None:
                    continue
                ctx = Scope(f"a scenario step's argument '{pname}'", reads_vars=False,
                           const_deps=set())
                typer.expect(arg, ptype, typer.expr(arg, {}, ctx), f"parameter '{pname}'")
        seen_default = False
        for ex in sc.expects:
            for pname, pos in ex.violated:
                if pname not in props:
                    typer.err(codes.NOT_A_PROPERTY,
                             f"'{pname}' is not an invariant or action property",
                             pos)
            for mname, pos in ex.models:
                if mname not in s.models:
                    typer.err(codes.UNKNOWN_MODEL, f"unknown model '{mname}'"
                             f"{did_you_mean(mname, s.models)}", pos)
            if not ex.models:
                if seen_default:
                    typer.err(codes.ASSIGNED_TWICE,
                             f"scenario '{name}' has two expectations for all "
                             "models", ex.pos)
                seen_default = True
