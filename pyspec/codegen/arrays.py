"""Checked spec plus one model's constants to array code: a whole batch of states at once.

The scalar compiler (:mod:`pyspec.codegen.scalar`) turns an action into loops over its parameters
that build one successor tuple at a time. This one turns it into the same loops, run once
per *batch*: every state variable is a numpy array with one entry per state (maps,
records and tuples are Python tuples of such values, see :mod:`pyspec.codegen.array_runtime`),
parameters and binders stay plain Python values (so ``pt[p][v]`` is Python indexing into
a tuple of arrays), ``requires`` narrows a boolean mask of the rows still on the path,
``if`` either splits the path (when a branch has guards or choices) or becomes a
conditional update, and a successful path ends in ``emit(action, mask, drafts)``. Paths
are taken in exactly the order the scalar code takes them, so each state's successors come
out in the scalar code's order: the explorer can replay any of them with the scalar model.

Constructs without an array form raise :class:`Unsupported` at compile time, with a reason
the explorer reports when it falls back to the scalar engine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from pyspec import ast as A
from pyspec.analysis import arm_tests, hoist_guards, walk
from pyspec.checked import (
    TYPE_OK,
    Builtin,
    Const,
    Def,
    EnumMember,
    Local,
    ModelValue,
    RecordCtor,
    RecordField,
    TypeSet,
    UnionField,
    Var,
    Variant,
)
from pyspec.codegen import array_runtime
from pyspec.codegen.common import (
    array_refusal,
    assigned_vars,
    forks,
    holds_sequence,
    py_name,
)
from pyspec.codegen.scalar import Compiler, DefinitionEnd
from pyspec.layout import PART_BITS, Layout, LayoutError, size
from pyspec.runtime import domain, make_helpers
from pyspec.types import (
    MVT,
    AnyT,
    BoolT,
    EnumT,
    IntT,
    MapT,
    RecT,
    SeqT,
    SetT,
    TupT,
    Type,
    UnionT,
)
from pyspec.unparse import unparse, unparse_lvalue


class Unsupported(Exception):
    """The spec uses something the array backend cannot run; the message says what."""


@dataclass
class ArrayProgram:
    """A model's array code: what :mod:`explorer.engine.arrays` runs."""

    layout: Layout
    #: One function per action, ``fn(*state, emit)``.
    actions: tuple[Callable, ...]
    #: Per invariant, reachable and constraint of the model (in its order): ``fn(*state,
    #: mask)`` -> a boolean batch value.
    invariants: tuple[Callable, ...]
    reachables: tuple[Callable, ...]
    constraints: tuple[Callable, ...]
    #: Per action property: ``fn(*state, *next_state, mask)``.
    properties: tuple[Callable, ...]
    source: str
    #: ``check types on``: an initial state may hold a value outside its type (which
    #: the scalar code's initial states then do not refuse).
    check_types: bool = False


#: Helpers generated code may call (and nothing else).
_RUNTIME_NAMES = [n for n in dir(array_runtime) if not n.startswith("_")]


def _parts(t: Type, sym: object) -> list[Type]:
    """The types a value of ``t`` is made of: fields, variant fields, items, map keys and
    values, set elements."""
    if isinstance(t, RecT):
        return [ft for _, ft in sym.record_fields[t.name]]  # type: ignore[attr-defined]
    if isinstance(t, UnionT):
        return [ft for v in sym.unions[t.name].variants  # type: ignore[attr-defined]
                for _, ft in sym.variant_fields[v.name]]  # type: ignore[attr-defined]
    if isinstance(t, TupT):
        return list(t.items)
    if isinstance(t, MapT):
        return [t.key, t.value]
    if isinstance(t, (SetT, SeqT)):
        return [t.elem]
    return []


def _finite(t: Type, sym: object) -> bool:
    """Whether every value of ``t`` can be packed (a finite domain, no nested sets)."""
    if isinstance(t, (BoolT, EnumT, MVT)):
        return True
    if isinstance(t, IntT):
        return t.bounded
    if isinstance(t, SetT) and _has_set(t.elem, sym):
        return False
    if isinstance(t, MapT) and t.keys is not None:  # a constant key set: finite
        return _finite(t.value, sym)
    return isinstance(t, (RecT, UnionT, TupT, MapT, SetT, SeqT)) and all(
        _finite(p, sym) for p in _parts(t, sym))


def _has_set(t: Type, sym: object) -> bool:
    """Whether a value of ``t`` holds a set."""
    return isinstance(t, SetT) or any(_has_set(p, sym) for p in _parts(t, sym))


def _nested_set(t: Type, sym: object) -> bool:
    """Whether ``t`` holds a set whose elements hold a set."""
    if isinstance(t, SetT) and _has_set(t.elem, sym):
        return True
    return any(_nested_set(p, sym) for p in _parts(t, sym))


