"""Checked spec plus one model's constants to Python source that is lowered to LLVM IR.

The third code generator (beside the scalar one, :mod:`pyspec.codegen.scalar`, and the array
one, :mod:`pyspec.codegen.arrays`). It works on **packed states** (:mod:`pyspec.layout`): a
state is ``W`` 64-bit words, passed as ``W`` plain ints (``v0``...), and an action's
draft next state is ``W`` more (``n0``...), so that successor generation runs in machine
registers with no allocation. Every value the code computes is an ``int64`` (or a bool):
a plain int is itself, anything else is its **index** in its type's domain
(:func:`pyspec.layout.index_of`): an enum constant, a model value, a union value, a
record, a tuple or a map is one mixed-radix number, a set is a bitmask over its element
type's domain. So ``m[k].f`` is two divisions, ``r with {f: x}`` one multiply-add, ``x
in s`` a shift. A read of a state variable's part (``pt[p][v]``, ``page[f].ae``) is a
read of its bit field in the packed words, never of the whole variable.

Paths are taken in the scalar code's order (actions, parameter bindings, ``either``
branches, ``pick`` choices in their values' order), so the successors of a state come
out in its scalar successor order: the explorer replays traces with the scalar model.
An evaluation error of the spec raises :class:`CompiledEvalError`: the engine then runs
the search on the scalar engine, which reports it. What this generator cannot express
raises :class:`Unsupported` at generation time, with a reason.

The generated module also holds the breadth-first search itself and its state store
(:mod:`pyspec.codegen.compiled_search`). It is plain Python in a small subset (integers,
integer arrays, tuples of integers, loops, calls of its own functions) that
:mod:`pyspec.codegen.lower_llvm` turns into LLVM IR, compiled to machine code with this
model's actions (:mod:`explorer.engine.machine_code`); it also runs as it is in Python,
slowly, which is how the lowering is tested.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import product
from math import prod

from pyspec import ast as A
from pyspec.analysis import arm_tests, defs_reached, hoist_guards, walk
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
    Var,
    Variant,
)
from pyspec.codegen.arrays import Unsupported
from pyspec.codegen.common import (
    assigned_vars,
    forks,
    holds_sequence,
)
from pyspec.codegen.compiled_search import kernel_source, state_value_lines
from pyspec.codegen.compiled_sequences import SequenceCode, seq_helpers
from pyspec.codegen.scalar import Compiler, DefinitionEnd
from pyspec.layout import PART_BITS, Layout, LayoutError, index_of, size
from pyspec.runtime import make_helpers
from pyspec.types import (
    MVT,
    BoolT,
    EnumT,
    InT,
    IntT,
    MapT,
    RecT,
    SeqT,
    SetT,
    TupT,
    Type,
    UnionT,
)

#: The largest domain a value may have to be one int64 index.
MAX_INDEX = 2**62
#: A set is a bitmask cut into parts of PART_BITS elements (a tuple when more than one);
#: at most this many parts.
MAX_PARTS = 16


class CompiledEvalError(Exception):
    """The spec failed to evaluate in compiled code (the scalar engine reports how)."""


@dataclass
class CompiledSource:
    """One model's generated module and what the engine needs to run it."""

    source: str
    layout: Layout
    #: The model's constants, in the slots of the ``K`` array the code reads them from.
    constants: tuple[int, ...]
    #: At most this many successors per state (the size of the successor buffer).
    max_successors: int
    #: How many checks of each kind, in the model's order.
    invariants: int
    properties: int
    reachables: int
    constraints: int
    #: ``check types on``: an initial state outside its types must not be packed.
    check_types: bool = False
    #: The defs computed once per checked state (see
    #: :meth:`CompiledCompiler.hoist_state_values`).
    state_values: tuple[str, ...] = ()


@dataclass(frozen=True)
class LeafIndex:
    """The index of a leaf of the packed state: a constant plus run-time terms, each a
    local holding an int in ``0..n-1`` times a coefficient (a map entry's key). Kept apart
    so that a read or write of a leaf picked at run time becomes a shift by an expression
    of the keys when every leaf it can be sits in one word (see :func:`linear_shift`)."""

    const: int
    #: (local name, coefficient, number of values)
    terms: tuple[tuple[str, int, int], ...] = ()

    def plus(self, n: int) -> LeafIndex:
        return LeafIndex(self.const + n, self.terms)

    def static(self) -> int | None:
        return None if self.terms else self.const

    def src(self) -> str:
        parts = [str(self.const)] if self.const or not self.terms else []
        parts += [x if c == 1 else f"{x} * {c}" for x, c, _ in self.terms]
        return " + ".join(parts)


#: At most this many run-time leaves are compared to find one word and a linear shift.
MAX_LEAF_CHOICES = 4096


def linear_shift(layout: Layout, leaf: LeafIndex) -> tuple[int, str] | None:
    """``(word, shift expression)`` when every leaf ``leaf`` can be lies in one word, has
    the same width, and its shift is the first one's minus a multiple of each key; None
    otherwise (the code then calls ``leaf_read``/``leaf_write``)."""
    ranges = [n for _, _, n in leaf.terms]
    if prod(ranges) > MAX_LEAF_CHOICES:
        return None
    leaves = layout.leaves

    def at(xs: tuple[int, ...]) -> int:
        return leaf.const + sum(c * x for (_, c, _), x in zip(leaf.terms, xs))

    zero = tuple(0 for _ in ranges)
    first = leaves[at(zero)]
    steps = []
    for i in range(len(ranges)):
        one = tuple(int(j == i) for j in range(len(ranges)))
        steps.append(first.shift - leaves[at(one)].shift if ranges[i] > 1 else 0)
    for xs in product(*(range(n) for n in ranges)):
        lf = leaves[at(xs)]
        if (lf.word != first.word or lf.bits != first.bits
                or lf.shift != first.shift - sum(d * x for d, x in zip(steps, xs))):
            return None
    terms = [f" - {x}" if d == 1 else f" - {x} * {d}"
             for (x, _, _), d in zip(leaf.terms, steps) if d]
    return first.word, f"({first.shift}{''.join(terms)})"


@dataclass
class _Place:
    """A part of a state: its words' prefix (``v`` or ``n``), its type, the index of its
    first leaf."""

    prefix: str
    t: Type
    leaf: LeafIndex


def _lit(n: int) -> str:
    return f"({n})" if n < 0 else str(n)


def _static(src: str) -> int | None:
    try:
        return int(src.strip("()"))
    except ValueError:
        return None


def outside(x: str, lo: int, hi: int) -> str:
    """Whether ``x`` lies outside ``lo..hi``: two comparisons and a bitwise or, no
    branch (Python's chained comparison is one: fewer blocks for LLVM to optimise)."""
    return f"(({x} < {_lit(lo)}) | ({x} > {_lit(hi)}))"


def between(x: str, lo: int, hi: int) -> str:
    """Whether ``lo <= x < hi``, without a branch (see :func:`outside`)."""
    return f"(({_lit(lo)} <= {x}) & ({x} < {_lit(hi)}))"


def digit(x: str, stride: int, n: int, first: bool) -> str:
    """The digit of stride ``stride`` and base ``n`` of the mixed-radix index ``x`` (a
    value of its type, so the first, most significant digit needs no ``%``)."""
    q = x if stride == 1 else f"({x} // {stride})"
    return q if first else f"({q} % {n})"


_MAY_FAIL = re.compile(r"\b[di]_\w+\(|\[(?!\d+\])")


def may_fail(src: str) -> bool:
    """Whether evaluating expression ``src`` may fail (it calls a definition, which
    checks what it computes, or indexes with a run-time index): then ``and``/``or``
    keep Python's short circuit, so that it runs only where the scalar code runs it;
    otherwise they become ``&``/``|``, one basic block instead of two."""
    return _MAY_FAIL.search(src.replace("K[", "K(")) is not None


