"""Pass 6: warnings. They never fail a check: a definition the main file never uses
(W501), an action whose guard is false for every value its types allow (W502)."""

from __future__ import annotations

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.analysis import conjuncts
from pyspec.checked import Symbols
from pyspec.passes.report import Report
from pyspec.types import IntT, Type


def warn_all(modules: list[A.Module], sym: Symbols, used_defs: set[str],
             report: Report) -> None:
    """Unused definitions of the main file (W501) and actions whose guard can never be
    true (W502)."""
    s = sym
    # A library module's definitions serve several specs; only the spec being
    # checked is told about what it defines and never uses.
    main_file = modules[-1].file if modules else None
    for name, d in s.defs.items():
        if name not in used_defs and d.pos.file == main_file:
            report.warning(codes.UNUSED_DEF, f"'{name}' is defined but never used", d.pos)
    for name, d in s.actions.items():
        params = dict(s.action_params.get(name, []))
        for st in d.body.stmts:
            if not isinstance(st, A.Requires):
                break
            for conj in conjuncts(st.cond):
                why = never_true(conj, params, sym)
                if why:
                    report.warning(codes.NEVER_ENABLED,
                              f"action '{name}' can never be enabled: {why}",
                              conj.pos)


def never_true(e: A.Expr, params: dict[str, Type], sym: Symbols) -> str | None:
    """Why a guard conjunct is false for every value its types allow, if it is.

    Covers ``false`` and comparisons of a parameter or variable of a literal range
    with an integer that lies outside what the comparison can reach.
    """
    if isinstance(e, A.Bool) and not e.value:
        return "its guard is false"
    if not (isinstance(e, A.BinOp) and e.op in ("==", "<", "<=", ">", ">=")):
        return None
    flip = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "=="}
    for side, other, op in ((e.left, e.right, e.op), (e.right, e.left, flip[e.op])):
        if not (isinstance(side, A.Name) and isinstance(other, A.Int)):
            continue
        t = params.get(side.name) or sym.var_types.get(side.name)
        bounds = literal_bounds(t, sym)
        if bounds is None:
            continue
        lo, hi = bounds
        k = other.value
        possible = {"==": lo <= k <= hi, "<": lo < k, "<=": lo <= k, ">": hi > k,
                    ">=": hi >= k}[op]
        if not possible:
            return (f"'{side.name}' ranges over {lo}..{hi}, so "
                    f"'{side.name} {op} {k}' is never true")
    return None


def literal_bounds(t: Type | None, sym: Symbols) -> tuple[int, int] | None:
    """The bounds of a range written with integer literals or literal constants."""
    if not isinstance(t, IntT) or t.lo is None or t.hi is None:
        return None
    values = []
    for bound in (t.lo, t.hi):
        if isinstance(bound, A.Int):
            values.append(bound.value)
        elif isinstance(bound, A.Name) and isinstance(
                getattr(sym.consts.get(bound.name), "value", None), A.Int):
            values.append(sym.consts[bound.name].value.value)  # type: ignore[union-attr]
        else:
            return None
    return values[0], values[1]
