"""Expressions back to source text: for messages, scenario step labels and the
"assigned twice" check (two point updates are the same when they read the same)."""

from __future__ import annotations

from pyspec import ast as A


def unparse(e: A.Expr) -> str:
    """Source text for ``e``, fully parenthesised where operators nest."""
    match e:
        case A.Int():
            return str(e.value)
        case A.Str():
            return '"' + e.value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        case A.Bool():
            return "true" if e.value else "false"
        case A.Name():
            return e.name
        case A.Primed():
            return e.name + "'"
        case A.Call():
            return e.func + "(" + ", ".join(
                (f"{a.name}: " if a.name else "") + unparse(a.value) for a in e.args) + ")"
        case A.TupleLit():
            return "(" + ", ".join(map(unparse, e.items)) + ")"
        case A.SetLit():
            return "{" + ", ".join(map(unparse, e.items)) + "}"
        case A.SetFilter():
            return f"{{{_binder(e.binder)} where {unparse(e.cond)}}}"
        case A.SetMap():
            cond = f" where {unparse(e.cond)}" if e.cond else ""
            return f"{{{unparse(e.expr)} for {', '.join(map(_binder, e.binders))}{cond}}}"
        case A.MapComp():
            return f"[{_binder(e.binder)} -> {unparse(e.expr)}]"
        case A.IfExpr():
            parts = [f"if {unparse(c)} then {unparse(v)}" for c, v in e.branches]
            return " el".join(parts) + f" else {unparse(e.orelse)}"
        case A.MatchExpr():
            arms = ", ".join(" | ".join(map(unparse_pattern, ps)) + " => " + unparse(v)
                             for ps, v in e.arms)
            return f"match {unparse(e.subject)} {{ {arms} }}"
        case A.Quant():
            return f"{e.kind} {', '.join(map(_binder, e.binders))}: {unparse(e.body)}"
        case A.LetExpr():
            return f"let {e.name} = {unparse(e.value)} in {unparse(e.body)}"
        case A.Choose():
            return f"choose {_binder(e.binder)}: {unparse(e.cond)}"
        case A.SeqLit():
            return "<<" + ", ".join(map(unparse, e.items)) + ">>"
        case A.Select():
            return f"select {_binder(e.binder)}: {unparse(e.cond)}"
        case A.BinOp():
            return f"({unparse(e.left)} {e.op} {unparse(e.right)})"
        case A.Not():
            return f"not {unparse(e.operand)}"
        case A.Neg():
            return f"-{unparse(e.operand)}"
        case A.RangeExpr():
            return f"{unparse(e.lo)}..{unparse(e.hi)}"
        case A.Is():
            return f"{unparse(e.operand)} is {e.variant}"
        case A.Field():
            return f"{unparse(e.operand)}.{e.name}"
        case A.Index():
            return f"{unparse(e.operand)}[{unparse(e.key)}]"
        case A.WithFields():
            inner = ", ".join(f"{n}: {unparse(v)}" for n, v, _ in e.updates)
            return f"{unparse(e.operand)} with {{{inner}}}"
        case A.WithKey():
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
