"""Small static analyses of checked expressions, shared by the code generators.

Both the scalar compiler and the array compiler hoist an action's guards: each conjunct of
its leading ``requires`` is tested as soon as the parameters it reads are bound, outside
the loops (or unrolled blocks) of the later parameters. These helpers say what an
expression reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, is_dataclass

from pyspec import ast as A
from pyspec.checked import Checked, Def, EnumMember, Local, Variant, Wildcard


def walk(node: object) -> Iterator[object]:
    """Every AST node under ``node`` (itself included), depth first."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, (list, tuple)):
            stack.extend(reversed(n))
            continue
        if not is_dataclass(n) or isinstance(n, type):
            continue
        yield n
        for f in fields(n):
            if f.name != "pos":
                stack.append(getattr(n, f.name))


def defs_reached(roots: list[object], checked: Checked) -> set[str]:
    """The defs that evaluating ``roots`` (expressions, statements, declarations) may
    evaluate: those they name or call, and those these name or call, transitively."""
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        for n in walk(stack.pop()):
            ref = checked.names.get(n) if isinstance(n, A.Name) else \
                checked.calls.get(n) if isinstance(n, A.Call) else None
            if isinstance(ref, Def) and ref.name not in seen:
                seen.add(ref.name)
                stack.append(checked.symbols.defs[ref.name].body)
    return seen


def conjuncts(e: A.Expr) -> list[A.Expr]:
    """``a and b and c`` as ``[a, b, c]``, in evaluation order."""
    if isinstance(e, A.BinOp) and e.op == "and":
        return conjuncts(e.left) + conjuncts(e.right)
    return [e]


def reads_primes(e: A.Expr) -> bool:
    return any(isinstance(n, A.Primed) for n in walk(e))


def locals_read(e: A.Expr, checked: Checked) -> set[str]:
    """Names of local variables (parameters, binders, lets) that ``e`` reads."""
    return {n.name for n in walk(e)
            if isinstance(n, A.Name) and isinstance(checked.names.get(n), Local)}


def hoist_guards(stmts: list[A.Stmt], params: list[str], checked: Checked
                 ) -> tuple[list[tuple[int, A.Expr, A.Requires]], list[A.Stmt]]:
    """Split the leading ``requires`` of an action body into conjuncts placed at the
    loop level of the last parameter each one reads (-1: no parameter).

    Returns ``(guards, rest)``: ``guards`` in evaluation order, each ``(level, conjunct,
    its requires)``, with levels never decreasing, so that conjuncts run in the order the
    spec wrote them (a later conjunct never runs where an earlier one, which might have
    failed with an evaluation error, did not). ``rest`` is what stays in the body. A
    ``requires`` that reads primes, and everything after it, stays.
    """
    guards: list[tuple[int, A.Expr, A.Requires]] = []
    level = -1
    n = 0
    for st in stmts:
        if not isinstance(st, A.Requires) or reads_primes(st.cond):
            break
        for c in conjuncts(st.cond):
            used = locals_read(c, checked)
            own = max((i for i, p in enumerate(params) if p in used), default=-1)
            level = max(level, own)
            guards.append((level, c, st))
        n += 1
    return guards, stmts[n:]


def arm_tests(pats: list[A.Pattern], checked: Checked) -> list[EnumMember | Variant] | None:
    """What a match arm tests, per alternative: an enum constant or a variant; None for a
    wildcard arm."""
    tests = []
    for p in pats:
        ref = checked.patterns.get(p, Wildcard())
        if isinstance(ref, Wildcard):
            return None
        tests.append(ref)
    return tests
