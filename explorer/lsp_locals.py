"""Local names for the editor: which binding each use of a local name refers to.

Global names are unique in a spec (:func:`explorer.lsp_index.index`); a local name is
not: ``f`` is a parameter in one action and a ``forall`` binder in the next, and an inner
binder hides an outer one. So the syntax tree is walked with the scopes the language
gives (docs/language.md): an action's or a def's parameters over its body; a ``forall``,
``exists`` or ``sum`` binder over the binders after it and the body; a comprehension's,
``choose``'s, ``select``'s and ``for``'s binder over what follows it; ``let`` and
``pick`` in a block over the rest of the block, ``let ... in`` over its body. Every
binding and every use of it is recorded by its position, the key an editor's cursor is
looked up by. A name a ``match`` pattern binds hides the outer binding of that name in its
arm and is not itself indexed (patterns do not record where their names are).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from pyspec import ast as A
from pyspec.errors import SourceCache
from pyspec.model import SourcePos
from pyspec.unparse import unparse


@dataclass(frozen=True)
class Local:
    """A local binding: where it is and what a hover says of it."""

    name: str
    kind: str
    pos: SourcePos
    header: str
    detail: str


#: Where a name is written: file, 1-based line and column.
Key = tuple[str, int, int]
Env = dict[str, Local]


def key(pos: SourcePos) -> Key:
    return (pos.file, pos.line, pos.col)


class LocalIndex:
    """The local bindings of some modules, by the position of each binding and each use."""

    def __init__(self, sources: SourceCache) -> None:
        self.sources = sources
        self.at: dict[Key, Local] = {}

    # -- bindings ---------------------------------------------------------------------

    def bind(self, env: Env, name: str, pos: SourcePos, kind: str, detail: str) -> Env:
        header = (self.sources.line(pos) or name).strip()
        local = Local(name, kind, pos, header, detail)
        self.at[key(pos)] = local
        return {**env, name: local}

    def binder(self, env: Env, b: A.Binder, how: str) -> Env:
        """``b``'s domain read in ``env``, then ``b`` bound."""
        self.expr(b.domain, env)
        written = f"{b.name} in {unparse(b.domain)}"
        detail = (f"bound by `{how} {written}`" if how in _KEYWORDS
                  else f"bound in {how}: `{written}`")
        return self.bind(env, b.name, b.pos, how, detail)

    def let(self, env: Env, name: str, value: A.Expr, at: SourcePos) -> Env:
        """``let name = value`` written at ``at`` (the keyword): the name's own position
        is found after it on its line."""
        self.expr(value, env)
        line = self.sources.line(at) or ""
        found = re.compile(rf"let\s+({re.escape(name)})\b").search(line, at.col - 1)
        pos = dataclasses.replace(at, col=found.start(1) + 1) if found else at
        return self.bind(env, name, pos, "let", f"bound by `let {name} = {unparse(value)}`")

    # -- declarations, statements, expressions -----------------------------------------

    def decl(self, d: A.Decl) -> None:
        if isinstance(d, A.ActionDecl | A.DefDecl):
            what = "action" if isinstance(d, A.ActionDecl) else "def"
            env: Env = {}
            for p in d.params or []:
                self.walk(p.type, {})
                typ = _written_type(self.sources.line(p.pos) or "", p.pos.col)
                env = self.bind(env, p.name, p.pos, "parameter",
                                f"a parameter of {what} `{d.name}`" + (
                                    f": `{p.name}: {typ}`" if typ else ""))
            if isinstance(d, A.ActionDecl):
                self.block(d.body, env)
            else:
                self.expr(d.body, env)
        elif isinstance(d, A.InitDecl):
            self.block(d.body, {})
        else:
            self.walk(d, {})

    def block(self, b: A.Block, env: Env) -> None:
        for s in b.stmts:
            if isinstance(s, A.Let):
                env = self.let(env, s.name, s.value, s.pos)
            elif isinstance(s, A.Pick):
                env = self.binder(env, s.binder, "pick")
                if s.cond is not None:
                    self.expr(s.cond, env)
            elif isinstance(s, A.For):
                self.block(s.body, self.binder(env, s.binder, "for"))
            elif isinstance(s, A.MatchStmt):
                self.expr(s.subject, env)
                for patterns, arm in s.arms:
                    self.block(arm, _hide(env, patterns))
            else:
                self.walk(s, env)

    def expr(self, e: A.Expr, env: Env) -> None:
        if isinstance(e, A.Name):
            if e.name in env:
                self.at[key(e.pos)] = env[e.name]
        elif isinstance(e, A.Quant):
            inner = env
            for b in e.binders:
                inner = self.binder(inner, b, e.kind)
            self.expr(e.body, inner)
        elif isinstance(e, A.SetMap):
            inner = env
            for b in e.binders:
                inner = self.binder(inner, b, "a set comprehension")
            self.expr(e.expr, inner)
            if e.cond is not None:
                self.expr(e.cond, inner)
        elif isinstance(e, A.SetFilter | A.Choose | A.Select):
            how = ("choose" if isinstance(e, A.Choose) else "select" if isinstance(e, A.Select)
                   else "a set comprehension")
            self.expr(e.cond, self.binder(env, e.binder, how))
        elif isinstance(e, A.MapComp):
            self.expr(e.expr, self.binder(env, e.binder, "a map comprehension"))
        elif isinstance(e, A.LetExpr):
            self.expr(e.body, self.let(env, e.name, e.value, e.pos))
        elif isinstance(e, A.MatchExpr):
            self.expr(e.subject, env)
            for patterns, arm in e.arms:
                self.expr(arm, _hide(env, patterns))
        else:
            for f in dataclasses.fields(e):
                self.walk(getattr(e, f.name), env)

    def walk(self, node: object, env: Env) -> None:
        """Every expression and block in or below ``node``, in ``env``."""
        if isinstance(node, _SCOPING):
            self.expr(node, env)  # type: ignore[arg-type]
        elif isinstance(node, A.Block):
            self.block(node, env)
        elif isinstance(node, list | tuple):
            for x in node:
                self.walk(x, env)
        elif dataclasses.is_dataclass(node) and not isinstance(node, SourcePos):
            for f in dataclasses.fields(node):
                self.walk(getattr(node, f.name), env)


#: The expressions :meth:`LocalIndex.expr` treats apart: a name, and what binds names.
_SCOPING = (A.Name, A.Quant, A.SetMap, A.SetFilter, A.Choose, A.Select, A.MapComp,
            A.LetExpr, A.MatchExpr)


#: Binding keywords (a hover quotes them as written).
_KEYWORDS = ("forall", "exists", "sum", "pick", "for", "choose", "select")


def _written_type(line: str, col: int) -> str:
    """The type written after the parameter at 1-based ``col`` of ``line``: up to the
    ``,`` or ``)`` that closes it."""
    m = re.compile(r"\w+\s*:\s*").match(line, col - 1)
    if m is None:
        return ""
    depth, end = 0, m.end()
    while end < len(line):
        c = line[end]
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif c == "," and depth == 0:
            break
        end += 1
    return line[m.end():end].strip()


def _hide(env: Env, patterns: list[A.Pattern]) -> Env:
    """``env`` without the names the patterns bind."""
    bound = {a for p in patterns for a in (p.args or []) if a}
    return {n: b for n, b in env.items() if n not in bound}


def local_names(modules: list[A.Module], sources: SourceCache) -> dict[Key, Local]:
    """Every binding of a local name in ``modules`` and every use of one, by position."""
    index = LocalIndex(sources)
    for module in modules:
        for d in module.decls:
            index.decl(d)
    return index.at
