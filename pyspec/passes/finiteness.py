"""Pass 3: finiteness. What the explorer enumerates needs a finite type: every state
variable and action parameter (E301), a view's element (a finite type of simple values).

The checks are over resolved types only, so they run after :mod:`pyspec.passes.typecheck`.
"""

from __future__ import annotations

from collections.abc import Iterable

from pyspec import ast as A
from pyspec import errorcodes as codes
from pyspec.checked import Symbols
from pyspec.passes.report import Report
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
    StrT,
    TupT,
    Type,
    UnionT,
)


def why_not_finite(t: Type, sym: Symbols) -> str | None:
    """Why a type is not finite, or None when it is."""
    match t:
        case IntT():
            return None if t.bounded else "int without a range"
        case StrT():
            return "string"
        case BoolT() | EnumT() | MVT() | AnyT():
            return None
        case RecT():
            return _first_reason((ft for _, ft in sym.record_fields.get(t.name, [])), sym)
        case UnionT():
            return _first_reason((ft for v in sym.unions[t.name].variants
                                  for _, ft in sym.variant_fields.get(v.name, [])), sym)
        case MapT():  # a constant key set is finite whatever its element type
            return (None if t.keys is not None else why_not_finite(t.key, sym)) \
                or why_not_finite(t.value, sym)
        case SetT():
            return why_not_finite(t.elem, sym)
        case SeqT():
            return why_not_finite(t.elem, sym) if t.cap is not None else \
                "a sequence without a bound"
        case TupT():
            return _first_reason(t.items, sym)
    return None


def _first_reason(types: Iterable[Type], sym: Symbols) -> str | None:
    for t in types:
        why = why_not_finite(t, sym)
        if why:
            return why
    return None


def simple_finite(t: Type, sym: Symbols) -> bool:
    """A finite type of plain values (bool, an enum, model values, a range)."""
    return why_not_finite(t, sym) is None and not isinstance(
        t, (MapT, SetT, TupT, RecT, UnionT, SeqT))


def check_variables(sym: Symbols, report: Report) -> None:
    """Every state variable has a finite type."""
    for name, d in sym.vars.items():
        why = why_not_finite(sym.var_types[name], sym)
        if why:
            report.error(codes.NOT_FINITE, f"variable '{name}' needs a finite type, and {why} "
                         "is not finite (use a range such as 0..3)", d.type.pos)


def check_parameter(p: A.Param, t: Type, sym: Symbols, report: Report) -> None:
    """An action parameter (of resolved type ``t``) has a finite type."""
    why = why_not_finite(t, sym)
    if why:
        report.error(codes.NOT_FINITE, f"parameter '{p.name}' needs a finite type, and {why} "
                     "is not finite", p.type.pos)
