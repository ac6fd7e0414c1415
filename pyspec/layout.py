"""Packing a state into 64-bit words: the representation of the array backend.

A state (a tuple of variable values, see :mod:`pyspec.codegen.scalar`) is a tree whose inner
nodes are maps, records and tuples and whose **leaves** are plain values (bool, int,
enum, model value), union values (one index into the union's domain) and sets (a bitmask
over the element type's domain, cut into parts of at most 62 elements). Each leaf gets a
bit field of ``ceil(log2(size of its domain))`` bits; fields fill 64-bit words in tree
order, each word holding at most 63 bits, so that no word is ever all ones (the
seen-set's empty marker). The first leaf of a word sits in its most significant bits, so
comparing packed states word by word compares them in the order of
:func:`pyspec.runtime.domain`.

A bounded sequence ``seq[T, N]`` packs as a length field (``0..N``) followed by N slots
of T; the slots past the length hold T's first value (all codes zero), so that a sequence
has exactly one packed form.

The **index** of a value is its position in its type's domain, computed arithmetically:
``index_of`` and ``value_at`` are inverse, and for a plain or union leaf the index is its
code in the bit field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import prod

from pyspec.runtime import TypeDesc, domain

#: Bits a word may use; the 64th stays clear so that no packed word is all ones.
WORD_BITS = 63
#: Elements per part of a set's bitmask (an int64 with room to spare).
PART_BITS = 62


class LayoutError(Exception):
    """The state type cannot be packed (an unbounded int, a union too large for a word)."""


def size(t: TypeDesc) -> int:
    """How many values the type has."""
    kind = t[0]
    if kind == "bool":
        return 2
    if kind == "int":
        if t[1] is None:
            raise LayoutError("an unbounded integer has no finite domain")
        return t[2] - t[1] + 1
    if kind in ("enum", "mv"):
        return len(t[2])
    if kind == "sub":
        return len(t[3])
    if kind == "union":
        return sum(prod(size(ft) for _, ft in fields) for _, fields in t[2])
    if kind == "set":
        return 2 ** size(t[1])
    if kind in ("rec", "tup", "map"):
        return prod(size(it) for it in items(t))
    if kind == "seq":
        return sum(size(t[1]) ** n for n in range(t[2] + 1))
    raise LayoutError(f"no finite domain for {kind} values")


def items(t: TypeDesc) -> list[TypeDesc]:
    """The item types of a map, record or tuple value (a tuple at run time)."""
    kind = t[0]
    if kind == "rec":
        return [ft for _, ft in t[2]]
    if kind == "tup":
        return list(t[1])
    assert kind == "map", kind
    return [t[2]] * size(t[1])


def parts(t: TypeDesc) -> int:
    """How many bitmask parts a set type's values have."""
    return max(1, -(-size(t[1]) // PART_BITS))


def seq_offset(t: TypeDesc, n: int) -> int:
    """Index of the first sequence of length ``n`` in ``domain(t)`` (shorter ones first)."""
    return sum(size(t[1]) ** k for k in range(n))


def seq_fields(t: TypeDesc) -> list[TypeDesc]:
    """The packed fields of a sequence type: its length, then one slot per element."""
    return [("int", 0, t[2])] + [t[1]] * t[2]


def seq_padded(v: tuple, t: TypeDesc) -> tuple:
    """A sequence value as its packed fields: the length, the elements, the padding."""
    pad = value_at(0, t[1])
    return (len(v),) + tuple(v) + (pad,) * (t[2] - len(v))


def variant_offsets(t: TypeDesc) -> list[int]:
    """Index of the first value of each variant of a union, and the union's size last."""
    out = [0]
    for _, fields in t[2]:
        out.append(out[-1] + prod(size(ft) for _, ft in fields))
    return out


def index_of(v: object, t: TypeDesc) -> int:
    """The position of ``v`` in ``domain(t)``."""
    kind = t[0]
    if kind == "bool":
        return int(bool(v))
    if kind == "int":
        return v - t[1]  # type: ignore[operator]
    if kind in ("enum", "mv"):
        return v  # type: ignore[return-value]
    if kind == "sub":
        return t[3].index(v)  # type: ignore[no-any-return]
    if kind == "set":
        return sum(1 << index_of(e, t[1]) for e in v)  # type: ignore[attr-defined]
    if kind == "union":
        tag = v[0]  # type: ignore[index]
        fields = [ft for _, ft in t[2][tag][1]]
        return variant_offsets(t)[tag] + _mixed(fields, v[1:])  # type: ignore[index]
    if kind == "seq":
        return seq_offset(t, len(v)) + _mixed([t[1]] * len(v), v)  # type: ignore[arg-type]
    return _mixed(items(t), v)  # type: ignore[arg-type]


def _mixed(types: list[TypeDesc], values: tuple) -> int:
    code = 0
    for ft, x in zip(types, values):
        code = code * size(ft) + index_of(x, ft)
    return code


def value_at(i: int, t: TypeDesc) -> object:
    """The value at position ``i`` of ``domain(t)`` (the inverse of :func:`index_of`)."""
    kind = t[0]
    if kind == "bool":
        return bool(i)
    if kind == "int":
        return i + t[1]
    if kind in ("enum", "mv"):
        return i
    if kind == "sub":
        return t[3][i]
    if kind == "set":
        return frozenset(e for n, e in enumerate(domain(t[1])) if i >> n & 1)
    if kind == "union":
        offsets = variant_offsets(t)
        tag = max(n for n in range(len(t[2])) if offsets[n] <= i)
        fields = [ft for _, ft in t[2][tag][1]]
        return (tag,) + _unmixed(fields, i - offsets[tag])
    if kind == "seq":
        n = max(k for k in range(t[2] + 1) if seq_offset(t, k) <= i)
        return _unmixed([t[1]] * n, i - seq_offset(t, n))
    return _unmixed(items(t), i)


def _unmixed(types: list[TypeDesc], code: int) -> tuple:
    out = []
    for ft in reversed(types):
        n = size(ft)
        out.append(value_at(code % n, ft))
        code //= n
    return tuple(reversed(out))


def leaf_types(t: TypeDesc) -> Iterator[TypeDesc]:
    """The leaves of a value of type ``t``, in tree order: plain and union types as
    themselves, each part of a set as ``("bits", n)`` (an n-bit mask)."""
    kind = t[0]
    if kind in ("rec", "tup", "map"):
        for it in items(t):
            yield from leaf_types(it)
    elif kind == "seq":
        for it in seq_fields(t):
            yield from leaf_types(it)
    elif kind == "set":
        n = size(t[1])
        for j in range(parts(t)):
            yield ("bits", min(PART_BITS, n - j * PART_BITS))
    else:
        size(t)  # raises for a type without a finite domain
        yield t


def leaf_codes(v: object, t: TypeDesc) -> Iterator[int]:
    """The codes of the leaves of value ``v`` (scalar representation), in tree order."""
    kind = t[0]
    if kind in ("rec", "tup", "map"):
        for x, it in zip(v, items(t)):  # type: ignore[call-overload]
            yield from leaf_codes(x, it)
    elif kind == "seq":
        for x, it in zip(seq_padded(v, t), seq_fields(t)):  # type: ignore[arg-type]
            yield from leaf_codes(x, it)
    elif kind == "set":
        mask = index_of(v, t)
        for j in range(parts(t)):
            yield mask >> (j * PART_BITS) & ((1 << PART_BITS) - 1)
    else:
        yield index_of(v, t)


def from_codes(codes: Iterator[int], t: TypeDesc) -> object:
    """The value (scalar representation) whose leaf codes ``codes`` yields."""
    kind = t[0]
    if kind in ("rec", "tup", "map"):
        return tuple(from_codes(codes, it) for it in items(t))
    if kind == "seq":
        n, *slots = (from_codes(codes, it) for it in seq_fields(t))
        return tuple(slots[:n])
    if kind == "set":
        mask = sum(next(codes) << (j * PART_BITS) for j in range(parts(t)))
        return value_at(mask, t)
    return value_at(next(codes), t)


@dataclass(frozen=True)
class Leaf:
    """One bit field of the packed state."""

    desc: TypeDesc
    radix: int
    bits: int
    word: int
    shift: int


def leaf_radix(t: TypeDesc) -> int:
    return 2 ** t[1] if t[0] == "bits" else size(t)


class Layout:
    """The bit fields of one model's states."""

    def __init__(self, var_types: tuple[TypeDesc, ...]):
        self.var_types = var_types
        found = [lt for t in var_types for lt in leaf_types(t)]
        words: list[list[tuple[TypeDesc, int, int]]] = [[]]
        used = 0
        for t in found:
            radix = leaf_radix(t)
            if radix > 2**WORD_BITS:
                raise LayoutError(f"a value with {radix} possibilities does not fit a word")
            bits = (radix - 1).bit_length()
            if used + bits > WORD_BITS:
                words.append([])
                used = 0
            words[-1].append((t, radix, bits))
            used += bits
        leaves: list[Leaf] = []
        for w, members in enumerate(words):
            top = sum(b for *_, b in members)
            for t, radix, bits in members:
                top -= bits
                leaves.append(Leaf(t, radix, bits, w, top))
        self.leaves = tuple(leaves)
        self.words = len(words)
        #: The index of each variable's first leaf.
        self.var_start: list[int] = []
        n = 0
        for t in var_types:
            self.var_start.append(n)
            n += sum(1 for _ in leaf_types(t))

    @property
    def bits(self) -> int:
        return sum(leaf.bits for leaf in self.leaves)

    def encode(self, state: tuple) -> tuple[int, ...]:
        """The packed words of a state."""
        words = [0] * self.words
        codes = (c for v, t in zip(state, self.var_types) for c in leaf_codes(v, t))
        for leaf, code in zip(self.leaves, codes):
            words[leaf.word] |= code << leaf.shift
        return tuple(words)

    def decode(self, words: tuple[int, ...]) -> tuple:
        """The state of some packed words (the inverse of :meth:`encode`)."""
        codes = iter([words[leaf.word] >> leaf.shift & ((1 << leaf.bits) - 1)
                      for leaf in self.leaves])
        return tuple(from_codes(codes, t) for t in self.var_types)


def leaf_count(t: TypeDesc) -> int:
    """How many leaves a value of type ``t`` has."""
    kind = t[0]
    if kind in ("rec", "tup", "map"):
        return sum(leaf_count(it) for it in items(t))
    if kind == "seq":
        return sum(leaf_count(it) for it in seq_fields(t))
    if kind == "set":
        return parts(t)
    return 1
