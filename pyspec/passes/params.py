"""Module parameters bound by a declaration: the declaration fits the parameter.

A library module reads a name its importer defines by declaring it, ``param N: T``; the
importer's ``const N`` or ``def N`` (without parameters, reading no state) then binds it.
This pass checks that the binding is a constant of the parameter's type (E104, E422), and
that every module declaring the same parameter gives it one type.
"""

from __future__ import annotations

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.passes.typecheck import Typer
from pyspec.types import AnyT, Type, compatible


def check_params(typer: Typer, bound: dict[str, list[A.ParamDecl]]) -> None:
    """Each parameter's declarations agree; a declaration that binds one fits it."""
    s = typer.sym
    for name, decls in [*bound.items(), *s.params.items()]:
        want = _agreed_type(typer, decls)
        if name in s.params or want is None:
            continue
        got: Type | None = None
        if name in s.consts:
            got = s.const_types.get(name)
        elif name in s.defs:
            d = s.defs[name]
            if d.params is not None or s.def_reads.get(name):
                typer.err(codes.PARAM_BOUND_TWICE, f"def '{name}' binds the parameter declared "
                          f"at {decls[0].pos}, so it takes no parameters and reads no state",
                          d.pos)
                continue
            got = s.def_types.get(name)
        else:
            typer.err(codes.PARAM_BOUND_TWICE, f"the parameter '{name}' declared at "
                      f"{decls[0].pos} is bound by a const or a def, not by this declaration",
                      typer.global_names[name])
            continue
        if got is not None and not isinstance(got, AnyT) and not compatible(got, want):
            typer.err(codes.TYPE_MISMATCH, f"'{name}' is {got}, but the parameter declared at "
                      f"{decls[0].pos} is {want}", typer.global_names[name])


def _agreed_type(typer: Typer, decls: list[A.ParamDecl]) -> Type | None:
    """The type every declaration of one parameter gives it (E104 where one differs)."""
    first = typer.resolve_type(decls[0].type)
    for d in decls[1:]:
        t = typer.resolve_type(d.type)
        if not (compatible(t, first) and compatible(first, t)):
            typer.err(codes.TYPE_MISMATCH, f"parameter '{d.name}' is {t} here but {first} "
                      f"at {decls[0].pos}", d.pos)
            return None
    return first
