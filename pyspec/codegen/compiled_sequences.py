"""Sequences, ``let ... in`` and ``choose`` in the compiled generator's code.

A part of :class:`pyspec.codegen.compiled.CompiledCompiler` (a mixin: it uses that class's
expression and place methods). A sequence is, like every other value there, one int64:
its **index** among the sequences of its element type, shorter ones first
(:func:`pyspec.layout.index_of`): ``OFF[n] + mixed(elements)``, where ``OFF[n]`` is how
many sequences are shorter than ``n`` and the first element is the most significant
digit. The index does not depend on the bound, so a value moves between sequence types
of the same element type as it is, and it is a sequence's code inside records, tuples and
maps as well. ``len``, ``s[i]``, ``tail``, ``append``, ``++``, ``subseq`` and ``s with [i
-> v]`` are a few divisions by powers of the element type's size (the module functions
``sq_len3`` ... and the tables ``SQO3``/``SQP3`` for an element type of 3 values). A
sequence in the state is its layout's length field and slots (:mod:`pyspec.layout`): read
whole, its slots are one mixed number cut to the length; written, the reverse.

A sequence longer than the int64 index allows (for its element type) raises
:class:`~pyspec.codegen.compiled.CompiledEvalError`, so the scalar engine runs the search,
as for an evaluation error; the generator refuses sequences whose elements have no finite
domain (``<<1, 2>>`` compared with nothing that gives it one), except a constant's items
read by index.
"""

from __future__ import annotations

from pyspec import ast as A
from pyspec.checked import Builtin, Const, Def, Local, RecordField
from pyspec.codegen.arrays import Unsupported
from pyspec.layout import index_of
from pyspec.types import BoolT, MapT, RecT, SeqT, TupT, Type, UnionT

#: The largest index a sequence value may have (it must fit an int64 with room to spare).
MAX_SEQ_INDEX = 2**62
#: The longest sequence the tables cover, whatever its element type.
MAX_SEQ_LEN = 62


def seq_limit(k: int) -> int:
    """The longest sequence over ``k`` element values whose index fits MAX_SEQ_INDEX."""
    n, total = 0, 1
    while n < MAX_SEQ_LEN and total + k ** (n + 1) <= MAX_SEQ_INDEX:
        n += 1
        total += k ** n
    return n


def seq_helpers(k: int) -> list[str]:
    """The tables and functions of sequences over ``k`` element values."""
    limit = seq_limit(k)
    offsets = [sum(k ** j for j in range(n)) for n in range(limit + 2)]
    powers = [k ** j for j in range(limit + 1)]
    o, p = f"SQO{k}", f"SQP{k}"
    return [
        "",
        f"{o} = np.array({offsets!r}, dtype=np.int64)",
        f"{p} = np.array({powers!r}, dtype=np.int64)",
        "",
        f"def sq_len{k}(x):",
        "    n = 0",
        f"    while {o}[n + 1] <= x:",
        "        n += 1",
        "    return n",
        "",
        f"def sq_at{k}(x, i):",
        f"    n = sq_len{k}(x)",
        "    if i < 1 or i > n:",
        "        raise CompiledEvalError('an index outside a sequence')",
        f"    return ((x - {o}[n]) // {p}[n - i]) % {k}",
        "",
        f"def sq_tail{k}(x):",
        f"    n = sq_len{k}(x)",
        "    if n == 0:",
        "        raise CompiledEvalError('tail of the empty sequence')",
        f"    return {o}[n - 1] + (x - {o}[n]) % {p}[n - 1]",
        "",
        f"def sq_app{k}(x, c):",
        f"    n = sq_len{k}(x)",
        f"    if n >= {limit}:",
        "        raise CompiledEvalError('a sequence too long for compiled code')",
        f"    return {o}[n + 1] + (x - {o}[n]) * {k} + c",
        "",
        f"def sq_cat{k}(x, y):",
        f"    n = sq_len{k}(x)",
        f"    m = sq_len{k}(y)",
        f"    if n + m > {limit}:",
        "        raise CompiledEvalError('a sequence too long for compiled code')",
        f"    return {o}[n + m] + (x - {o}[n]) * {p}[m] + (y - {o}[m])",
        "",
        f"def sq_sub{k}(x, i, j):",
        "    if i > j:",
        "        return 0",
        f"    n = sq_len{k}(x)",
        "    if i < 1 or j > n:",
        "        raise CompiledEvalError('subseq outside a sequence')",
        f"    return {o}[j - i + 1] + ((x - {o}[n]) // {p}[n - j]) % {p}[j - i + 1]",
        "",
        f"def sq_put{k}(x, i, c):",
        f"    n = sq_len{k}(x)",
        "    if i < 1 or i > n:",
        "        raise CompiledEvalError('an index outside a sequence')",
        f"    d = {p}[n - i]",
        f"    return x + (c - ((x - {o}[n]) // d) % {k}) * d",
    ]


