"""Pass 7 (a warning): an ``or`` or ``exists`` in action position (W503).

TLC evaluates a guard as part of the action formula: ``A \\/ B`` yields one successor per
true disjunct and ``\\E x \\in S: P`` one per witness, also inside an operator the action
calls, and counts each as generated. Here a guard is a plain condition: one successor.
Distinct states and verdicts are the same either way (the successors are equal states),
but the generated count differs whenever more than one disjunct or witness holds. The
warning points at the ``or`` or ``exists`` a translated spec relies on, and says how to
write TLC's branching (``either``/``pick``). Disjuncts that test one subject for different
constants (``k == GET or k == PIN``, ``p is A or p is B``) can never hold together and
are not reported.
"""

from __future__ import annotations

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.checked import Def, EnumMember, ModelValue, Symbols, Variant
from pyspec.passes.report import Report
from pyspec.passes.typecheck import Typer
from pyspec.unparse import unparse


def warn_branching(sym: Symbols, typer: Typer, report: Report) -> None:
    """W503 at every ``or``/``exists`` that a ``requires`` or a ``pick ... where`` of an
    action or an action definition reaches in action position (through ``and``, the
    branches of ``if`` and ``match`` expressions, and the bodies of the defs it calls)."""
    seen: set[int] = set()
    bodies = [(f"action '{name}'", a.body) for name, a in sym.actions.items()]
    bodies += [(f"action definition '{name}'", d.body) for name, d in sym.action_defs.items()]
    for what, body in bodies:
        for cond in guards(body.stmts):
            Reach(sym, typer, report, what, seen).visit(cond, ())


def guards(stmts: list[A.Stmt]) -> list[A.Expr]:
    """The conditions an action's paths are filtered by, in source order."""
    out: list[A.Expr] = []
    for st in stmts:
        match st:
            case A.Requires():
                out.append(st.cond)
            case A.Pick() if st.cond is not None:
                out.append(st.cond)
            case A.IfStmt():
                for _, body in st.branches:
                    out += guards(body.stmts)
                if st.orelse is not None:
                    out += guards(st.orelse.stmts)
            case A.MatchStmt():
                for _, body in st.arms:
                    out += guards(body.stmts)
            case A.Either():
                for body in st.branches:
                    out += guards(body.stmts)
    return out


class Reach:
    """Follows one guard through the places TLC evaluates as an action."""

    def __init__(self, sym: Symbols, typer: Typer, report: Report, action: str,
                 seen: set[int]):
        self.sym, self.typer, self.report = sym, typer, report
        self.action = action
        self.seen = seen

    def visit(self, e: A.Expr, via: tuple[str, ...]) -> None:
        match e:
            case A.BinOp(op="and"):
                self.visit(e.left, via)
                self.visit(e.right, via)
            case A.BinOp(op="or"):
                if not exclusive(disjuncts(e), self.typer):
                    self.warn(e, via, "one successor per true disjunct of this 'or'",
                              "either { requires A } or { requires B }",
                              "'if A then true else B'")
            case A.Quant(kind="exists"):
                self.warn(e, via, "one successor per witness of this 'exists'",
                          "pick x in S where P", "'not (forall x in S: not P)'")
            case A.IfExpr():
                for _, value in e.branches:
                    self.visit(value, via)
                self.visit(e.orelse, via)
            case A.MatchExpr():
                for _, value in e.arms:
                    self.visit(value, via)
            case A.LetExpr():
                self.visit(e.body, via)
            case A.Name() | A.Call():
                ref = (self.typer.names if isinstance(e, A.Name) else self.typer.calls).get(e)
                if isinstance(ref, Def) and ref.name not in via and ref.name in self.sym.defs:
                    self.visit(self.sym.defs[ref.name].body, (*via, ref.name))

    def warn(self, e: A.Expr, via: tuple[str, ...], what: str, how: str, keep: str) -> None:
        if id(e) in self.seen:
            return
        self.seen.add(id(e))
        through = f" (through {' -> '.join(via)})" if via else ""
        self.report.warning(
            codes.BRANCHING_GUARD,
            f"in action position of {self.action}{through}, TLC makes {what}; "
            f"here it is one successor (generated counts differ from TLC's when several "
            f"hold; distinct states and verdicts agree): write {how} to count as TLC "
            f"does, or {keep} to keep one successor", e.pos)


def disjuncts(e: A.Expr) -> list[A.Expr]:
    if isinstance(e, A.BinOp) and e.op == "or":
        return disjuncts(e.left) + disjuncts(e.right)
    return [e]


def exclusive(parts: list[A.Expr], typer: Typer) -> bool:
    """Whether the disjuncts test one subject for pairwise different constants."""
    tests = [constant_test(p, typer) for p in parts]
    if any(t is None for t in tests):
        return False
    subjects = {t[0] for t in tests if t is not None}
    keys = [t[1] for t in tests if t is not None]
    return len(subjects) == 1 and len(set(keys)) == len(keys)


def constant_test(e: A.Expr, typer: Typer) -> tuple[str, str] | None:
    """``(subject, constant)`` for ``s is V`` or ``s == K`` with ``K`` a literal, an enum
    constant, a variant or a model value (different ones are different values)."""
    if isinstance(e, A.Is):
        return unparse(e.operand), "is " + e.variant
    if isinstance(e, A.BinOp) and e.op == "==":
        for subject, key in ((e.left, e.right), (e.right, e.left)):
            ref = typer.names.get(key) if isinstance(key, A.Name) else None
            if isinstance(ref, Variant):
                return unparse(subject), "is " + ref.name
            if isinstance(key, (A.Int, A.Bool)) or isinstance(ref, (EnumMember, ModelValue)):
                return unparse(subject), "== " + unparse(key)
    return None
