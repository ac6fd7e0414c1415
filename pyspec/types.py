"""Static types of the language.

Integer ranges are part of a type as written (``0..MaxRef``) but not of its identity:
``0..3`` and ``0..5`` are both ``int`` for type checking, and the bounds are evaluated
per model, where they give finite domains and run-time range checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspec import ast as A


@dataclass(frozen=True)
class BoolT:
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class IntT:
    """An integer; ``lo``/``hi`` (expressions) when declared as a range, else unbounded."""

    lo: A.Expr | None = field(default=None, compare=False, hash=False)
    hi: A.Expr | None = field(default=None, compare=False, hash=False)

    @property
    def bounded(self) -> bool:
        return self.lo is not None

    def __str__(self) -> str:
        return "int"


@dataclass(frozen=True)
class StrT:
    def __str__(self) -> str:
        return "string"


@dataclass(frozen=True)
class EnumT:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class MVT:
    """An element of a set of model values, e.g. one of ``Procs = {P0, P1}``."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class RecT:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class UnionT:
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class MapT:
    """A total map. ``keys`` names the constant set its keys range over when that is not
    a whole type (``const Others = Prisoner - {Counter}``, then ``[Others -> bool]``):
    ``key`` is then the set's element type. Like a range's bounds, ``keys`` is not part of
    the type's identity, but two maps are only compatible over the same keys."""

    key: Type
    value: Type
    keys: str | None = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        return f"[{self.keys or self.key} -> {self.value}]"


@dataclass(frozen=True)
class SetT:
    elem: Type

    def __str__(self) -> str:
        return f"set[{self.elem}]"


@dataclass(frozen=True)
class TupT:
    items: tuple[Type, ...]

    def __str__(self) -> str:
        return "tuple[" + ", ".join(map(str, self.items)) + "]"


@dataclass(frozen=True)
class SeqT:
    """A bounded sequence (TLA+'s ``Seq(T)`` cut at a length): ``cap`` (an expression,
    evaluated per model) is the longest it may grow, part of a declared type but not of
    its identity, like a range's bounds; ``None`` for a computed sequence."""

    elem: Type
    cap: A.Expr | None = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        return f"seq[{self.elem}]"


@dataclass(frozen=True)
class InT:
    """A variable's or an action parameter's type written as a constant set
    (``var k: OtherPrisoner``, ``action Flip(i: Prisoner - {Counter})``): a value of
    ``elem`` that is one of the set ``keys`` names. Only a declared type is one; reading
    the variable or parameter gives ``elem`` (:func:`plain`), and storing a value outside
    the set is checked like an integer outside its range."""

    elem: Type
    keys: str

    def __str__(self) -> str:
        return self.keys


@dataclass(frozen=True)
class AnyT:
    """Unknown: the element type of ``{}``, or the type of an expression already in
    error (so one mistake does not cascade into many)."""

    def __str__(self) -> str:
        return "?"


Type = (BoolT | IntT | StrT | EnumT | MVT | RecT | UnionT | MapT | SetT | TupT | SeqT
        | InT | AnyT)

BOOL = BoolT()
INT = IntT()
STR = StrT()
ANY = AnyT()


def plain(t: Type) -> Type:
    """The type of a value read from a slot of declared type ``t``."""
    return t.elem if isinstance(t, InT) else t


def compatible(a: Type, b: Type) -> bool:
    """Whether a value of type ``a`` may stand where ``b`` is expected (and vice versa)."""
    a, b = plain(a), plain(b)
    if isinstance(a, AnyT) or isinstance(b, AnyT):
        return True
    if isinstance(a, SetT) and isinstance(b, SetT):
        return compatible(a.elem, b.elem)
    if isinstance(a, MapT) and isinstance(b, MapT):
        return (a.keys == b.keys and compatible(a.key, b.key)
                and compatible(a.value, b.value))
    if isinstance(a, SeqT) and isinstance(b, SeqT):
        return compatible(a.elem, b.elem)
    if isinstance(a, TupT) and isinstance(b, TupT):
        return len(a.items) == len(b.items) and all(map(compatible, a.items, b.items))
    return a == b


def join(a: Type, b: Type) -> Type:
    """The more informative of two compatible types (``set[?]`` joins ``set[int]``)."""
    a, b = plain(a), plain(b)
    if isinstance(a, AnyT):
        return b
    if isinstance(b, AnyT):
        return a
    if isinstance(a, SetT) and isinstance(b, SetT):
        return SetT(join(a.elem, b.elem))
    if isinstance(a, SeqT) and isinstance(b, SeqT):
        return SeqT(join(a.elem, b.elem))
    if isinstance(a, TupT) and isinstance(b, TupT) and len(a.items) == len(b.items):
        return TupT(tuple(join(x, y) for x, y in zip(a.items, b.items)))
    if isinstance(a, IntT) and isinstance(b, IntT):
        return INT
    return a


ORDERED = (IntT, EnumT, MVT)
