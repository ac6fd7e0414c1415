"""Module parameters bound by a declaration: the declaration fits the parameter.

A library module reads a name its importer defines by declaring it, ``param N: T``; the
importer's ``const N``, ``def N`` or ``var N`` then binds it (TLA+'s ``INSTANCE ... WITH
N <- e``, where ``e`` may be a constant, an operator or a variable). This pass checks
that the binding has the parameter's type (E104, E422), that an operator parameter
(``param F(x: T): U``) is bound by a def with the same parameters (E103, E104), and that
every module declaring the same parameter gives it one type.
"""

from __future__ import annotations

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.passes.typecheck import Typer
from pyspec.types import AnyT, Type, compatible, plain


def check_params(typer: Typer, bound: dict[str, list[A.ParamDecl]]) -> None:
    """Each parameter's declarations agree; a declaration that binds one fits it."""
    s = typer.sym
    for name, decls in [*bound.items(), *s.params.items()]:
        want = _agreed_type(typer, decls)
        if name in s.params or want is None:
            continue
        first = decls[0]
        got: Type | None = None
        if first.params is not None and name not in s.defs:
            typer.err(codes.PARAM_BOUND_TWICE, f"the parameter '{name}' declared at "
                      f"{first.pos} takes arguments, so only a def binds it",
                      typer.global_names[name])
            continue
        if name in s.consts:
            got = s.const_types.get(name)
        elif name in s.vars:
            got = plain(s.var_types.get(name, want))
        elif name in s.defs:
            typer.check_def(name)
            if not _same_parameters(typer, name, first):
                continue
            got = s.def_types.get(name)
        else:
            typer.err(codes.PARAM_BOUND_TWICE, f"the parameter '{name}' declared at "
                      f"{first.pos} is bound by a const, a var or a def, not by this "
                      "declaration", typer.global_names[name])
            continue
        if got is not None and not isinstance(got, AnyT) and not compatible(got, want):
            typer.err(codes.TYPE_MISMATCH, f"'{name}' is {got}, but the parameter declared at "
                      f"{first.pos} is {want}", typer.global_names[name])


def _same_parameters(typer: Typer, name: str, decl: A.ParamDecl) -> bool:
    """A def binding a parameter takes the parameters it declares (none for ``param N``)."""
    d = typer.sym.defs[name]
    want = [typer.resolve_type(p.type) for p in decl.params or []]
    got = [t for _, t in typer.sym.def_params.get(name, [])]
    if (d.params is None) != (decl.params is None) or len(want) != len(got):
        typer.err(codes.ARITY, f"def '{name}' takes {len(got)} argument(s), but the "
                  f"parameter it binds, declared at {decl.pos}, takes {len(want)}", d.pos)
        return False
    for p, w, g in zip(d.params or [], want, got):
        if not (compatible(w, g) and compatible(g, w)):
            typer.err(codes.TYPE_MISMATCH, f"parameter '{p.name}' of '{name}' is {g}, but "
                      f"the parameter declared at {decl.pos} takes {w} there", p.pos)
            return False
    return True


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