class ArrayCompiler(Compiler):
    """Compiles one instance of a checked spec to array code (see the module doc)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.anames: dict[str, object] = {}
        self._table_ids: dict[tuple[str, object], str] = {}
        self._partial: dict[int, bool] = {}
        self._ctx = "True"
        self._next_state = False
        self._masks = 0

    # ---- tables and names ----------------------------------------------------------
    def table(self, prefix: str, value: object, key: object = None) -> str:
        """A module-level name bound to ``value`` (a descriptor, a domain, a constant)."""
        k = (prefix, repr(value) if key is None else key)
        if k not in self._table_ids:
            name = f"{prefix}{len(self._table_ids)}"
            self._table_ids[k] = name
            self.anames[name] = value
        return self._table_ids[k]

    def mask_name(self) -> str:
        self._masks += 1
        return f"_m{self._masks}"

    def adesc(self, t: Type) -> str:
        """A runtime type descriptor, as a table name."""
        return self.table("T", self.desc(t))

    def finite(self, t: Type) -> bool:
        return _finite(t, self.sym)

    def require_finite(self, t: Type, what: str) -> None:
        if not self.finite(t):
            if _nested_set(t, self.sym):
                raise Unsupported(f"{what} of type {t}: sets of sets")
            raise Unsupported(f"{what} of type {t} has no finite domain for array code")

    # ---- analysis --------------------------------------------------------------------
    def partial(self, e: object) -> bool:
        """Whether evaluating ``e`` can fail in some row (then ``and``, ``or``, ``if``
        and quantifiers evaluate it only in the rows where the scalar code would)."""
        key = id(e)
        if key in self._partial:
            return self._partial[key]
        self._partial[key] = False
        out = any(self._partial_node(n) for n in walk(e))
        self._partial[key] = out
        return out

    def _partial_node(self, n: object) -> bool:
        if isinstance(n, A.BinOp):
            return n.op in ("/", "%", "*")
        if isinstance(n, A.Index):
            t = self.t(n.operand)
            return isinstance(t, SeqT) or isinstance(t, MapT) and not self.key_in_domain(t, n.key)
        if isinstance(n, A.Field):
            return isinstance(self.c.fields.get(n), UnionField)
        if isinstance(n, (A.WithKey, A.WithFields, A.SetLit, A.SetMap, A.SetFilter,
                          A.RangeExpr, A.Choose)):
            return True
        if isinstance(n, A.Call):
            match self.c.calls[n]:
                case Builtin(name=f):
                    return f in ("min", "max", "head", "tail", "subseq")
                case Def(name=d):
                    return self.partial(self.sym.defs[d].body)
            return True
        return False

    def key_in_domain(self, mt: MapT, key: A.Expr) -> bool:
        kt = mt.key
        if mt.keys is not None:
            return False
        if not isinstance(kt, IntT):
            return True
        lo, hi = self.bounds(kt)
        if isinstance(key, A.Int):
            return lo <= key.value <= hi
        vt = self.t(key)
        if isinstance(vt, IntT) and vt.bounded:
            vlo, vhi = self.bounds(vt)
            return lo <= vlo and vhi <= hi
        return False

    def key_lo(self, mt: MapT) -> int:
        if mt.keys is not None:
            return 0
        return self.bounds(mt.key)[0] if isinstance(mt.key, IntT) else 0

    def map_key(self, mt: MapT, key: str, m: str) -> str:
        """A map key as what :func:`~pyspec.codegen.array_runtime.get` and ``put`` take: the
        key itself, or for a map over a constant key set its position in the set."""
        if mt.keys is None:
            return key
        sub = self.desc(mt)[1]
        keys = self.table("K", array_runtime.key_table(sub), ("keys", sub))
        return f"skey({key}, {keys}, {self.table('T', sub[2])}, {m})"

    def max_len(self, e: A.Expr) -> int | None:
        """The longest a sequence expression can be, from its declared bounds and its
        operators; None when nothing bounds it."""
        t = self.t(e)
        if isinstance(e, (A.Name, A.Primed, A.Index, A.Field)):  # a stored value
            return self.seq_bound(t) if isinstance(t, SeqT) and t.cap is not None else None
        match e:
            case A.SeqLit():
                return len(e.items)
            case A.Select():
                return self.max_len(e.binder.domain)
            case A.WithKey():
                return self.max_len(e.operand)
            case A.LetExpr():
                return self.max_len(e.body)
            case A.IfExpr():
                parts = [self.max_len(v) for v in [e.orelse, *(v for _, v in e.branches)]]
                return None if None in parts else max(parts)  # type: ignore[type-var]
            case A.BinOp(op="++"):
                a, b = self.max_len(e.left), self.max_len(e.right)
                return None if a is None or b is None else a + b
            case A.Call() if isinstance(ref := self.c.calls[e], Builtin):
                inner = self.max_len(e.args[0].value)
                if ref.name == "append" and inner is not None:
                    return inner + 1
                if ref.name in ("tail", "subseq"):
                    return inner
        return None

    # ---- expressions -----------------------------------------------------------------
    def lazy(self, e: A.Expr, m: str) -> str:
        """``e`` as a function of a mask: what lazy helpers call on their rows."""
        mm = self.mask_name()
        return f"(lambda {mm}: {self.aexpr(e, mm)})"

    def aexpr(self, e: A.Expr, m: str) -> str:
        """``e`` as array code evaluated in the rows of mask ``m``."""
        if isinstance(self.t(e), SetT):
            return self.aset(e, self.set_domain(e, None), m)
        return self.araw(e, m)

    def araw(self, e: A.Expr, m: str) -> str:  # noqa: C901 - one case per construct
        """``e`` as array code; a set as whatever its own representation is."""
        match e:
            case A.Int() | A.Bool():
                return self.expr(e)
            case A.Str():
                raise Unsupported("strings exist only in views, which array code does not run")
            case A.Name():
                return self.name(e, m)
            case A.Primed():
                if self._next_state or not self._primes_are_draft or e.name in self._assigned:
                    return py_name("n", e.name)
                return py_name("v", e.name)
            case A.Call():
                return self.acall(e, m)
            case A.TupleLit():
                items = [self.aexpr(i, m) for i in e.items]
                return "(" + "".join(f"{i}, " for i in items) + ")"
            case A.MapComp():
                return self.map_comp_array(e, None, m)
            case A.IfExpr():
                trivial = all(isinstance(v, (A.Int, A.Bool, A.Name))
                              for v in [e.orelse, *(v for _, v in e.branches)])
                out = self.aexpr(e.orelse, m) if trivial and not self.partial(e) else None
                if out is not None:
                    for cond, value in reversed(e.branches):
                        out = f"where({self.aexpr(cond, m)}, {self.aexpr(value, m)}, {out})"
                    return out
                return self.if_chain(e.branches, e.orelse, m)
            case A.MatchExpr():
                return self.match_expr_array(e, m)
            case A.Quant():
                return self.quant(e, m)
            case A.BinOp():
                return self.abinop(e, m)
            case A.Not():
                return f"neg({self.aexpr(e.operand, m)})"
            case A.Neg():
                return f"(-{self.aexpr(e.operand, m)})"
            case A.Is():
                return f"({self.aexpr(e.operand, m)}.tag == {py_name('t', e.variant)})"
            case A.LetExpr():
                return (f"(lambda {py_name('l', e.name)}: {self.aexpr(e.body, m)})"
                        f"({self.aexpr(e.value, m)})")
            case A.Choose():
                b = e.binder
                inner = self.mask_name()
                return (f"q_choose({m}, {self.members(b.domain, m)}, lambda {inner}, "
                        f"{py_name('l', b.name)}: {self.aexpr(e.cond, inner)})")
            case A.SeqLit():
                items = "".join(f"{self.aexpr(i, m)}, " for i in e.items)
                return f"seq_lit(({items}), {self.seq_pad(self.t(e))})"
            case A.Select():
                b = e.binder
                inner = self.mask_name()
                return (f"seq_select({self.aexpr(b.domain, m)}, lambda {inner}, "
                        f"{py_name('l', b.name)}: {self.aexpr(e.cond, inner)}, {m})")
        # A map read under field and item accesses gathers only what is read.
        gathered = self.gather_path(e)
        if gathered is not None:
            index, path = gathered
            mt = self.t(index.operand)
            key = self.map_key(mt, self.aexpr(index.key, m), m)  # type: ignore[arg-type]
            return (f"get({self.aexpr(index.operand, m)}, {key}, "
                    f"{self.key_lo(mt)}, {m}, {tuple(path)!r})")  # type: ignore[arg-type]
        match e:
            case A.Field():
                return self.afield(self.aexpr(e.operand, m), e, m)
            case A.Index():
                ot = self.t(e.operand)
                if isinstance(ot, TupT):
                    return f"{self.aexpr(e.operand, m)}[{e.key.value}]"  # type: ignore[union-attr]
                if isinstance(ot, SeqT):
                    return f"seq_at({self.aexpr(e.operand, m)}, {self.aexpr(e.key, m)}, {m})"
                assert isinstance(ot, MapT)
                return (f"get({self.aexpr(e.operand, m)}, "
                        f"{self.map_key(ot, self.aexpr(e.key, m), m)}, {self.key_lo(ot)}, {m})")
            case A.WithFields():
                out = self.aexpr(e.operand, m)
                for fname, value, _ in e.updates:
                    ft = self.field_type(self.t(e.operand), (e, fname))
                    out = self.field_update(out, (e, fname), self.achecked(value, ft, m), m)
                return out
            case A.WithKey():
                mt = self.t(e.operand)
                if isinstance(mt, SeqT):
                    return (f"seq_put({self.aexpr(e.operand, m)}, {self.aexpr(e.key, m)}, "
                            f"{self.achecked(e.value, mt.elem, m)}, {m})")
                assert isinstance(mt, MapT)
                return (f"put({self.aexpr(e.operand, m)}, "
                        f"{self.map_key(mt, self.aexpr(e.key, m), m)}, "
                        f"{self.achecked(e.value, mt.value, m)}, {self.key_lo(mt)}, {m})")
        raise Unsupported(f"{type(e).__name__} expressions")

    def gather_path(self, e: A.Expr) -> tuple[A.Index, list[int]] | None:
        """``m[k].f[0]``: a map read followed by record fields and tuple items, which
        gathers only the items read (``get(m, k, lo, mask, path)``)."""
        path: list[int] = []
        while True:
            if isinstance(e, A.Field) and isinstance(ref := self.c.fields[e], RecordField):
                path.append(ref.index)
                e = e.operand
            elif isinstance(e, A.Index) and isinstance(self.t(e.operand), TupT):
                path.append(e.key.value)  # type: ignore[union-attr]
                e = e.operand
            else:
                break
        if path and isinstance(e, A.Index) and isinstance(self.t(e.operand), MapT):
            return e, path[::-1]
        return None

    def name(self, e: A.Name, m: str) -> str:
        match self.c.names[e]:
            case Local():
                return self._static.get(e.name) or py_name("l", e.name)
            case Var():
                return py_name("v", e.name)
            case Const():
                t = self.sym.const_types[e.name]
                return self.table("C", self.static_value(self.const_values[e.name], t), e.name)
            case ModelValue(name=mv):
                self.expr(e)  # the model-value checks of the scalar compiler
                return str(self.mv_index[mv])
            case EnumMember():
                return py_name("e", e.name)
            case Variant(union=union, name=variant):
                t = UnionT(union)
                tag = [v.name for v in self.sym.unions[union].variants].index(variant)
                return self.table("C", array_runtime.make_union(tag, (), self.desc(t)),
                                  ("variant", variant))
            case Def():
                return self.adef_call(e.name, [], m)
        raise Unsupported(f"the name {e.name} as a value")

    def static_value(self, v: object, t: Type) -> object:
        """A scalar-world constant in the array world."""
        if isinstance(t, SetT) and not self.finite(t):
            return v  # a set of plain values known now: stays a frozenset
        if not self.finite(t):
            if isinstance(t, IntT):
                return v
            if isinstance(t, SeqT) and isinstance(t.elem, IntT):  # <<1, 2, 3>>
                return array_runtime.from_scalar(v, self.desc(t))
            raise Unsupported(f"a constant of type {t}")
        return array_runtime.from_scalar(v, self.desc(t))

    def achecked(self, e: A.Expr, target: Type, m: str) -> str:
        """``e`` for a slot of type ``target``, range-checked in the rows of ``m``."""
        if isinstance(target, SetT):
            return self.aset(e, self.elem_desc(target), m)
        if isinstance(e, A.MapComp) and isinstance(target, MapT):
            return self.map_comp_array(e, target.value, m)
        src = self.aexpr(e, m)
        check = self.range_check(e, target)
        if check is False:
            return src
        if check is True:
            if _has_set(target, self.sym):
                raise Unsupported(f"a range check of a {target} value")
            return f"deep_checked({src}, {self.adesc(target)}, {m})"
        lo, hi = check
        return f"checked({src}, {lo}, {hi}, {m})"

    def map_comp_array(self, e: A.MapComp, value_t: Type | None, m: str) -> str:
        mt = self.t(e)
        assert isinstance(mt, MapT)
        key_t = mt.key
        if mt.keys is not None:  # a constant key set: its members in order
            values = self.desc(mt)[1][3]
        else:
            self.require_finite(key_t, "a map key")
            values = self.domain_values(key_t)
        keys = self.table("D", tuple(array_runtime.from_scalar(k, self.desc(key_t))
                                     for k in values))
        name = py_name("l", e.binder.name)
        value = self.aexpr(e.expr, m) if value_t is None else self.achecked(e.expr, value_t, m)
        return f"tuple({value} for {name} in {keys})"

    def domain_values(self, t: Type) -> tuple:
        return domain(self.desc(t))

    def if_chain(self, branches: list[tuple[A.Expr, A.Expr]], orelse: A.Expr, m: str) -> str:
        cond, value = branches[0]
        rest = (self.lazy(orelse, m) if len(branches) == 1 else
                self._lazy_src(lambda mm: self.if_chain(branches[1:], orelse, mm)))
        return f"if_lazy({self.aexpr(cond, m)}, {self.lazy(value, m)}, {rest}, {m})"

    def _lazy_src(self, body: Callable[[str], str]) -> str:
        mm = self.mask_name()
        return f"(lambda {mm}: {body(mm)})"

    def match_expr_array(self, e: A.MatchExpr, m: str,
                         arm: Callable[[A.Expr, str], str] | None = None) -> str:
        """A match expression; ``arm(value, mask)`` compiles an arm's value (default:
        :meth:`aexpr`)."""
        subject = self.mask_name().replace("_m", "_s")
        chain = self.match_chain(e.arms, subject, m, arm or self.aexpr)
        return f"(lambda {subject}: {chain})({self.aexpr(e.subject, m)})"

    def match_chain(self, arms: list, subject: str, m: str,
                    arm: Callable[[A.Expr, str], str]) -> str:
        pats, value = arms[0]
        cond = self.pattern_cond(pats, subject)
        body = self.bound_value(pats, subject, value, arm)
        if cond is None or len(arms) == 1:
            return body(m)
        rest = self._lazy_src(lambda mm: self.match_chain(arms[1:], subject, mm, arm))
        return f"if_lazy({cond}, {self._lazy_src(body)}, {rest}, {m})"

    def bound_value(self, pats: list[A.Pattern], subject: str, value: A.Expr,
                    arm: Callable[[A.Expr, str], str]) -> Callable[[str], str]:
        binds = self.pattern_binds_array(pats, subject)

        def body(mm: str) -> str:
            src = arm(value, mm)
            if binds:
                names, values = zip(*binds)
                return f"(lambda {', '.join(names)}: {src})({', '.join(values)})"
            return src

        return body

    def pattern_cond(self, pats: list[A.Pattern], subject: str) -> str | None:
        """The rows taking an arm, or None for a wildcard arm."""
        tests = arm_tests(pats, self.c)
        if tests is None:
            return None
        conds = [f"({subject} == {py_name('e', ref.name)})" if isinstance(ref, EnumMember)
                 else f"({subject}.tag == {py_name('t', ref.name)})" for ref in tests]
        out = conds[0]
        for c in conds[1:]:
            out = f"either({out}, {c})"
        return out

    def pattern_binds_array(self, pats: list[A.Pattern], subject: str) -> list[tuple[str, str]]:
        if len(pats) != 1 or pats[0].args is None:
            return []
        tag = py_name("t", pats[0].ctor)  # type: ignore[arg-type]
        return [(py_name("l", a), f"{subject}.f[{tag}][{i}]")
                for i, a in enumerate(pats[0].args) if a is not None]

    def quant(self, e: A.Quant, m: str) -> str:
        fn = {"forall": "q_forall", "exists": "q_exists", "sum": "q_sum"}[e.kind]

        def level(i: int, mm: str) -> str:
            if i == len(e.binders):
                return self.aexpr(e.body, mm)
            b = e.binders[i]
            inner = self.mask_name()
            name = py_name("l", b.name)
            return (f"{fn}({mm}, {self.members(b.domain, mm)}, lambda {inner}, {name}: "
                    f"{level(i + 1, inner)})")

        return level(0, m)

    def abinop(self, e: A.BinOp, m: str) -> str:  # noqa: C901 - one case per operator
        op = e.op
        lt, rt = self.t(e.left), self.t(e.right)
        if op in ("and", "or", "implies"):
            left = self.aexpr(e.left, m)
            if op == "implies":
                left = f"neg({left})"
            if self.partial(e.right):
                fn = "and_lazy" if op == "and" else "or_lazy"
                return f"{fn}({left}, {self.lazy(e.right, m)}, {m})"
            fn = "both" if op == "and" else "either"
            return f"{fn}({left}, {self.aexpr(e.right, m)})"
        if op in ("in", "not in"):
            out = self.membership(e.left, e.right, m)
            return f"neg({out})" if op == "not in" else out
        if op == "++":
            return f"seq_cat({self.aexpr(e.left, m)}, {self.aexpr(e.right, m)})"
        if isinstance(lt, SetT) or isinstance(rt, SetT):
            d = self.set_domain(e.left, None) or self.set_domain(e.right, None)
            if d is None:
                raise Unsupported(f"'{op}' on sets of unbounded integers")
            a, b = self.aset(e.left, d, m), self.aset(e.right, d, m)
            if op in ("==", "!="):
                out = f"equal({a}, {b}, {self.table('T', ('set', d))})"
                return out if op == "==" else f"neg({out})"
            if op == "subset":
                return f"set_subset({a}, {b})"
            raise Unsupported(f"'{op}' on sets outside a set expression")
        left, right = self.aexpr(e.left, m), self.aexpr(e.right, m)
        if op in ("==", "!="):
            if isinstance(lt, SeqT) and isinstance(lt.elem, AnyT):  # <<>> == s
                lt = rt
            if isinstance(lt, (RecT, UnionT, TupT, MapT, SeqT)):
                out = f"equal({left}, {right}, {self.adesc(lt)})"
                return out if op == "==" else f"neg({out})"
            return f"({left} {op} {right})"
        if op in ("<", "<=", ">", ">="):
            return f"({left} {op} {right})"
        if op in ("+", "-"):
            return f"({left} {op} {right})"
        if op == "*":
            return f"mul({left}, {right})"
        if op == "/":
            return f"div({left}, {right}, {m})"
        if op == "%":
            return f"mod({left}, {right}, {m})"
        raise Unsupported(f"the operator {op}")

    def acall(self, e: A.Call, m: str) -> str:
        ref = self.c.calls[e]
        s = self.sym
        if isinstance(ref, Builtin):
            arg = e.args[0].value
            if ref.name == "abs":
                return f"absval({self.aexpr(arg, m)})"
            if ref.name in ("len", "head", "tail", "append", "subseq"):
                return self.seq_call(ref.name, e, m)
            d = self.set_domain(arg, None)
            if d is None and ref.name == "card" and isinstance(arg, A.SetFilter):
                b = arg.binder  # the elements a filter keeps are distinct: count them
                inner = self.mask_name()
                return (f"q_count({m}, {self.members(b.domain, m)}, lambda {inner}, "
                        f"{py_name('l', b.name)}: {self.aexpr(arg.cond, inner)})")
            fixed = self.static_set(arg) if d is None else None
            if fixed is not None and (fixed or ref.name == "card"):  # known now
                return repr({"card": len, "min": min, "max": max}[ref.name](fixed))
            if d is None:
                raise Unsupported(f"{ref.name} of a set of unbounded integers")
            src = self.aset(arg, d, m)
            if ref.name == "card":
                return f"set_card({src})"
            extreme = f"set_extreme({src}, {size(d)}, {ref.name == 'max'}, {m})"
            return f"value({extreme}, {self.table('T', d)})"
        if isinstance(ref, Def):
            return self.adef_call(ref.name, [a.value for a in e.args], m)
        values = [self.achecked(value, ftype, m) for value, ftype in self.field_args(e)]
        tup = "(" + "".join(f"{v}, " for v in values) + ")"
        if isinstance(ref, RecordCtor):
            return tup
        tag = [v.name for v in s.unions[ref.union].variants].index(ref.name)
        return f"make_union({tag}, {tup}, {self.adesc(UnionT(ref.union))})"

    def seq_call(self, name: str, e: A.Call, m: str) -> str:
        """``len``, ``head``, ``tail``, ``append`` and ``subseq`` of a sequence."""
        args = [self.aexpr(a.value, m) for a in e.args]
        if name == "append":
            return f"seq_append({args[0]}, {args[1]}, {self.seq_pad(self.t(e))})"
        if name == "subseq":
            return f"seq_sub({args[0]}, {args[1]}, {args[2]}, {m})"
        if name == "len":
            return f"seq_len({args[0]})"
        return f"seq_{name}({args[0]}, {m})"

    def seq_pad(self, t: Type) -> str:
        """The padding of a sequence type's slots: its element type's first value."""
        assert isinstance(t, SeqT)
        if isinstance(t.elem, AnyT):
            return "None"
        return self.table("Z", array_runtime.zero(self.desc(t.elem)), ("zero", repr(t.elem)))

    def adef_call(self, name: str, args: list[A.Expr], m: str) -> str:
        s = self.sym
        d = s.defs[name]
        reads = sorted(s.def_reads.get(name, ()))
        if d.params is None and not reads:
            value = self.const_def(name)
            return self.table("K", self.static_value(value, s.def_types[name]), name)
        params = s.def_params.get(name, [])
        values = [self.achecked(a, t, m) for a, (_, t) in zip(args, params)]
        parts = [py_name("v", v) for v in reads] + [m] + values
        return f"{py_name('d', name)}({', '.join(parts)})"

    # ---- union fields ----------------------------------------------------------------
    def union_where(self, ref: UnionField) -> str:
        tags = {v.name: i for i, v in enumerate(self.sym.unions[ref.union].variants)}
        return self.table("F", {tags[v]: i for v, i in sorted(ref.where.items(),
                                                                 key=lambda kv: tags[kv[0]])})

    def afield(self, operand: str, node: object, m: str) -> str:
        ref = self.c.fields[node]
        if isinstance(ref, RecordField):
            return f"{operand}[{ref.index}]"
        return f"union_field({operand}, {self.union_where(ref)}, {m})"

    def field_type(self, t: Type, node: object) -> Type:
        """The type of a field that ``node`` (a field access or update) names in ``t``."""
        ref = self.c.fields[node]
        if isinstance(ref, RecordField):
            return self.sym.record_fields[t.name][ref.index][1]  # type: ignore[union-attr]
        name = node[1] if isinstance(node, tuple) else node.name  # type: ignore[attr-defined]
        assert isinstance(t, UnionT)
        return self.union_field_type(t, name)

    def field_update(self, base: str, node: object, value: str, m: str) -> str:
        """``base`` with the field ``node`` names replaced by ``value``."""
        ref = self.c.fields[node]
        if isinstance(ref, RecordField):
            return f"rec_set({base}, {ref.index}, {value})"
        return f"union_set({base}, {self.union_where(ref)}, {value}, {m})"

    # ---- sets --------------------------------------------------------------------------
    def elem_desc(self, t: SetT) -> tuple:
        if not self.finite(t.elem):
            raise Unsupported(f"a set variable of {t.elem} values")
        if _has_set(t.elem, self.sym):
            raise Unsupported("sets of sets")
        if holds_sequence(t.elem, self.c):
            raise Unsupported("sets of sequences")
        return self.desc(t.elem)

    def set_domain(self, e: A.Expr, expected: tuple | None) -> tuple | None:
        """The element type a set expression's bitmask ranges over: its own type's when
        that is finite, else the context's."""
        t = self.t(e)
        if isinstance(t, SetT) and self.finite(t.elem) and not _has_set(t.elem, self.sym) \
                and not holds_sequence(t.elem, self.c):
            return self.desc(t.elem)
        return expected

    def operand_domain(self, e: A.Expr) -> tuple | None:
        """For ``a | b``, ``a & b``, ``a - b`` whose own type has no finite elements
        (two ranges joined), an operand's: every element of the result is in it, or
        for ``|`` a rebase of the other operand checks it is."""
        if isinstance(e, A.BinOp) and e.op in ("|", "&", "-"):
            left = self.set_domain(e.left, None) or self.operand_domain(e.left)
            if left is not None or e.op != "|":
                return left
            return self.set_domain(e.right, None) or self.operand_domain(e.right)
        return None

    def reads_state_or_locals(self, e: A.Expr) -> bool:
        """Whether ``e`` depends on more than constants (so it has no static value)."""
        return any(isinstance(n, A.Primed) or isinstance(n, A.Name)
                   and isinstance(self.c.names.get(n), (Var, Local)) for n in walk(e))

    def whole_type(self, e: A.Name) -> bool:
        """Whether a name stands for all values of a type (an enum, a range type, a set
        of model values)."""
        ref = self.c.names.get(e)
        return isinstance(ref, TypeSet) or isinstance(ref, Const) and ref.name in self.sym.mv_sets

    def static_set(self, e: A.Expr) -> frozenset | None:
        """The value of a set expression that depends on nothing but constants."""
        if self.reads_state_or_locals(e):
            return None
        value = self.evaluate(e)
        return value if isinstance(value, frozenset) else None

    def aset(self, e: A.Expr, d: tuple | None, m: str) -> str:  # noqa: C901
        """Set expression ``e`` as a bitmask tuple over element type ``d``."""
        if d is None:
            fixed = self.static_set(e)
            if fixed is None:
                raise Unsupported(f"the set {unparse(e)} of unbounded integers")
            return self.table("S", fixed)
        n = size(d)
        own = self.set_domain(e, None)
        if own is not None and own != d:
            return self.rebase(self.aset(e, own, m), own, d, m)
        dt = self.table("T", d)
        if isinstance(e, A.Name):
            match self.c.names[e]:
                case TypeSet():
                    return f"set_full({n})"
                case Const(name=c) if c in self.sym.mv_sets:
                    return f"set_full({n})"
                case Var() | Local():
                    return self.name(e, m)
                case Const(name=c):
                    if self.finite(self.sym.const_types[c]):
                        return self.name(e, m)
                    return self.table("C", self.static_bits(self.const_values[c], d),
                                      ("bits", c, d))
                case Def():
                    return self.adef_call(e.name, [], m)
            raise Unsupported(f"the set {e.name}")
        if isinstance(e, A.SetLit):
            out = repr(tuple(0 for _ in range(self.nparts(n))))
            for item in e.items:
                out = f"set_union({out}, set_bit({self.elem_index(item, d, m)}, {n}))"
            return out
        if isinstance(e, A.SetFilter):
            b = e.binder
            cond = self.mask_name()
            return (f"s_filter({m}, {self.members(b.domain, m, d)}, lambda {cond}, "
                    f"{py_name('l', b.name)}: {self.aexpr(e.cond, cond)}, {n})")
        if isinstance(e, A.SetMap):
            return self.set_map(e, d, m)
        if isinstance(e, A.RangeExpr):
            if d[0] != "int":
                raise Unsupported("a range as a set of non-integers")
            return (f"s_range({self.aexpr(e.lo, m)}, {self.aexpr(e.hi, m)}, {d[1]}, {n}, "
                    f"{m})")
        if isinstance(e, A.BinOp) and e.op in ("|", "&", "-"):
            fn = {"|": "set_union", "&": "set_inter", "-": "set_diff"}[e.op]
            return f"{fn}({self.aset(e.left, d, m)}, {self.aset(e.right, d, m)})"
        if isinstance(e, A.Call):
            ref = self.c.calls[e]
            if isinstance(ref, Def):
                return self.adef_call(ref.name, [a.value for a in e.args], m)
        if isinstance(e, A.IfExpr):
            out = self.aset(e.orelse, d, m)
            for c, v in reversed(e.branches):
                out = (f"if_lazy({self.aexpr(c, m)}, "
                       f"{self._lazy_src(lambda mm, v=v: self.aset(v, d, mm))}, "
                       f"(lambda _u: {out}), {m})")
            return out
        if isinstance(e, A.MatchExpr):
            return self.match_expr_array(e, m, lambda v, mm: self.aset(v, d, mm))
        if isinstance(e, A.LetExpr):
            return (f"(lambda {py_name('l', e.name)}: {self.aset(e.body, d, m)})"
                    f"({self.aexpr(e.value, m)})")
        if isinstance(e, (A.Primed, A.Index, A.Field)):
            return self.araw(e, m)
        raise Unsupported(f"the set expression {unparse(e)} ({dt})")

    def nparts(self, n: int) -> int:
        return max(1, -(-n // PART_BITS))

    def static_bits(self, values: frozenset, d: tuple) -> tuple:
        """A constant set of plain values as a bitmask over ``d``."""
        elems = self.domain_desc_values(d)
        mask = 0
        for v in values:
            if v not in elems:
                raise Unsupported(f"the constant element {v} is outside {d}")
            mask |= 1 << elems.index(v)
        return tuple(mask >> (j * PART_BITS) & ((1 << PART_BITS) - 1)
                     for j in range(self.nparts(len(elems))))

    def domain_desc_values(self, d: tuple) -> list:
        return list(domain(d))

    def rebase(self, src: str, own: tuple, d: tuple, m: str) -> str:
        if own[0] != "int" or d[0] != "int":
            raise Unsupported(f"a set of {own} used as a set of {d}")
        return f"s_rebase({src}, {own[1]}, {size(own)}, {d[1]}, {size(d)}, {m})"

    def elem_index(self, item: A.Expr, d: tuple, m: str) -> str:
        """The index of an element in domain ``d``, checked to lie in it."""
        if d[0] == "int":
            return f"s_index({self.aexpr(item, m)}, {d[1]}, {size(d)}, {m})"
        return f"index({self.aexpr(item, m)}, {self.table('T', d)})"

    def set_map(self, e: A.SetMap, d: tuple, m: str) -> str:
        n = size(d)

        def level(i: int, mm: str) -> str:
            if i == len(e.binders):
                if e.cond is None:
                    return f"set_bit({self.elem_index(e.expr, d, mm)}, {n})"
                inner = self.mask_name()
                return (f"s_when({self.aexpr(e.cond, mm)}, lambda {inner}: "
                        f"set_bit({self.elem_index(e.expr, d, inner)}, {n}), {mm}, {n})")
            b = e.binders[i]
            inner = self.mask_name()
            return (f"s_gather({mm}, {self.members(b.domain, mm)}, lambda {inner}, "
                    f"{py_name('l', b.name)}: {level(i + 1, inner)}, {n})")

        return level(0, m)

    def membership(self, x: A.Expr, s: A.Expr, m: str) -> str:
        if isinstance(s, A.RangeExpr):
            v = self.aexpr(x, m)
            return f"both(({self.aexpr(s.lo, m)} <= {v}), ({v} <= {self.aexpr(s.hi, m)}))"
        if isinstance(s, A.SetLit) and all(isinstance(self.t(i), (IntT, EnumT, MVT, BoolT))
                                           for i in s.items):
            v = self.aexpr(x, m)
            out = "False"
            for item in s.items:
                out = f"either({out}, ({v} == {self.aexpr(item, m)}))"
            return out
        d = self.set_domain(s, None)
        if d is not None and d[0] == "int" and isinstance(s, A.Name) and \
                isinstance(self.c.names.get(s), TypeSet):  # a range type: arithmetic
            v = self.aexpr(x, m)
            return f"both(({d[1]} <= {v}), ({v} <= {d[2]}))"
        if d is None:
            fixed = self.static_set(s)
            if fixed is None or not all(isinstance(v, int) for v in fixed):
                raise Unsupported(f"membership in {unparse(s)}")
            return f"in_values({self.aexpr(x, m)}, {self.table('V', tuple(sorted(fixed)))})"
        if d[0] == "int":
            idx = f"s_offset({self.aexpr(x, m)}, {d[1]}, {size(d)})"
            return f"s_member_or_out({self.aset(s, d, m)}, {idx})"
        return f"set_member({self.aset(s, d, m)}, index({self.aexpr(x, m)}, " \
               f"{self.table('T', d)}))"

    def members(self, domain: A.Expr, m: str, want: tuple | None = None) -> str:
        """An iterable of ``(value, membership, index)`` over a binder's domain, in the
        domain's order (the scalar code's order for picks and for loops)."""
        t = self.t(domain)
        if isinstance(domain, A.Name):
            if self.whole_type(domain):
                elem = t.elem if isinstance(t, SetT) else None
                if elem is None or not self.finite(elem):
                    raise Unsupported(f"iterating over {domain.name}")
                return self.all_members(elem)
        if isinstance(domain, A.RangeExpr):
            lo, hi = self.static_int(domain.lo), self.static_int(domain.hi)
            if lo is not None and hi is not None:
                base = want[1] if want is not None and want[0] == "int" else lo
                return self.table("R", tuple((v, True, v - base) for v in range(lo, hi + 1)))
            span = self.int_span(domain.lo, domain.hi)
            if span is None:  # the bounds' extremes over the batch's rows
                base = want[1] if want is not None and want[0] == "int" else 0
                return (f"range_members({self.aexpr(domain.lo, m)}, "
                        f"{self.aexpr(domain.hi, m)}, None, None, {base}, {m})")
            base = want[1] if want is not None and want[0] == "int" else span[0]
            return (f"range_members({self.aexpr(domain.lo, m)}, {self.aexpr(domain.hi, m)}, "
                    f"{span[0]}, {span[1]}, {base})")
        d = self.set_domain(domain, None) or self.operand_domain(domain)
        if d is None:
            fixed = self.static_set(domain)
            if fixed is None:
                raise Unsupported(f"iterating over {unparse(domain)}")
            values = sorted(fixed)
            base = want[1] if want is not None and want[0] == "int" else values[0] if values else 0
            return self.table("R", tuple((v, True, v - base) for v in values))
        values = self.table("D", tuple(array_runtime.from_scalar(v, d)
                                       for v in self.domain_desc_values(d)))
        return f"set_items({self.aset(domain, d, m)}, {values})"

    def all_members(self, elem: Type) -> str:
        d = self.desc(elem)
        return self.table("R", tuple((array_runtime.from_scalar(v, d), True, i)
                                     for i, v in enumerate(self.domain_desc_values(d))))

    def static_int(self, e: A.Expr) -> int | None:
        if self.reads_state_or_locals(e):
            return None
        value = self.evaluate(e)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def int_span(self, lo: A.Expr, hi: A.Expr) -> tuple[int, int] | None:
        """The smallest and largest values two bounds can take, from their types."""
        spans = []
        for b in (lo, hi):
            fixed = self.static_int(b)
            if fixed is not None:
                spans.append((fixed, fixed))
                continue
            t = self.t(b)
            if isinstance(b, A.Call) and isinstance(ref := self.c.calls[b], Builtin) \
                    and ref.name == "len" and (n := self.max_len(b.args[0].value)) is not None:
                spans.append((0, n))
                continue
            if not (isinstance(t, IntT) and t.bounded):
                return None
            spans.append(self.bounds(t))
        return spans[0][0], spans[1][1]

    # ---- statements ------------------------------------------------------------------
    def forks(self, st: A.Stmt) -> bool:
        """Whether a statement can end or split a path: as :func:`forks`, but performing
        an action definition forks only when its body does."""
        if isinstance(st, A.Perform):
            return any(self.forks(x) for x in self.sym.action_defs[st.name].body.stmts)
        if isinstance(st, A.IfStmt):
            blocks = [b for _, b in st.branches] + ([st.orelse] if st.orelse else [])
            return any(self.forks(x) for b in blocks for x in b.stmts)
        if isinstance(st, A.MatchStmt):
            return any(self.forks(x) for _, b in st.arms for x in b.stmts)
        return forks(st)

    def ablock(self, stmts: list[A.Stmt], m: str, tail: Callable[[str], None]) -> None:
        """Statements on a path whose rows are mask ``m``; ``tail(mask)`` ends it. The
        names an action definition's parameters stand for are the block's own: a sibling
        block compiled next starts from the same ones."""
        saved = dict(self._static)
        self._ablock(stmts, m, tail)
        self._static = saved

    def perform(self, st: A.Perform, rest: list[A.Stmt], m: str,
                tail: Callable[[str], None]) -> None:
        """An action definition's body in place (on the rows of ``m``), then the rest of
        the block."""
        self.comment(st.pos, f"perform {st.name}")
        body = self.inline_definition(st, lambda e, t: self.achecked(e, t, self.eff(m)))
        self._ablock([*body, *rest], m, tail)

    def _ablock(self, stmts: list[A.Stmt], m: str, tail: Callable[[str], None]) -> None:
        for i, st in enumerate(stmts):
            rest = stmts[i + 1:]
            if isinstance(st, A.Requires):
                self.comment(st.pos, f"requires {unparse(st.cond)}")
                mm = self.mask_name()
                self.emit(f"{mm} = req({m}, {self.aexpr(st.cond, m)})", st.pos)
                self.emit(f"if {mm} is None:", st.pos)
                with self.indented():
                    self.emit(self._fail[-1], st.pos)  # type: ignore[arg-type]
                m = mm
            elif isinstance(st, A.Let):
                self.emit(f"{py_name('l', st.name)} = {self.aexpr(st.value, self.eff(m))}",
                          st.pos)
            elif isinstance(st, A.Assign):
                self.aassign(st, m)
            elif isinstance(st, A.Skip):
                continue
            elif isinstance(st, A.For):
                self.afor(st, m)
            elif isinstance(st, A.Pick):
                self.apick(st, rest, m, tail)
                return
            elif isinstance(st, A.Perform):
                self.perform(st, rest, m, tail)
                return
            elif isinstance(st, DefinitionEnd):
                self.end_definition(st)
            elif isinstance(st, (A.IfStmt, A.MatchStmt, A.Either)):
                if not self.forks(st):
                    self.conditional(st, m)
                    continue
                if not rest:
                    self.split(st, m, tail)
                    return
                k = self.tmp("k")
                drafts = self.drafts()
                km = self.mask_name()
                self.emit(f"def {k}({', '.join(drafts + [km])}):", st.pos)
                with self.indented():
                    self._fail.append("return")
                    self.ablock(rest, km, tail)
                    self._fail.pop()
                    self.emit("pass", st.pos)
                self.split(st, m, lambda mm, k=k, drafts=drafts: self.emit(
                    f"{k}({', '.join(drafts + [mm])})"))
                return
            else:
                raise Unsupported(f"{type(st).__name__} statements")
        tail(m)

    def eff(self, m: str) -> str:
        """The rows where code under the current ``if`` branch really runs."""
        return m if self._ctx == "True" else f"both({m}, {self._ctx})"

    def aassign(self, st: A.Assign, m: str) -> None:
        lv = st.target
        var_t = self.sym.var_types[lv.var]
        target = py_name("n", lv.var)
        self.comment(st.pos, f"{unparse_lvalue(lv)} = {unparse(st.value)}")
        em = self.eff(m)
        if not lv.path:
            value = self.achecked(st.value, var_t, em)
        else:
            reads = [target]
            steps: list[tuple[str, object, Type]] = []
            t: Type = var_t
            for acc in lv.path:
                if isinstance(acc, A.IndexAcc):
                    if isinstance(t, MapT):
                        key = self.tmp("i")
                        self.emit(f"{key} = {self.map_key(t, self.aexpr(acc.key, em), em)}",
                                  acc.pos)
                        steps.append((key, acc, t))
                        reads.append(f"get({reads[-1]}, {key}, {self.key_lo(t)}, {em})")
                        t = t.value
                    elif isinstance(t, SeqT):
                        key = self.tmp("i")
                        self.emit(f"{key} = {self.aexpr(acc.key, em)}", acc.pos)
                        steps.append((key, acc, t))
                        reads.append(f"seq_at({reads[-1]}, {key}, {em})")
                        t = t.elem
                    else:
                        assert isinstance(t, TupT) and isinstance(acc.key, A.Int)
                        steps.append((str(acc.key.value), acc, t))
                        reads.append(f"{reads[-1]}[{acc.key.value}]")
                        t = t.items[acc.key.value]
                else:
                    steps.append(("field", acc, t))
                    reads.append(self.afield(reads[-1], acc, em))
                    t = self.field_type(t, acc)
            value = self.achecked(st.value, t, em)
            for (key, acc, ct), base in zip(reversed(steps), reversed(reads[:-1])):
                if key == "field":
                    value = self.field_update(base, acc, value, em)
                elif isinstance(ct, MapT):
                    value = f"put({base}, {key}, {value}, {self.key_lo(ct)}, {em})"
                elif isinstance(ct, SeqT):
                    value = f"seq_put({base}, {key}, {value}, {em})"
                else:
                    value = f"rec_set({base}, {key}, {value})"
        if self._ctx != "True":
            value = f"where({self._ctx}, {value}, {target})"
        self.emit(f"{target} = {value}", st.pos)

    def afor(self, st: A.For, m: str) -> None:
        self.comment(st.pos, f"for {st.binder.name} in {unparse(st.binder.domain)}")
        member = self.tmp("c")
        self.emit(f"for {py_name('l', st.binder.name)}, {member}, _ in "
                  f"{self.members(st.binder.domain, self.eff(m))}:", st.pos)
        with self.indented(), self.context(member):
            start = len(self.lines)
            self.ablock(st.body.stmts, m, lambda _: None)
            if len(self.lines) == start:
                self.emit("pass", st.pos)

    @contextmanager
    def context(self, cond: str) -> Iterator[None]:
        """Statements inside that only run in the rows where ``cond`` holds."""
        saved = self._ctx
        name = self.tmp("x")
        self.emit(f"{name} = both({saved}, {cond})")
        self._ctx = name
        try:
            yield
        finally:
            self._ctx = saved

    def apick(self, st: A.Pick, rest: list[A.Stmt], m: str, tail: Callable[[str], None]) -> None:
        b = st.binder
        self.comment(st.pos, f"pick {b.name} in {unparse(b.domain)}")
        drafts = self.drafts()
        saved = self.tmp("s")
        if drafts:
            self.emit(f"{saved} = ({', '.join(drafts)},)", st.pos)
        member = self.tmp("c")
        self.emit(f"for {py_name('l', b.name)}, {member}, _ in {self.members(b.domain, m)}:",
                  st.pos)
        with self.indented():
            if drafts:
                self.emit(f"{', '.join(drafts)}, = {saved}", st.pos)
            mm = self.mask_name()
            self.emit(f"{mm} = req({m}, {member})", st.pos)
            self.emit(f"if {mm} is None:", st.pos)
            with self.indented():
                self.emit("continue", st.pos)
            if st.cond is not None:
                mc = self.mask_name()
                self.emit(f"{mc} = req({mm}, {self.aexpr(st.cond, mm)})", st.pos)
                self.emit(f"if {mc} is None:", st.pos)
                with self.indented():
                    self.emit("continue", st.pos)
                mm = mc
            self._fail.append("continue")
            self.ablock(rest, mm, tail)
            self._fail.pop()

    def branch_conds(self, st: A.IfStmt | A.MatchStmt, m: str) -> list[tuple[str, A.Block,
                                                                                 list]]:
        """Per branch: a name bound to the rows taking it, its block and its pattern
        bindings. Later conditions are evaluated only where earlier ones fail."""
        out: list[tuple[str, A.Block, list]] = []
        rest = self.tmp("r")
        self.emit(f"{rest} = {self.eff(m)}")
        if isinstance(st, A.IfStmt):
            for cond, body in st.branches:
                self.comment(cond.pos, f"if {unparse(cond)}")
                c = self.tmp("c")
                self.emit(f"{c} = {self.aexpr(cond, rest)}", cond.pos)
                taken = self.tmp("b")
                self.emit(f"{taken} = both({rest}, {c})", cond.pos)
                self.emit(f"{rest} = both({rest}, neg({c}))", cond.pos)
                out.append((taken, body, []))
            if st.orelse is not None:
                out.append((rest, st.orelse, []))
            else:
                out.append((rest, A.Block([], st.pos), []))
            return out
        subject = self.tmp("s")
        self.comment(st.pos, f"match {unparse(st.subject)}")
        self.emit(f"{subject} = {self.aexpr(st.subject, rest)}", st.pos)
        for pats, body in st.arms:
            cond = self.pattern_cond(pats, subject)
            binds = self.pattern_binds_array(pats, subject)
            if cond is None:
                out.append((rest, body, binds))
                return out
            taken = self.tmp("b")
            self.emit(f"{taken} = both({rest}, {cond})", pats[0].pos)
            self.emit(f"{rest} = both({rest}, neg({cond}))", pats[0].pos)
            out.append((taken, body, binds))
        return out

    def conditional(self, st: A.IfStmt | A.MatchStmt | A.Either, m: str) -> None:
        """A branching statement with no guard or choice inside: every branch runs, its
        updates kept only in its own rows."""
        if isinstance(st, A.Either):
            raise Unsupported("either without requires")  # forks: always a fork
        for taken, body, binds in self.branch_conds(st, m):
            self.emit(f"if rows({taken}):")
            with self.indented():
                for name, value in binds:
                    self.emit(f"{name} = {value}")
                saved = self._ctx
                self._ctx = taken
                start = len(self.lines)
                self.ablock(body.stmts, m, lambda _: None)
                self._ctx = saved
                if len(self.lines) == start:
                    self.emit("pass")

    def split(self, st: A.IfStmt | A.MatchStmt | A.Either, m: str,
              tail: Callable[[str], None]) -> None:
        """A branching statement whose branches are separate paths."""
        drafts = self.drafts()
        saved = self.tmp("s")
        if drafts:
            self.emit(f"{saved} = ({', '.join(drafts)},)", st.pos)
        if isinstance(st, A.Either):
            for n, body in enumerate(st.branches):
                self.comment(body.pos, "either" if n == 0 else "or")
                self.emit("for _ in (0,):", body.pos)
                with self.indented():
                    if drafts:
                        self.emit(f"{', '.join(drafts)}, = {saved}", body.pos)
                    self._fail.append("break")
                    self.ablock(body.stmts, m, tail)
                    self._fail.pop()
                    self.emit("pass", body.pos)
            return
        # A statement with guards or choices is itself a split, never inside a conditional
        # update: conditions of updates never reach paths.
        assert self._ctx == "True"
        for taken, body, binds in self.branch_conds(st, m):
            mm = self.mask_name()
            self.emit(f"{mm} = req({m}, {taken})")
            self.emit(f"for _ in (0,) if {mm} is not None else ():")
            with self.indented():
                if drafts:
                    self.emit(f"{', '.join(drafts)}, = {saved}")
                for name, value in binds:
                    self.emit(f"{name} = {value}")
                self._fail.append("break")
                self.ablock(body.stmts, mm, tail)
                self._fail.pop()
                self.emit("pass")

    # ---- whole program -------------------------------------------------------------
    def gen_adefs(self) -> None:
        s = self.sym
        for name, d in s.defs.items():
            reads = sorted(s.def_reads.get(name, ()))
            if d.params is None and not reads:
                continue
            params = ([py_name("v", v) for v in reads] + ["_m"] +
                      [py_name("l", p.name) for p in d.params or []])
            body = self.def_body(name, d)
            self.emit("")
            self.comment(d.pos, f"def {name}")
            self.emit(f"def {py_name('d', name)}({', '.join(params)}):", d.pos)
            with self.indented():
                self.emit(f"return {body}", d.body.pos)
            if d.params and not self.partial(d.body):
                self.emit(f"{py_name('d', name)} = memo({py_name('d', name)}, {len(reads)})")

    def def_body(self, name: str, d: A.DefDecl) -> str:
        t = self.sym.def_types[name]
        if isinstance(t, SetT):
            dom = self.set_domain(d.body, None)
            if dom is None:
                raise Unsupported(f"def {name} returns a set of unbounded integers")
            return self.aset(d.body, dom, "_m")
        return self.aexpr(d.body, "_m")

    def gen_aactions(self) -> list[str]:
        s = self.sym
        names = []
        for index, (name, d) in enumerate(s.actions.items()):
            fn = py_name("a", name)
            names.append(fn)
            self._assigned = assigned_vars(d.body, s.action_defs)
            self._primes_are_draft = True
            self.emit("")
            self.comment(d.pos, f"action {name}")
            self.emit(f"def {fn}({', '.join([py_name('v', v) for v in s.vars] + ['emit'])}):",
                      d.pos)
            with self.indented():
                self.aaction_body(index, d)
                self.emit("pass", d.pos)
            self._primes_are_draft = False
        return names

    def aaction_body(self, index: int, d: A.ActionDecl) -> None:
        params = self.sym.action_params[d.name]
        for _, t in params:
            self.require_finite(t, "an action parameter")
        guards, body = hoist_guards(d.body.stmts, [p for p, _ in params], self.c)
        assigned = self._assigned

        # The binding's number, in the order of the parameters' nested loops (the
        # liveness check's fairness per binding): ((_bind0 * n1) + _bind1) * n2 + ...
        sizes = [len(self.domain_values(t)) for _, t in params]
        binding = "0"
        for i in range(len(params)):
            binding = f"_bind{i}" if i == 0 else f"({binding}) * {sizes[i]} + _bind{i}"

        def tail(mm: str) -> None:
            drafts = ", ".join(f"{i}: {py_name('n', v)}" for i, v in enumerate(self.sym.vars)
                               if v in assigned)
            self.emit(f"emit({index}, {mm}, {{{drafts}}}, {binding})")

        def bind(i: int, m: str) -> None:
            for level, cond, st in guards:
                if level != i - 1:
                    continue
                self.comment(st.pos, f"requires {unparse(st.cond)}")
                mm = self.mask_name()
                self.emit(f"{mm} = req({m}, {self.aexpr(cond, m)})", st.pos)
                self.emit(f"if {mm} is None:", st.pos)
                with self.indented():
                    self.emit("continue" if i else "return", st.pos)
                m = mm
            if i == len(params):
                for v in self.sym.vars:
                    if v in assigned:
                        self.emit(f"{py_name('n', v)} = {py_name('v', v)}")
                self._fail = ["continue" if params else "return"]
                self.ablock(body, m, tail)
                return
            pname, ptype = params[i]
            values = self.table("D", tuple(enumerate(
                array_runtime.from_scalar(v, self.desc(ptype))
                for v in self.domain_values(ptype))))
            self.emit(f"for _bind{i}, {py_name('l', pname)} in {values}:", d.pos)
            with self.indented():
                bind(i + 1, m)

        bind(0, "True")

    def gen_achecks(self) -> dict[str, list[str]]:
        s = self.sym
        out: dict[str, list[str]] = {"invariant": [], "property": [], "reachable": [],
                                     "constraint": []}
        if s.check_types:
            # Every packed state is of its types: a value leaving them fails its range
            # check when it is stored, and the scalar engine reruns the search.
            fn = py_name("i", TYPE_OK)
            self.emit("")
            self.emit(f"# check types on: the invariant {TYPE_OK}")
            self.emit(f"def {fn}(*_):")
            with self.indented():
                self.emit("return True")
            out["invariant"].append(fn)
        for name, c in s.checks.items():
            self.emit("")
            self.comment(c.pos, f"{c.kind} {name}")
            state = [py_name("v", v) for v in s.vars]
            if c.kind == "property":
                fn = py_name("p", name)
                self._next_state = True
                args = state + [py_name("n", v) for v in s.vars] + ["_m"]
            else:
                fn = py_name("i", name)
                args = state + ["_m"]
            self.emit(f"def {fn}({', '.join(args)}):", c.pos)
            with self.indented():
                self.emit(f"return {self.aexpr(c.body, '_m')}", c.body.pos)
            self._next_state = False
            out[c.kind].append(fn)
        return out

    def program(self) -> ArrayProgram:
        why = array_refusal(self.c)
        if why is not None:
            raise Unsupported(why)
        self.ns.update(make_helpers(self.positions))
        self.build_constants()
        var_types = tuple(self.desc(self.sym.var_types[v]) for v in self.sym.vars)
        for v in self.sym.vars:
            self.require_finite(self.sym.var_types[v], f"variable {v}")
        try:
            layout = Layout(var_types)
        except LayoutError as exc:
            raise Unsupported(str(exc)) from None
        self.gen_adefs()
        actions = self.gen_aactions()
        checks = self.gen_achecks()
        code, self.lines = self.lines, []
        self.srcmap = []
        self.emit(f"# Array code of model {self.model_name}.")
        for name, value in self.anames.items():
            text = repr(value)
            self.emit(f"# {name} = {text if len(text) < 100 else text[:97] + '...'}")
        for name, members in self.mv_members.items():
            self.emit(f"# {name}: " + ", ".join(f"{m} = {i}" for i, m in enumerate(members)))
        source = "\n".join(self.lines + code) + "\n"
        ns: dict[str, object] = {"__builtins__": {"tuple": tuple, "range": range,
                                                  "len": len, "True": True, "False": False,
                                                  "None": None}}
        ns.update({n: getattr(array_runtime, n) for n in _RUNTIME_NAMES})
        ns.update(self.anames)
        for name, _, _ in self._tables:
            if name.startswith(("e_", "t_")):  # enum constants and union tags: ints
                ns[name] = self.ns[name]
        try:
            exec(compile(source, f"<array code of {self.model_name}>", "exec"), ns)  # noqa: S102
        except SyntaxError as exc:
            raise Unsupported(f"array code does not compile: {exc}") from None
        return ArrayProgram(
            layout=layout,
            actions=tuple(ns[n] for n in actions),  # type: ignore[misc]
            invariants=tuple(ns[n] for n in checks["invariant"]),  # type: ignore[misc]
            reachables=tuple(ns[n] for n in checks["reachable"]),  # type: ignore[misc]
            constraints=tuple(ns[n] for n in checks["constraint"]),  # type: ignore[misc]
            properties=tuple(ns[n] for n in checks["property"]),  # type: ignore[misc]
            source=source,
            check_types=self.sym.check_types,
        )