class CompiledCompiler(SequenceCode, Compiler):
    """Compiles one instance of a checked spec to the compiled engine's Python (see the
    module doc)."""

    def __init__(self, *args: object, state_values: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        #: Whether defs may become state values (:meth:`hoist_state_values`).
        self.state_values = state_values
        self.layout: Layout | None = None
        self.env: list[dict[str, str]] = [{}]
        self.tables: dict[tuple, str] = {}
        self.table_src: list[str] = []
        self._props = False
        self.bound = 0
        self.def_lines: list[str] = []
        #: The model constants passed as data (see :meth:`kref`).
        self.kslots: dict[tuple[str, str], int] = {}
        self.kvalues: list[int] = []
        self.done_defs: set[str] = set()
        self.bad_defs: dict[str, str] = {}
        #: The def functions that read a leaf whose index is known only at run time (a
        #: parameter's): LLVM inlines them into every caller, where the index is often a
        #: constant (``[f in Frames -> zapped_base(p, f, {})]`` unrolled) and the read
        #: folds to a shift and a mask; LLVM's own cost model keeps such a def apart.
        self.inline_defs: set[str] = set()
        #: Whether the code generated since the current def began reads such a leaf.
        self.leaf_at_run_time = False
        #: Element type sizes of the sequences the code uses (their helpers are written).
        self.seq_ks: set[int] = set()
        #: The coding of each local holding a sequence.
        self.local_seqs: dict[str, SeqT | None] = {}
        #: The expression :meth:`val_raw` evaluates without the sequence coding.
        self.raw_seq: A.Expr | None = None
        #: What the names of an inlined action definition's parameters stood for before
        #: (by the definition's end marker).
        self.def_saved: dict[int, dict[str, str | None]] = {}
        #: Tuple displays of set parts made by :meth:`join`, and their parts.
        self.joined: dict[str, list[str]] = {}
        #: The state values (see :meth:`hoist_state_values`): def name, ``K`` slot.
        self.state_slots: dict[str, int] = {}

    # ---- types -----------------------------------------------------------------------
    def dsize(self, t: Type) -> int:
        """How many values ``t`` has (Unsupported when they are not finitely many)."""
        try:
            return size(self.desc(t))
        except Exception:  # noqa: BLE001 - any type without a finite domain
            raise Unsupported(f"values of type {t} have no finite domain") from None

    def indexed(self, t: Type, what: str) -> int:
        """The size of ``t``, which must fit an int64 index."""
        n = self.dsize(t)
        if isinstance(t, SetT):
            if self.nparts(t) > MAX_PARTS:
                raise Unsupported(f"{what}: a set of more than {MAX_PARTS * PART_BITS} "
                                  "possible elements")
        elif n > MAX_INDEX:
            raise Unsupported(f"{what}: a {t} value has more than 2^62 possibilities")
        return n

    def plain(self, t: Type) -> bool:
        return isinstance(t, (BoolT, IntT))

    def code(self, t: Type, x: str) -> str:
        """The index of value ``x`` of type ``t`` (of a constant set: its position among
        the set's members, checked)."""
        if isinstance(t, InT):
            return self.position(self.member_codes(t), x, f"a value outside {t.keys}")
        if isinstance(t, BoolT):
            return f"int({x})"
        if isinstance(t, IntT):
            lo = self.bounds(t)[0]
            return x if lo == 0 else f"({x} - {_lit(lo)})"
        return x

    def value(self, t: Type, c: str) -> str:
        """The value whose index is ``c``."""
        if isinstance(t, InT):
            member = f"{self.table(self.member_codes(t))}[{c}]"
            return f"({member} != 0)" if isinstance(t.elem, BoolT) else member
        if isinstance(t, BoolT):
            return f"({c} != 0)"
        if isinstance(t, IntT):
            lo = self.bounds(t)[0]
            return c if lo == 0 else f"({c} + {_lit(lo)})"
        return c

    def items(self, t: Type) -> list[Type]:
        if isinstance(t, RecT):
            return [ft for _, ft in self.sym.record_fields[t.name]]
        if isinstance(t, TupT):
            return list(t.items)
        assert isinstance(t, MapT)
        return [t.value] * self.nkeys(t)

    def nkeys(self, t: MapT) -> int:
        """How many keys a map has: its key type's values, or its constant key set's."""
        return len(self.key_set(t)) if t.keys is not None else self.dsize(t.key)

    def key_set(self, t: MapT) -> tuple:
        """The keys of a map over a constant key set, in their order (scalar values)."""
        return self.desc(t)[1][3]  # type: ignore[no-any-return]

    def key_codes(self, t: MapT) -> list[int]:
        """The key set's keys as this code's values (an int, or an index)."""
        return self.codes_of(self.key_set(t), t.key)

    def member_codes(self, t: InT) -> list[int]:
        """The members of a constant set type as this code's values, in their order."""
        return self.codes_of(self.desc(t)[3], t.elem)

    def codes_of(self, values: tuple, t: Type) -> list[int]:
        kt = self.desc(t)
        return [int(k) if kt[0] in ("int", "bool") else index_of(k, kt) for k in values]

    def strides(self, types: list[Type]) -> list[int]:
        out, acc = [], 1
        for it in reversed(types):
            out.append(acc)
            acc *= self.dsize(it)
        return out[::-1]

    def variants(self, union: str) -> list[tuple[str, list[tuple[str, Type]]]]:
        return [(v.name, self.sym.variant_fields[v.name]) for v in self.sym.unions[union].variants]

    def variant_offsets(self, union: str) -> list[int]:
        out = [0]
        for _, fields in self.variants(union):
            out.append(out[-1] + prod(self.dsize(ft) for _, ft in fields))
        return out

    def key_index(self, mt: MapT, key: str, key_e: A.Expr) -> str:
        """The position of key ``key`` in map type ``mt`` (checked when needed)."""
        kt = mt.key
        if mt.keys is not None:
            return self.key_set_index(mt, key)
        if isinstance(kt, IntT):
            lo, hi = self.bounds(kt)
            vt = self.t(key_e)
            inside = isinstance(vt, IntT) and vt.bounded and lo <= self.bounds(vt)[0] \
                and self.bounds(vt)[1] <= hi
            k = _static(key)
            if k is not None and lo <= k <= hi:
                return str(k - lo)
            if not inside:
                self.emit(f"if {outside(key, lo, hi)}:")
                with self.indented():
                    self.fail(f"key outside the map's domain {lo}..{hi}")
            return key if lo == 0 else f"({key} - {_lit(lo)})"
        if isinstance(kt, BoolT):
            return f"int({key})"
        return key

    def key_set_index(self, mt: MapT, key: str) -> str:
        """The position of ``key`` among a constant key set's keys (checked)."""
        return self.position(self.key_codes(mt), key, "a key outside the map's key set")

    def position(self, codes: list[int], key: str, failure: str) -> str:
        """The position of value ``key`` among ``codes`` (failing when it is none): a
        table from the value (its index, or an int's offset from the smallest)."""
        ks = _static(key)
        if ks is not None and ks in codes:
            return str(codes.index(ks))
        if not codes:
            self.fail(failure)
            return "0"
        lo, hi = min(codes), max(codes)
        if hi - lo >= 4096:
            raise Unsupported("a constant set whose members spread too far")
        positions = [-1] * (hi - lo + 1)
        for j, c in enumerate(codes):
            positions[c - lo] = j
        key = self.let(key, "key")
        pos = self.tmp("kp")
        self.emit(f"{pos} = -1")
        self.emit(f"if not {outside(key, lo, hi)}:")
        with self.indented():
            self.emit(f"{pos} = {self.table(positions)}[{key} - {_lit(lo)}]")
        self.emit(f"if {pos} < 0:")
        with self.indented():
            self.fail(failure)
        return pos

    def table(self, values: list[int]) -> str:
        key = tuple(values)
        if key not in self.tables:
            name = f"T{len(self.tables)}"
            self.tables[key] = name
            self.table_src.append(f"{name} = np.array({list(values)!r}, dtype=np.int64)")
        return self.tables[key]

    # ---- output helpers --------------------------------------------------------------
    def fail(self, message: str) -> None:
        self.emit(f"raise CompiledEvalError({message!r})")

    def let(self, src: str, stem: str = "t") -> str:
        """``src`` bound to a fresh local (unless it is already a name or a literal)."""
        if src.isidentifier() or _static(src) is not None or src in ("True", "False"):
            return src
        name = self.tmp(stem)
        self.emit(f"{name} = {src}")
        return name

    @contextmanager
    def scope(self) -> Iterator[dict[str, str]]:
        self.env.append(dict(self.env[-1]))
        try:
            yield self.env[-1]
        finally:
            self.env.pop()

    def bind(self, name: str, src: str) -> str:
        local = self.tmp(f"l_{name}_")
        self.emit(f"{local} = {src}")
        self.env[-1][name] = local
        return local

    def captured(self, build: Callable[[], str]) -> tuple[list[str], list[int], str]:
        """What ``build`` emits and returns, taken out of the output."""
        start = len(self.lines)
        out = build()
        lines, srcmap = self.lines[start:], self.srcmap[start:]
        del self.lines[start:], self.srcmap[start:]
        return lines, srcmap, out

    def replay(self, lines: list[str], srcmap: list[int], depth: int = 0) -> None:
        """Emit captured lines again, ``depth`` levels further in."""
        for line, pos in zip(lines, srcmap):
            self.lines.append("    " * depth + line)
            self.srcmap.append(pos)

    # ---- leaves of the packed state --------------------------------------------------
    def leaf_read(self, prefix: str, leaf: LeafIndex) -> str:
        """The code in leaf ``leaf`` of the words ``prefix0``..."""
        assert self.layout is not None
        i = leaf.static()
        if i is not None:
            lf = self.layout.leaves[i]
            word = f"{prefix}{lf.word}" if lf.shift == 0 else f"({prefix}{lf.word} >> {lf.shift})"
            return f"({word} & {(1 << lf.bits) - 1})"
        found = linear_shift(self.layout, leaf)
        if found is not None:
            w, shift = found
            lf = self.layout.leaves[leaf.const]
            return f"(({prefix}{w} >> {shift}) & {(1 << lf.bits) - 1})"
        self.leaf_at_run_time = True
        words = ", ".join(f"{prefix}{w}" for w in range(self.layout.words))
        return f"leaf_read({words}, {leaf.src()})"

    def leaf_write(self, leaf: LeafIndex, code: str) -> None:
        """Store ``code`` in leaf ``leaf`` of the draft words."""
        assert self.layout is not None
        i = leaf.static()
        if i is not None:
            lf = self.layout.leaves[i]
            mask = ((1 << lf.bits) - 1) << lf.shift
            self.emit(f"n{lf.word} = (n{lf.word} & {~mask}) | ({code} << {lf.shift})")
            return
        found = linear_shift(self.layout, leaf)
        if found is not None:
            w, shift = found
            sh = self.let(shift, "sh")
            mask = (1 << self.layout.leaves[leaf.const].bits) - 1
            self.emit(f"n{w} = (n{w} & ~({mask} << {sh})) | ({code} << {sh})")
            return
        words = ", ".join(f"n{w}" for w in range(self.layout.words))
        self.emit(f"{words}, = leaf_write({words}, {leaf.src()}, {code})")

    def leaf_types(self, t: Type) -> list[Type]:
        """The leaf types of a value of ``t`` in tree order."""
        if isinstance(t, (RecT, TupT, MapT)):
            return [lt for it in self.items(t) for lt in self.leaf_types(it)]
        if isinstance(t, SetT):
            self.indexed(t, "a state variable")
            return [t] * self.nparts(t)
        if isinstance(t, SeqT):  # its length, then its slots (see pyspec.layout)
            return [t] + self.leaf_types(t.elem) * self.seq_bound(t)  # type: ignore
        return [t]

    def place_of(self, e: A.Expr) -> _Place | None:
        """``e`` as a part of a state (a variable, primed or not, then record fields, tuple
        items and map entries), or None."""
        if isinstance(e, A.Name) and isinstance(self.c.names.get(e), Var):
            return self.var_place("v", e.name)
        if isinstance(e, A.Primed):
            primed = self._props or (self._primes_are_draft and e.name in self._assigned)
            return self.var_place("n" if primed else "v", e.name)
        if isinstance(e, A.Field) and isinstance(self.c.fields[e], RecordField):
            base = self.place_of(e.operand)
            if base is None or isinstance(base.t, InT):  # a member's position: read whole
                return None
            return self.sub_place(base, self.c.fields[e].index)  # type: ignore[union-attr]
        if isinstance(e, A.Index):
            ot = self.t(e.operand)
            if isinstance(ot, TupT):
                base = self.place_of(e.operand)
                if base is None or isinstance(base.t, InT):
                    return None
                return self.sub_place(base, e.key.value)  # type: ignore[union-attr]
            if isinstance(ot, MapT):
                base = self.place_of(e.operand)
                if base is None:
                    return None
                k = self.key_index(ot, self.val(e.key), e.key)
                return self.map_place(base, k)
        return None

    def var_place(self, prefix: str, var: str) -> _Place:
        assert self.layout is not None
        i = list(self.sym.vars).index(var)
        return _Place(prefix, self.sym.var_types[var], LeafIndex(self.layout.var_start[i]))

    def sub_place(self, base: _Place, j: int) -> _Place:
        items = self.items(base.t)
        offset = sum(len(self.leaf_types(it)) for it in items[:j])
        return _Place(base.prefix, items[j], base.leaf.plus(offset))

    def map_place(self, base: _Place, k: str) -> _Place:
        """Entry ``k`` (a key's index, already checked) of a map part."""
        assert isinstance(base.t, MapT)
        n = len(self.leaf_types(base.t.value))
        ks = _static(k)
        if ks is not None:
            return _Place(base.prefix, base.t.value, base.leaf.plus(ks * n))
        term = (self.let(k, "k"), n, self.nkeys(base.t))
        leaf = LeafIndex(base.leaf.const, base.leaf.terms + (term,))
        return _Place(base.prefix, base.t.value, leaf)

    def read_place(self, p: _Place) -> str:
        """The value of a part of a state."""
        if isinstance(p.t, SeqT):
            return self.read_seq_place(p)
        if isinstance(p.t, (RecT, TupT, MapT)) and holds_sequence(p.t, self.c):
            self.indexed(p.t, "a read of a whole composite")
            items = self.items(p.t)
            terms = []
            for j, (it, stride) in enumerate(zip(items, self.strides(items))):
                c = self.let(self.code(it, self.read_place(self.sub_place(p, j))), "c")
                terms.append(c if stride == 1 else f"{c} * {stride}")
            return "(" + " + ".join(terms) + ")"
        leaves = self.leaf_types(p.t)
        if len(leaves) == 1 and not isinstance(p.t, (RecT, TupT, MapT)):
            return self.value(p.t, self.leaf_read(p.prefix, p.leaf))
        if isinstance(p.t, SetT):
            return self.join([self.leaf_read(p.prefix, p.leaf.plus(j))
                              for j in range(len(leaves))])
        self.indexed(p.t, "a read of a whole composite")
        terms = []
        for j, stride in enumerate(self.strides(leaves)):
            c = self.leaf_read(p.prefix, p.leaf.plus(j))
            terms.append(c if stride == 1 else f"{c} * {stride}")
        return "(" + " + ".join(terms) + ")"

    def write_place(self, p: _Place, x: str) -> None:
        """Store value ``x`` (already range-checked) in a part of the draft state."""
        if isinstance(p.t, SeqT):
            self.write_seq_place(p, x)
            return
        if isinstance(p.t, (RecT, TupT, MapT)) and holds_sequence(p.t, self.c):
            x = self.let(x, "w")
            items = self.items(p.t)
            for j, (it, stride) in enumerate(zip(items, self.strides(items))):
                code = f"(({x} // {stride}) % {self.dsize(it)})"
                self.write_place(self.sub_place(p, j), self.value(it, code))
            return
        leaves = self.leaf_types(p.t)
        if len(leaves) == 1 and not isinstance(p.t, (RecT, TupT, MapT)):
            self.leaf_write(p.leaf, self.code(p.t, x))
            return
        if isinstance(p.t, SetT):
            for j, part in enumerate(self.split(x, len(leaves))):
                self.leaf_write(p.leaf.plus(j), part)
            return
        x = self.let(x, "w")
        for j, (lt, stride) in enumerate(zip(leaves, self.strides(leaves))):
            self.leaf_write(p.leaf.plus(j), digit(x, stride, self.dsize(lt), j == 0))

    # ---- expressions -----------------------------------------------------------------
    def val(self, e: A.Expr, target: Type | None = None) -> str:  # noqa: C901
        """``e`` as an int64/bool expression (statements it needs emitted first); for a
        slot of type ``target``, range-checked."""
        if target is not None:
            return self.checked_val(e, target)
        if isinstance(e, A.Int):
            return _lit(e.value)
        if isinstance(e, A.Bool):
            return "True" if e.value else "False"
        if isinstance(e, A.Str):
            raise Unsupported("strings")
        if isinstance(self.t(e), SeqT) and e is not self.raw_seq:
            return self.seq_val(e)
        self.raw_seq = None
        if isinstance(e, A.LetExpr):
            with self.scope():
                self.bind_value(e.name, e.value)
                return self.val(e.body)
        if isinstance(e, A.Choose):
            return self.choose_val(e)
        place = self.place_of(e)
        if place is not None:
            return self.read_place(place)
        if isinstance(e, A.Name):
            return self.name(e)
        if isinstance(e, A.Call):
            return self.call_val(e)
        if isinstance(e, A.TupleLit):
            t = self.t(e)
            return self.composite(t, [self.val(i, it) for i, it in zip(e.items, self.items(t))])
        if isinstance(e, (A.SetLit, A.SetFilter, A.SetMap, A.RangeExpr)):
            return self.set_val(e)
        if isinstance(e, A.MapComp):
            return self.map_comp_val(e, self.t(e))
        if isinstance(e, A.IfExpr):
            return self.if_val(e.branches, e.orelse, None)
        if isinstance(e, A.MatchExpr):
            return self.match_val(e, None)
        if isinstance(e, A.Quant):
            return self.quant_val(e)
        if isinstance(e, A.BinOp):
            return self.binop_val(e)
        if isinstance(e, A.Not):
            return f"(not {self.val(e.operand)})"
        if isinstance(e, A.Neg):
            return f"(-{self.val(e.operand)})"
        if isinstance(e, A.Is):
            x = self.let(self.val(e.operand), "u")
            ut = self.t(e.operand)
            assert isinstance(ut, UnionT)
            names = [n for n, _ in self.variants(ut.name)]
            off = self.variant_offsets(ut.name)
            k = names.index(e.variant)
            return between(x, off[k], off[k + 1])
        if isinstance(e, A.Field):
            return self.field_val(self.let(self.val(e.operand), "r"), self.t(e.operand), e)
        if isinstance(e, A.Index):
            ot = self.t(e.operand)
            if isinstance(ot, SeqT):
                return self.seq_item(e)
            x = self.let(self.val(e.operand), "r")
            if isinstance(ot, TupT):
                return self.item_val(x, ot, str(e.key.value))  # type: ignore[union-attr]
            assert isinstance(ot, MapT)
            return self.item_val(x, ot, self.key_index(ot, self.val(e.key), e.key))
        if isinstance(e, A.WithFields):
            t = self.t(e.operand)
            x = self.let(self.val(e.operand), "r")
            for fname, value, _ in e.updates:
                x = self.let(self.field_set(x, t, (e, fname), fname, value), "r")
            return x
        if isinstance(e, A.WithKey):
            mt = self.t(e.operand)
            assert isinstance(mt, MapT)
            x = self.let(self.val(e.operand), "r")
            k = self.let(self.key_index(mt, self.val(e.key), e.key), "k")
            return self.item_set(x, mt, k, self.val(e.value, mt.value))
        raise Unsupported(f"{type(e).__name__} expressions")

    def val_raw(self, e: A.Expr) -> str:
        """``e`` by :meth:`val`'s own cases, even when it is a sequence (a local, a map's
        entry, a def's result: already its index)."""
        self.raw_seq = e
        return self.val(e)

    def checked_val(self, e: A.Expr, target: Type) -> str:
        """``e`` for a slot of ``target``: ints range-checked; composites built from their
        items against the target's item types (their indices cannot hold anything else)."""
        if isinstance(target, SeqT):
            return self.checked_seq(e, target)
        if isinstance(target, InT):
            x = self.let(self.val(e), "x")
            self.code(target, x)  # the membership check
            return x
        if isinstance(e, A.LetExpr):
            with self.scope():
                self.bind_value(e.name, e.value)
                return self.val(e.body, target)
        if isinstance(e, A.MapComp) and isinstance(target, MapT):
            return self.map_comp_val(e, target)
        if isinstance(e, A.TupleLit) and isinstance(target, TupT):
            return self.composite(target, [self.val(i, it) for i, it in
                                           zip(e.items, target.items)])
        if isinstance(e, A.IfExpr):
            return self.if_val(e.branches, e.orelse, target)
        if isinstance(e, A.MatchExpr):
            return self.match_val(e, target)
        if isinstance(target, SetT):
            return self.set_val(e, target)
        src = self.val(e)
        if isinstance(target, IntT) and target.bounded:
            check = self.range_check(e, target)
            if check is False:
                return src
            lo, hi = self.bounds(target)
            x = self.let(src, "x")
            self.emit(f"if {outside(x, lo, hi)}:")
            with self.indented():
                self.fail(f"value outside its declared range {lo}..{hi}")
            return x
        if self.needs_check(target, self.t(e)):
            vt = self.t(e)
            if isinstance(vt, (MapT, TupT, SetT)) and self.dsize_or_none(vt) is None:
                raise Unsupported(f"a {vt} value stored in a {target} slot")
        return src

    def dsize_or_none(self, t: Type) -> int | None:
        try:
            return self.dsize(t)
        except Unsupported:
            return None

    def composite(self, t: Type, values: list[str]) -> str:
        """The index of a record, tuple or map from its items' values."""
        self.indexed(t, "a composite value")
        items = self.items(t)
        terms = []
        for it, x, stride in zip(items, values, self.strides(items)):
            c = self.code(it, x)
            terms.append(c if stride == 1 else f"{c} * {stride}")
        return "(" + " + ".join(terms) + ")" if terms else "0"

    def item_val(self, x: str, t: Type, j: str) -> str:
        """Item ``j`` (a position) of the record, tuple or map index ``x``."""
        items = self.items(t)
        strides = self.strides(items)
        js = _static(j)
        if js is not None:
            it = items[js]
            return self.value(it, digit(x, strides[js], self.dsize(it), js == 0))
        assert isinstance(t, MapT)
        n = self.dsize(t.value)
        if n & (n - 1) == 0:  # every stride a power of two (a small set's bitmask)
            shifts = [stride.bit_length() - 1 for stride in strides]
            return self.value(t.value, f"(({x} >> {self.table(shifts)}[{j}]) & {n - 1})")
        return self.value(t.value, f"(({x} // {self.table(strides)}[{j}]) % {n})")

    def item_set(self, x: str, t: Type, j: str, v: str) -> str:
        """The index ``x`` with item ``j`` replaced by value ``v`` (range-checked)."""
        items = self.items(t)
        strides = self.strides(items)
        js = _static(j)
        it = items[js] if js is not None else items[0]
        stride = str(strides[js]) if js is not None else f"{self.table(strides)}[{j}]"
        old = self.let(f"(({x} // {stride}) % {self.dsize(it)})", "o")
        return f"({x} + ({self.code(it, v)} - {old}) * {stride})"

    def union_field(self, ut: UnionT, fname: str) -> dict[int, tuple[int, int, Type]]:
        """Per variant having field ``fname``: its offset, the field's stride, type."""
        out = {}
        offsets = self.variant_offsets(ut.name)
        for k, (_, fields) in enumerate(self.variants(ut.name)):
            types = [ft for _, ft in fields]
            for (f, ft), stride in zip(fields, self.strides(types)):
                if f == fname:
                    out[k] = (offsets[k], stride, ft)
        return out

    def union_variant(self, ut: UnionT, x: str, where: dict) -> str:
        """The offset and stride of field access on union index ``x`` (fails when its
        variant lacks the field)."""
        offsets = self.variant_offsets(ut.name)
        off = self.tmp("uo")
        st = self.tmp("us")
        first = True
        for k, (o, stride, _) in where.items():
            kw = "if" if first else "elif"
            self.emit(f"{kw} {between(x, offsets[k], offsets[k + 1])}:")
            with self.indented():
                self.emit(f"{off} = {o}")
                self.emit(f"{st} = {stride}")
            first = False
        self.emit("else:")
        with self.indented():
            self.fail("a field read from a variant without it")
        return off, st  # type: ignore[return-value]

    def field_val(self, x: str, t: Type, node: A.Field) -> str:
        ref = self.c.fields[node]
        if isinstance(ref, RecordField):
            return self.item_val(x, t, str(ref.index))
        assert isinstance(t, UnionT)
        where = self.union_field(t, node.name)
        ft = next(iter(where.values()))[2]
        off, st = self.union_variant(t, x, where)  # type: ignore[misc]
        return self.value(ft, f"((({x} - {off}) // {st}) % {self.dsize(ft)})")

    def field_set(self, x: str, t: Type, node: object, fname: str, value: A.Expr) -> str:
        ref = self.c.fields[node]
        if isinstance(ref, RecordField):
            assert isinstance(t, RecT)
            ft = self.sym.record_fields[t.name][ref.index][1]
            return self.item_set(x, t, str(ref.index), self.val(value, ft))
        assert isinstance(t, UnionT)
        where = self.union_field(t, fname)
        ft = next(iter(where.values()))[2]
        off, st = self.union_variant(t, x, where)  # type: ignore[misc]
        v = self.let(self.val(value, ft), "v")
        old = self.let(f"((({x} - {off}) // {st}) % {self.dsize(ft)})", "o")
        return f"({x} + ({self.code(ft, v)} - {old}) * {st})"

    def name(self, e: A.Name) -> str:
        ref = self.c.names[e]
        if isinstance(ref, Local):
            return self.env[-1][e.name]
        if isinstance(ref, Const):
            t = self.sym.const_types[e.name]
            return self.kref(("const", e.name), self.const_values[e.name], t)
        if isinstance(ref, ModelValue):
            self.expr(e)  # the scalar compiler's checks that the value is in the model
            return str(self.mv_index[ref.name])
        if isinstance(ref, EnumMember):
            return str([m for m, _ in self.sym.enums[ref.enum].members].index(ref.name))
        if isinstance(ref, Variant):
            names = [n for n, _ in self.variants(ref.union)]
            return str(self.variant_offsets(ref.union)[names.index(ref.name)])
        if isinstance(ref, Def):
            return self.cdef_call(e.name, [])
        if isinstance(ref, TypeSet):
            return self.set_val(e, SetT(ref.type))
        raise Unsupported(f"the name {e.name} as a value")

    def constant(self, v: object, t: Type) -> str:
        """A value known now, in this code's representation."""
        if isinstance(t, BoolT):
            return "True" if v else "False"
        if isinstance(t, IntT):
            return _lit(v)  # type: ignore[arg-type]
        self.indexed(t, "a constant")
        x = index_of(v, self.desc(t))
        if isinstance(t, SetT):
            return self.join([str(x >> (j * PART_BITS) & ((1 << PART_BITS) - 1))
                              for j in range(self.nparts(t))])
        return str(x)

    def cdef_call(self, name: str, args: list[A.Expr]) -> str:
        s = self.sym
        d = s.defs[name]
        reads = sorted(s.def_reads.get(name, ()))
        if d.params is None and not reads:
            return self.kref(("def", name), self.const_def(name), s.def_types[name])
        if name in self.state_slots:
            return self.kslot_read(self.state_slots[name], s.def_types[name])
        self.need_def(name)
        params = s.def_params.get(name, [])
        values = [self.val(a, t) for a, (_, t) in zip(args, params)]
        words = [f"v{w}" for w in range(self.layout.words)] if reads else []  # type: ignore
        return f"{def_function(name)}({', '.join(['K'] + words + values)})"

    def kref(self, key: tuple[str, str], v: object, t: Type) -> str:
        """A model constant of a plain type as data: slot ``K[i]`` of the array every
        function takes, so that the models of a spec share one compiled module. Other
        constants (sets, records) are written into the code."""
        if not isinstance(t, (BoolT, IntT, EnumT)):
            return self.constant(v, t)
        if key not in self.kslots:
            self.kslots[key] = len(self.kvalues)
            self.kvalues.append(int(v))  # type: ignore[call-overload]
        return self.kslot_read(self.kslots[key], t)

    def kslot_read(self, i: int, t: Type) -> str:
        """The value of type ``t`` in slot ``i`` of ``K``."""
        elem = t.elem if isinstance(t, InT) else t
        return f"(K[{i}] != 0)" if isinstance(elem, BoolT) else f"K[{i}]"

    def call_val(self, e: A.Call) -> str:
        ref = self.c.calls[e]
        if isinstance(ref, Builtin):
            arg = e.args[0].value
            if ref.name == "abs":
                return f"abs({self.val(arg)})"
            if ref.name in ("len", "head"):
                return self.seq_call(ref.name, arg)
            st = self.t(arg)
            assert isinstance(st, SetT)
            value = self.constant_set(arg) if not self.finite_set(st) else None
            if value is not None and (value or ref.name == "card"):
                return str({"card": len, "min": min, "max": max}[ref.name](value))
            if ref.name == "card" and isinstance(arg, A.SetFilter) \
                    and (isinstance(arg.binder.domain, A.RangeExpr)
                         != self.finite_set(st)):
                return self.count_filtered(arg)
            parts = self.set_parts(arg, st)
            if ref.name == "card":
                return "(" + " + ".join(f"popcount({x})" for x in parts) + ")"
            self.emit(f"if {' and '.join(f'{x} == 0' for x in parts)}:")
            with self.indented():
                self.fail(f"{ref.name} of an empty set")
            out = self.tmp("e")
            order = list(range(len(parts)))
            if ref.name == "max":
                order.reverse()
            fn = "highest" if ref.name == "max" else "lowest"
            for n, j in enumerate(order):
                kw = "if" if n == 0 else "elif"
                self.emit(f"{kw} {parts[j]} != 0:" if n < len(order) - 1 else "else:")
                with self.indented():
                    self.emit(f"{out} = {fn}({parts[j]}) + {j * PART_BITS}")
            return self.value(st.elem, out)
        if isinstance(ref, Def):
            return self.cdef_call(ref.name, [a.value for a in e.args])
        values = [self.let(self.val(v, ft), "f") for v, ft in self.field_args(e)]
        if isinstance(ref, RecordCtor):
            return self.composite(RecT(ref.record), values)
        assert isinstance(ref, Variant)
        names = [n for n, _ in self.variants(ref.union)]
        k = names.index(ref.name)
        offset = self.variant_offsets(ref.union)[k]
        types = [ft for _, ft in self.variants(ref.union)[k][1]]
        terms = [str(offset)] if offset else []
        for ft, x, stride in zip(types, values, self.strides(types)):
            c = self.code(ft, x)
            terms.append(c if stride == 1 else f"{c} * {stride}")
        return "(" + " + ".join(terms) + ")" if terms else "0"

    def count_filtered(self, e: A.SetFilter) -> str:
        """``card({x in S where cond})`` over a range of an unbounded type or over a set of
        a finite type: the members counted, no set built (they are distinct, and a set
        of a finite type has only members of it). The members of a range built into a
        finite set are not counted here: building the set checks them."""
        out = self.tmp("cn")
        self.emit(f"{out} = 0")

        def body() -> None:
            self.emit(f"if {self.val(e.cond)}:")
            with self.indented():
                self.emit(f"{out} += 1")

        self.loop([e.binder], body)
        return out

    # ---- control flow in expressions -------------------------------------------------
    def if_val(self, branches: list[tuple[A.Expr, A.Expr]], orelse: A.Expr,
               target: Type | None) -> str:
        """Conditions evaluated one after another, each only where the earlier failed."""
        out = self.tmp("y")

        def chain(i: int) -> None:
            if i == len(branches):
                self.emit(f"{out} = {self.val(orelse, target)}")
                return
            cond, value = branches[i]
            self.emit(f"if {self.val(cond)}:")
            with self.indented():
                self.emit(f"{out} = {self.val(value, target)}")
            self.emit("else:")
            with self.indented():
                chain(i + 1)

        chain(0)
        return out

    def match_val(self, e: A.MatchExpr, target: Type | None) -> str:
        """Arms tested in order; the last one is taken when no earlier one applies (as
        in the scalar code)."""
        out = self.tmp("y")
        subject = self.let(self.val(e.subject), "m")
        st = self.t(e.subject)
        opened = 0
        for n, (pats, value) in enumerate(e.arms):
            cond = self.pattern_cond(pats, subject, st)
            if cond is None or n == len(e.arms) - 1:
                with self.scope():
                    self.cpattern_binds(pats, subject, st)
                    self.emit(f"{out} = {self.val(value, target)}")
                break
            self.emit(f"if {cond}:")
            with self.indented(), self.scope():
                self.cpattern_binds(pats, subject, st)
                self.emit(f"{out} = {self.val(value, target)}")
            self.emit("else:")
            self._indent += 1
            opened += 1
        self._indent -= opened
        return out

    def pattern_cond(self, pats: list[A.Pattern], subject: str, st: Type) -> str | None:
        tests = arm_tests(pats, self.c)
        if tests is None:
            return None
        conds = []
        for test in tests:
            if isinstance(test, EnumMember):
                members = [m for m, _ in self.sym.enums[test.enum].members]
                conds.append(f"({subject} == {members.index(test.name)})")
            else:
                assert isinstance(st, UnionT)
                names = [n for n, _ in self.variants(st.name)]
                off = self.variant_offsets(st.name)
                k = names.index(test.name)
                conds.append(between(subject, off[k], off[k + 1]))
        return " | ".join(conds)

    def cpattern_binds(self, pats: list[A.Pattern], subject: str, st: Type) -> None:
        if len(pats) != 1 or pats[0].args is None:
            return
        assert isinstance(st, UnionT)
        names = [n for n, _ in self.variants(st.name)]
        k = names.index(pats[0].ctor)  # type: ignore[arg-type]
        off = self.variant_offsets(st.name)[k]
        types = [ft for _, ft in self.variants(st.name)[k][1]]
        for a, ft, stride in zip(pats[0].args, types, self.strides(types)):
            if a is not None:
                self.bind(a, self.value(ft, f"((({subject} - {off}) // {stride}) % "
                                            f"{self.dsize(ft)})"))

    def binop_val(self, e: A.BinOp) -> str:  # noqa: C901 - one case per operator
        op = e.op
        if op in ("and", "or", "implies"):
            left = self.val(e.left)
            lines, srcmap, right = self.captured(lambda: self.val(e.right))
            neg = op == "implies"
            if not lines:
                left = f"(not {left})" if neg else left
                if may_fail(right):
                    return f"({left} {'and' if op == 'and' else 'or'} {right})"
                return f"(({left}) {'&' if op == 'and' else '|'} ({right}))"
            out = self.tmp("b")
            self.emit(f"{out} = {'not ' if neg else ''}{left}")
            self.emit(f"if {'' if op == 'and' else 'not '}{out}:")
            self.replay(lines, srcmap, 1)
            with self.indented():
                self.emit(f"{out} = {right}")
            return out
        lt, rt = self.t(e.left), self.t(e.right)
        if op in ("in", "not in"):
            out = self.member(e.left, e.right)
            return f"(not {out})" if op == "not in" else out
        if isinstance(lt, SeqT) or isinstance(rt, SeqT):
            return self.seq_equal(e)
        if isinstance(lt, SetT) or isinstance(rt, SetT):
            st = lt if isinstance(lt, SetT) and self.finite_set(lt) else rt
            assert isinstance(st, SetT)
            if not self.finite_set(st):
                st = self.set_coding(e.left) or self.set_coding(e.right) or st
            a, b = self.set_parts(e.left, st), self.set_parts(e.right, st)
            if op in ("==", "!="):
                out = " and ".join(f"{x} == {y}" for x, y in zip(a, b))
                return f"({out})" if op == "==" else f"(not ({out}))"
            if op == "subset":
                return "(" + " and ".join(f"({x} & ~{y}) == 0" for x, y in zip(a, b)) + ")"
            if op in ("|", "&", "-"):
                return self.set_val(e, st)
            raise Unsupported(f"'{op}' on sets")
        left, right = self.val(e.left), self.val(e.right)
        if op in ("==", "!=", "<", "<=", ">", ">=", "+", "-", "*"):
            return f"({left} {op} {right})"
        if op in ("/", "%"):
            r = self.let(right, "d")
            self.emit(f"if {r} == 0:")
            with self.indented():
                self.fail("division by zero" if op == "/" else "modulo by zero")
            return f"({left} {'//' if op == '/' else '%'} {r})"
        raise Unsupported(f"the operator {op}")

    def finite_set(self, t: SetT) -> bool:
        n = self.dsize_or_none(t.elem)
        return n is not None and n <= MAX_PARTS * PART_BITS

    def nparts(self, t: SetT) -> int:
        return max(1, -(-self.dsize(t.elem) // PART_BITS))

    def join(self, parts: list[str]) -> str:
        """A set's value from its parts: one int, or a tuple of them (remembered, so
        that :meth:`split` takes the parts back without building the tuple)."""
        if len(parts) == 1:
            return parts[0]
        out = "(" + ", ".join(parts) + ",)"
        self.joined[out] = parts
        return out

    def split(self, x: str, n: int) -> list[str]:
        """The ``n`` parts of set value ``x`` (a tuple display made by :meth:`join`, or a
        name), each bound to a name or a literal, in order."""
        if n == 1:
            return [self.let(x, "s")]
        if x in self.joined:
            return [self.let(p, "p") for p in self.joined[x]]
        x = self.let(x, "s")
        return [self.let(f"{x}[{j}]", "p") for j in range(n)]

    def set_parts(self, e: A.Expr, st: SetT) -> list[str]:
        """A set's bitmask parts, each a name or a literal."""
        return self.split(self.set_val(e, st), self.nparts(st))

    def bit_in(self, parts: list[str], c: str) -> str:
        """Whether element index ``c`` (within the domain) is in the set."""
        if len(parts) == 1:
            return f"(({parts[0]} >> {c}) & 1) == 1"
        return (f"(({self.join(parts)}[{c} // {PART_BITS}] >> ({c} % {PART_BITS})) & 1) "
                "== 1")

    def add_bit(self, names: list[str], c: str) -> None:
        """Statements that put element index ``c`` into the parts ``names``."""
        if len(names) == 1:
            self.emit(f"{names[0]} |= 1 << {c}")
            return
        c = self.let(c, "c")
        for j, name in enumerate(names):
            kw = "if" if j == 0 else "elif"
            self.emit(f"{kw} {c} < {(j + 1) * PART_BITS}:" if j < len(names) - 1 else "else:")
            with self.indented():
                self.emit(f"{name} |= 1 << ({c} - {j * PART_BITS})")

    def member(self, x: A.Expr, s: A.Expr) -> str:
        if isinstance(s, A.RangeExpr):
            v = self.let(self.val(x), "x")
            lo, hi = self.val(s.lo), self.val(s.hi)
            if may_fail(hi):
                return f"({lo} <= {v} <= {hi})"
            return f"(({lo} <= {v}) & ({v} <= {hi}))"
        st = self.t(s)
        assert isinstance(st, SetT)
        value = self.constant_set(s) if not self.finite_set(st) else None
        if value is not None:
            v = self.let(self.val(x), "x")
            return "(" + " | ".join(f"({v} == {_lit(i)})" for i in sorted(value)) + ")" \
                if value else "False"
        if isinstance(s, A.SetLit) and not self.finite_set(st):
            v = self.let(self.val(x), "x")
            return "(" + " or ".join(f"{v} == {self.val(i)}" for i in s.items) + ")" \
                if s.items else "False"
        elem = st.elem if self.finite_set(st) else self.t(x)
        parts = self.set_parts(s, SetT(elem))
        x_val = self.seq_val(x, elem) if isinstance(elem, SeqT) else self.val(x)
        c = self.let(self.code(elem, x_val), "c")
        n = self.dsize(elem)
        return f"(0 <= {c} < {n} and {self.bit_in(parts, c)})"

    def constant_set(self, e: A.Expr) -> frozenset | None:
        """The value of a constant set of (at most 64) ints, or None."""
        value = self.constant_value(e)
        if isinstance(value, frozenset) and len(value) <= 64 \
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return value
        return None

    def set_val(self, e: A.Expr, target: Type | None = None) -> str:
        """A set as a bitmask over the element type of ``target`` (default: its own): an
        int, or a tuple of parts for more than PART_BITS possible elements."""
        st = target if isinstance(target, SetT) else self.t(e)
        assert isinstance(st, SetT)
        if not self.finite_set(st):
            st = self.set_coding(e) or st
        if not self.finite_set(st):
            raise Unsupported(f"a {st} value (a set of more than {MAX_PARTS * PART_BITS} "
                              "possible elements, or of unbounded integers)")
        elem = st.elem
        n = self.nparts(st)
        if isinstance(e, A.SetLit) and n == 1:
            bits = [f"(1 << {self.code(elem, self.val(i, elem))})" for i in e.items]
            return "(" + " | ".join(bits) + ")" if bits else "0"
        if isinstance(e, (A.SetLit, A.RangeExpr, A.SetFilter, A.SetMap)):
            names = [self.tmp("s") for _ in range(n)]
            for name in names:
                self.emit(f"{name} = 0")
            self.build_set(e, elem, names)
            return self.join(names)
        if isinstance(e, A.BinOp) and e.op in ("|", "&", "-"):
            a, b = self.set_parts(e.left, st), self.set_parts(e.right, st)
            fmt = {"|": "({} | {})", "&": "({} & {})", "-": "({} & ~{})"}[e.op]
            return self.join([fmt.format(x, y) for x, y in zip(a, b)])
        if isinstance(e, A.IfExpr):
            return self.if_val(e.branches, e.orelse, st)
        if isinstance(e, A.MatchExpr):
            return self.match_val(e, st)
        if isinstance(e, A.Name) and isinstance(self.c.names.get(e), TypeSet):
            full = (1 << self.dsize(elem)) - 1
            return self.join([str(full >> (j * PART_BITS) & ((1 << PART_BITS) - 1))
                              for j in range(n)])
        own = self.t(e)
        if isinstance(own, SetT) and (self.dsize_or_none(own.elem) is None
                                      or self.desc(own.elem) != self.desc(elem)):
            raise Unsupported(f"a {own} value used as a {st}")
        return self.val(e)

    def set_coding(self, e: A.Expr) -> SetT | None:
        """A set type with a finite element type that holds every value of set ``e``:
        its own, or for ``a - b``, ``a & b`` and ``a | b`` of ints what its operands' give
        (``Node - {n}`` is a set of Node, though its type says ints); None if none."""
        t = self.t(e)
        if isinstance(t, SetT) and self.finite_set(t):
            return t
        if isinstance(e, A.BinOp) and e.op in ("-", "&"):
            return self.set_coding(e.left) or (self.set_coding(e.right) if e.op == "&"
                                                else None)
        if isinstance(e, A.BinOp) and e.op == "|":
            a, b = self.set_coding(e.left), self.set_coding(e.right)
            if a is not None and b is not None and self.desc(a.elem) == self.desc(b.elem):
                return a
        return None

    def build_set(self, e: A.Expr, elem: Type, names: list[str]) -> None:
        """Statements that put the members of a set expression into ``names``."""
        if isinstance(e, A.SetLit):
            for i in e.items:
                self.add_bit(names, self.code(elem, self.val(i, elem)))
        elif isinstance(e, A.RangeExpr):
            lo, hi = self.let(self.val(e.lo), "lo"), self.let(self.val(e.hi), "hi")
            x = self.tmp("x")
            self.emit(f"for {x} in range({lo}, {hi} + 1):")
            with self.indented():
                self.add_bit(names, self.code(elem, self.val_checked_str(x, elem)))
        elif isinstance(e, A.SetFilter):
            def body() -> None:
                c = self.val(e.cond)
                self.emit(f"if {c}:")
                with self.indented():
                    self.add_bit(names, self.code(elem, self.env[-1][e.binder.name]))

            self.loop([e.binder], body)
        else:
            assert isinstance(e, A.SetMap)

            def body2() -> None:
                if e.cond is not None:
                    c = self.val(e.cond)
                    self.emit(f"if {c}:")
                    self._indent += 1
                self.add_bit(names, self.code(elem, self.val(e.expr, elem)))
                if e.cond is not None:
                    self._indent -= 1

            self.loop(e.binders, body2)

    def val_checked_str(self, x: str, t: Type) -> str:
        if isinstance(t, IntT) and t.bounded:
            lo, hi = self.bounds(t)
            self.emit(f"if {outside(x, lo, hi)}:")
            with self.indented():
                self.fail(f"value outside its declared range {lo}..{hi}")
        return x

    def map_comp_val(self, e: A.MapComp, t: Type) -> str:
        assert isinstance(t, MapT)
        self.indexed(t, "a map")
        kt = self.t(e).key  # type: ignore[union-attr]
        keys = [str(c) for c in self.key_codes(t)] if t.keys is not None \
            else self.domain_list(kt)
        strides = self.strides(self.items(t))
        out = self.tmp("mp")
        self.emit(f"{out} = 0")
        for key, stride in zip(keys, strides):
            with self.scope():
                self.env[-1][e.binder.name] = key
                x = self.val(e.expr, t.value)
                c = self.code(t.value, x)
                self.emit(f"{out} += {c} * {stride}" if stride != 1 else f"{out} += {c}")
        return out

    def domain_list(self, t: Type) -> list[str]:
        """Every value of a finite type, as literals in domain order."""
        n = self.dsize(t)
        if n > 4096:
            raise Unsupported(f"a map keyed by {t} ({n} keys)")
        return [self.value(t, str(i)) if not isinstance(t, BoolT) else
                ("True" if i else "False") for i in range(n)]

    def quant_val(self, e: A.Quant) -> str:
        out = self.tmp("q")
        self.emit(f"{out} = {dict(forall='True', exists='False', sum='0')[e.kind]}")
        done = self.tmp("qd")
        if e.kind != "sum":
            self.emit(f"{done} = False")

        def body() -> None:
            x = self.val(e.body)
            if e.kind == "sum":
                self.emit(f"{out} += {x}")
                return
            hit = f"not {x}" if e.kind == "forall" else x
            self.emit(f"if {hit}:")
            with self.indented():
                self.emit(f"{out} = {'False' if e.kind == 'forall' else 'True'}")
                self.emit(f"{done} = True")
                self.emit("break")

        self.loop(e.binders, body, None if e.kind == "sum" else done)
        return out

    def loop(self, binders: list[A.Binder], body: Callable[[], None],
             done: str | None = None) -> None:
        """Nested loops over the binders' domains in their order; ``done``: a flag that
        leaves every level once set (the innermost ``break`` leaves its own)."""
        with self.scope():
            extras = []
            for i, b in enumerate(binders):
                if i and done is not None:
                    self.emit(f"if {done}:")
                    with self.indented():
                        self.emit("break")
                extras.append(self.for_header(b.domain, b.name))
                self._indent += 1
            body()
            for extra in reversed(extras):
                self._indent -= 1
                self.close_header(extra, done)

    def close_header(self, extra: int, done: str | None = None) -> None:
        """Leave the outer loop :meth:`for_header` opened (and leave it for good once
        ``done`` is set)."""
        if extra and done is not None:
            self.emit(f"if {done}:")
            with self.indented():
                self.emit("break")
        self._indent -= extra

    def for_header(self, domain: A.Expr, name: str) -> int:
        """A loop over a set's members in their order, binding ``name``; the body goes one
        level in. Returns 1 when it opened an outer loop too (over a set's parts), which
        :meth:`close_header` closes after the body.

        A filtered set (``{x in S where c}``, also as the body of the definition called)
        is not built: the loop runs over ``S`` and skips the members failing ``c``, the
        same members in the same order (``pick r in ref_of(p, a, k, w)`` scans the
        references once instead of building a set and scanning it again)."""
        fused = self.filter_of(domain)
        if fused is not None:
            return self.filtered_header(*fused, name)
        local = self.tmp(f"l_{name}_")
        self.env[-1][name] = local
        if isinstance(domain, A.RangeExpr):
            lo, hi = self.let(self.val(domain.lo), "lo"), self.let(self.val(domain.hi), "hi")
            self.emit(f"for {local} in range({lo}, {hi} + 1):")
            return 0
        if isinstance(domain, A.Name):
            ref = self.c.names.get(domain)
            t = ref.type if isinstance(ref, TypeSet) else (
                MVT(domain.name) if isinstance(ref, Const) and domain.name in self.sym.mv_sets
                else None)
            if t is not None:
                self.emit(self.range_header(local, t))
                return 0
        st = self.t(domain)
        assert isinstance(st, SetT)
        st = self.set_coding(domain) or st
        # Only the members: the lowest set bit, cleared, until none is left.
        parts = self.set_parts(domain, st)
        m, b = self.tmp("m"), self.tmp("b")
        extra = 0
        base = "0"
        if len(parts) == 1:
            self.emit(f"{m} = {parts[0]}")
        else:
            # Only the parts holding members: a set of 558 possible references is 9
            # parts, mostly empty, each a pick from the tuple when taken.
            tup = self.let(self.join(parts), "s")
            j, nz = self.tmp("j"), self.tmp("nz")
            self.emit(f"{nz} = " + " | ".join(
                f"(int({x} != 0) << {i})" if i else f"int({x} != 0)"
                for i, x in enumerate(parts)))
            self.emit(f"while {nz} != 0:")
            self._indent += 1
            extra = 1
            self.emit(f"{j} = lowest({nz})")
            self.emit(f"{nz} &= {nz} - 1")
            self.emit(f"{m} = {tup}[{j}]")
            base = f"{j} * {PART_BITS}"
        self.emit(f"while {m} != 0:")
        with self.indented():
            self.emit(f"{b} = lowest({m})")
            self.emit(f"{m} &= {m} - 1")
            index = b if base == "0" else f"({base} + {b})"
            self.emit(f"{local} = {self.value(st.elem, index)}")
        return extra

    def filter_of(self, domain: A.Expr) -> tuple[A.SetFilter, dict[str, str]] | None:
        """``domain`` as a set filter and the locals its names need (a called
        definition's parameters bound to the arguments' values), when it is one whose
        members can be taken from its underlying set in the same order; else None."""
        bound: dict[str, str] = {}
        if isinstance(domain, (A.Call, A.Name)):
            ref = self.c.calls.get(domain) if isinstance(domain, A.Call) \
                else self.c.names.get(domain)
            if not isinstance(ref, Def):
                return None
            d = self.sym.defs[ref.name]
            if d.params is None and not self.sym.def_reads.get(ref.name):
                return None  # a constant: one bitmask, nothing to scan
            params = self.sym.def_params.get(ref.name, [])
            args = [a.value for a in domain.args] if isinstance(domain, A.Call) else []
            for (p, t), a in zip(params, args):
                bound[p] = self.let(self.val(a, t), "f")
            body = d.body
            own = self.sym.def_types[ref.name]
        else:
            body, own = domain, self.t(domain)
        if not isinstance(body, A.SetFilter):
            return None
        under = self.t(body.binder.domain)
        if not (isinstance(own, SetT) and isinstance(under, SetT)
                and self.desc(own.elem) == self.desc(under.elem)):
            return None
        return body, bound

    def filtered_header(self, e: A.SetFilter, bound: dict[str, str], name: str) -> int:
        """The loop of :meth:`for_header` over ``e``'s underlying set, its members failing
        ``e``'s condition skipped."""
        with self.scope():  # the definition's parameters, not the caller's names
            self.env[-1].update(bound)
            extra = self.for_header(e.binder.domain, name)
            local = self.env[-1][name]
        self.env[-1][name] = local
        with self.indented(), self.scope():
            self.env[-1].update(bound)
            self.env[-1][e.binder.name] = local
            cond = self.val(e.cond)
            self.emit(f"if not {cond}:")
            with self.indented():
                self.emit("continue")
        return extra

    def range_header(self, local: str, t: Type) -> str:
        if isinstance(t, InT):
            members = [("True" if c else "False") if isinstance(t.elem, BoolT) else _lit(c)
                       for c in self.member_codes(t)]
            if not members:
                return f"for {local} in range(0):"
            return f"for {local} in ({''.join(m + ', ' for m in members)}):"
        if isinstance(t, BoolT):
            return f"for {local} in (False, True):"
        if isinstance(t, IntT):
            lo, hi = self.bounds(t)
            return f"for {local} in range({_lit(lo)}, {hi + 1}):"
        return f"for {local} in range({self.dsize(t)}):"

    # ---- statements ------------------------------------------------------------------
    def block(self, stmts: list[A.Stmt], tail: Callable[[], None]) -> None:  # noqa: C901
        for i, st in enumerate(stmts):
            rest = stmts[i + 1:]
            if isinstance(st, A.Requires):
                c = self.val(st.cond)
                if c == "False":
                    self.emit(self._fail[-1])
                    return
                if c != "True":
                    self.emit(f"if not {c}:")
                    with self.indented():
                        self.emit(self._fail[-1])
            elif isinstance(st, A.Let):
                self.bind_value(st.name, st.value)
            elif isinstance(st, A.Perform):
                self.perform(st, rest, tail)
                return
            elif isinstance(st, DefinitionEnd):
                for name, local in self.def_saved[id(st)].items():
                    if local is None:
                        self.env[-1].pop(name, None)
                    else:
                        self.env[-1][name] = local
            elif isinstance(st, A.Assign):
                self.assign(st)
            elif isinstance(st, A.Skip):
                continue
            elif isinstance(st, A.For):
                with self.scope():
                    extra = self.for_header(st.binder.domain, st.binder.name)
                    with self.indented():
                        self.emit("pass")
                        self.block(st.body.stmts, lambda: None)
                    self.close_header(extra)
            elif isinstance(st, A.Pick):
                self.pick(st, rest, tail)
                return
            elif isinstance(st, (A.IfStmt, A.MatchStmt, A.Either)):
                if not forks(st):
                    self.branches(st, lambda: None, forks=False)
                    continue
                self.branches(st, lambda rest=rest: self.block(rest, tail))
                return
        tail()

    def perform(self, st: A.Perform, rest: list[A.Stmt], tail: Callable[[], None]) -> None:
        """An action definition's body in place (the base compiler's
        :meth:`inline_definition`: its arguments evaluated here), then the rest."""
        d = self.sym.action_defs[st.name]
        body = self.inline_definition(st, lambda e, t: self.val(e, t))
        end = body[-1]
        assert isinstance(end, DefinitionEnd)
        self.def_saved[id(end)] = {p.name: self.env[-1].get(p.name) for p in d.params}
        for p in d.params:
            self.env[-1][p.name] = self._static[p.name]
        self.end_definition(end)
        self.block([*body, *rest], tail)

    def drafts(self) -> str:
        return ", ".join(f"n{w}" for w in range(self.layout.words))  # type: ignore[union-attr]

    def pick(self, st: A.Pick, rest: list[A.Stmt], tail: Callable[[], None]) -> None:
        saved = self.tmp("sv")
        self.emit(f"{saved} = ({self.drafts()},)")
        with self.scope():
            extra = self.for_header(st.binder.domain, st.binder.name)
            with self.indented():
                self.emit(f"{self.drafts()}, = {saved}")
                if st.cond is not None:
                    c = self.val(st.cond)
                    self.emit(f"if not {c}:")
                    with self.indented():
                        self.emit("continue")
                self._fail.append("continue")
                self.block(rest, tail)
                self._fail.pop()
            self.close_header(extra)

    def branches(self, st: A.IfStmt | A.MatchStmt | A.Either, tail: Callable[[], None],
                 forks: bool = True) -> None:
        """Branches, each followed by the rest of the block (``tail``); a statement that
        cannot end or split a path (``forks`` false) is followed by the rest once."""
        saved = self.tmp("sv")
        if forks:
            self.emit(f"{saved} = ({self.drafts()},)")
        if isinstance(st, A.Either):
            for body in st.branches:
                self.emit("for _ in range(1):")
                with self.indented(), self.scope():
                    self.emit(f"{self.drafts()}, = {saved}")
                    self._fail.append("break")
                    self.block(body.stmts, tail)
                    self._fail.pop()
            return
        if isinstance(st, A.IfStmt):
            arms: list[tuple[Callable[[], str | None], A.Block | None, Callable]] = []
            for cond, body in st.branches:
                arms.append((lambda cond=cond: self.val(cond), body, lambda: None))
            arms.append((lambda: None, st.orelse, lambda: None))
        else:
            subject = self.let(self.val(st.subject), "m")
            stt = self.t(st.subject)
            arms = []
            for pats, body in st.arms:
                cond = self.pattern_cond(pats, subject, stt)
                arms.append((lambda cond=cond: cond, body,
                             lambda pats=pats: self.cpattern_binds(pats, subject, stt)))
                if cond is None:
                    break
            else:
                arms.append((lambda: None, None, lambda: None))
        opened = 0
        for cond_fn, body, binds in arms:
            cond = cond_fn()
            if cond is not None:
                self.emit(f"if {cond}:")
            else:
                self.emit("if True:")
            with self.indented(), self.scope():
                binds()
                self.emit("pass")
                if body is None and isinstance(st, A.MatchStmt):
                    # No arm applies: the scalar code makes no successor on this path.
                    self.emit(self._fail[-1] if forks else "pass")
                else:
                    self.block(body.stmts if body is not None else [], tail)
            if cond is None:
                break
            self.emit("else:")
            self._indent += 1
            opened += 1
        self._indent -= opened

    def assign(self, st: A.Assign) -> None:
        lv = st.target
        base = self.var_place("n", lv.var)
        if lv.path and isinstance(base.t, InT):
            # An item of a member of a constant set (one leaf, the member's position):
            # the member updated as a value, its position looked up (checked) when stored.
            new = self.updated(self.read_place(base), base.t.elem, lv.path, st.value)
            self.write_place(base, new)
            return
        path: list[_Place] = [base]
        for n, acc in enumerate(lv.path):
            p = path[-1]
            if isinstance(acc, A.IndexAcc):
                if isinstance(p.t, MapT):
                    k = self.let(self.key_index(p.t, self.val(acc.key), acc.key), "k")
                    path.append(self.map_place(p, k))
                elif isinstance(p.t, SeqT):
                    # Through a sequence's element: the sequence updated as a value.
                    x = self.read_place(p)
                    self.write_place(p, self.updated(x, p.t, lv.path[n:], st.value))
                    return
                else:
                    path.append(self.sub_place(p, acc.key.value))  # type: ignore[union-attr]
            else:
                ref = self.c.fields[acc]
                if isinstance(ref, RecordField):
                    path.append(self.sub_place(p, ref.index))
                else:
                    # A union field: update the union value as a whole.
                    assert n == len(lv.path) - 1, "union fields end an lvalue"
                    x = self.let(self.read_place(p), "u")
                    new = self.field_set(x, p.t, acc, acc.name, st.value)
                    self.write_place(p, new)
                    return
        target = path[-1]
        if any(isinstance(n, A.Primed) and n.name == lv.var for n in walk(st.value)):
            self.write_place(target, self.val(st.value, target.t))
        else:
            self.assign_value(target, st.value, not lv.path)

    def assign_value(self, target: _Place, e: A.Expr, whole: bool = False) -> None:
        """Store ``e`` in a part of the draft state, writing only the leaves it changes
        when it is an update (``x with [k -> v]``, ``r with {f: v}``) of a part of the
        state: instead of reading the whole value into one mixed-radix number and
        writing every leaf back (two divisions a leaf), the operand is copied leaf by leaf
        (nothing to do for the variable itself: the checker allows no other assignment to
        it on the path, so its draft leaves are still the state's; ``whole``: ``target`` is
        the variable) and each update is one
        leaf write. Subexpressions are evaluated in the scalar code's order."""
        t = target.t
        if isinstance(e, A.WithKey) and isinstance(t, MapT) \
                and self.desc(self.t(e)) == self.desc(t):
            self.assign_value(target, e.operand, whole)
            k = self.let(self.key_index(t, self.val(e.key), e.key), "k")
            entry = self.map_place(target, k)
            self.write_place(entry, self.val(e.value, entry.t))
            return
        if isinstance(e, A.WithFields) and isinstance(t, RecT) \
                and self.desc(self.t(e)) == self.desc(t):
            self.assign_value(target, e.operand, whole)
            for fname, value, _ in e.updates:
                ref = self.c.fields[(e, fname)]
                assert isinstance(ref, RecordField)
                field = self.sub_place(target, ref.index)
                self.write_place(field, self.val(value, field.t))
            return
        if self.assign_items(target, e, whole):
            return
        source = self.place_of(e)
        if source is not None and source.prefix == "v" \
                and self.desc(source.t) == self.desc(t):
            if whole and target.leaf == source.leaf:
                return  # the variable itself, unchanged so far on this path
            for j in range(len(self.leaf_types(t))):
                self.leaf_write(target.leaf.plus(j), self.leaf_read("v", source.leaf.plus(j)))
            return
        self.write_place(target, self.val(e, t))

    def assign_items(self, target: _Place, e: A.Expr, whole: bool) -> bool:
        """Store a map comprehension, a record constructor or a tuple display item by item
        (each item as :meth:`assign_value` stores it), and each branch of a conditional
        expression as that branch's value, instead of building one mixed-radix number and
        taking it apart again (two divisions a leaf); the items are evaluated in the
        order the whole value's code evaluates them. False when ``e`` is none of them."""
        t, et = target.t, self.t(e)
        if isinstance(e, A.IfExpr) and not isinstance(t, SetT):
            opened = 0
            for cond, value in e.branches:
                self.emit(f"if {self.val(cond)}:")
                with self.indented():
                    self.emit("pass")
                    self.assign_value(target, value, whole)
                self.emit("else:")
                self._indent += 1
                opened += 1
            self.emit("pass")
            self.assign_value(target, e.orelse, whole)
            self._indent -= opened
            return True
        if isinstance(e, A.MapComp) and isinstance(t, MapT) and isinstance(et, MapT) \
                and self.desc(et.key) == self.desc(t.key):
            for j, key in enumerate(self.domain_list(et.key)):
                with self.scope():
                    self.env[-1][e.binder.name] = key
                    self.assign_value(self.map_place(target, str(j)), e.expr)
            return True
        if isinstance(e, A.TupleLit) and isinstance(t, TupT):
            for j, item in enumerate(e.items):
                self.assign_value(self.sub_place(target, j), item)
            return True
        if isinstance(e, A.Call) and isinstance(self.c.calls.get(e), RecordCtor) \
                and isinstance(t, RecT) and self.desc(et) == self.desc(t):
            for j, (item, _) in enumerate(self.field_args(e)):
                self.assign_value(self.sub_place(target, j), item)
            return True
        return False

    # ---- whole program ---------------------------------------------------------------
    def words(self, prefix: str) -> list[str]:
        return [f"{prefix}{w}" for w in range(self.layout.words)]  # type: ignore[union-attr]

    def need_def(self, name: str) -> None:
        """Generate ``d_name`` (once, on its first call) into the module's defs; a def
        that cannot be compiled makes each of its callers unsupported."""
        if name in self.bad_defs:
            raise Unsupported(self.bad_defs[name])
        if name in self.done_defs:
            return
        self.done_defs.add(name)
        s = self.sym
        d = s.defs[name]
        saved = (self.lines, self.srcmap, self._indent, self.env, self._props,
                 self._primes_are_draft, self.leaf_at_run_time)
        self.lines, self.srcmap, self._indent, self.env = [], [], 0, [{}]
        self._props = self._primes_are_draft = self.leaf_at_run_time = False
        try:
            params = ["K"] + (self.words("v") if s.def_reads.get(name) else [])
            for p, _ in s.def_params.get(name, []):
                self.env[-1][p] = f"l_{p}"
                params.append(f"l_{p}")
            self.emit("")
            self.emit(f"def {def_function(name)}({', '.join(params)}):", d.pos)
            with self.indented():
                self.emit(f"return {self.val(d.body, s.def_types[name])}")
            self.def_lines += self.lines
            if self.leaf_at_run_time:
                self.inline_defs.add(def_function(name))
        except Unsupported as exc:
            self.bad_defs[name] = str(exc)
            raise
        finally:
            (self.lines, self.srcmap, self._indent, self.env, self._props,
             self._primes_are_draft, self.leaf_at_run_time) = saved

    def gen_actions(self) -> None:
        s = self.sym
        for index, (name, d) in enumerate(s.actions.items()):
            self._assigned = assigned_vars(d.body, self.sym.action_defs)
            self._primes_are_draft = True
            self.emit("")
            args = ["K"] + self.words("v") + ["out", "acts", "n"]
            self.emit(f"def a_{name}({', '.join(args)}):", d.pos)
            with self.indented():
                self.action_body(index, d)
                self.emit("return n")
            self._primes_are_draft = False
            self.bound += self.paths(d)
        # The successors of one state, for the walks of ``cowspec simulate``
        # (explorer/walk_code.py); the search calls the actions itself (kernel_source), so
        # this is compiled only when a walk runs.
        self.emit("")
        self.emit(f"def successors(K, {', '.join(self.words('v'))}, out, acts):")
        with self.indented():
            self.emit("n = 0")
            for name in s.actions:
                self.emit(f"n = a_{name}(K, {', '.join(self.words('v'))}, out, acts, n)")
            self.emit("return n")

    def paths(self, d: A.ActionDecl) -> int:
        """At most how many successors one action makes from one state."""
        n = prod(self.dsize(t) for _, t in self.sym.action_params[d.name])
        return n * self.block_paths(d.body.stmts)

    def block_paths(self, stmts: list[A.Stmt]) -> int:
        out = 1
        for st in stmts:
            if isinstance(st, A.Pick):
                dt = self.t(st.binder.domain)
                n = self.dsize(dt.elem) if isinstance(dt, SetT) and self.finite_set(dt) \
                    else 4096
                out *= n
            elif isinstance(st, A.Either):
                out *= sum(self.block_paths(b.stmts) for b in st.branches)
            elif isinstance(st, A.IfStmt):
                blocks = [b for _, b in st.branches] + ([st.orelse] if st.orelse else [])
                out *= max([self.block_paths(b.stmts) for b in blocks] + [1])
            elif isinstance(st, A.MatchStmt):
                out *= max([self.block_paths(b.stmts) for _, b in st.arms] + [1])
            elif isinstance(st, A.Perform):
                out *= self.block_paths(self.sym.action_defs[st.name].body.stmts)
        return out

    def action_body(self, index: int, d: A.ActionDecl) -> None:
        params = self.sym.action_params[d.name]
        guards, body = hoist_guards(d.body.stmts, [p for p, _ in params], self.c)

        def tail() -> None:
            for w in range(self.layout.words):  # type: ignore[union-attr]
                self.emit(f"out[n, {w}] = n{w}")
            self.emit(f"acts[n] = {index}")
            self.emit("n += 1")

        def bind(i: int) -> None:
            for level, cond, _ in guards:
                if level != i - 1:
                    continue
                c = self.val(cond)
                self.emit(f"if not {c}:")
                with self.indented():
                    self.emit("continue" if i else "return n")
            if i == len(params):
                for w in range(self.layout.words):  # type: ignore[union-attr]
                    self.emit(f"n{w} = v{w}")
                self._fail = ["continue" if params else "return n"]
                self.block(body, tail)
                return
            pname, ptype = params[i]
            self.dsize(ptype)
            local = self.tmp(f"l_{pname}_")
            self.env[-1][pname] = local
            self.emit(self.range_header(local, ptype))
            with self.indented():
                bind(i + 1)

        with self.scope():
            bind(0)

    def one_word(self, t: Type) -> bool:
        """Whether a value of ``t`` is one int64 in this code (a plain value, a set of at
        most one part, or an index)."""
        if self.plain(t) or isinstance(t, (EnumT, MVT)):
            return True
        if isinstance(t, InT):
            return self.one_word(t.elem)
        if isinstance(t, SetT):
            return self.finite_set(t) and self.nparts(t) == 1
        if not isinstance(t, (RecT, TupT, MapT, UnionT)):
            return False
        try:
            self.indexed(t, "a state value")
        except Unsupported:
            return False
        return True

    def hoist_state_values(self) -> None:
        """A def without parameters that reads the state is a value of the state. Each
        one that only invariants and reachability checks evaluate (no action, action
        property or constraint) and that is one int64 gets a ``K`` slot: the search
        computes it once per checked state, before the checks, which read the slot
        (``kernel_source``, ``dispatch_source``). The kernel model's four isolation
        invariants share what each process reads this way (``reads_of``). Computed
        before any check asks for it, a value may fail to evaluate where no check reads
        it: the engine then searches again without state values
        (``state_values=False``)."""
        if not self.state_values:
            return
        s = self.sym
        state_checks = [c.body for c in s.checks.values()
                        if c.kind in ("invariant", "reachable")]
        elsewhere = defs_reached(
            [c.body for c in s.checks.values() if c.kind not in ("invariant", "reachable")]
            + list(s.actions.values()) + list(s.action_defs.values()), self.c)
        reached = defs_reached(state_checks, self.c) - elsewhere
        for name, d in s.defs.items():
            if name not in reached or d.params is not None or not s.def_reads.get(name) \
                    or not self.one_word(s.def_types[name]):
                continue
            try:
                self.need_def(name)
            except Unsupported:
                continue  # the checks that read it report it
            self.state_slots[name] = len(self.kvalues)
            self.kvalues.append(0)

    def gen_checks(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"invariant": [], "property": [], "reachable": [],
                                     "constraint": []}
        self.hoist_state_values()
        if self.sym.check_types:
            # The scalar model's first invariant. Every packed state is of its types: a
            # value leaving them fails its range check where it is stored, and the
            # scalar engine reruns the search.
            self.emit("")
            self.emit(f"def c_{TYPE_OK}(K, {', '.join(self.words('v'))}):")
            self.emit("    return True")
            out["invariant"].append(f"c_{TYPE_OK}")
        for name, c in self.sym.checks.items():
            self.emit("")
            args = ["K"] + self.words("v")
            if c.kind == "property":
                args += self.words("n")
                self._props = True
            self.emit(f"def c_{name}({', '.join(args)}):", c.pos)
            with self.indented(), self.scope():
                self.emit(f"return {self.val(c.body)}")
            self._props = False
            out[c.kind].append(f"c_{name}")
        return out

    def generate(self) -> CompiledSource:  # type: ignore[override]
        self.ns.update(make_helpers(self.positions))  # constant defs may call them
        self.build_constants()
        var_types = tuple(self.desc(self.sym.var_types[v]) for v in self.sym.vars)
        try:
            self.layout = Layout(var_types)
        except LayoutError as exc:
            raise Unsupported(str(exc)) from None
        for v in self.sym.vars:
            self.leaf_types(self.sym.var_types[v])
        self.gen_actions()
        checks = self.gen_checks()
        body, self.lines = self.lines, []
        lay = self.layout
        head = [
            '"""Compiled code of a spec (generated by cowspec); model constants are K."""',
            "import numpy as np",
            "",
            "from pyspec.codegen.compiled import CompiledEvalError",
            "",
            f"W = {lay.words}",
            f"LW = np.array({[lf.word for lf in lay.leaves]!r}, dtype=np.int64)",
            f"LS = np.array({[lf.shift for lf in lay.leaves]!r}, dtype=np.int64)",
            f"LM = np.array({[(1 << lf.bits) - 1 for lf in lay.leaves]!r}, dtype=np.int64)",
            f"ALWAYS_INLINE = {tuple(sorted(self.inline_defs))!r}",
            *self.table_src,
            *runtime_source(lay.words),
            *[line for k in sorted(self.seq_ks) for line in seq_helpers(k)],
        ]
        values = [(slot, def_function(name)) for name, slot in self.state_slots.items()]
        src = "\n".join(head + self.def_lines + body
                        + dispatch_source(checks, lay.words, values)
                        + kernel_source(lay, list(self.sym.actions), checks, values)) + "\n"
        return CompiledSource(src, lay, tuple(self.kvalues), max(self.bound, 1),
                              len(checks["invariant"]),
                              len(checks["property"]), len(checks["reachable"]),
                              len(checks["constraint"]), self.sym.check_types,
                              tuple(self.state_slots))


def def_function(name: str) -> str:
    """The generated function of def ``name``: ``d_name``; an instance's ``X!Name``
    (``!`` is no identifier character) is ``i_`` and the name with ``_`` doubled and
    ``!`` as ``_x``, so that no two names meet (the code stays plain ASCII)."""
    if "!" not in name:
        return f"d_{name}"
    return "i_" + name.replace("_", "__").replace("!", "_x")


def runtime_source(words: int) -> list[str]:
    """Helpers the generated code calls: bit counts and reads/writes of a leaf whose word
    is known only at run time (LLVM inlines them into their callers)."""
    ws = ", ".join(f"w{w}" for w in range(words))
    pick = "w0"
    for w in range(1, words):
        pick = f"(w{w} if k == {w} else {pick})"
    out = [
        "",
        "def popcount(x):",
        "    x = x - ((x >> 1) & 0x5555555555555555)",
        "    x = (x & 0x3333333333333333) + ((x >> 2) & 0x3333333333333333)",
        "    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0F",
        "    return (x * 0x0101010101010101) >> 56 & 0xFF",
        "",
        "def lowest(x):",
        "    return popcount((x & -x) - 1)",
        "",
        "def highest(x):",
        "    n = -1",
        "    while x:",
        "        x >>= 1",
        "        n += 1",
        "    return n",
        "",
        f"def leaf_read({ws}, i):",
        "    k = LW[i]",
        f"    return ({pick} >> LS[i]) & LM[i]",
        "",
        f"def leaf_write({ws}, i, c):",
        "    k = LW[i]",
        "    m = ~(LM[i] << LS[i])",
        "    v = c << LS[i]",
    ]
    for w in range(words):
        out.append(f"    if k == {w}:")
        out.append(f"        w{w} = (w{w} & m) | v")
    out.append(f"    return ({ws},)")
    return out


def dispatch_source(checks: dict[str, list[str]], words: int,
                    values: list[tuple[int, str]]) -> list[str]:
    """One function per kind of check taking the check's number (walks of ``cowspec
    simulate`` call them, one check at a time); invariants and reachability checks first
    compute the state values (``values``: ``K`` slot, def function) of the state they
    check."""
    vs = ", ".join(f"v{w}" for w in range(words))
    ns = ", ".join(f"n{w}" for w in range(words))
    out = []
    for kind, args in (("invariant", vs), ("reachable", vs), ("property", f"{vs}, {ns}")):
        out += ["", f"def check_{kind}(K, k, {args}):"]
        if kind != "property":
            out += state_value_lines(values, vs, " " * 4)
        for i, fn in enumerate(checks[kind]):
            out.append(f"    if k == {i}:")
            out.append(f"        return {fn}(K, {args})")
        out.append("    return True")
    out += ["", f"NINV = {len(checks['invariant'])}", f"NPROP = {len(checks['property'])}",
            f"NREACH = {len(checks['reachable'])}"]
    out += ["", f"def constraints(K, {vs}):"]
    for fn in checks["constraint"]:
        out.append(f"    if not {fn}(K, {vs}):")
        out.append("        return False")
    out.append("    return True")
    return out
