"""Pass 4: effects. ``init`` and actions assign each variable at most once per path
(E201), whole before part in ``init`` (E204), primes in actions and none in ``init``
(E206); ``requires``, ``pick`` and ``either`` stay out of ``for`` loops (E207).

A :class:`Flow` follows the assignments along the paths through a block; the statement
visitor is one ``match`` over the statement kinds, and the expressions inside statements
go to :class:`~pyspec.passes.typecheck.Typer`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.analysis import walk
from pyspec.codegen.common import assigned_vars
from pyspec.errors import did_you_mean
from pyspec.model import SourcePos
from pyspec.passes.finiteness import check_parameter
from pyspec.passes.typecheck import Scope, Typer
from pyspec.types import ANY, BOOL, Type, plain
from pyspec.unparse import unparse_lvalue

#: What an assignment writes: a variable and the path into it (``""`` for the whole).
Target = tuple[str, str]


@dataclass
class Flow:
    """Assignments seen so far on the paths through a block (``may``: on some path, with
    where it first happened; ``must``: on every path)."""

    may: dict[Target, SourcePos] = field(default_factory=dict)
    must: set[Target] = field(default_factory=set)
    #: Variables a surrounding ``for`` loop assigns: their next value may be read before
    #: the first assignment (it accumulates over the iterations).
    looped: frozenset[str] = frozenset()

    def copy(self) -> Flow:
        return Flow(dict(self.may), set(self.must), self.looped)

    def assigned(self, var: str) -> bool:
        """Whether every path so far assigns ``var`` (whole or in part), or a loop around
        us accumulates into it."""
        return var in self.looped or any(v == var for v, _ in self.must)

    def first(self, var: str) -> SourcePos:
        """Where a path first assigned ``var`` (whole or in part)."""
        return next(pos for (v, _), pos in self.may.items() if v == var)


class Effects:
    """Checks the statements of ``init`` and of the actions."""

    def __init__(self, typer: Typer):
        self.typer = typer
        self.sym = typer.sym
        self.expr = typer.expr
        self.expect = typer.expect
        self.err = typer.err
        #: The action definitions being performed (outermost first), to find cycles.
        self._performing: list[str] = []
        #: Local names of the actions and definitions around the one being checked: the
        #: body of a definition runs among them, so its own locals must differ.
        self._outer: frozenset[str] = frozenset()
        #: Action definitions some action performs.
        self.performed: set[str] = set()

    def check_init(self) -> None:
        """``init`` assigns every variable on every path, without primes."""
        s = self.sym
        if s.init is None:
            if s.vars:
                self.err(codes.INIT_INCOMPLETE,
                         "the spec declares variables but has no init block", None)
        else:
            flow = Flow()
            self.block(s.init.body, {}, Scope("init", init=True), flow)
            missing = [v for v in s.vars if (v, "") not in flow.must]
            if missing:
                self.err(codes.INIT_INCOMPLETE,
                         f"init does not assign {', '.join(missing)} on every path",
                         s.init.pos)

    def check_action(self, name: str, d: A.ActionDecl) -> None:
        """An action's parameters have finite types; its body assigns each variable at
        most once per path, with primes."""
        s = self.sym
        env: dict[str, Type] = {}
        params = []
        for p in d.params:
            t = self.typer.declared_type(p.type)
            check_parameter(p, t, s, self.typer.report)
            env = self.typer.bind(p.name, plain(t), env, p.pos)
            params.append((p.name, t))
        s.action_params[name] = params
        self.block(d.body, env, Scope(f"action '{name}'", reads_primes=True), Flow())

    def block(self, b: A.Block, env: dict[str, Type], ctx: Scope, flow: Flow,
              in_for: bool = False) -> None:
        for st in b.stmts:
            env = self.stmt(st, env, ctx, flow, in_for)

    def stmt(self, st: A.Stmt, env: dict[str, Type], ctx: Scope, flow: Flow,
             in_for: bool) -> dict[str, Type]:
        if ctx.reads_primes:
            self.primes_read(st, ctx, flow)
        match st:
            case A.Requires():
                if in_for:
                    self.err(codes.FORK_IN_FOR,
                             "requires cannot appear inside a for loop (a guard belongs "
                             "to the whole action)", st.pos)
                self.expect(st.cond, BOOL, self.expr(st.cond, env, ctx), "a guard")
                return env
            case A.Let():
                return self.typer.bind(st.name, self.expr(st.value, env, ctx), env, st.pos)
            case A.Assign():
                self.assign(st, env, ctx, flow, in_for)
                return env
            case A.IfStmt():
                outs = []
                for cond, body in st.branches:
                    self.expect(cond, BOOL, self.expr(cond, env, ctx), "an if condition")
                    f = flow.copy()
                    self.block(body, env, ctx, f, in_for)
                    outs.append(f)
                f = flow.copy()
                if st.orelse is not None:
                    self.block(st.orelse, env, ctx, f, in_for)
                outs.append(f)
                self.merge(flow, outs)
                return env
            case A.MatchStmt():
                subject = self.expr(st.subject, env, ctx)
                outs = []
                arms = [(pats, body.pos) for pats, body in st.arms]
                inners = list(self.typer.match_arms(subject, arms, env, st))
                for (_, body), inner in zip(st.arms, inners):
                    f = flow.copy()
                    self.block(body, inner, ctx, f, in_for)
                    outs.append(f)
                if outs:
                    self.merge(flow, outs)
                return env
            case A.Either():
                if in_for:
                    self.err(codes.FORK_IN_FOR, "either cannot appear inside a for loop", st.pos)
                outs = []
                for body in st.branches:
                    f = flow.copy()
                    self.block(body, env, ctx, f, in_for)
                    outs.append(f)
                self.merge(flow, outs)
                return env
            case A.Pick():
                if in_for:
                    self.err(codes.FORK_IN_FOR, "pick cannot appear inside a for loop", st.pos)
                inner = self.typer.binders([st.binder], env, ctx)
                if st.cond is not None:
                    self.expect(st.cond, BOOL, self.expr(st.cond, inner, ctx),
                                "a pick condition")
                return inner
            case A.For():
                inner = self.typer.binders([st.binder], env, ctx)
                f = flow.copy()
                f.looped = f.looped | assigned_vars(st.body, self.sym.action_defs)
                self.block(st.body, inner, ctx, f, in_for=True)
                flow.may = {**f.may, **flow.may}
                flow.must |= f.must
                return env
            case A.Skip():
                return env
            case A.Perform():
                self.perform(st, env, ctx, flow, in_for)
                return env
        raise TypeError(f"unknown statement node {st!r}")  # pragma: no cover

    def action_def_params(self, name: str) -> list[tuple[str, Type]]:
        s = self.sym
        if name not in s.action_def_params:
            s.action_def_params[name] = [(p.name, self.typer.resolve_type(p.type))
                                         for p in s.action_defs[name].params]
        return s.action_def_params[name]

    def perform(self, st: A.Perform, env: dict[str, Type], ctx: Scope, flow: Flow,
                in_for: bool) -> None:
        """``Send(m)``: the definition's body on the caller's paths, its parameters bound
        to the arguments (typed as declared) and nothing else of the caller in scope."""
        s = self.sym
        d = s.action_defs.get(st.name)
        if d is None or ctx.init or st.name in self._performing:
            if d is None and st.name in s.defs:
                self.err(codes.WRONG_KIND, f"'{st.name}' is a def with a value; a statement "
                         "performs an action definition, 'def Name(params) { ... }'", st.pos)
            elif d is None and st.name in s.actions:
                self.err(codes.WRONG_KIND, f"an action cannot perform the action '{st.name}'; "
                         "declare what they share as 'def Name(params) { ... }'", st.pos)
            elif d is None:
                self.err(codes.UNKNOWN_NAME, f"unknown action definition '{st.name}'"
                         f"{did_you_mean(st.name, s.action_defs)}", st.pos)
            elif ctx.init:
                self.err(codes.WRONG_KIND, f"init cannot perform '{st.name}': an action "
                         "definition assigns next values, in actions", st.pos)
            else:
                self.err(codes.CYCLE, f"'{st.name}' performs itself (recursion is not "
                         "allowed; every path must be finite)", st.pos)
            for a in st.args:
                self.expr(a.value, env, ctx)
            return
        self.performed.add(st.name)
        params = self.action_def_params(st.name)
        if len(st.args) != len(params):
            self.err(codes.ARITY, f"'{st.name}' takes {len(params)} argument"
                     f"{'s' if len(params) != 1 else ''}, not {len(st.args)}", st.pos)
        for a, (pname, ptype) in zip(st.args, params):
            if a.name is not None and a.name != pname:
                self.err(codes.UNKNOWN_FIELD, f"'{st.name}' has no parameter '{a.name}'",
                         a.pos)
            self.expect(a.value, ptype, self.expr(a.value, env, ctx),
                        f"argument '{pname}' of '{st.name}'")
        outer = self._outer | frozenset(env)
        for name in sorted(_bound_names(d.body) & outer):
            self.err(codes.DUPLICATE, f"'{name}' is a local name both here and in the body "
                     f"of '{st.name}' ({d.pos}); rename one of them", st.pos)
        inner: dict[str, Type] = {}
        for p, (pname, ptype) in zip(d.params, params):
            inner = self.typer.bind(pname, ptype, inner, p.pos)
        saved = self._outer
        self._outer = outer
        self._performing.append(st.name)
        self.block(d.body, inner, ctx, flow, in_for)
        self._performing.pop()
        self._outer = saved

    def check_unperformed(self) -> None:
        """Action definitions no action performs are checked on their own."""
        for name, d in self.sym.action_defs.items():
            if name in self.performed:
                continue
            env: dict[str, Type] = {}
            for p, (pname, ptype) in zip(d.params, self.action_def_params(name)):
                env = self.typer.bind(pname, ptype, env, p.pos)
            self._performing.append(name)
            self.block(d.body, env, Scope(f"'{name}'", reads_primes=True), Flow())
            self._performing.pop()

    def primes_read(self, st: A.Stmt, ctx: Scope, flow: Flow) -> None:
        """A statement's own expressions read ``x'`` only where every path so far has
        assigned ``x`` (E208): TLC stops with an error when a path reads a next value it
        has not yet given, and the old value would silently stand in for it."""
        match st:
            case A.Requires():
                exprs: list[object] = [st.cond]
            case A.Let():
                exprs = [st.value]
            case A.Assign():
                exprs = [st.value, st.target.path]
            case A.IfStmt():
                exprs = [cond for cond, _ in st.branches]
            case A.MatchStmt():
                exprs = [st.subject]
            case A.Pick():
                exprs = [st.binder.domain, st.cond]
            case A.For():
                exprs = [st.binder.domain]
            case A.Perform():
                exprs = [a.value for a in st.args]
            case _:
                exprs = []
        for n in walk(exprs):
            if (isinstance(n, A.Primed) and n.name in self.sym.vars
                    and not flow.assigned(n.name)):
                some = any(v == n.name for v, _ in flow.may)
                self.err(codes.PRIME_BEFORE_ASSIGNED,
                         f"{n.name}' is read before {ctx.what} assigns it"
                         f"{' on every path' if some else ''}; TLC stops with an error "
                         f"here. Assign {n.name}' first, or read {n.name} (the current "
                         "value)", n.pos)

    @staticmethod
    def merge(flow: Flow, outs: list[Flow]) -> None:
        flow.may = {}
        for f in outs:
            for target, pos in f.may.items():
                flow.may.setdefault(target, pos)
        flow.must = set.intersection(*(f.must for f in outs))

    def assign(self, st: A.Assign, env: dict[str, Type], ctx: Scope, flow: Flow,
               in_for: bool) -> None:
        s = self.sym
        lv = st.target
        if lv.var not in s.vars:
            if lv.var in env or lv.var in self.typer.global_names:
                kind = "a local name" if lv.var in env else "not a variable"
                self.err(codes.NOT_ASSIGNABLE, f"cannot assign to '{lv.var}': it is {kind}",
                         lv.pos)
            else:
                self.err(codes.UNDECLARED_VARIABLE,
                         f"cannot assign to undeclared variable '{lv.var}'"
                         f"{did_you_mean(lv.var, s.vars)}", lv.pos)
            self.expr(st.value, env, ctx)
            for acc in lv.path:
                if isinstance(acc, A.IndexAcc):
                    self.expr(acc.key, env, ctx)
            return
        if ctx.init and lv.primed:
            self.err(codes.PRIME_MISPLACED,
                     f"init assigns the initial state: write '{lv.var} = ...' without "
                     "a prime", lv.pos)
        if not ctx.init and not lv.primed:
            self.err(codes.PRIME_MISPLACED,
                     f"an action assigns the next state: add a prime, {lv.var}' = ...",
                     lv.pos)
        t = s.var_types.get(lv.var, ANY)
        if lv.path:
            t = plain(t)
        for acc in lv.path:
            if isinstance(acc, A.IndexAcc):
                t = self.typer.index(acc, t, acc.key, env, ctx)
            else:
                t = self.typer.field_access(acc, t, acc.name, acc.pos)
        self.expect(st.value, t, self.expr(st.value, env, ctx),
                    f"the value assigned to {unparse_lvalue(lv)}")
        whole = lv.var
        key = (whole, unparse_lvalue(A.LValue(lv.var, False, lv.path, lv.pos))
               if lv.path else "")
        if not lv.path:
            if any(v == whole for v, _ in flow.may):
                self.err(codes.ASSIGNED_TWICE, f"'{whole}' is assigned twice on one path through "
                         f"{ctx.what} (first at {flow.first(whole)})", lv.pos)
            elif in_for:
                self.err(codes.ASSIGNED_TWICE,
                         f"'{whole}' is assigned whole inside a for loop, once per "
                         "iteration; assign an element, or build the value with a "
                         "comprehension", lv.pos)
        else:
            if ctx.init and (whole, "") not in flow.must:
                self.err(codes.INIT_INCOMPLETE,
                         f"init must assign '{whole}' as a whole before it assigns "
                         "parts of it", lv.pos)
            elif (whole, "") in flow.may and not ctx.init:
                self.err(codes.ASSIGNED_TWICE,
                         f"'{whole}' is assigned as a whole and then again in part on "
                         f"one path through {ctx.what} (whole at {flow.may[whole, '']})",
                         lv.pos)
            elif key in flow.may and not in_for:
                self.err(codes.ASSIGNED_TWICE,
                         f"{unparse_lvalue(lv)} is assigned twice on one path through "
                         f"{ctx.what} (first at {flow.may[key]})", lv.pos)
        flow.may.setdefault(key, lv.pos)
        flow.must.add(key)


def _bound_names(body: A.Block) -> set[str]:
    """The names a block's statements bind (lets, picks, loops, match arms): in the
    generated code they share the Python locals of the action that performs it."""
    out: set[str] = set()
    for n in walk(body):
        if isinstance(n, A.Let):
            out.add(n.name)
        elif isinstance(n, (A.Pick, A.For)):
            out.add(n.binder.name)
        elif isinstance(n, A.MatchStmt):
            for pats, _ in n.arms:
                for p in pats:
                    out.update(a for a in p.args or [] if a is not None)
    return out
