"""Helpers every code generator shares: generated names and what a statement does to a path.

The scalar (:mod:`pyspec.codegen.scalar`), array (:mod:`pyspec.codegen.arrays`) and any
further generator name spec identifiers the same way and split an action's paths at the
same statements, so a generated module reads alike whichever engine runs it.
"""

from __future__ import annotations

from collections.abc import Callable

from pyspec import ast as A
from pyspec.checked import Checked
from pyspec.types import InT, MapT, RecT, SeqT, SetT, TupT, Type, UnionT

MIDDLE_DOT = "\u00b7"


def py_name(prefix: str, name: str) -> str:
    """A generated identifier. Spec names are [A-Za-z_][A-Za-z0-9_]* by the grammar; the
    prefix keeps them clear of Python keywords, builtins and dunder names. An instance's
    name ``X!Name`` has a middle dot for its ``!`` (a character of identifiers that no
    spec name has)."""
    return f"{prefix}_{name.replace('!', MIDDLE_DOT)}"


def forks(st: A.Stmt) -> bool:
    """Whether a statement can end or split a path (so code after it must be shared)."""
    if isinstance(st, (A.Requires, A.Pick, A.Either)):
        return True
    if isinstance(st, A.IfStmt):
        blocks = [b for _, b in st.branches] + ([st.orelse] if st.orelse else [])
        return any(forks(x) for b in blocks for x in b.stmts)
    if isinstance(st, A.MatchStmt):
        return any(forks(x) for _, b in st.arms for x in b.stmts)
    return isinstance(st, A.Perform)  # an action definition may have guards and choices


def assigned_vars(block: A.Block,
                  action_defs: dict[str, A.ActionDefDecl] | None = None) -> set[str]:
    """The variables some path through ``block`` assigns (whole or in part): only these
    get a draft copy of their next-state value. With ``action_defs``, what the action
    definitions it performs assign too."""
    out: set[str] = set()
    performed: set[str] = set()

    def walk(stmts: list[A.Stmt]) -> None:
        for st in stmts:
            if isinstance(st, A.Assign):
                out.add(st.target.var)
            elif isinstance(st, A.Perform):
                d = (action_defs or {}).get(st.name)
                if d is not None and st.name not in performed:
                    performed.add(st.name)
                    walk(d.body.stmts)
            elif isinstance(st, A.IfStmt):
                for _, b in st.branches:
                    walk(b.stmts)
                if st.orelse:
                    walk(st.orelse.stmts)
            elif isinstance(st, A.MatchStmt):
                for _, b in st.arms:
                    walk(b.stmts)
            elif isinstance(st, A.Either):
                for b in st.branches:
                    walk(b.stmts)
            elif isinstance(st, A.For):
                walk(st.body.stmts)

    walk(block.stmts)
    return out



def holds_sequence(t: Type, checked: Checked) -> bool:
    """Whether a value of ``t`` is or contains a sequence."""
    return holds(t, checked, lambda u: isinstance(u, SeqT))


def holds(t: Type, checked: Checked, found: Callable[[Type], bool]) -> bool:
    """Whether ``t`` or a type inside it is ``found``."""
    s = checked.symbols
    if found(t):
        return True
    parts: list[Type] = []
    if isinstance(t, SetT):
        parts = [t.elem]
    elif isinstance(t, MapT):
        parts = [t.key, t.value]
    elif isinstance(t, TupT):
        parts = list(t.items)
    elif isinstance(t, RecT):
        parts = [ft for _, ft in s.record_fields.get(t.name, [])]
    elif isinstance(t, UnionT):
        parts = [ft for v in s.unions[t.name].variants
                 for _, ft in s.variant_fields.get(v.name, [])]
    return any(holds(p, checked, found) for p in parts)


def uses_set_types(checked: Checked) -> bool:
    """Whether a variable or an action parameter is declared as a member of a constant
    set (``var k: Prisoner - {Counter}``)."""
    s = checked.symbols
    params = [t for ps in s.action_params.values() for _, t in ps]
    return any(isinstance(t, InT) for t in (*s.var_types.values(), *params))


def array_refusal(checked: Checked) -> str | None:
    """What in a spec only the scalar engine's code runs, said as the array generator's
    refusal (``auto`` then falls back to the scalar engine); None: nothing."""
    if uses_set_types(checked):
        return "a constant set as a variable's or a parameter's type"
    if any("!" in name for name in checked.symbols.defs):
        return "definitions of an instance (import ... as X)"
    return None
