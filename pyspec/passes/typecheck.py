"""Pass 2: types. Every declared type is resolved, every expression gets its type, and
every name, call, field and pattern its resolution (:mod:`pyspec.checked`).

Type syntax and expressions need each other (a range type's bounds are constant
expressions; a type's name is a set of values in an expression), so one :class:`Typer`
does both. Its expression visitor is one ``match`` over the expression kinds; the
statements' visitor is in :mod:`pyspec.passes.effects`. Defs are checked on first use
(so recursion is found where it closes) and the rest at the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.analysis import walk as walk_nodes
from pyspec.checked import (
    Builtin,
    CallRef,
    Const,
    Def,
    EnumMember,
    FieldRef,
    Local,
    ModelValue,
    NameRef,
    PatternRef,
    RecordCtor,
    RecordField,
    Symbols,
    TypeSet,
    UnionField,
    Var,
    Variant,
    Wildcard,
)
from pyspec.errors import did_you_mean
from pyspec.model import SourcePos
from pyspec.passes.finiteness import simple_finite, why_not_finite
from pyspec.passes.names import BUILTINS, SEQ_BUILTINS
from pyspec.passes.report import Report
from pyspec.types import (
    ANY,
    BOOL,
    INT,
    MVT,
    ORDERED,
    STR,
    AnyT,
    BoolT,
    EnumT,
    InT,
    IntT,
    MapT,
    RecT,
    SeqT,
    SetT,
    StrT,
    TupT,
    Type,
    UnionT,
    compatible,
    join,
    plain,
)
from pyspec.unparse import unparse

#: TLA+'s sequence operators, as a translator writes them, and how to write each here.
TLA_SEQ_OPERATORS = {
    "Len": "write len(s)", "Head": "write head(s)", "Tail": "write tail(s)",
    "Append": "write append(s, x)", "SubSeq": "write subseq(s, m, n)",
    "SelectSeq": "write 'select x in s: P'",
    "Seq": "a sequence type is written seq[T, N] (at most N elements of T)",
}


@dataclass
class Scope:
    """Where an expression is: what it may read, and what its reads are recorded in."""

    what: str
    reads_vars: bool = True
    reads_primes: bool = False
    init: bool = False
    #: Constants read (for a constant's or a def's evaluation order), when recorded.
    const_deps: set[str] | None = None
    #: State variables read (for a def), when recorded.
    var_reads: set[str] | None = None


class Typer:
    """Types and resolutions of one spec; the tables it fills are :class:`Checked`'s."""

    def __init__(self, sym: Symbols, global_names: dict[str, SourcePos], report: Report):
        self.sym = sym
        self.global_names = global_names
        self.report = report
        self.types: dict[object, Type] = {}
        self.names: dict[A.Name, NameRef] = {}
        self.calls: dict[A.Call, CallRef] = {}
        self.fields: dict[object, FieldRef] = {}
        self.patterns: dict[A.Pattern, PatternRef] = {}
        #: The constants each constant's value reads.
        self.const_deps: dict[str, set[str]] = {}
        #: The constants each def's body reads (its callers' values depend on them too).
        self.def_const_deps: dict[str, set[str]] = {}
        #: Defs some expression uses (for the unused-definition warning).
        self.used_defs: set[str] = set()
        self._checking_defs: list[str] = []
        self._def_done: set[str] = set()
        self._const_state: dict[str, str] = {}

    def err(self, code: str, message: str, pos: SourcePos | None) -> None:
        self.report.error(code, message, pos)

    def mark_checked_defs(self, names: set[str]) -> None:
        """Defs already checked (by an earlier run over the same tables)."""
        self._def_done |= names

    # ---- type syntax and declared types ----------------------------------------------
    def resolve_type(self, t: A.TypeSyn, visiting: tuple[str, ...] = ()) -> Type:
        """The type a piece of type syntax denotes; ``visiting`` holds the named types
        being resolved around it (a type that contains itself is an error, E302)."""
        match t:
            case A.TBoolSyn():
                return BOOL
            case A.TIntSyn():
                return INT
            case A.TStringSyn():
                return STR
            case A.TRangeSyn():
                ctx = Scope("a range bound", reads_vars=False)
                for bound in (t.lo, t.hi):
                    self.expect(bound, INT, self.expr(bound, {}, ctx), "a range bound")
                return IntT(t.lo, t.hi)
            case A.TMapSyn():
                value = self.resolve_type(t.value, visiting)
                keys = self.key_set(t.key)
                if keys is not None:
                    return MapT(keys[1], value, keys[0])
                key = self.resolve_type(t.key, visiting)
                if not isinstance(key, (BoolT, EnumT, MVT, AnyT)) and not (
                        isinstance(key, IntT) and key.bounded):
                    self.err(codes.NOT_FINITE,
                             f"a map's key type must be finite (bool, an enum, a set of "
                             f"model values or a range), not {key}", t.key.pos)
                return MapT(key, value)
            case A.TSetSyn():
                return SetT(self.resolve_type(t.elem, visiting))
            case A.TTupleSyn():
                return TupT(tuple(self.resolve_type(i, visiting) for i in t.items))
            case A.TSeqSyn():
                elem = self.resolve_type(t.elem, visiting)
                ctx = Scope("a sequence's bound", reads_vars=False)
                self.expect(t.cap, INT, self.expr(t.cap, {}, ctx), "a sequence's bound")
                return SeqT(elem, t.cap)
            case A.TSetExprSyn():
                self.err(codes.WRONG_KIND, f"a set written as a type ({set_text(t.expr)}) is a "
                         "map's key set, a variable's type or an action parameter's type; "
                         "inside another type, write its element type", t.pos)
                return ANY
        assert isinstance(t, A.TNamedSyn)
        s = self.sym
        if t.name in s.enums:
            return EnumT(t.name)
        if t.name in s.mv_sets:
            return MVT(t.name)
        if t.name in s.records or t.name in s.unions:
            kind = "record" if t.name in s.records else "union"
            if t.name in visiting:
                self.err(codes.CYCLE, f"{kind} '{t.name}' contains itself", t.pos)
                return ANY
            if kind == "record":
                self.record_type(t.name, visiting + (t.name,))
                return RecT(t.name)
            self.union_type(t.name, visiting + (t.name,))
            return UnionT(t.name)
        if t.name in s.aliases:
            if t.name in visiting:
                self.err(codes.CYCLE, f"type '{t.name}' is defined in terms of itself", t.pos)
                return ANY
            if t.name not in s.alias_types:
                s.alias_types[t.name] = self.resolve_type(s.aliases[t.name].type,
                                                          visiting + (t.name,))
            return s.alias_types[t.name]
        if t.name in s.consts:
            hint = f" (a constant set is a map's keys, [{t.name} -> V], a variable's type or " \
                "an action parameter's type; inside another type, write its element type)" \
                if isinstance(self.const_type(t.name), SetT) else ""
            self.err(codes.WRONG_KIND, f"'{t.name}' is a constant, not a set of model values; "
                     f"use a range or an enum as a type{hint}", t.pos)
            return ANY
        if t.name in s.defs:
            self.err(codes.WRONG_KIND, f"'{t.name}' is a def, not a type: a type is a range, "
                     "an enum, a set of model values, a record, a union or a 'type' alias "
                     "(a map's keys range over a whole type)", t.pos)
            return ANY
        if t.name == "Seq":
            self.err(codes.UNKNOWN_NAME, f"Seq is TLA+, not this language: "
                     f"{TLA_SEQ_OPERATORS['Seq']}", t.pos)
            return ANY
        types = [*s.enums, *s.mv_sets, *s.records, *s.unions, *s.aliases]
        self.err(codes.UNKNOWN_NAME,
                 f"unknown type '{t.name}'{did_you_mean(t.name, types)}", t.pos)
        return ANY

    def declared_type(self, t: A.TypeSyn) -> Type:
        """The type of a variable or an action parameter, which may also be a constant
        set (by its name or written inline): one of its members (:class:`InT`)."""
        keys = self.key_set(t)
        return InT(keys[1], keys[0]) if keys is not None else self.resolve_type(t)

    def key_set(self, t: A.TypeSyn) -> tuple[str, Type] | None:
        """A constant set where a type goes, when it is not a whole type (a subset such
        as ``const Others = Prisoner - {Counter}``, a set of tuples, or the set written
        inline): the constant's name and its element type."""
        if isinstance(t, A.TSetExprSyn):
            name = self.inline_set(t.expr)
        elif isinstance(t, A.TNamedSyn) and t.name in self.sym.consts \
                and t.name not in self.sym.mv_sets:
            name = t.name
        else:
            return None
        ct = self.const_type(name)
        if isinstance(ct, AnyT):
            return name, ANY
        if not isinstance(ct, SetT):
            if isinstance(t, A.TSetExprSyn):
                self.err(codes.TYPE_MISMATCH, f"{name} is {ct}, not a set", t.pos)
                return name, ANY
            return None
        if not _plain_key(ct.elem):
            self.err(codes.WRONG_KIND, f"a constant set used as a type holds plain values "
                     f"(bool, int, enum, model values) or tuples of them, and '{name}' holds "
                     f"{ct.elem}", t.pos)
        return name, ct.elem

    def inline_set(self, e: A.Expr) -> str:
        """A constant set written inline (as a type, or as a map comprehension's domain)
        as a constant of its own, named by its text: two places that write the same set
        the same way name the same key set."""
        name = set_text(e)
        if name not in self.sym.consts:
            self.sym.consts[name] = A.ConstDecl(name, e.pos, None, e, False)
            self.sym.inline_sets.add(name)
        return name

    def record_type(self, name: str, visiting: tuple[str, ...]) -> list[tuple[str, Type]]:
        s = self.sym
        if name not in s.record_fields:
            s.record_fields[name] = []  # a self-reference sees it in progress
            s.record_fields[name] = self.field_types(s.records[name].fields,
                                                     f"record '{name}'", visiting)
        return s.record_fields[name]

    def union_type(self, name: str, visiting: tuple[str, ...]) -> None:
        s = self.sym
        for v in s.unions[name].variants:
            if v.name not in s.variant_fields:
                s.variant_fields[v.name] = []
                s.variant_fields[v.name] = self.field_types(v.fields, f"variant '{v.name}'",
                                                            visiting)

    def field_types(self, fields: list[A.FieldDecl], owner: str,
                    visiting: tuple[str, ...]) -> list[tuple[str, Type]]:
        seen: set[str] = set()
        out = []
        for f in fields:
            if f.name in seen:
                self.err(codes.DUPLICATE, f"field '{f.name}' appears twice in {owner}", f.pos)
            seen.add(f.name)
            out.append((f.name, self.resolve_type(f.type, visiting)))
        return out

    def resolve_declarations(self) -> None:
        """The types of type aliases, records, unions, constants and variables."""
        s = self.sym
        for name in s.aliases:
            self.resolve_type(A.TNamedSyn(name, s.aliases[name].pos))
        for name in s.records:
            self.record_type(name, (name,))
        for name in s.unions:
            self.union_type(name, (name,))
        for name in list(s.consts):
            self.const_type(name)
        for name, d in s.vars.items():
            s.var_types[name] = self.declared_type(d.type)

    def const_type(self, name: str) -> Type:
        s = self.sym
        if name in s.const_types:
            return s.const_types[name]
        state = self._const_state.get(name)
        d = s.consts[name]
        if state == "visiting":
            self.err(codes.CYCLE, f"constant '{name}' is defined in terms of itself", d.pos)
            return ANY
        self._const_state[name] = "visiting"
        deps: set[str] = set()
        if name in s.mv_sets:
            t: Type = SetT(MVT(name))
            items = d.value.items if isinstance(d.value, A.SetLit) else []
            for item in items:
                self.types[item] = MVT(name)
                self.names[item] = ModelValue(name, item.name)  # type: ignore[index]
            if d.value is not None:
                self.types[d.value] = t
        elif d.value is None:  # an unbound module parameter
            t = self.resolve_type(d.type) if d.type is not None else ANY
        else:
            what = f"the set {name}" if name in s.inline_sets else f"constant '{name}'"
            ctx = Scope(what, reads_vars=False, const_deps=deps)
            t = self.expr(d.value, {}, ctx)
            if d.type is not None:
                declared = self.resolve_type(d.type)
                self.expect(d.value, declared, t, f"constant '{name}'")
                t = declared
        self.const_deps[name] = deps
        s.const_types[name] = t
        self._const_state[name] = "done"
        return t

    # ---- expressions: one match over the expression kinds ---------------------------
    def expect(self, e: A.Expr, want: Type, got: Type, what: str) -> None:
        if not compatible(got, want):
            self.err(codes.TYPE_MISMATCH, f"{what} should be {want}, not {got}", e.pos)

    def expr(self, e: A.Expr, env: dict[str, Type], ctx: Scope) -> Type:
        t = self._expr(e, env, ctx)
        self.types[e] = t
        return t

    def _expr(self, e: A.Expr, env: dict[str, Type], ctx: Scope) -> Type:  # noqa: C901
        s = self.sym
        match e:
            case A.Int():
                return INT
            case A.Str():
                return STR
            case A.Bool():
                return BOOL
            case A.Name():
                return self.name(e, env, ctx)
            case A.Primed():
                if e.name not in s.vars:
                    code = codes.WRONG_KIND if e.name in self.global_names else codes.UNKNOWN_NAME
                    self.err(code, f"only a variable can be primed, and '{e.name}' is not one"
                             f"{did_you_mean(e.name, s.vars)}", e.pos)
                    return ANY
                if not ctx.reads_primes:
                    self.err(codes.PRIME_OUTSIDE_ACTION,
                             f"{e.name}' (the next state) can only be read in actions and "
                             f"action properties, not in {ctx.what}", e.pos)
                if ctx.var_reads is not None:
                    ctx.var_reads.add(e.name)
                return s.var_types.get(e.name, ANY)
            case A.Call():
                return self.call(e, env, ctx)
            case A.TupleLit():
                return TupT(tuple(self.expr(i, env, ctx) for i in e.items))
            case A.SetLit():
                elem: Type = ANY
                for item in e.items:
                    t = self.expr(item, env, ctx)
                    if not compatible(t, elem):
                        self.err(codes.TYPE_MISMATCH,
                                 f"set elements must have one type: {elem} and {t}",
                                 item.pos)
                    else:
                        elem = join(elem, t)
                return SetT(elem)
            case A.SetFilter():
                inner = self.binders([e.binder], env, ctx)
                self.expect(e.cond, BOOL, self.expr(e.cond, inner, ctx), "a set filter's condition")
                return SetT(inner[e.binder.name])
            case A.SetMap():
                inner = self.binders(e.binders, env, ctx)
                if e.cond is not None:
                    self.expect(e.cond, BOOL, self.expr(e.cond, inner, ctx), "the condition")
                return SetT(self.expr(e.expr, inner, ctx))
            case A.MapComp():
                d = e.binder.domain
                keys = self.key_set(A.TNamedSyn(d.name, d.pos)) \
                    if isinstance(d, A.Name) and d.name not in env else \
                    self.key_set(A.TSetExprSyn(d, d.pos)) if self.inline_domain(d, env) \
                    else None
                if keys is not None:
                    self.expr(d, env, ctx)
                    inner = self.bind(e.binder.name, keys[1], env, e.binder.pos)
                    return MapT(keys[1], self.expr(e.expr, inner, ctx), keys[0])
                key = self.type_set(d, env, ctx)
                if key is None:
                    return ANY
                inner = self.bind(e.binder.name, key, env, e.binder.pos)
                return MapT(key, self.expr(e.expr, inner, ctx))
            case A.IfExpr():
                result: Type = ANY
                for cond, value in e.branches:
                    self.expect(cond, BOOL, self.expr(cond, env, ctx), "an if condition")
                    result = self.join_branch(result, self.expr(value, env, ctx), value)
                return self.join_branch(result, self.expr(e.orelse, env, ctx), e.orelse)
            case A.MatchExpr():
                subject = self.expr(e.subject, env, ctx)
                result = ANY
                arms = [(pats, e.pos) for pats, _ in e.arms]
                for (_, value), inner in zip(e.arms, list(self.match_arms(subject, arms, env, e))):
                    result = self.join_branch(result, self.expr(value, inner, ctx), value)
                return result
            case A.Quant():
                inner = self.binders(e.binders, env, ctx)
                body = self.expr(e.body, inner, ctx)
                if e.kind == "sum":
                    self.expect(e.body, INT, body, "the body of sum")
                    return INT
                self.expect(e.body, BOOL, body, f"the body of {e.kind}")
                return BOOL
            case A.LetExpr():
                inner = self.bind(e.name, self.expr(e.value, env, ctx), env, e.pos)
                return self.expr(e.body, inner, ctx)
            case A.Choose():
                inner = self.binders([e.binder], env, ctx)
                self.expect(e.cond, BOOL, self.expr(e.cond, inner, ctx), "a choose condition")
                return inner[e.binder.name]
            case A.SeqLit():
                elem = ANY
                for item in e.items:
                    t = self.expr(item, env, ctx)
                    if not compatible(t, elem):
                        self.err(codes.TYPE_MISMATCH,
                                 f"sequence elements must have one type: {elem} and {t}",
                                 item.pos)
                    else:
                        elem = join(elem, t)
                return SeqT(elem)
            case A.Select():
                b = e.binder
                st = self.expr(b.domain, env, ctx)
                if not isinstance(st, (SeqT, AnyT)):
                    self.err(codes.TYPE_MISMATCH, f"'select {b.name} in ...' needs a sequence, "
                             f"not {st} (for a set, write {{{b.name} in S where P}})",
                             b.domain.pos)
                    st = SeqT(ANY)
                elem = st.elem if isinstance(st, SeqT) else ANY
                inner = self.bind(b.name, elem, env, b.pos)
                self.expect(e.cond, BOOL, self.expr(e.cond, inner, ctx), "a select condition")
                return SeqT(elem)
            case A.BinOp():
                return self.binop(e, env, ctx)
            case A.Not():
                self.expect(e.operand, BOOL, self.expr(e.operand, env, ctx), "the operand of not")
                return BOOL
            case A.Neg():
                self.expect(e.operand, INT, self.expr(e.operand, env, ctx), "the operand of -")
                return INT
            case A.RangeExpr():
                self.expect(e.lo, INT, self.expr(e.lo, env, ctx), "a range bound")
                self.expect(e.hi, INT, self.expr(e.hi, env, ctx), "a range bound")
                return SetT(INT)
            case A.Is():
                t = self.expr(e.operand, env, ctx)
                if isinstance(t, UnionT):
                    if e.variant not in s.variants or s.variants[e.variant][0] != t.name:
                        self.err(codes.UNKNOWN_FIELD,
                                 f"'{e.variant}' is not a variant of {t.name}", e.pos)
                elif not isinstance(t, AnyT):
                    self.err(codes.TYPE_MISMATCH, f"'is' needs a union value, not {t}",
                             e.operand.pos)
                return BOOL
            case A.Field():
                return self.field_access(e, self.expr(e.operand, env, ctx), e.name, e.pos)
            case A.Index():
                return self.index(e, self.expr(e.operand, env, ctx), e.key, env, ctx)
            case A.WithFields():
                t = self.expr(e.operand, env, ctx)
                for fname, value, pos in e.updates:
                    ft = self.field_access((e, fname), t, fname, pos)
                    self.expect(value, ft, self.expr(value, env, ctx), f"field '{fname}'")
                return t
            case A.WithKey():
                t = self.expr(e.operand, env, ctx)
                vt = self.index(e, t, e.key, env, ctx)
                self.expect(e.value, vt, self.expr(e.value, env, ctx), "the new map value")
                return t
        raise TypeError(f"unknown expression node {e!r}")  # pragma: no cover

    def join_branch(self, acc: Type, t: Type, e: A.Expr) -> Type:
        if not compatible(acc, t):
            self.err(codes.TYPE_MISMATCH, f"branches have different types: {acc} and {t}", e.pos)
            return acc
        return join(acc, t)

    def name(self, e: A.Name, env: dict[str, Type], ctx: Scope) -> Type:
        s = self.sym
        n = e.name
        if n in env:
            self.names[e] = Local(n)
            return env[n]
        if n in s.vars:
            self.names[e] = Var(n)
            if ctx.init:
                self.err(codes.INIT_READS_STATE,
                         f"init cannot read variable '{n}'; compute the value with "
                         "let and assign it", e.pos)
            elif not ctx.reads_vars:
                self.err(codes.NOT_CONSTANT,
                         f"{ctx.what} must be constant, but reads variable '{n}'", e.pos)
            if ctx.var_reads is not None:
                ctx.var_reads.add(n)
            return plain(s.var_types.get(n, ANY))
        if n in s.consts:
            self.names[e] = Const(n)
            if ctx.const_deps is not None:
                ctx.const_deps.add(n)
            return self.const_type(n)
        if n in s.mv_members:
            self.names[e] = ModelValue(s.mv_members[n], n)
            return MVT(s.mv_members[n])
        if n in s.enum_members:
            self.names[e] = EnumMember(s.enum_members[n], n)
            return EnumT(s.enum_members[n])
        if n in s.variants:
            union, variant = s.variants[n]
            if variant.fields:
                self.err(codes.ARITY, f"variant '{n}' needs {len(variant.fields)} field values: "
                         f"{n}(...)", e.pos)
            self.names[e] = Variant(union, n)
            return UnionT(union)
        if n in s.defs:
            d = s.defs[n]
            if d.params is not None:
                self.err(codes.ARITY, f"'{n}' takes {len(d.params)} arguments", e.pos)
            self.names[e] = Def(n)
            return self.def_call_type(n, e.pos, ctx)
        if n in s.enums:
            self.names[e] = TypeSet(EnumT(n))
            return SetT(EnumT(n))
        if n in s.aliases or n in s.records or n in s.unions:
            t = self.resolve_type(A.TNamedSyn(n, e.pos))
            why = why_not_finite(t, self.sym)
            if why:
                self.err(codes.NOT_FINITE,
                         f"type '{n}' is not finite ({why}), so it cannot be used as "
                         "a set of values", e.pos)
                return ANY
            self.names[e] = TypeSet(t)
            if ctx.const_deps is not None:
                ctx.const_deps.update(self._type_const_deps(t))
            return SetT(t)
        if n in self.global_names:
            self.err(codes.WRONG_KIND, f"'{n}' cannot be used as a value here", e.pos)
        elif n in ("set", "tuple", "seq"):
            self.err(codes.UNKNOWN_NAME,
                     f"a type written inline ('{n}[...]') is not a set of values: declare "
                     f"'type T = {n}[...]' and use T, the set of all its values", e.pos)
        else:
            self.err(codes.UNKNOWN_NAME,
                     f"unknown name '{n}'{did_you_mean(n, [*env, *self.global_names])}", e.pos)
        return ANY

    def _type_const_deps(self, t: Type) -> set[str]:
        """Constants a type's ranges depend on (to evaluate them in order)."""
        deps: set[str] = set()
        if isinstance(t, IntT) and t.lo is not None and t.hi is not None:
            for bound in (t.lo, t.hi):
                ctx = Scope("a range bound", reads_vars=False, const_deps=deps)
                self.expr(bound, {}, ctx)
        elif isinstance(t, (MapT,)):
            deps |= self._type_const_deps(t.key) | self._type_const_deps(t.value)
            if t.keys is not None:
                deps.add(t.keys)
        elif isinstance(t, InT):
            deps.add(t.keys)
        elif isinstance(t, SetT):
            deps |= self._type_const_deps(t.elem)
        elif isinstance(t, SeqT):
            deps |= self._type_const_deps(t.elem)
            if t.cap is not None:
                self.expr(t.cap, {}, Scope("a sequence's bound", reads_vars=False,
                                           const_deps=deps))
        elif isinstance(t, TupT):
            for i in t.items:
                deps |= self._type_const_deps(i)
        elif isinstance(t, RecT):
            for _, ft in self.sym.record_fields.get(t.name, []):
                deps |= self._type_const_deps(ft)
        elif isinstance(t, UnionT):
            for v in self.sym.unions[t.name].variants:
                for _, ft in self.sym.variant_fields.get(v.name, []):
                    deps |= self._type_const_deps(ft)
        return deps

    def def_call_type(self, name: str, pos: SourcePos, ctx: Scope) -> Type:
        s = self.sym
        self.used_defs.add(name)
        if name in self._checking_defs:
            self.err(codes.CYCLE, f"'{name}' is defined in terms of itself (recursion is not "
                     "allowed; every evaluation must be finite)", pos)
            return ANY
        self.check_def(name)
        reads = s.def_reads.get(name, frozenset())
        if reads and ctx.init:
            self.err(codes.INIT_READS_STATE, f"init cannot call '{name}', which reads variables "
                     f"{', '.join(sorted(reads))}", pos)
        elif reads and not ctx.reads_vars:
            self.err(codes.NOT_CONSTANT,
                     f"{ctx.what} must be constant, but '{name}' reads variables "
                     f"{', '.join(sorted(reads))}", pos)
        elif not ctx.reads_vars and s.defs[name].params is not None:
            self.err(codes.NOT_CONSTANT,
                     f"{ctx.what} must be a constant expression and cannot call "
                     f"'{name}', a def with parameters", pos)
        if ctx.var_reads is not None:
            ctx.var_reads.update(reads)
        if ctx.const_deps is not None:
            ctx.const_deps.update(self.def_const_deps.get(name, ()))
        return s.def_types.get(name, ANY)

    def check_def(self, name: str) -> None:
        s = self.sym
        if name in self._def_done:
            return
        d = s.defs[name]
        self._checking_defs.append(name)
        env: dict[str, Type] = {}
        params = []
        for p in d.params or []:
            t = self.resolve_type(p.type)
            env = self.bind(p.name, t, env, p.pos)
            params.append((p.name, t))
        s.def_params[name] = params
        reads: set[str] = set()
        deps: set[str] = set()
        ctx = Scope(f"'{name}'", var_reads=reads, const_deps=deps)
        t = self.expr(d.body, env, ctx)
        if d.ret is not None:
            declared = self.resolve_type(d.ret)
            self.expect(d.body, declared, t, f"the result of '{name}'")
            t = declared
        s.def_types[name] = t
        s.def_reads[name] = frozenset(reads)
        self.def_const_deps[name] = deps
        self._checking_defs.pop()
        self._def_done.add(name)

    def call(self, e: A.Call, env: dict[str, Type], ctx: Scope) -> Type:
        s = self.sym
        f = e.func
        if f in SEQ_BUILTINS:
            self.calls[e] = Builtin(f)
            return self.seq_call(e, env, ctx)
        if f in BUILTINS:
            self.calls[e] = Builtin(f)
            if len(e.args) != 1 or e.args[0].name is not None:
                self.err(codes.ARITY, f"{f} takes one argument", e.pos)
                for a in e.args:
                    self.expr(a.value, env, ctx)
                return INT if f in ("card", "abs") else ANY
            arg = e.args[0].value
            t = self.expr(arg, env, ctx)
            if f == "abs":
                self.expect(arg, INT, t, "the argument of abs")
                return INT
            if not isinstance(t, (SetT, AnyT)):
                self.err(codes.TYPE_MISMATCH, f"{f} needs a set, not {t}", arg.pos)
                return INT if f == "card" else ANY
            if f == "card":
                return INT
            elem = t.elem if isinstance(t, SetT) else ANY
            if not isinstance(elem, ORDERED + (AnyT,)):
                self.err(codes.TYPE_MISMATCH,
                         f"{f} needs ordered elements (ints, enums or model values), "
                         f"not {elem}", arg.pos)
            return elem
        if f in s.records:
            self.calls[e] = RecordCtor(f)
            fields = self.record_type(f, (f,))
            self.ctor_args(e, f"record '{f}'", fields, env, ctx)
            return RecT(f)
        if f in s.variants:
            union, _ = s.variants[f]
            self.calls[e] = Variant(union, f)
            self.union_type(union, (union,))
            self.ctor_args(e, f"variant '{f}'", s.variant_fields[f], env, ctx)
            return UnionT(union)
        if f in s.defs:
            self.calls[e] = Def(f)
            d = s.defs[f]
            result = self.def_call_type(f, e.pos, ctx)
            params = s.def_params.get(f, [])
            if d.params is None:
                self.err(codes.ARITY, f"'{f}' takes no arguments; write it without parentheses",
                         e.pos)
            elif len(e.args) != len(params):
                self.err(codes.ARITY, f"'{f}' takes {len(params)} argument"
                         f"{'s' if len(params) != 1 else ''}, not {len(e.args)}", e.pos)
            for a, (pname, ptype) in zip(e.args, params):
                if a.name is not None and a.name != pname:
                    self.err(codes.UNKNOWN_FIELD, f"'{f}' has no parameter '{a.name}' here", a.pos)
                self.expect(a.value, ptype, self.expr(a.value, env, ctx),
                            f"argument '{pname}' of '{f}'")
            for a in e.args[len(params):]:
                self.expr(a.value, env, ctx)
            return result
        if f in self.global_names:
            self.err(codes.WRONG_KIND, f"'{f}' cannot be called", e.pos)
        elif f in TLA_SEQ_OPERATORS:
            self.err(codes.UNKNOWN_NAME, f"{f} is TLA+, not this language: "
                     f"{TLA_SEQ_OPERATORS[f]}", e.pos)
        else:
            known = [*s.defs, *s.records, *s.variants, *BUILTINS]
            self.err(codes.UNKNOWN_NAME, f"unknown function '{f}'{did_you_mean(f, known)}",
                     e.pos)
        for a in e.args:
            self.expr(a.value, env, ctx)
        return ANY

    def seq_call(self, e: A.Call, env: dict[str, Type], ctx: Scope) -> Type:
        """``len(s)``, ``head(s)``, ``tail(s)``, ``append(s, x)``, ``subseq(s, m, n)``."""
        f = e.func
        want = SEQ_BUILTINS[f]
        types = [self.expr(a.value, env, ctx) for a in e.args]
        if len(e.args) != want or any(a.name is not None for a in e.args):
            self.err(codes.ARITY, f"{f} takes {want} argument{'s' if want > 1 else ''}", e.pos)
            return INT if f == "len" else ANY
        st = types[0]
        if not isinstance(st, (SeqT, AnyT)):
            self.err(codes.TYPE_MISMATCH, f"{f} needs a sequence, not {st}", e.args[0].value.pos)
            st = SeqT(ANY)
        elem = st.elem if isinstance(st, SeqT) else ANY
        if f == "len":
            return INT
        if f == "head":
            return elem
        if f == "append":
            x = e.args[1].value
            if not compatible(types[1], elem):
                self.err(codes.TYPE_MISMATCH,
                         f"append adds a {elem} to this sequence, not a {types[1]}", x.pos)
            return SeqT(join(elem, types[1]))
        if f == "subseq":
            for a, t in zip(e.args[1:], types[1:]):
                self.expect(a.value, INT, t, "a subseq bound")
        return SeqT(elem)

    def ctor_args(self, e: A.Call, what: str, fields: list[tuple[str, Type]],
                  env: dict[str, Type], ctx: Scope) -> None:
        named = [a for a in e.args if a.name is not None]
        if named and len(named) != len(e.args):
            self.err(codes.ARITY, f"{what}: give all fields by name or all by position", e.pos)
        if named:
            by_name = dict(fields)
            given: set[str] = set()
            for a in e.args:
                assert a.name is not None
                if a.name not in by_name:
                    self.err(codes.UNKNOWN_FIELD, f"{what} has no field '{a.name}'", a.pos)
                    self.expr(a.value, env, ctx)
                    continue
                if a.name in given:
                    self.err(codes.DUPLICATE, f"field '{a.name}' is given twice", a.pos)
                given.add(a.name)
                self.expect(a.value, by_name[a.name], self.expr(a.value, env, ctx),
                            f"field '{a.name}'")
            missing = [n for n, _ in fields if n not in given]
            if missing:
                self.err(codes.ARITY, f"{what} needs {', '.join(missing)}", e.pos)
            return
        if len(e.args) != len(fields):
            self.err(codes.ARITY,
                     f"{what} has {len(fields)} field{'s' if len(fields) != 1 else ''}, "
                     f"given {len(e.args)}", e.pos)
        for a, (fname, ftype) in zip(e.args, fields):
            self.expect(a.value, ftype, self.expr(a.value, env, ctx), f"field '{fname}'")
        for a in e.args[len(fields):]:
            self.expr(a.value, env, ctx)

    def binop(self, e: A.BinOp, env: dict[str, Type], ctx: Scope) -> Type:
        op = e.op
        lt = self.expr(e.left, env, ctx)
        rt = self.expr(e.right, env, ctx)
        if op in ("and", "or", "implies"):
            self.expect(e.left, BOOL, lt, f"the left side of {op}")
            self.expect(e.right, BOOL, rt, f"the right side of {op}")
            return BOOL
        if op in ("==", "!="):
            if not compatible(lt, rt):
                self.err(codes.TYPE_MISMATCH, f"cannot compare {lt} with {rt}", e.pos)
            return BOOL
        if op in ("<", "<=", ">", ">="):
            if not isinstance(lt, ORDERED + (AnyT,)) or not compatible(lt, rt):
                self.err(codes.TYPE_MISMATCH,
                         f"'{op}' compares two ints, enums or model values of one "
                         f"type, not {lt} and {rt}", e.pos)
            return BOOL
        if op in ("in", "not in"):
            if isinstance(rt, SetT):
                self.expect(e.left, rt.elem, lt, f"the left side of '{op}'")
            elif not isinstance(rt, AnyT):
                self.err(codes.TYPE_MISMATCH, f"the right side of '{op}' must be a set, not {rt}",
                         e.right.pos)
            return BOOL
        if op == "subset":
            if not (isinstance(lt, (SetT, AnyT)) and isinstance(rt, (SetT, AnyT))
                    and compatible(lt, rt)):
                self.err(codes.TYPE_MISMATCH,
                         f"'subset' compares two sets of one type, not {lt} and {rt}",
                         e.pos)
            return BOOL
        if op == "++":
            if not (isinstance(lt, (SeqT, AnyT)) and isinstance(rt, (SeqT, AnyT))
                    and compatible(lt, rt)):
                self.err(codes.TYPE_MISMATCH,
                         f"'++' joins two sequences of one type, not {lt} and {rt}", e.pos)
                return ANY
            return join(lt, rt) if isinstance(lt, SeqT) else rt
        if op in ("|", "&") or (op == "-" and isinstance(lt, SetT)):
            if not (isinstance(lt, (SetT, AnyT)) and isinstance(rt, (SetT, AnyT))
                    and compatible(lt, rt)):
                hint = "" if not (isinstance(lt, SetT) and isinstance(lt.elem, MVT)
                                  and isinstance(rt, SetT) and isinstance(rt.elem, MVT)) else (
                    f" (declare their union, const All = {lt.elem} | {rt.elem}: then both "
                    "are sets of All's model values)")
                self.err(codes.TYPE_MISMATCH,
                         f"'{op}' combines two sets of one type, not {lt} and {rt}{hint}",
                         e.pos)
                return ANY
            return join(lt, rt)
        # + - * / %
        if op == "+" and isinstance(lt, StrT):
            self.expect(e.right, STR, rt, "the right side of + on strings")
            return STR
        self.expect(e.left, INT, lt, f"the left side of '{op}'")
        self.expect(e.right, INT, rt, f"the right side of '{op}'")
        return INT

    def field_access(self, node: object, t: Type, name: str, pos: SourcePos) -> Type:
        s = self.sym
        if isinstance(t, RecT):
            fields = s.record_fields.get(t.name, [])
            for i, (fname, ftype) in enumerate(fields):
                if fname == name:
                    self.fields[node] = RecordField(i)
                    return ftype
            self.err(codes.UNKNOWN_FIELD, f"record {t.name} has no field '{name}'"
                     f"{did_you_mean(name, [f for f, _ in fields])}", pos)
            return ANY
        if isinstance(t, UnionT):
            where: dict[str, int] = {}
            ftype: Type | None = None
            for v in s.unions[t.name].variants:
                for i, (fname, vt) in enumerate(s.variant_fields.get(v.name, [])):
                    if fname == name:
                        if ftype is not None and not compatible(ftype, vt):
                            self.err(codes.TYPE_MISMATCH,
                                     f"field '{name}' has different types in the "
                                     f"variants of {t.name}", pos)
                        ftype = vt if ftype is None else join(ftype, vt)
                        where[v.name] = i + 1
            if ftype is None:
                self.err(codes.UNKNOWN_FIELD, f"no variant of {t.name} has a field '{name}'", pos)
                return ANY
            self.fields[node] = UnionField(t.name, where)
            return ftype
        if not isinstance(t, AnyT):
            self.err(codes.TYPE_MISMATCH, f"'.{name}' needs a record or union value, not {t}", pos)
        return ANY

    def index(self, node: object, t: Type, key: A.Expr, env: dict[str, Type],
              ctx: Scope) -> Type:
        kt = self.expr(key, env, ctx)
        if isinstance(t, MapT):
            self.expect(key, t.key, kt, "the map key")
            return t.value
        if isinstance(t, TupT):
            if not isinstance(key, A.Int) or not 0 <= key.value < len(t.items):
                self.err(codes.TYPE_MISMATCH, f"a tuple is indexed by an integer literal from 0 to "
                         f"{len(t.items) - 1}", key.pos)
                return ANY
            return t.items[key.value]
        if isinstance(t, SeqT):
            self.expect(key, INT, kt, "a sequence index")
            return t.elem
        if not isinstance(t, AnyT):
            self.err(codes.TYPE_MISMATCH,
                     f"cannot index {t}; only maps, sequences and tuples can be indexed",
                     key.pos)
        return ANY

    def inline_domain(self, d: A.Expr, env: dict[str, Type]) -> bool:
        """Whether a map comprehension's domain is a constant set written inline (TLA+'s
        ``[i \\in Prisoner \\ {Counter} |-> 0]``): not a name or a range, reading no
        variable or local."""
        if isinstance(d, (A.Name, A.RangeExpr)):
            return False
        return not any(isinstance(n, (A.Name, A.Primed)) and (n.name in env
                                                             or n.name in self.sym.vars)
                       for n in walk_nodes(d))

    def type_set(self, domain: A.Expr, env: dict[str, Type], ctx: Scope) -> Type | None:
        """The key type of a map comprehension: a whole type's set of values."""
        t = self.expr(domain, env, ctx)
        if isinstance(domain, A.Name) and isinstance(t, SetT):
            ref = self.names.get(domain)
            if isinstance(ref, TypeSet) or (isinstance(ref, Const)
                                            and domain.name in self.sym.mv_sets):
                return t.elem
        if isinstance(domain, A.RangeExpr):
            return IntT(domain.lo, domain.hi)
        self.err(codes.WRONG_KIND,
                 "a map comprehension ranges over a whole key type (a set of model "
                 "values, an enum, a range type or lo..hi) or a constant set", domain.pos)
        return None

    def bind(self, name: str, t: Type, env: dict[str, Type], pos: SourcePos) -> dict[str, Type]:
        """``env`` with the local ``name``. A local may reuse a model value's name (TLA+
        knows model values only from the configuration, so ``\\A c1, c2 \\in Clients``
        is common): inside its scope the name is the local."""
        shadows_model_value = name in self.sym.mv_members and name not in env
        if (name in env or name in self.global_names) and not shadows_model_value:
            where = "" if name in env else f" (declared at {self.global_names[name]})"
            self.err(codes.DUPLICATE,
                     f"'{name}' is already defined{where}; choose another name", pos)
        inner = dict(env)
        inner[name] = t
        return inner

    def binders(self, binders: list[A.Binder], env: dict[str, Type],
                ctx: Scope) -> dict[str, Type]:
        inner = env
        for b in binders:
            t = self.expr(b.domain, inner, ctx)
            if isinstance(t, SetT):
                elem = t.elem
            else:
                if not isinstance(t, AnyT):
                    self.err(codes.TYPE_MISMATCH,
                             f"'{b.name} in ...' needs a set, not {t}", b.domain.pos)
                elem = ANY
            inner = self.bind(b.name, elem, inner, b.pos)
        return inner

    def match_arms(self, subject: Type, arms: list[tuple[list[A.Pattern], SourcePos]],
                   env: dict[str, Type], node: object) -> Iterator[dict[str, Type]]:
        """Checks patterns and exhaustiveness; yields each arm's environment."""
        s = self.sym
        if isinstance(subject, UnionT):
            universe = [v.name for v in s.unions[subject.name].variants]
        elif isinstance(subject, EnumT):
            universe = [m for m, _ in s.enums[subject.name].members]
        else:
            if not isinstance(subject, AnyT):
                self.err(codes.TYPE_MISMATCH, f"match needs a union or enum value, not {subject}",
                         getattr(node, "pos", None))
            universe = []
        covered: set[str] = set()
        wildcard = False
        for pats, _ in arms:
            inner = env
            for p in pats:
                if wildcard:
                    self.err(codes.UNREACHABLE_ARM,
                             "this arm can never match: an earlier arm is '_'", p.pos)
                if p.ctor is None:
                    wildcard = True
                    self.patterns[p] = Wildcard()
                    continue
                if p.ctor not in universe:
                    if universe:
                        self.err(codes.NOT_A_VARIANT,
                                 f"'{p.ctor}' is not a variant of {subject}", p.pos)
                    continue
                if p.ctor in covered:
                    self.err(codes.UNREACHABLE_ARM, f"'{p.ctor}' is matched twice", p.pos)
                covered.add(p.ctor)
                if isinstance(subject, EnumT):
                    self.patterns[p] = EnumMember(subject.name, p.ctor)
                    if p.args is not None:
                        self.err(codes.ARITY, f"enum constant '{p.ctor}' has no fields", p.pos)
                    continue
                assert isinstance(subject, UnionT)
                self.patterns[p] = Variant(subject.name, p.ctor)
                fields = s.variant_fields.get(p.ctor, [])
                if p.args is None:
                    continue
                if len(p.args) != len(fields):
                    self.err(codes.ARITY, f"variant '{p.ctor}' has {len(fields)} field"
                             f"{'s' if len(fields) != 1 else ''}, the pattern binds "
                             f"{len(p.args)}", p.pos)
                if len(pats) > 1 and any(a is not None for a in p.args):
                    self.err(codes.UNREACHABLE_ARM,
                             "alternative patterns (A | B) cannot bind names", p.pos)
                for a, (_, ft) in zip(p.args, fields):
                    if a is not None:
                        inner = self.bind(a, ft, inner, p.pos)
            yield inner
        missing = [u for u in universe if u not in covered]
        if missing and not wildcard:
            self.err(codes.NOT_EXHAUSTIVE,
                     f"match is not exhaustive: {', '.join(missing)} not handled "
                     "(add arms or '_')", getattr(node, "pos", None))

    # ---- declarations checked as expressions --------------------------------------
    def check_properties(self) -> None:
        """Invariants, action properties, constraints and witnesses are boolean."""
        for name, c in self.sym.checks.items():
            scope = Scope(f"{c.kind} '{name}'", reads_primes=c.kind == "property")
            self.expect(c.body, BOOL, self.expr(c.body, {}, scope), f"{c.kind} '{name}'")

    def check_views(self) -> None:
        """A view's element ranges over a finite type of simple values."""
        s = self.sym
        for name, v in s.views.items():
            env: dict[str, Type] = {}
            if v.element is not None:
                ename, etype = v.element
                t = self.resolve_type(etype)
                if not simple_finite(t, s):
                    self.err(codes.NOT_FINITE,
                             "a view's element ranges over a finite type of simple "
                             "values (an enum, a set of model values, a range, bool)", etype.pos)
                s.view_elem_types[name] = t
                env = self.bind(ename, t, env, v.pos)
            self.expr(v.body, env, Scope(f"view '{name}'"))

    def check_defs(self) -> None:
        """Every def, used or not (a used one is checked where it is first used)."""
        for name in self.sym.defs:
            self.check_def(name)


def set_text(e: A.Expr) -> str:
    """A set written inline, as its text (without outer parentheses): its name."""
    text = unparse(e)
    return text[1:-1] if isinstance(e, A.BinOp) else text


def _plain_key(t: Type) -> bool:
    """Whether ``t`` is a type of values a constant key set may hold."""
    if isinstance(t, TupT):
        return all(map(_plain_key, t.items))
    return isinstance(t, (BoolT, IntT, EnumT, MVT, AnyT))