class SequenceCode:
    """Sequence values, ``let ... in`` and ``choose`` (see the module doc)."""

    # ---- codings ---------------------------------------------------------------------
    def seq_k(self, st: SeqT) -> int:
        """The number of element values of a sequence coding (its helpers then exist)."""
        k = self.dsize_or_none(st.elem)
        if k is None or k == 0:
            raise Unsupported(f"a sequence of {st.elem} values (no finite domain)")
        self.seq_ks.add(k)
        return k

    def seq_coding(self, e: A.Expr) -> SeqT | None:
        """A sequence type with a finite element type that codes ``e``'s value: its own
        type, else what its operands give (``<<>> ++ q``), else None."""
        t = self.t(e)
        if isinstance(t, SeqT) and self.dsize_or_none(t.elem) is not None:
            return SeqT(t.elem)
        parts: list[A.Expr] = []
        if isinstance(e, A.Call) and isinstance(self.c.calls.get(e), Builtin):
            parts = [e.args[0].value]
        elif isinstance(e, A.BinOp) and e.op == "++":
            parts = [e.left, e.right]
        elif isinstance(e, A.Select):
            parts = [e.binder.domain]
        elif isinstance(e, A.WithKey):
            parts = [e.operand]
        elif isinstance(e, A.LetExpr):
            parts = [e.body]
        elif isinstance(e, A.IfExpr):
            parts = [v for _, v in e.branches] + [e.orelse]
        elif isinstance(e, A.Name) and isinstance(self.c.names.get(e), Local):
            return self.local_seqs.get(self.env[-1].get(e.name, ""))
        for part in parts:
            found = self.seq_coding(part)
            if found is not None:
                return found
        return None

    # ---- values ----------------------------------------------------------------------
    def seq_val(self, e: A.Expr, target: Type | None = None) -> str:  # noqa: C901
        """Sequence ``e`` as its index under the element type of ``target`` (a sequence
        type; default: what codes ``e``)."""
        st = SeqT(target.elem) if isinstance(target, SeqT) \
            and self.dsize_or_none(target.elem) is not None else self.seq_coding(e)
        if st is None:
            raise Unsupported("a sequence whose elements have no finite domain")
        k = self.seq_k(st)
        elem = st.elem
        place = self.place_of(e)
        if place is not None:
            self.same_elements(place.t, st)
            return self.read_place(place)
        if isinstance(e, A.SeqLit):
            codes = [self.code(elem, self.val(i, elem)) for i in e.items]
            if len(codes) > seq_limit(k):
                raise Unsupported("a sequence literal too long for compiled code")
            terms = [str(sum(k ** j for j in range(len(codes))))]
            terms += [c if j == 0 else f"{c} * {k ** j}"
                      for j, c in enumerate(reversed(codes))]
            return "(" + " + ".join(terms) + ")"
        if isinstance(e, A.Call) and isinstance(self.c.calls[e], Builtin):
            name = self.c.calls[e].name
            x = self.seq_val(e.args[0].value, st)
            if name == "append":
                c = self.code(elem, self.val(e.args[1].value, elem))
                return f"sq_app{k}({x}, {c})"
            if name == "tail":
                return f"sq_tail{k}({x})"
            assert name == "subseq", name
            i, j = (self.let(self.val(a.value), "i") for a in e.args[1:])
            return f"sq_sub{k}({x}, {i}, {j})"
        if isinstance(e, A.BinOp) and e.op == "++":
            x = self.let(self.seq_val(e.left, st), "q")
            return f"sq_cat{k}({x}, {self.seq_val(e.right, st)})"
        if isinstance(e, A.Select):
            return self.select_val(e, st, k)
        if isinstance(e, A.WithKey):
            x = self.let(self.seq_val(e.operand, st), "q")
            i = self.let(self.val(e.key), "i")
            return f"sq_put{k}({x}, {i}, {self.code(elem, self.val(e.value, elem))})"
        if isinstance(e, A.IfExpr):
            return self.if_val(e.branches, e.orelse, st)
        if isinstance(e, A.MatchExpr):
            return self.match_val(e, st)
        if isinstance(e, A.LetExpr):
            with self.scope():
                self.bind_value(e.name, e.value)
                return self.seq_val(e.body, st)
        constant = self.constant_value(e)
        if constant is not None:
            return str(self.seq_index(constant, st))
        self.same_elements(self.t(e), st)
        return self.val_raw(e)

    def same_elements(self, t: Type, st: SeqT) -> None:
        """A stored or computed sequence read under coding ``st`` must have its element
        type's values (in the same order)."""
        own = self.seq_coding_of_type(t)
        if own is None or self.desc(own.elem) != self.desc(st.elem):
            raise Unsupported(f"a {t} value used as a sequence of {st.elem}")

    def seq_coding_of_type(self, t: Type) -> SeqT | None:
        if isinstance(t, SeqT) and self.dsize_or_none(t.elem) is not None:
            return t
        return None

    def constant_value(self, e: A.Expr) -> tuple | None:
        """The value of a constant or of a def of nothing (known now), or None."""
        if not isinstance(e, A.Name):
            return None
        ref = self.c.names.get(e)
        if isinstance(ref, Const):
            return self.const_values[e.name]  # type: ignore[no-any-return]
        if isinstance(ref, Def):
            d = self.sym.defs[e.name]
            if d.params is None and not self.sym.def_reads.get(e.name):
                return self.const_def(e.name)  # type: ignore[no-any-return]
        return None

    def seq_index(self, value: tuple, st: SeqT) -> int:
        k = self.seq_k(st)
        if len(value) > seq_limit(k):
            raise Unsupported("a constant sequence too long for compiled code")
        return index_of(value, ("seq", self.desc(st.elem), None))

    def select_val(self, e: A.Select, st: SeqT, k: int) -> str:
        """``select x in s: cond``: the elements that satisfy ``cond``, in order."""
        x = self.let(self.seq_val(e.binder.domain, st), "q")
        n = self.let(f"sq_len{k}({x})", "n")
        m = self.let(f"({x} - SQO{k}[{n}])", "m")
        out, count, i = self.tmp("r"), self.tmp("c"), self.tmp("i")
        self.emit(f"{out} = 0")
        self.emit(f"{count} = 0")
        self.emit(f"for {i} in range({n}):")
        with self.indented(), self.scope():
            c = self.let(f"(({m} // SQP{k}[{n} - 1 - {i}]) % {k})", "c")
            self.bind(e.binder.name, self.value(st.elem, c))
            cond = self.val(e.cond)
            self.emit(f"if {cond}:")
            with self.indented():
                self.emit(f"{out} = {out} * {k} + {c}")
                self.emit(f"{count} += 1")
        return f"(SQO{k}[{count}] + {out})"

    def seq_item(self, e: A.Index) -> str:
        """``s[i]``: the element at position ``i`` (from 1)."""
        value = self.constant_value(e.operand)
        if value is not None and all(isinstance(v, (int, bool)) for v in value):
            i = self.let(self.val(e.key), "i")
            self.emit(f"if {i} < 1 or {i} > {len(value)}:")
            with self.indented():
                self.fail("an index outside a sequence")
            t = self.table([int(v) for v in value])
            item = f"{t}[{i} - 1]"
            return f"({item} != 0)" if isinstance(self.t(e), BoolT) else item
        st = self.seq_coding(e.operand)
        if st is None:
            raise Unsupported("a sequence whose elements have no finite domain")
        k = self.seq_k(st)
        x = self.let(self.seq_val(e.operand, st), "q")
        return self.value(st.elem, f"sq_at{k}({x}, {self.val(e.key)})")

    def seq_call(self, name: str, arg: A.Expr) -> str:
        """``len(s)`` and ``head(s)``."""
        value = self.constant_value(arg)
        if name == "len" and value is not None:
            return str(len(value))
        place = self.place_of(arg)
        if name == "len" and place is not None:
            return self.leaf_read(place.prefix, place.leaf)
        st = self.seq_coding(arg)
        if st is None:
            raise Unsupported("a sequence whose elements have no finite domain")
        k = self.seq_k(st)
        x = self.seq_val(arg, st)
        if name == "len":
            return f"sq_len{k}({x})"
        return self.value(st.elem, f"sq_at{k}({x}, 1)")

    def seq_equal(self, e: A.BinOp) -> str:
        """``s == t`` and ``s != t``: one index compared with another."""
        st = self.seq_coding(e.left) or self.seq_coding(e.right)
        if st is None:
            raise Unsupported("a sequence whose elements have no finite domain")
        a = self.let(self.seq_val(e.left, st), "q")
        b = self.seq_val(e.right, st)
        return f"({a} {e.op} {b})"

    def checked_seq(self, e: A.Expr, target: SeqT) -> str:
        """``e`` for a slot of sequence type ``target``: its bound checked."""
        x = self.let(self.seq_val(e, target), "q")
        cap = self.seq_bound(target) if target.cap is not None else None
        if cap is not None:
            k = self.seq_k(SeqT(target.elem))
            if cap > seq_limit(k):
                raise Unsupported(f"a {target} value (too long for compiled code)")
            self.emit(f"if {x} >= {sum(k ** j for j in range(cap + 1))}:")
            with self.indented():
                self.fail("a sequence longer than its bound")
        return x

    def bind_value(self, name: str, value: A.Expr) -> str:
        """``let name = value``: a local (a sequence's coding remembered)."""
        local = self.bind(name, self.val(value))
        if isinstance(self.t(value), SeqT):
            self.local_seqs[local] = self.seq_coding(value)
        return local

    def choose_val(self, e: A.Choose) -> str:
        """The first member of the domain, in its order, that satisfies the condition."""
        out, found = self.tmp("ch"), self.tmp("cf")
        self.emit(f"{out} = 0")
        self.emit(f"{found} = False")

        def body() -> None:
            c = self.val(e.cond)
            self.emit(f"if {c}:")
            with self.indented():
                self.emit(f"{out} = {self.env[-1][e.binder.name]}")
                self.emit(f"{found} = True")
                self.emit("break")

        self.loop([e.binder], body, found)
        self.emit(f"if not {found}:")
        with self.indented():
            self.fail("choose: no element of the set satisfies the condition")
        return out

    # ---- the state's sequences -------------------------------------------------------
    def seq_slots(self, p: object) -> list[object]:
        """The element places of a sequence place, in order."""
        st = p.t  # type: ignore[attr-defined]
        width = len(self.leaf_types(st.elem))
        return [type(p)(p.prefix, st.elem, p.leaf.plus(1 + j * width))  # type: ignore
                for j in range(self.seq_bound(st))]

    def read_seq_place(self, p: object) -> str:
        """A stored sequence's index: its slots as one mixed number, cut to its length."""
        st = p.t  # type: ignore[attr-defined]
        k = self.seq_k(SeqT(st.elem))
        slots = self.seq_slots(p)
        if not slots:
            return "0"
        n = self.let(self.leaf_read(p.prefix, p.leaf), "n")  # type: ignore[attr-defined]
        terms = []
        for j, slot in enumerate(slots):
            c = self.code(st.elem, self.read_place(slot))
            power = k ** (len(slots) - 1 - j)
            terms.append(c if power == 1 else f"{c} * {power}")
        full = self.let("(" + " + ".join(terms) + ")", "f")
        return f"(SQO{k}[{n}] + {full} // SQP{k}[{len(slots)} - {n}])"

    def write_seq_place(self, p: object, x: str) -> None:
        """Store sequence index ``x`` (its bound checked) in a stored sequence."""
        st = p.t  # type: ignore[attr-defined]
        k = self.seq_k(SeqT(st.elem))
        slots = self.seq_slots(p)
        x = self.let(x, "q")
        n = self.let(f"sq_len{k}({x})", "n")
        self.leaf_write(p.leaf, n)  # type: ignore[attr-defined]
        if not slots:
            return
        full = self.let(f"(({x} - SQO{k}[{n}]) * SQP{k}[{len(slots)} - {n}])", "f")
        for j, slot in enumerate(slots):
            power = k ** (len(slots) - 1 - j)
            self.write_place(slot, self.value(st.elem, f"(({full} // {power}) % {k})"))

    def updated(self, x: str, t: Type, path: list, value: A.Expr) -> str:
        """Value ``x`` of type ``t`` with the part at lvalue ``path`` set to ``value``
        (an assignment through a sequence's element: ``q'[i].f = v``)."""
        if not path:
            return self.val(value, t)
        acc, rest = path[0], path[1:]
        x = self.let(x, "u")
        if isinstance(acc, A.IndexAcc):
            if isinstance(t, SeqT):
                k = self.seq_k(SeqT(t.elem))
                i = self.let(self.val(acc.key), "i")
                old = self.value(t.elem, f"sq_at{k}({x}, {i})")
                new = self.updated(old, t.elem, rest, value)
                return f"sq_put{k}({x}, {i}, {self.code(t.elem, new)})"
            if isinstance(t, MapT):
                j = self.let(self.key_index(t, self.val(acc.key), acc.key), "k")
                it = t.value
            else:
                assert isinstance(t, TupT)
                j, it = str(acc.key.value), t.items[acc.key.value]  # type: ignore[union-attr]
            new = self.updated(self.item_val(x, t, j), it, rest, value)
            return self.item_set(x, t, j, new)
        ref = self.c.fields[acc]
        if isinstance(ref, RecordField):
            assert isinstance(t, RecT)
            ft = self.sym.record_fields[t.name][ref.index][1]
            new = self.updated(self.item_val(x, t, str(ref.index)), ft, rest, value)
            return self.item_set(x, t, str(ref.index), new)
        assert isinstance(t, UnionT) and not rest
        return self.field_set(x, t, acc, acc.name, value)
