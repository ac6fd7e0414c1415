"""Expressions back to source text: for messages, scenario step labels and the
"assigned twice" check (two point updates are the same when they read the same)."""

from __future__ import annotations

from pyspec import ast as A


def unparse(e: A.Expr) -> str:
    if isinstance(e, A.Int):
        return str(e.value)
    if isinstance(e, A.Str):
        return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(e, A.Bool):
        return "true" if e.value else "false"
    if isinstance(e, A.Name):
        return e.name
    if isinstance(e, A.Primed):
        return e.name + "'"
    if isinstance(e, A.Call):
        return e.func + "(" + ", ".join(
            (f"{a.name}: " if a.name else "") + unparse(a.value) for a in e.args) + ")"
    if isinstance(e, A.TupleLit):
        return "(" + ", ".join(map(unparse, e.items)) + ")"
    if isinstance(e, A.SetLit):
        return "{" + ", ".join(map(unparse, e.items)) + "}"
    if isinstance(e, A.SetFilter):
        return f"{{{_binder(e.binder)} where {unparse(e.cond)}}}"
    if isinstance(e, A.SetMap):
        cond = f" where {unparse(e.cond)}" if e.cond else ""
        return f"{{{unparse(e.expr)} for {', '.join(map(_binder, e.binders))}{cond}}}"
    if isinstance(e, A.MapComp):
        return f"[{_binder(e.binder)} -> {unparse(e.expr)}]"
    if isinstance(e, A.IfExpr):
        parts = [f"if {unparse(c)} then {unparse(v)}" for c, v in e.branches]
        return " el".join(parts) + f" else {unparse(e.orelse)}"
    if isinstance(e, A.MatchExpr):
        arms = ", ".join(" | ".join(map(unparse_pattern, ps)) + " => " + unparse(v)
                         for ps, v in e.arms)
        return f"match {unparse(e.subject)} {{ {arms} }}"
    if isinstance(e, A.Quant):
        return f"{e.kind} {', '.join(map(_binder, e.binders))}: {unparse(e.body)}"
    if isinstance(e, A.BinOp):
        return f"({unparse(e.left)} {e.op} {unparse(e.right)})"
    if isinstance(e, A.Not):
        return f"not {unparse(e.operand)}"
    if isinstance(e, A.Neg):
        return f"-{unparse(e.operand)}"
    if isinstance(e, A.RangeExpr):
        return f"{unparse(e.lo)}..{unparse(e.hi)}"
    if isinstance(e, A.Is):
        return f"{unparse(e.operand)} is {e.variant}"
    if isinstance(e, A.Field):
        return f"{unparse(e.operand)}.{e.name}"
    if isinstance(e, A.Index):
        return f"{unparse(e.operand)}[{unparse(e.key)}]"
    if isinstance(e, A.WithFields):
        inner = ", ".join(f"{n}: {unparse(v)}" for n, v, _ in e.updates)
        return f"{unparse(e.operand)} with {{{inner}}}"
    if isinstance(e, A.WithKey):
        return f"{unparse(e.operand)} with [{unparse(e.key)} -> {unparse(e.value)}]"
    raise TypeError(f"not an expression: {e!r}")


def unparse_pattern(p: A.Pattern) -> str:
    if p.ctor is None:
        return "_"
    if p.args is None:
        return p.ctor
    return p.ctor + "(" + ", ".join(a if a is not None else "_" for a in p.args) + ")"


def unparse_lvalue(lv: A.LValue) -> str:
    text = lv.var + ("'" if lv.primed else "")
    for acc in lv.path:
        text += f"[{unparse(acc.key)}]" if isinstance(acc, A.IndexAcc) else f".{acc.name}"
    return text


def _binder(b: A.Binder) -> str:
    return f"{b.name} in {unparse(b.domain)}"
