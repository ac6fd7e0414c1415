"""Why a property failed: its sub-expressions' values at the violating state.

For a violated invariant or action property, the explanation opens the expression the
way a reader would: the conjunct of an ``and`` that is false, every disjunct of an
``or``, the consequent of an ``implies``, the first instance of a ``forall`` that is
false (with its binding), the arm a ``match`` took (with its pattern variables), the
body of a called ``def`` (with its arguments), and the two sides of a comparison. For a
deadlock it lists every action with the first guard that blocks it.

Sub-expressions are compiled by the spec's own compiler (:class:`pyspec.codegen.scalar.Compiler`
for the same model and constants) and evaluated in the namespace of the compiled model,
so nothing runs but the checked spec, with exactly the semantics the search used. Only
models compiled from a spec file can be explained; hand-written Python models cannot.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from explorer.result import Why
from pyspec import ast as A
from pyspec.analysis import conjuncts, hoist_guards
from pyspec.checked import Const, Def, TypeSet
from pyspec.codegen.common import py_name
from pyspec.codegen.scalar import Compiler
from pyspec.model import Model, NoProgram, State
from pyspec.runtime import describe
from pyspec.types import MVT, AnyT, SetT, Type, UnionT
from pyspec.unparse import unparse, unparse_pattern
from pyspec.values import render

#: How deep an explanation opens sub-expressions, and how many parts it lists per node.
MAX_DEPTH = 8
MAX_PARTS = 12
#: Bindings of a quantifier (or of an action's parameters) tried at most.
MAX_BINDINGS = 4096

_COMPARISONS = ("==", "!=", "<", "<=", ">", ">=", "in", "not in", "subset")


class _NotExplainable(Exception):
    """The model has no spec behind it."""


class Explainer:
    """Evaluates sub-expressions of one compiled model's spec on its raw states."""

    def __init__(self, model: Model) -> None:
        try:
            compiler = model.programs.get("compiler")
        except NoProgram:
            raise _NotExplainable from None
        assert isinstance(compiler, Compiler)
        self.compiler = compiler
        self.checked = compiler.c
        self.sym = compiler.c.symbols
        self.ns: dict[str, object] = dict(model.successors.__globals__)  # type: ignore[attr-defined]
        self.model = model
        self._code: dict[int, object] = {}

    # -- evaluation ------------------------------------------------------------------

    def _compiled(self, e: A.Expr) -> object:
        key = id(e)
        if key not in self._code:
            src = self.compiler.expr(e)
            for k, v in self.compiler.ns.items():
                self.ns.setdefault(k, v)
            self._code[key] = compile(src, f"<explain {e.pos}>", "eval")
        return self._code[key]

    def value(self, e: A.Expr, env: dict[str, object]) -> object:
        return eval(self._compiled(e), {**self.ns, **env})  # noqa: S307 - the spec, compiled

    def iterate(self, domain: A.Expr, env: dict[str, object]) -> list:
        src = self.compiler.iter_src(domain, True)
        for k, v in self.compiler.ns.items():
            self.ns.setdefault(k, v)
        return list(eval(src, {**self.ns, **env}))  # noqa: S307 - the spec, compiled

    def text(self, v: object, t: Type) -> str:
        if isinstance(t, AnyT):
            return repr(v)
        try:
            return render(describe(v, self.compiler.desc(t)))
        except Exception:  # noqa: BLE001 - a value we cannot name is shown raw
            return repr(v)

    def type_of(self, e: A.Expr) -> Type:
        return self.checked.types.get(e, AnyT())

    def elem_type(self, domain: A.Expr) -> Type:
        if isinstance(domain, A.Name):
            ref = self.checked.names.get(domain)
            if isinstance(ref, TypeSet):
                return ref.type
            if isinstance(ref, Const) and domain.name in self.sym.mv_sets:
                return MVT(domain.name)
        t = self.type_of(domain)
        return t.elem if isinstance(t, SetT) else AnyT()

    def state_env(self, s: State, t: State | None = None) -> dict[str, object]:
        env = {py_name("v", v): x for v, x in zip(self.sym.vars, s)}
        if t is not None:
            env.update({py_name("n", v): x for v, x in zip(self.sym.vars, t)})
        return env

    # -- expressions -----------------------------------------------------------------

    def why(self, e: A.Expr, env: dict[str, object], depth: int = 0, note: str = "") -> Why:
        """``e`` with its value, opened up while its value is false."""
        try:
            v = self.value(e, env)
        except Exception as exc:  # noqa: BLE001 - the spec's own evaluation error
            return Why(unparse(e), f"error: {self.model.explain_error(exc).message}",
                       e.pos, note)
        shown = self.text(v, self.type_of(e))
        parts: tuple[Why, ...] = ()
        if v is False and depth < MAX_DEPTH:
            parts = tuple(itertools.islice(self._parts(e, env, depth + 1), MAX_PARTS))
        elif depth < MAX_DEPTH and isinstance(e, A.BinOp) and e.op in _COMPARISONS:
            parts = tuple(self._sides(e, env, depth + 1))
        return Why(unparse(e), shown, e.pos, note, parts)

    def _leaf(self, e: A.Expr, env: dict[str, object], note: str = "") -> Why:
        try:
            return Why(unparse(e), self.text(self.value(e, env), self.type_of(e)), e.pos, note)
        except Exception as exc:  # noqa: BLE001
            return Why(unparse(e), f"error: {self.model.explain_error(exc).message}", e.pos,
                       note)

    def _sides(self, e: A.BinOp, env: dict[str, object], depth: int) -> Iterator[Why]:
        for side in (e.left, e.right):
            if not isinstance(side, (A.Int, A.Bool, A.Str)):
                yield self._leaf(side, env)

    def _parts(self, e: A.Expr, env: dict[str, object], depth: int) -> Iterator[Why]:
        """The sub-expressions that make a false ``e`` false."""
        if isinstance(e, A.BinOp) and e.op == "and":
            for c in conjuncts(e):
                yield self.why(c, env, depth)
        elif isinstance(e, A.BinOp) and e.op == "or":
            yield self.why(e.left, env, depth)
            yield self.why(e.right, env, depth)
        elif isinstance(e, A.BinOp) and e.op == "implies":
            yield self._leaf(e.left, env)
            yield self.why(e.right, env, depth)
        elif isinstance(e, A.BinOp) and e.op in _COMPARISONS:
            yield from self._sides(e, env, depth)
        elif isinstance(e, A.Not):
            yield self._leaf(e.operand, env)
        elif isinstance(e, A.Quant) and e.kind == "forall":
            yield from self._forall(e, env, depth)
        elif isinstance(e, A.Quant) and e.kind == "exists":
            yield Why(unparse(e.body), "false", e.body.pos,
                      f"for every binding of {', '.join(b.name for b in e.binders)}")
        elif isinstance(e, A.MatchExpr):
            yield from self._match(e, env, depth)
        elif isinstance(e, A.IfExpr):
            yield from self._if(e, env, depth)
        elif isinstance(e, (A.Call, A.Name)):
            yield from self._def(e, env, depth)

    def _bindings(self, binders: list[A.Binder], env: dict[str, object]
                  ) -> Iterator[tuple[dict[str, object], str]]:
        """Every binding of ``binders`` in order, with its text (``f = F0, p = P1``)."""
        def go(i: int, bound: dict[str, object], words: list[str]
               ) -> Iterator[tuple[dict[str, object], str]]:
            if i == len(binders):
                yield bound, ", ".join(words)
                return
            b = binders[i]
            t = self.elem_type(b.domain)
            for x in self.iterate(b.domain, {**env, **bound}):
                yield from go(i + 1, {**bound, py_name("l", b.name): x},
                              [*words, f"{b.name} = {self.text(x, t)}"])

        return itertools.islice(go(0, {}, []), MAX_BINDINGS)

    def _forall(self, e: A.Quant, env: dict[str, object], depth: int) -> Iterator[Why]:
        for bound, words in self._bindings(e.binders, env):
            inner = {**env, **bound}
            try:
                holds = self.value(e.body, inner)
            except Exception:  # noqa: BLE001 - shown by why() below
                holds = False
            if holds is False:
                yield self.why(e.body, inner, depth, f"for {words}")

    def _match(self, e: A.MatchExpr, env: dict[str, object], depth: int) -> Iterator[Why]:
        subject = self.value(e.subject, env)
        subject_t = self.type_of(e.subject)
        yield self._leaf(e.subject, env, "matched")
        for pats, body in e.arms:
            test = self.compiler.pattern_test(pats, "_m", subject_t)
            if test is not None and not eval(test, {**self.ns, "_m": subject}):  # noqa: S307
                continue
            inner = dict(env)
            words = []
            binds = self.compiler.pattern_binds(pats, "_m")
            types = self._pattern_types(pats[0], subject_t)
            names = [a for a in pats[0].args or [] if a is not None] if binds else []
            for (local, src), t, name in zip(binds, types, names, strict=False):
                inner[local] = eval(src, {"_m": subject})  # noqa: S307 - a tuple index
                words.append(f"{name} = {self.text(inner[local], t)}")
            arm = " | ".join(unparse_pattern(p) for p in pats)
            note = f"arm {arm}" + (f" with {', '.join(words)}" if words else "")
            yield self.why(body, inner, depth, note)
            return

    def _pattern_types(self, p: A.Pattern, subject_t: Type) -> list[Type]:
        if not isinstance(subject_t, UnionT) or p.ctor is None or p.args is None:
            return []
        fields = self.sym.variant_fields.get(p.ctor, [])
        return [ft for a, (_, ft) in zip(p.args, fields, strict=False) if a is not None]

    def _if(self, e: A.IfExpr, env: dict[str, object], depth: int) -> Iterator[Why]:
        for cond, value in e.branches:
            if self.value(cond, env):
                yield self._leaf(cond, env)
                yield self.why(value, env, depth)
                return
        yield self.why(e.orelse, env, depth, "else")

    def _def(self, e: A.Call | A.Name, env: dict[str, object], depth: int) -> Iterator[Why]:
        """A false call of a boolean def: its body with the arguments bound."""
        name = e.func if isinstance(e, A.Call) else e.name
        ref = self.checked.calls.get(e) if isinstance(e, A.Call) else \
            self.checked.names.get(e)
        if not isinstance(ref, Def) or name not in self.sym.defs:
            return
        d = self.sym.defs[name]
        state_names = {py_name(p, v) for p in ("v", "n") for v in self.sym.vars}
        inner = {k: v for k, v in env.items() if k in state_names}
        args = e.args if isinstance(e, A.Call) else []
        words = []
        for p, arg in zip(d.params or [], args, strict=False):
            value = inner[py_name("l", p.name)] = self.value(arg.value, env)
            words.append(f"{p.name} = {self.text(value, self.type_of(arg.value))}")
        yield self.why(d.body, inner, depth, f"def {name}" + (f"({', '.join(words)})"
                                                             if words else ""))

    # -- deadlocks -------------------------------------------------------------------

    def deadlock(self, s: State) -> list[Why]:
        """Every action, with the first guard that blocks it for each binding of its
        parameters (bindings blocked by one guard are counted together)."""
        out = []
        for d in self.sym.actions.values():
            params = self.sym.action_params[d.name]
            guards, _ = hoist_guards(d.body.stmts, [p for p, _ in params], self.checked)
            env = self.state_env(s)
            blocked: dict[int, list[str]] = {}
            unguarded = 0
            for bound, words in self._param_bindings(list(params)):
                inner = {**env, **bound}
                k = next((i for i, (_, cond, _) in enumerate(guards)
                          if not self._true(cond, inner)), None)
                if k is None:
                    unguarded += 1
                else:
                    blocked.setdefault(k, []).append(words)
            parts = []
            for k, bindings in sorted(blocked.items()):
                cond = guards[k][1]
                which = (f"for {bindings[0]}" if len(bindings) == 1 and bindings[0]
                         else f"for {len(bindings)} bindings, the first {bindings[0]}"
                         if bindings[0] else "")
                parts.append(Why(unparse(cond), "false", cond.pos, which))
            if unguarded:
                parts.append(Why("(its later statements)", "no successor", d.pos,
                                 f"{unguarded} binding(s) pass every leading requires"))
            out.append(Why(f"action {d.name}", "disabled", d.pos, "", tuple(parts)))
        return out

    def _param_bindings(self, params: list[tuple[str, Type]]
                        ) -> Iterator[tuple[dict[str, object], str]]:
        def go(i: int, bound: dict[str, object], words: list[str]
               ) -> Iterator[tuple[dict[str, object], str]]:
            if i == len(params):
                yield bound, ", ".join(words)
                return
            name, t = params[i]
            for x in eval(domains[i], self.ns):  # noqa: S307
                yield from go(i + 1, {**bound, py_name("l", name): x},
                              [*words, f"{name} = {self.text(x, t)}"])

        # Naming a domain may add a table to the compiler's namespace: name them first.
        domains = [self.compiler.domain_src(t) for _, t in params]
        for k, v in self.compiler.ns.items():
            self.ns.setdefault(k, v)
        return itertools.islice(go(0, {}, []), MAX_BINDINGS)

    def _true(self, e: A.Expr, env: dict[str, object]) -> bool:
        try:
            return bool(self.value(e, env))
        except Exception:  # noqa: BLE001 - a guard that raises blocks the action
            return False


def explainer(model: Model) -> Explainer | None:
    """The explainer of a model compiled from a spec; None for a hand-written model."""
    try:
        return Explainer(model)
    except _NotExplainable:
        return None


def explain(ex: Explainer, kind: str, name: str, raw: list) -> tuple[Why, ...]:
    """Why ``name`` of ``kind`` failed at the end of the raw trace ``raw``."""
    last = raw[-1][2]
    if kind == "deadlock":
        return tuple(ex.deadlock(last))
    check = ex.sym.checks.get(name)
    if check is None or kind not in ("invariant", "property"):
        return ()
    if kind == "property":
        if len(raw) < 2:
            return ()
        env = ex.state_env(raw[-2][2], last)
    else:
        env = ex.state_env(last)
    return (ex.why(check.body, env),)

