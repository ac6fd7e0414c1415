"""What generated array code (:mod:`pyspec.codegen.arrays`) runs on: one value for a whole batch.

A batch is many states at once, one per row. A value of the batch is one of:

- a Python ``int`` or ``bool``: the same in every row (parameters, constants, literals);
- a numpy array with one entry per row (``int64`` for ints, enums and model values,
  ``bool`` for booleans);
- a Python tuple of values: a map (one item per key, in key order), a record or a tuple,
  exactly as in scalar code, so static indices stay Python indexing;
- a :class:`U`: a union value, with its tag and the fields of every variant (the fields of
  variants a row does not hold are don't-care values);
- for a set, a tuple of bitmasks (``int`` or ``int64`` array), each for 62 elements of
  the element type's domain;
- a :class:`Q`: a bounded sequence, with its length and a tuple of slots (as many as
  the longest the value can be); the slots past a row's length hold the element type's
  first value, the packed form's padding (:mod:`pyspec.layout`), so that equal sequences
  are equal slot by slot.

Masks say which rows a value matters in: ``True`` (every row) or a boolean array. Rows
outside the mask may hold anything; nothing outside a mask is ever stored, emitted or
checked. Every operation that can fail in the scalar code (a key outside a map's domain, a
value outside its range, division by zero, a field of another variant) checks the rows of
its mask and raises :class:`ArrayEvalError`; the explorer then reruns the search on the
scalar engine, which reports the error with its trace exactly as it always does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np

from pyspec.layout import (
    PART_BITS,
    Layout,
    index_of,
    items,
    leaf_count,
    parts,
    size,
    variant_offsets,
)
from pyspec.runtime import TypeDesc

I64 = np.int64
U64 = np.uint64
#: The kinds of plain values: a number per row.
PLAIN = ("bool", "int", "enum", "mv")
#: Operands larger than this are checked before a multiplication (int64 would overflow).
MUL_LIMIT = 2**31


class ArrayEvalError(Exception):
    """Some row of a batch would raise an evaluation error, or leaves what arrays can
    represent: the search must rerun on the scalar engine."""


class U:
    """A union value over a batch: ``tag`` and, per variant, a tuple of its fields."""

    __slots__ = ("tag", "f")

    def __init__(self, tag: object, f: tuple) -> None:
        self.tag = tag
        self.f = f


class Q:
    """A sequence value over a batch: ``n`` its length, ``s`` its slots (their number is
    the longest the value can be in any row), ``z`` the padding of slots past the length
    (the element type's first value; None for a sequence with no slots)."""

    __slots__ = ("n", "s", "z")

    def __init__(self, n: object, s: tuple, z: object) -> None:
        self.n = n
        self.s = s
        self.z = z


def is_array(x: object) -> bool:
    return isinstance(x, np.ndarray)


# ---- masks and errors ----------------------------------------------------------------


def fail_if(bad: object, m: object) -> None:
    """Raise when ``bad`` holds in some row of mask ``m``."""
    if bad is False or bad is None:
        return
    if bad is True:
        hit = m is True or bool(np.any(m))
    else:
        hit = bool(bad.any()) if m is True else bool((bad & m).any())  # type: ignore
    if hit:
        raise ArrayEvalError("evaluation error in some row")


def req(m: object, c: object) -> object:
    """A path's mask after ``requires c``; None when no row goes on."""
    if c is True:
        return m
    if c is False:
        return None
    r = c if m is True else (m & c)  # type: ignore[operator]
    return r if r.any() else None  # type: ignore[union-attr]


def both(a: object, b: object) -> object:
    """``a and b`` when ``b`` cannot fail."""
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return a & b  # type: ignore[operator]


def either(a: object, b: object) -> object:
    """``a or b`` when ``b`` cannot fail."""
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return a | b  # type: ignore[operator]


def neg(a: object) -> object:
    return not a if isinstance(a, bool) else ~a  # type: ignore[operator]


def and_lazy(a: object, f: Callable[[object], object], m: object) -> object:
    """``a and f()``: ``f`` sees only the rows of ``m`` where ``a`` holds, as in the scalar
    code's short circuit (so its errors are raised only there)."""
    if a is False:
        return False
    if a is True:
        return f(m)
    mm = a if m is True else (m & a)  # type: ignore[operator]
    if not mm.any():
        return a
    return both(a, f(mm))


def or_lazy(a: object, f: Callable[[object], object], m: object) -> object:
    """``a or f()``, ``f`` evaluated only where ``a`` does not hold."""
    if a is True:
        return True
    if a is False:
        return f(m)
    na = ~a  # type: ignore[operator]
    mm = na if m is True else (m & na)  # type: ignore[operator]
    if not mm.any():
        return a
    return either(a, f(mm))


def if_lazy(c: object, fa: Callable[[object], object], fb: Callable[[object], object],
            m: object) -> object:
    """``if c then fa() else fb()``, each branch seeing only its own rows."""
    if c is True:
        return fa(m)
    if c is False:
        return fb(m)
    ma = c if m is True else (m & c)  # type: ignore[operator]
    nc = ~c  # type: ignore[operator]
    mb = nc if m is True else (m & nc)
    if not ma.any():
        return fb(mb)
    if not mb.any():
        return fa(ma)
    return where(c, fa(ma), fb(mb))


def where(c: object, a: object, b: object) -> object:
    """``a`` in the rows where ``c`` holds, ``b`` elsewhere, whatever the value's shape."""
    if c is True or a is b:
        return a
    if c is False:
        return b
    if isinstance(a, tuple):
        return tuple(where(c, x, y) for x, y in zip(a, b))  # type: ignore[call-overload]
    if isinstance(a, U):
        return U(where(c, a.tag, b.tag), where(c, a.f, b.f))  # type: ignore[union-attr]
    if isinstance(a, Q):
        a, b = padded(a, b)  # type: ignore[arg-type]
        return Q(where(c, a.n, b.n), where(c, a.s, b.s), a.z)
    return np.where(c, a, b)


# ---- arithmetic ------------------------------------------------------------------------


def mul(a: object, b: object) -> object:
    """``a * b``; a batch whose operands could overflow int64 goes back to scalar code."""
    for x in (a, b):
        if is_array(x):
            if x.size and int(np.abs(x).max()) > MUL_LIMIT:  # type: ignore[union-attr]
                raise ArrayEvalError("operands too large for int64 arithmetic")
        elif abs(x) > MUL_LIMIT:  # type: ignore[arg-type]
            raise ArrayEvalError("operands too large for int64 arithmetic")
    return a * b  # type: ignore[operator]


def div(a: object, b: object, m: object) -> object:
    fail_if(b == 0, m)
    if is_array(b):
        b = np.where(b == 0, 1, b)  # type: ignore[call-overload]
    elif b == 0:
        return 0
    return a // b  # type: ignore[operator]


def mod(a: object, b: object, m: object) -> object:
    fail_if(b == 0, m)
    if is_array(b):
        b = np.where(b == 0, 1, b)  # type: ignore[call-overload]
    elif b == 0:
        return 0
    return a % b  # type: ignore[operator]


def absval(a: object) -> object:
    return np.abs(a) if is_array(a) else abs(a)  # type: ignore[arg-type]


def checked(v: object, lo: int, hi: int, m: object) -> object:
    """``v`` stored in a slot of range ``lo..hi``."""
    if is_array(v):
        fail_if((v < lo) | (v > hi), m)  # type: ignore[operator]
    else:
        fail_if(not lo <= v <= hi, m)  # type: ignore[operator]
    return v


def deep_checked(v: object, t: TypeDesc, m: object) -> object:
    """Every integer inside ``v`` within its declared range."""
    kind = t[0]
    if kind == "int" and t[1] is not None:
        checked(v, t[1], t[2], m)
    elif kind in ("rec", "tup", "map"):
        out = tuple(deep_checked(x, it, m) for x, it in zip(v, items(t)))  # type: ignore
        return v if all(x is y for x, y in zip(out, v)) else out  # type: ignore[call-overload]
    elif kind == "seq":
        return seq_fit(v, t, m)  # type: ignore[arg-type]
    elif kind == "union":
        for n, (_, fields) in enumerate(t[2]):
            mm = req(m, v.tag == n)  # type: ignore[union-attr]
            if mm is not None:
                for x, (_, ft) in zip(v.f[n], fields):  # type: ignore[union-attr]
                    deep_checked(x, ft, mm)
    return v


# ---- maps --------------------------------------------------------------------------


#: Gathers already made in this batch: ``(map, key, lo, path)`` by identity -> (map, key,
#: result, rows whose key is outside the map). Specs read ``page[f]`` many times over.
_GATHERED: dict[tuple[int, int, int, tuple[int, ...]], tuple] = {}


#: Results of definitions already evaluated in this batch for the same plain arguments.
_MEMO: dict[tuple, tuple] = {}


def new_batch() -> None:
    """Forget the gathers and definition results of the previous batch."""
    _GATHERED.clear()
    _MEMO.clear()


def memo(fn: Callable, nvars: int) -> Callable:
    """A definition that cannot fail, evaluated once per batch for each combination of
    plain arguments (``Cnt(p, k)`` inside every binding of another parameter). Its
    first ``nvars`` arguments are state variables, then the mask, then its parameters.
    The one evaluation is over every row (a definition that cannot fail may), so that
    its result holds whatever rows a later call asks about."""

    def cached(*args: object) -> object:
        params = args[nvars + 1:]
        if any(is_array(p) or not isinstance(p, (int, bool)) for p in params):
            return fn(*args)
        key = (fn, tuple(id(v) for v in args[:nvars]), params)
        hit = _MEMO.get(key)
        if hit is not None and all(a is b for a, b in zip(hit[0], args[:nvars])):
            return hit[1]
        out = fn(*args[:nvars], True, *params)
        _MEMO[key] = (args[:nvars], out)
        return out

    return cached


def get(coll: tuple, key: object, lo: int, m: object, path: tuple[int, ...] = ()) -> object:
    """``coll[key]`` (then the items ``path`` of it) for a map whose keys start at ``lo``:
    Python indexing when the key is the same in every row, a per-row choice otherwise,
    of only the items asked for."""
    n = len(coll)
    if not is_array(key):
        i = int(key) - lo  # type: ignore[call-overload]
        if not 0 <= i < n:
            fail_if(True, m)
            i = 0
        return at(coll[i], path)
    ck = (id(coll), id(key), lo, path)
    hit = _GATHERED.get(ck)
    if hit is not None and hit[0] is coll and hit[1] is key:
        if hit[3] is not None:
            fail_if(hit[3], m)
        return hit[2]
    idx = key.astype(I64) - lo if key.dtype == bool else key - lo  # type: ignore[union-attr]
    bad = (idx < 0) | (idx >= n)
    if bad.any():
        fail_if(bad, m)
        idx = np.where(bad, 0, idx)
    else:
        bad = None
    out = choose([idx == i for i in range(n)], [at(c, path) for c in coll])
    _GATHERED[ck] = (coll, key, out, bad)
    return out


def key_table(t: TypeDesc) -> tuple[np.ndarray, np.ndarray]:
    """For a constant key set ``("sub", name, element type, members)``: its members'
    codes (:func:`key_code`) in increasing order, and each one's position in the set."""
    codes = np.array([_static_code(v, t[2]) for v in t[3]], dtype=I64)
    order = np.argsort(codes, kind="stable")
    return codes[order], order.astype(I64)


def _static_code(v: object, t: TypeDesc) -> int:
    return int(v) if t[0] == "int" and t[1] is None else index_of(v, t)  # type: ignore


def key_code(v: object, t: TypeDesc) -> object:
    """A key as one integer per row: an integer itself, another value its index."""
    if t[0] == "int" and t[1] is None:
        return v
    return index(v, t)


def skey(key: object, table: tuple, t: TypeDesc, m: object) -> object:
    """The position of ``key`` in a constant key set (``table`` from :func:`key_table`); a
    key outside the set is an error."""
    codes, positions = table
    code = key_code(key, t)
    at_ = np.searchsorted(codes, code)
    inside = at_ < len(codes)
    at_ = np.where(inside, at_, 0)
    found = inside & (codes[at_] == code) if len(codes) else np.zeros_like(inside)
    fail_if(neg(found) if is_array(found) else not bool(found), m)
    out = np.where(found, positions[at_] if len(codes) else 0, 0)
    return out if is_array(code) else int(out)


def at(v: object, path: tuple[int, ...]) -> object:
    """Item ``path`` of a nested tuple."""
    for i in path:
        v = v[i]  # type: ignore[index]
    return v


def choose(rows_of: list[np.ndarray], options: list) -> object:
    """Per row, the option whose ``rows_of`` mask holds (exactly one does), whatever the
    options' shape."""
    first = options[0]
    if all(o is first for o in options):
        return first
    if isinstance(first, tuple):
        return tuple(choose(rows_of, [o[j] for o in options]) for j in range(len(first)))
    if isinstance(first, Q):
        width = max(len(o.s) for o in options)
        pad = next((o.z for o in options if o.z is not None), None)
        options = [Q(o.n, o.s + (pad,) * (width - len(o.s)), pad) for o in options]
        return Q(choose(rows_of, [o.n for o in options]),
                 tuple(choose(rows_of, [o.s[j] for o in options]) for j in range(width)), pad)
    if isinstance(first, U):
        return U(choose(rows_of, [o.tag for o in options]),
                 tuple(tuple(choose(rows_of, [o.f[v][j] for o in options])
                             for j in range(len(first.f[v])))
                       for v in range(len(first.f))))
    out = options[-1]
    for c, o in zip(reversed(rows_of[:-1]), reversed(options[:-1])):
        out = o if o is out else np.where(c, o, out)
    return out


def put(coll: tuple, key: object, value: object, lo: int, m: object) -> tuple:
    """``coll`` with ``coll[key] = value``."""
    n = len(coll)
    if not is_array(key):
        i = int(key) - lo  # type: ignore[call-overload]
        if not 0 <= i < n:
            fail_if(True, m)
            return coll
        return coll[:i] + (value,) + coll[i + 1:]
    idx = key.astype(I64) - lo if key.dtype == bool else key - lo  # type: ignore[union-attr]
    fail_if((idx < 0) | (idx >= n), m)
    return tuple(where(idx == i, value, coll[i]) for i in range(n))


# ---- sequences ---------------------------------------------------------------------
# A sequence is a :class:`Q`; every operation keeps the slots past a row's length equal to
# the padding, in the rows of its mask. A value is fitted to its declared bound only when
# it is stored (:func:`seq_fit`), as the scalar code checks the bound only there.


def padded(a: Q, b: Q) -> tuple[Q, Q]:
    """Two sequences with as many slots each (the one with fewer padded)."""
    if len(a.s) == len(b.s):
        return a, b
    pad = a.z if a.z is not None else b.z
    width = max(len(a.s), len(b.s))
    return (Q(a.n, a.s + (pad,) * (width - len(a.s)), pad),
            Q(b.n, b.s + (pad,) * (width - len(b.s)), pad))


def seq_lit(items: tuple, pad: object) -> Q:
    """``<<a, b>>``; ``pad`` is the element type's first value (None for ``<<>>``)."""
    return Q(len(items), items, pad)


def seq_len(q: Q) -> object:
    return q.n


def seq_fit(q: Q, t: TypeDesc, m: object) -> Q:
    """A sequence stored in a slot of type ``t`` (``seq[T, N]``): at most N long and its
    elements in their ranges in the rows of ``m``, with exactly N slots."""
    cap, elem = t[2], t[1]
    n = q.n
    fail_if(n > cap, m)  # type: ignore[operator]
    pad = zero(elem) if q.z is None else q.z
    slots = []
    for i, x in enumerate(q.s[:cap]):
        mm = req(m, n > i)  # type: ignore[operator]
        slots.append(x if mm is None else deep_checked(x, elem, mm))
    slots += [pad] * (cap - len(slots))
    if len(q.s) == cap and all(x is y for x, y in zip(slots, q.s)):
        return q
    return Q(n, tuple(slots), pad)


def _outside(q: Q, i: object, m: object) -> None:
    """Fail where index ``i`` is outside ``1..len(q)`` in the rows of ``m``."""
    fail_if(either(i < 1, i > q.n), m)  # type: ignore[operator]


def seq_at(q: Q, i: object, m: object) -> object:
    """``q[i]`` (from 1)."""
    _outside(q, i, m)
    if not q.s:
        return q.z
    return get(q.s, i, 1, m)


def seq_head(q: Q, m: object) -> object:
    return seq_at(q, 1, m)


def seq_put(q: Q, i: object, v: object, m: object) -> Q:
    """``q with [i -> v]``, ``q'[i] = v``."""
    _outside(q, i, m)
    if not q.s:
        return q
    return Q(q.n, put(q.s, i, v, 1, m), q.z)


def seq_tail(q: Q, m: object) -> Q:
    fail_if(q.n < 1, m)  # type: ignore[operator]
    if not q.s:
        return q
    n = np.maximum(q.n - 1, 0) if is_array(q.n) else max(q.n - 1, 0)  # type: ignore
    return Q(n, q.s[1:] + (q.z,), q.z)


def seq_append(q: Q, x: object, pad: object) -> Q:
    """``append(q, x)``: one slot more than ``q``."""
    pad = q.z if q.z is not None else pad
    n = q.n
    if not is_array(n):
        return Q(n + 1, q.s[:n] + (x,) + q.s[n + 1:] + (pad,), pad)  # type: ignore
    slots = tuple(where(n == i, x, y) for i, y in enumerate(q.s))
    return Q(n + 1, slots + (where(n == len(q.s), x, pad),), pad)


def _slot(slots: tuple, j: object, pad: object) -> object:
    """Per row, slot ``j`` (from 0) of ``slots``, the padding outside them."""
    if not is_array(j):
        return slots[j] if 0 <= j < len(slots) else pad  # type: ignore[operator]
    out = pad
    for k, x in enumerate(slots):
        out = where(j == k, x, out)
    return out


def seq_cat(a: Q, b: Q) -> Q:
    """``a ++ b``: as many slots as both."""
    pad = a.z if a.z is not None else b.z
    n1 = a.n
    width = len(a.s) + len(b.s)
    if not is_array(n1):
        slots = a.s[:n1] + b.s + (pad,) * (width - n1 - len(b.s))  # type: ignore
        return Q(n1 + b.n, slots, pad)  # type: ignore[operator]
    out = []
    for k in range(width):
        mine = a.s[k] if k < len(a.s) else pad
        out.append(where(k < n1, mine, _slot(b.s, k - n1, pad)))  # type: ignore[operator]
    return Q(n1 + b.n, tuple(out), pad)  # type: ignore[operator]


def seq_sub(q: Q, lo: object, hi: object, m: object) -> Q:
    """``subseq(q, lo, hi)``: empty when lo > hi, else an error unless 1 <= lo, hi <= len."""
    empty = lo > hi  # type: ignore[operator]
    fail_if(both(neg(empty), either(lo < 1, hi > q.n)), m)  # type: ignore[operator]
    n = where(empty, 0, hi - lo + 1)  # type: ignore[operator]
    if is_array(n):
        n = np.clip(n, 0, len(q.s))
    elif not 0 <= n <= len(q.s):  # type: ignore[operator]
        n = 0
    slots = tuple(where(j < n, _slot(q.s, lo - 1 + j, q.z), q.z)  # type: ignore[operator]
                  for j in range(len(q.s)))
    return Q(n, slots, q.z)


def seq_select(q: Q, f: Callable[[object, object], object], m: object) -> Q:
    """``select x in q: f(x)``: the elements where ``f`` holds, in order; ``f`` is
    evaluated on an element only in the rows that hold it."""
    n: object = 0
    slots = [q.z] * len(q.s)
    for i, x in enumerate(q.s):
        inside = q.n > i  # type: ignore[operator]
        mm = req(m, inside)
        if mm is None:
            continue
        keep = both(inside, f(mm, x))
        if keep is False:
            continue
        for j in range(i + 1):
            slots[j] = where(both(keep, n == j), x, slots[j])
        n = n + (1 if keep is True else keep.astype(I64))  # type: ignore[union-attr]
    return Q(n, tuple(slots), q.z)


# ---- unions ------------------------------------------------------------------------


def zero(t: TypeDesc) -> object:
    """The first value of a type: what fills the fields of variants a row does not hold."""
    kind = t[0]
    if kind == "bool":
        return False
    if kind == "int":
        return 0 if t[1] is None else t[1]
    if kind in ("enum", "mv"):
        return 0
    if kind == "set":
        return (0,) * parts(t)
    if kind in ("rec", "tup", "map"):
        return tuple(zero(it) for it in items(t))
    if kind == "union":
        return U(0, tuple(tuple(zero(ft) for _, ft in fields) for _, fields in t[2]))
    if kind == "seq":
        pad = zero(t[1])
        return Q(0, (pad,) * (t[2] or 0), pad)
    raise ArrayEvalError(f"no first value for {kind}")


def make_union(tag: int, fields: tuple, t: TypeDesc) -> U:
    """The variant ``tag`` with ``fields``, as a union value."""
    return U(tag, tuple(fields if n == tag else tuple(zero(ft) for _, ft in fs)
                        for n, (_, fs) in enumerate(t[2])))


def union_field(u: U, where_: dict[int, int], m: object) -> object:
    """A field read from a union value; ``where_`` maps each variant having the field to
    the field's position. A row holding another variant is an evaluation error."""
    if not is_array(u.tag):
        pos = where_.get(u.tag)  # type: ignore[call-overload]
        if pos is None:
            fail_if(True, m)
            pos = next(iter(where_.values()))
            tag = next(iter(where_))
            return u.f[tag][pos - 1]
        return u.f[u.tag][pos - 1]  # type: ignore[index]
    tags = list(where_)
    has = np.isin(u.tag, tags)
    fail_if(~has, m)
    out = u.f[tags[-1]][where_[tags[-1]] - 1]
    for tag in reversed(tags[:-1]):
        out = where(u.tag == tag, u.f[tag][where_[tag] - 1], out)
    return out


def union_set(u: U, where_: dict[int, int], value: object, m: object) -> U:
    """``u`` with a field replaced (``r with {f: v}``, ``pte'[p].frame = f``)."""
    if not is_array(u.tag) and u.tag not in where_:
        fail_if(True, m)
        return u
    if is_array(u.tag):
        fail_if(~np.isin(u.tag, list(where_)), m)
    f = list(u.f)
    for tag, pos in where_.items():
        row = list(f[tag])
        row[pos - 1] = where(u.tag == tag, value, row[pos - 1])
        f[tag] = tuple(row)
    return U(u.tag, tuple(f))


# ---- equality and indices ----------------------------------------------------------


def equal(a: object, b: object, t: TypeDesc) -> object:
    """``a == b`` of values of type ``t``."""
    kind = t[0]
    if kind in PLAIN:
        return a == b
    if kind == "set":
        out: object = True
        for x, y in zip(a, b):  # type: ignore[call-overload]
            out = both(out, x == y)
        return out
    if kind in ("rec", "tup", "map"):
        out = True
        for x, y, it in zip(a, b, items(t)):  # type: ignore[call-overload]
            out = both(out, equal(x, y, it))
            if out is False:
                return False
        return out
    if kind == "union":
        out = a.tag == b.tag  # type: ignore[union-attr]
        if out is False:
            return False
        same: object = False
        for n, (_, fields) in enumerate(t[2]):
            fields_equal: object = True
            for x, y, (_, ft) in zip(a.f[n], b.f[n], fields):  # type: ignore[union-attr]
                fields_equal = both(fields_equal, equal(x, y, ft))
            same = either(same, both(a.tag == n, fields_equal))  # type: ignore[union-attr]
        return both(out, same)
    if kind == "seq":
        a, b = padded(a, b)  # type: ignore[arg-type]
        out = a.n == b.n  # type: ignore[union-attr]
        for x, y in zip(a.s, b.s):  # type: ignore[union-attr]
            if out is False:
                return False
            out = both(out, equal(x, y, t[1]))
        return out
    raise ArrayEvalError(f"cannot compare {kind} values")


def index(v: object, t: TypeDesc) -> object:
    """The position of ``v`` in its type's domain, per row (``layout.index_of``)."""
    kind = t[0]
    if kind == "bool":
        return v.astype(I64) if is_array(v) else int(v)  # type: ignore[union-attr]
    if kind == "int":
        return v - t[1]  # type: ignore[operator]
    if kind in ("enum", "mv", "bits"):
        return v
    if kind in ("rec", "tup", "map"):
        return _mixed_index(v, items(t))  # type: ignore[arg-type]
    if kind == "union":
        offsets = variant_offsets(t)
        if not is_array(v.tag):  # type: ignore[union-attr]
            fields = [ft for _, ft in t[2][v.tag][1]]  # type: ignore[union-attr]
            return offsets[v.tag] + _mixed_index(v.f[v.tag], fields)  # type: ignore
        out: object = 0
        for n, (_, fields) in enumerate(t[2]):
            code = offsets[n] + _mixed_index(v.f[n], [ft for _, ft in fields])  # type: ignore
            out = where(v.tag == n, code, out)  # type: ignore[union-attr]
        return out
    raise ArrayEvalError(f"no index for {kind} values")


def _mixed_index(values: tuple, types: list[TypeDesc]) -> object:
    code: object = 0
    for x, it in zip(values, types):
        code = code * size(it) + index(x, it)  # type: ignore[operator]
    return code


def value(i: object, t: TypeDesc) -> object:
    """The value at position ``i`` of its type's domain, per row (``layout.value_at``)."""
    kind = t[0]
    if kind == "bool":
        return i != 0
    if kind == "int":
        return i + t[1]  # type: ignore[operator]
    if kind in ("enum", "mv", "bits"):
        return i
    if kind in ("rec", "tup", "map"):
        return _unmixed(i, items(t))
    if kind == "union":
        offsets = variant_offsets(t)
        tag = np.searchsorted(np.asarray(offsets[1:], dtype=I64), i, side="right")
        f = []
        for n, (_, fields) in enumerate(t[2]):
            rel = np.clip(i - offsets[n], 0, max(offsets[n + 1] - offsets[n] - 1, 0))
            f.append(_unmixed(rel, [ft for _, ft in fields]))
        return U(tag.astype(I64), tuple(f))
    raise ArrayEvalError(f"no values for {kind}")


def _unmixed(code: object, types: list[TypeDesc]) -> tuple:
    out = []
    for it in reversed(types):
        n = size(it)
        out.append(value(code % n, it))  # type: ignore[operator]
        code = code // n  # type: ignore[operator]
    return tuple(reversed(out))


def from_scalar(v: object, t: TypeDesc) -> object:
    """A scalar-code value (a constant) in the array world: sets become bitmasks and
    union tuples :class:`U` values."""
    kind = t[0]
    if kind == "set":
        mask = index_of(v, t)
        return tuple(mask >> (j * PART_BITS) & ((1 << PART_BITS) - 1) for j in range(parts(t)))
    if kind in ("rec", "tup", "map"):
        return tuple(from_scalar(x, it) for x, it in zip(v, items(t)))  # type: ignore
    if kind == "union":
        fields = tuple(from_scalar(x, ft) for x, (_, ft) in zip(v[1:], t[2][v[0]][1]))  # type: ignore
        return make_union(v[0], fields, t)  # type: ignore[index]
    if kind == "seq":
        slots = tuple(from_scalar(x, t[1]) for x in v)  # type: ignore[attr-defined]
        width = len(slots) if t[2] is None else max(t[2], len(slots))
        pad = zero(t[1]) if width > len(slots) or slots else None
        return Q(len(slots), slots + (pad,) * (width - len(slots)), pad)
    return v


# ---- sets ----------------------------------------------------------------------------
# A set is a tuple of parts; element index i is bit i % PART_BITS of part i // PART_BITS.


def set_bit(i: object, n: int) -> tuple:
    """The one-element set of element index ``i`` in a domain of ``n`` elements."""
    k = max(1, -(-n // PART_BITS))
    if not is_array(i):
        return tuple(1 << (i - j * PART_BITS) if i // PART_BITS == j else 0  # type: ignore
                     for j in range(k))
    low = np.left_shift(1, i % PART_BITS)  # type: ignore[operator]
    if k == 1:
        return (low,)
    high = i // PART_BITS  # type: ignore[operator]
    return tuple(np.where(high == j, low, 0) for j in range(k))


def set_member(s: tuple, i: object) -> object:
    """Whether element index ``i`` is in set ``s``."""
    if not is_array(i):
        part = s[i // PART_BITS]  # type: ignore[operator]
        shift = i % PART_BITS  # type: ignore[operator]
        if is_array(part):
            return (part >> shift & 1) != 0
        return bool(part >> shift & 1)
    shift = i % PART_BITS  # type: ignore[operator]
    if len(s) == 1:
        return (np.right_shift(s[0], shift) & 1) != 0
    high = i // PART_BITS  # type: ignore[operator]
    return (np.choose(high, s) >> shift & 1) != 0


def set_union(a: tuple, b: tuple) -> tuple:
    return tuple(x if y is x else x | y for x, y in zip(a, b))


def set_inter(a: tuple, b: tuple) -> tuple:
    return tuple(x & y for x, y in zip(a, b))


def set_diff(a: tuple, b: tuple) -> tuple:
    return tuple(x & ~y for x, y in zip(a, b))


def set_subset(a: tuple, b: tuple) -> object:
    out: object = True
    for x, y in zip(a, b):
        out = both(out, (x & ~y) == 0)
    return out


def set_card(s: tuple) -> object:
    total: object = 0
    for x in s:
        total = total + (np.bitwise_count(x).astype(I64) if is_array(x)  # type: ignore
                         else int(x).bit_count())  # type: ignore[call-overload]
    return total


def set_empty(s: tuple) -> object:
    out: object = True
    for x in s:
        out = both(out, x == 0)
    return out


def set_full(n: int) -> tuple:
    """Every element of a domain of ``n``."""
    return tuple((1 << min(PART_BITS, n - j * PART_BITS)) - 1
                 for j in range(max(1, -(-n // PART_BITS))))


def set_extreme(s: tuple, n: int, highest: bool, m: object) -> object:
    """Index of the smallest (or largest) element of a non-empty set of ``n`` elements."""
    fail_if(set_empty(s), m)
    order = range(n) if highest else range(n - 1, -1, -1)
    out: object = 0
    for i in order:
        out = where(set_member(s, i), i, out)
    return out


def set_members(s: tuple, n: int) -> Iterator[tuple[int, object]]:
    """Every element index some row holds, with its membership."""
    for j, part in enumerate(s):
        present = int(np.bitwise_or.reduce(part)) if is_array(part) else part
        while present:
            low = present & -present
            b = low.bit_length() - 1
            present ^= low
            i = j * PART_BITS + b
            if i < n:
                yield i, ((part >> b) & 1) != 0 if is_array(part) else True


def set_where(c: object, bits: tuple) -> tuple:
    """``bits`` in the rows where ``c`` holds, the empty set elsewhere."""
    if c is True:
        return bits
    if c is False:
        return tuple(0 for _ in bits)
    return tuple(where(c, x, 0) for x in bits)


def set_items(s: tuple, values: tuple) -> Iterator[tuple[object, object, int]]:
    """``(element, membership, index)`` for the elements some row of ``s`` holds."""
    for i, c in set_members(s, len(values)):
        yield values[i], c, i


#: The most integers a range with bounds of no static span lists for one batch; beyond,
#: the search goes back to the scalar engine.
MAX_RANGE = 100_000


def range_members(lo: object, hi: object, first: int | None, last: int | None,
                  base: int, m: object = True) -> Iterator[tuple[int, object, int]]:
    """The integers of ``lo..hi`` (bounds per row, within ``first..last``, or when those
    are None within the bounds' extremes over the rows of ``m``), each with its
    membership and its index from ``base``."""
    if first is None or last is None:
        first, last = _extreme(lo, m, min), _extreme(hi, m, max)
        if last - first > MAX_RANGE:
            raise ArrayEvalError("a range too wide to list for a batch")
    for v in range(first, last + 1):
        c = both(lo <= v, v <= hi)  # type: ignore[operator]
        if c is not False and (c is True or c.any()):  # type: ignore[union-attr]
            yield v, c, v - base


def _extreme(x: object, m: object, pick: Callable) -> int:
    """The least or greatest value of ``x`` over the rows of ``m`` (0 for no row)."""
    if not is_array(x):
        return int(x)  # type: ignore[call-overload]
    rows_ = x if m is True else x[m]  # type: ignore[index]
    return int(pick(rows_)) if len(rows_) else 0  # type: ignore[arg-type]


def s_index(x: object, lo: int, n: int, m: object) -> object:
    """The index of integer element ``x`` in ``lo..lo+n-1``; outside it is an error (the
    scalar code's range check of a stored set)."""
    i = x - lo  # type: ignore[operator]
    if is_array(i):
        bad = (i < 0) | (i >= n)
        if bad.any():
            fail_if(bad, m)
            i = np.where(bad, 0, i)
        return i
    fail_if(not 0 <= i < n, m)
    return i if 0 <= i < n else 0


def s_offset(x: object, lo: int, n: int) -> object:
    return x - lo  # type: ignore[operator]


def s_member_or_out(s: tuple, i: object) -> object:
    """Membership of an index that may lie outside the domain (then: not a member)."""
    n = len(s) * PART_BITS
    if not is_array(i):
        return 0 <= i < n and set_member(s, i)  # type: ignore[operator]
    inside = (i >= 0) & (i < n)
    return both(inside, set_member(s, np.where(inside, i, 0)))


def s_range(lo: object, hi: object, base: int, n: int, m: object) -> tuple:
    """The set ``lo..hi`` over the integers ``base..base+n-1``."""
    fail_if(both(lo <= hi, either(lo < base, hi > base + n - 1)), m)  # type: ignore[operator]
    out = tuple(0 for _ in range(max(1, -(-n // PART_BITS))))
    for i in range(n):
        c = both(lo <= base + i, base + i <= hi)  # type: ignore[operator]
        if c is not False:
            out = set_union(out, set_where(c, set_bit(i, n)))
    return out


def s_rebase(s: tuple, lo: int, n: int, new_lo: int, new_n: int, m: object) -> tuple:
    """A set of integers moved from ``lo..lo+n-1`` to ``new_lo..new_lo+new_n-1``."""
    out = tuple(0 for _ in range(max(1, -(-new_n // PART_BITS))))
    for i, c in set_members(s, n):
        j = lo + i - new_lo
        if 0 <= j < new_n:
            out = set_union(out, set_where(c, set_bit(j, new_n)))
        else:
            fail_if(c, m)
    return out


def s_filter(m: object, members: Iterator, f: Callable, n: int) -> tuple:
    """``{x in S where f(x)}`` over a domain of ``n``: ``members`` gives each candidate
    element with its membership and index."""
    out = tuple(0 for _ in range(max(1, -(-n // PART_BITS))))
    for v, c, i in members:
        mm = req(m, c)
        if mm is None:
            continue
        keep = both(c, f(mm, v))
        if keep is False:
            continue
        if not 0 <= i < n:
            fail_if(keep, m)
            continue
        out = set_union(out, set_where(keep, set_bit(i, n)))
    return out


def s_gather(m: object, members: Iterator, f: Callable, n: int) -> tuple:
    """The union over a binder's elements of the sets ``f(x)`` (``{e for x in S}``)."""
    out = tuple(0 for _ in range(max(1, -(-n // PART_BITS))))
    for v, c, _ in members:
        mm = req(m, c)
        if mm is not None:
            out = set_union(out, set_where(c, f(mm, v)))
    return out


def s_when(c: object, f: Callable, m: object, n: int) -> tuple:
    """``f()``, a set, in the rows where ``c`` holds; evaluated only there."""
    mm = req(m, c)
    if mm is None:
        return tuple(0 for _ in range(max(1, -(-n // PART_BITS))))
    return set_where(c, f(mm))


def q_forall(m: object, members: Iterator, f: Callable) -> object:
    """``forall x in S: f(x)``, each body evaluated only where every earlier one held."""
    result: object = True
    cur = m
    for v, c, _ in members:
        mm = req(cur, c)
        if mm is None:
            continue
        b = f(mm, v)
        if b is True:
            continue
        result = both(result, b if c is True else either(neg(c), b))
        if result is False:
            return False
        cur = req(m, result)
        if cur is None:
            return result
    return result


def q_exists(m: object, members: Iterator, f: Callable) -> object:
    """``exists x in S: f(x)``, each body evaluated only where no earlier one held."""
    result: object = False
    cur = m
    for v, c, _ in members:
        mm = req(cur, c)
        if mm is None:
            continue
        result = either(result, both(c, f(mm, v)))
        if result is True:
            return True
        cur = req(m, neg(result))
        if cur is None:
            return result
    return result


def q_sum(m: object, members: Iterator, f: Callable) -> object:
    """``sum x in S: f(x)``."""
    total: object = 0
    for v, c, _ in members:
        mm = req(m, c)
        if mm is None:
            continue
        b = f(mm, v)
        total = total + (b if c is True else where(c, b, 0))  # type: ignore[operator]
    return total


def q_choose(m: object, members: Iterator, f: Callable) -> object:
    """``choose x in S: f(x)``: per row, the first element in ``S``'s order where ``f``
    holds (evaluated only in the rows still without one); none is an error."""
    out: object = None
    left = m
    for v, c, _ in members:
        mm = req(left, c)
        if mm is None:
            continue
        hit = both(c, f(mm, v))
        if hit is False:
            continue
        out = v if out is None else where(hit if left is True else both(left, hit), v, out)
        left = req(left, neg(hit))
        if left is None:
            return out
    fail_if(True, left)
    return out


def q_count(m: object, members: Iterator, f: Callable) -> object:
    """``card({x in S where f(x)})`` without building the set (S's elements are
    distinct)."""
    total: object = 0
    for v, c, _ in members:
        mm = req(m, c)
        if mm is None:
            continue
        b = both(c, f(mm, v))
        if b is not False:
            total = total + (1 if b is True else b.astype(I64))  # type: ignore[union-attr]
    return total


def rows(x: object) -> bool:
    """Whether a mask holds in any row."""
    return x is True or (x is not False and bool(x.any()))  # type: ignore[union-attr]


def in_values(x: object, values: tuple) -> object:
    """``x`` equal to one of some static plain values."""
    if not is_array(x):
        return x in values
    return np.isin(x, np.asarray(values, dtype=I64))


# ---- packing ---------------------------------------------------------------------------


def decode(words: tuple[np.ndarray, ...], layout: Layout) -> tuple:
    """The batch of states packed in ``words`` (one uint64 array per word)."""
    codes = iter([((words[leaf.word] >> U64(leaf.shift)) & U64((1 << leaf.bits) - 1))
                  .astype(I64) for leaf in layout.leaves])
    return tuple(_from_codes(codes, t) for t in layout.var_types)


def _from_codes(codes: Iterator[np.ndarray], t: TypeDesc) -> object:
    kind = t[0]
    if kind in ("rec", "tup", "map"):
        return tuple(_from_codes(codes, it) for it in items(t))
    if kind == "set":
        return tuple(next(codes) for _ in range(parts(t)))
    if kind == "seq":
        n = next(codes)
        return Q(n, tuple(_from_codes(codes, t[1]) for _ in range(t[2])), zero(t[1]))
    return value(next(codes), t)


def _changes(new: object, old: object, t: TypeDesc, first: int,
             out: list[tuple[int, object, object]]) -> None:
    """Every leaf where ``new`` is not the very object of ``old``, from leaf ``first``."""
    if new is old:
        return
    kind = t[0]
    if kind in ("rec", "tup", "map"):
        for x, y, it in zip(new, old, items(t)):  # type: ignore[call-overload]
            _changes(x, y, it, first, out)
            first += leaf_count(it)
    elif kind == "set":
        for j, (x, y) in enumerate(zip(new, old)):  # type: ignore[call-overload]
            if x is not y:
                out.append((first + j, x, y))
    elif kind == "seq":
        if new.n is not old.n:  # type: ignore[attr-defined]
            out.append((first, new.n, old.n))  # type: ignore[attr-defined]
        first += 1
        for x, y in zip(new.s, old.s):  # type: ignore[attr-defined]
            _changes(x, y, t[1], first, out)
            first += leaf_count(t[1])
    else:
        out.append((first, new, old))


def successor_words(layout: Layout, state: tuple, base: tuple[np.ndarray, ...],
                    drafts: dict[int, object], rows: np.ndarray | None) -> list[np.ndarray]:
    """The packed successors, in the given rows, of a batch whose assigned variables are
    ``drafts``: the parent's words plus, for each leaf that changed, the change of its
    code shifted into place (a leaf that is the very object of the parent's is unchanged)."""
    out = [w if rows is None else w[rows] for w in base]
    changed: list[tuple[int, object, object]] = []
    for var, draft in drafts.items():
        _changes(draft, state[var], layout.var_types[var], layout.var_start[var], changed)
    for n, new, old in changed:
        leaf = layout.leaves[n]
        if rows is not None:
            new, old = restrict(new, rows), restrict(old, rows)
        change = np.asarray(index(new, leaf.desc), dtype=I64) - index(old, leaf.desc)
        out[leaf.word] = out[leaf.word] + (change.astype(U64) << U64(leaf.shift))
    return out


def rec_set(r: tuple, i: int, v: object) -> tuple:
    """Record ``r`` with field ``i`` replaced."""
    return r[:i] + (v,) + r[i + 1:]


def restrict(v: object, rows: np.ndarray) -> object:
    """A batch value restricted to some rows."""
    if isinstance(v, U):
        return U(restrict(v.tag, rows), tuple(tuple(restrict(x, rows) for x in f) for f in v.f))
    if isinstance(v, Q):
        return Q(restrict(v.n, rows), restrict(v.s, rows), v.z)
    if isinstance(v, tuple):
        return tuple(restrict(x, rows) for x in v)
    return v[rows] if is_array(v) else v  # type: ignore[index]
