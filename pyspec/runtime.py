"""What compiled specs run on: small helpers, the safe namespace, and the Model class.

Generated code calls these helpers for every operation that can fail, so that a failure
names the spec position (``_POS[k]``) instead of a Python line. The namespace a compiled
spec runs in has only these names and a short list of harmless builtins: nothing in a
spec can reach ``open``, ``__import__`` or an attribute of a Python object.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import product

from pyspec.errors import ModelConfigError
from pyspec.model import (
    ActionInfo,
    Check,
    EvalError,
    Fairness,
    Model,
    Scenario,
    ScenarioStep,
    SourcePos,
    State,
    Tag,
    Temporal,
    View,
)
from pyspec.values import MapV, Rec, SeqV, SetV, TupV, Value, Variant, render

# ---- type descriptors -----------------------------------------------------------------
# Compiled modules describe their types as nested tuples (plain literals, so that the
# generated file stays self-contained and readable):
#   ("bool",) ("int", lo, hi) ("str",) ("enum", name, members) ("mv", name, members)
#   ("rec", name, ((field, T), ...)) ("union", name, ((variant, ((field, T), ...)), ...))
#   ("map", K, V) ("set", T) ("tup", (T, ...)) ("seq", T, N)
#   ("sub", name, T, members): a map's key set that is a constant set (named ``name``)
#   rather than a whole type: ``members``, values of T in order (only as a map's K)
# A sequence value is the tuple of its elements (at most N of them): no padding, so
# equal sequences are equal tuples.
TypeDesc = tuple


def describe(v: object, t: TypeDesc) -> Value:
    """A runtime value in words, following its type."""
    kind = t[0]
    if kind in ("bool", "str"):
        return v  # type: ignore[return-value]
    if kind == "int":
        return int(v)  # type: ignore[arg-type]
    if kind in ("enum", "mv"):
        return t[2][v]  # type: ignore[index]
    if kind == "sub":
        return describe(v, t[2])
    if kind == "rec":
        return Rec(tuple((f, describe(x, ft)) for (f, ft), x in zip(t[2], v)))  # type: ignore
    if kind == "union":
        name, fields = t[2][v[0]]  # type: ignore[index]
        return Variant(name, tuple((f, describe(x, ft)) for (f, ft), x in zip(fields, v[1:])))
    if kind == "map":
        keys = domain(t[1])
        return MapV(tuple((describe(k, t[1]), describe(x, t[2])) for k, x in zip(keys, v)))
    if kind == "set":
        return SetV(tuple(describe(x, t[1]) for x in sorted(v)))  # type: ignore[arg-type]
    if kind == "tup":
        return TupV(tuple(describe(x, it) for x, it in zip(v, t[1])))  # type: ignore
    if kind == "seq":
        return SeqV(tuple(describe(x, t[1]) for x in v))  # type: ignore[attr-defined]
    raise TypeError(f"unknown type descriptor {t!r}")


#: The longest bound a sequence type may have (``seq[T, N]``): its packed form has a
#: field per element.
MAX_SEQ_BOUND = 1_000

#: The most values cowspec lists of one type (a map's keys, a set type's elements, an
#: action parameter's values) or builds into one set (``lo..hi`` as a value): above it a
#: model is refused instead of exhausting memory. Membership, bounds, cardinality and
#: quantifiers over an integer range never list it and have no such limit.
MAX_DOMAIN = 1_000_000


def domain_size(t: TypeDesc) -> int:
    """How many values a finite type has, counted without listing them."""
    kind = t[0]
    if kind == "bool":
        return 2
    if kind == "int":
        return max(0, t[2] - t[1] + 1)
    if kind in ("enum", "mv"):
        return len(t[2])
    if kind == "sub":
        return len(t[3])
    if kind == "rec":
        return _product(domain_size(ft) for _, ft in t[2])
    if kind == "union":
        return sum(_product(domain_size(ft) for _, ft in fields) for _, fields in t[2])
    if kind == "map":
        keys = domain_size(t[1])
        return domain_size(t[2]) ** keys if keys <= MAX_DOMAIN else MAX_DOMAIN + 1
    if kind == "set":
        elems = domain_size(t[1])
        return 2 ** elems if elems <= MAX_DOMAIN else MAX_DOMAIN + 1
    if kind == "tup":
        return _product(domain_size(it) for it in t[1])
    if kind == "seq":
        elems, total, power = domain_size(t[1]), 0, 1
        for _ in range(t[2] + 1):
            total += power
            power *= elems
            if total > MAX_DOMAIN or power == 0:
                break
        return min(total, MAX_DOMAIN + 1)
    raise TypeError(f"no finite domain for {t!r}")


def _product(sizes: Iterable[int]) -> int:
    out = 1
    for n in sizes:
        out *= n
    return out


def type_words(t: TypeDesc) -> str:
    """A type as a spec would name it, for messages."""
    kind = t[0]
    if kind == "int":
        return f"{t[1]}..{t[2]}"
    if kind in ("enum", "mv", "rec", "union", "sub"):
        return str(t[1])
    if kind == "map":
        return f"[{type_words(t[1])} -> {type_words(t[2])}]"
    if kind == "set":
        return f"set[{type_words(t[1])}]"
    if kind == "tup":
        return "(" + ", ".join(type_words(it) for it in t[1]) + ")"
    if kind == "seq":
        return f"seq[{type_words(t[1])}, {t[2]}]"
    return kind


def domain(t: TypeDesc) -> tuple:
    """Every value of a finite type, in the type's order (the order of iteration,
    display and packing); a model error when there are more than :data:`MAX_DOMAIN`."""
    size = domain_size(t)
    if size > MAX_DOMAIN:
        raise ModelConfigError(f"the type {type_words(t)} has {_many(size)} values, more than "
                               f"the {MAX_DOMAIN:,} cowspec lists of one type")
    kind = t[0]
    if kind == "bool":
        return (False, True)
    if kind == "int":
        return tuple(range(t[1], t[2] + 1))
    if kind in ("enum", "mv"):
        return tuple(range(len(t[2])))
    if kind == "sub":
        return t[3]
    if kind == "rec":
        return tuple(product(*(domain(ft) for _, ft in t[2])))
    if kind == "union":
        out: list[tuple] = []
        for tag, (_, fields) in enumerate(t[2]):
            out.extend((tag,) + rest for rest in product(*(domain(ft) for _, ft in fields)))
        return tuple(out)
    if kind == "map":
        return tuple(product(domain(t[2]), repeat=len(domain(t[1]))))
    if kind == "set":
        elems = domain(t[1])
        return tuple(frozenset(e for i, e in enumerate(elems) if mask >> i & 1)
                     for mask in range(1 << len(elems)))
    if kind == "tup":
        return tuple(product(*(domain(it) for it in t[1])))
    if kind == "seq":  # shorter first, then in the elements' order (as the layout packs)
        elems = domain(t[1])
        return tuple(s for n in range(t[2] + 1) for s in product(elems, repeat=n))
    raise TypeError(f"no finite domain for {t!r}")


_LABELS: dict[tuple[object, TypeDesc], str] = {}


def _many(n: int) -> str:
    return f"{n:,}" if n < 10**30 else f"about 10^{len(str(n)) - 1}"


def label(v: object, t: TypeDesc) -> str:
    """A view label: the value as the spec would write it. Views are evaluated for every
    state, while a view has few distinct labels: each is rendered once."""
    key = (v, t)
    text = _LABELS.get(key)
    if text is None:
        text = _LABELS[key] = render(describe(v, t))
    return text


# ---- helpers called by generated code ------------------------------------------------
#: What an evaluation error inside a let's value says (once, however deep the lets nest).
LET_NOTE = "while evaluating the value of"


class _Positions:
    """The positions table of one compiled module, so helpers can name the spec line."""

    def __init__(self, positions: Sequence[tuple[str, int, int]]):
        self.positions = positions

    def __getitem__(self, k: int) -> SourcePos:
        return SourcePos(*self.positions[k])


def make_helpers(positions: Sequence[tuple[str, int, int]]) -> dict[str, object]:
    """The helper functions bound to one module's positions table."""
    pos = _Positions(positions)

    def _chk(v: int, lo: int, hi: int, k: int) -> int:
        if lo <= v <= hi:
            return v
        raise EvalError(f"value {v} is outside its declared range {lo}..{hi}", pos[k])

    def _key(v: int, lo: int, hi: int, k: int) -> int:
        if lo <= v <= hi:
            return v - lo
        raise EvalError(f"key {v} is not in the map's domain {lo}..{hi}", pos[k])

    def _skey(v: object, where: dict[object, int], t: TypeDesc, k: int) -> int:
        i = where.get(v)
        if i is not None:
            return i
        raise EvalError(f"key {render(describe(v, t[2]))} is not in the map's domain {t[1]}",
                        pos[k])

    def _set(t: tuple, i: int, v: object) -> tuple:
        return t[:i] + (v,) + t[i + 1:]

    def _uf(u: tuple, where: dict[int, int], names: tuple[str, ...], field: str, k: int):
        i = where.get(u[0])
        if i is None:
            raise EvalError(f"field '{field}' read from a {names[u[0]]} value, which has no "
                            "such field", pos[k])
        return u[i]

    def _uset(u: tuple, where: dict[int, int], names: tuple[str, ...], field: str, v: object,
              k: int) -> tuple:
        i = where.get(u[0])
        if i is None:
            raise EvalError(f"field '{field}' written in a {names[u[0]]} value, which has no "
                            "such field", pos[k])
        return u[:i] + (v,) + u[i + 1:]

    def _div(a: int, b: int, k: int) -> int:
        if b == 0:
            raise EvalError("division by zero", pos[k])
        return a // b

    def _mod(a: int, b: int, k: int) -> int:
        if b == 0:
            raise EvalError("modulo by zero", pos[k])
        return a % b

    def _span(lo: int, hi: int, k: int) -> frozenset:
        """``lo..hi`` as a set value, which must be built: bounded by MAX_DOMAIN."""
        if hi - lo + 1 > MAX_DOMAIN:
            raise EvalError(f"the set {lo}..{hi} has {hi - lo + 1:,} elements, more than the "
                            f"{MAX_DOMAIN:,} a set built from a range may have", pos[k])
        return frozenset(range(lo, hi + 1))

    def _min(s: frozenset, k: int):
        if not s:
            raise EvalError("min of an empty set", pos[k])
        return s[0] if isinstance(s, range) else min(s)

    def _max(s: frozenset, k: int):
        if not s:
            raise EvalError("max of an empty set", pos[k])
        return s[-1] if isinstance(s, range) else max(s)

    def _choose(candidates: Iterator, k: int):
        for v in candidates:
            return v
        raise EvalError("choose: no element of the set satisfies the condition", pos[k])

    def _deep(v: object, t: TypeDesc, k: int) -> object:
        bad = _out_of_range(v, t)
        if bad is not None:
            raise EvalError(bad, pos[k])
        return v

    def _head(s: tuple, k: int) -> object:
        if not s:
            raise EvalError("head of the empty sequence", pos[k])
        return s[0]

    def _tail(s: tuple, k: int) -> tuple:
        if not s:
            raise EvalError("tail of the empty sequence", pos[k])
        return s[1:]

    def _at(s: tuple, i: int, k: int) -> object:
        if not 1 <= i <= len(s):
            raise EvalError(f"index {i} is outside the sequence's domain 1..{len(s)}", pos[k])
        return s[i - 1]

    def _sput(s: tuple, i: int, v: object, k: int) -> tuple:
        if not 1 <= i <= len(s):
            raise EvalError(f"index {i} is outside the sequence's domain 1..{len(s)}", pos[k])
        return s[:i - 1] + (v,) + s[i:]

    def _subseq(s: tuple, m: int, n: int, k: int) -> tuple:
        if m > n:
            return ()
        if m < 1 or n > len(s):
            raise EvalError(f"subseq from {m} to {n} of a sequence of length {len(s)}", pos[k])
        return s[m - 1:n]

    def _let_failed(exc: EvalError, name: str, k: int) -> EvalError:
        """An error in a let's value, said as one: a let is evaluated where it is
        written, TLA+'s LET only where its name is used, and this is the only way the
        two can differ."""
        if LET_NOTE in exc.message:
            return exc
        where = pos[k]
        at = f"line {where.line}" if exc.pos and exc.pos.file == where.file else str(where)
        return EvalError(f"{exc.message} ({LET_NOTE} 'let {name}' at {at}: "
                         f"TLA+'s LET is evaluated only where its name is used; if this "
                         f"state does not need {name}, move the let to where it is used)",
                         exc.pos)

    def _letv(value: Callable[[], object], name: str, k: int) -> object:
        try:
            return value()
        except EvalError as exc:
            raise _let_failed(exc, name, k) from None

    return {"_chk": _chk, "_key": _key, "_skey": _skey, "_set": _set, "_uf": _uf, "_uset": _uset,
            "_div": _div, "_mod": _mod, "_min": _min, "_max": _max, "_deep": _deep,
            "_span": _span, "_choose": _choose, "_head": _head, "_tail": _tail, "_at": _at,
            "_sput": _sput, "_subseq": _subseq, "_typeok": _typeok,
            "_let_failed": _let_failed, "_letv": _letv}


def _typeok(state: tuple, types: tuple[TypeDesc, ...]) -> bool:
    """``check types on``'s invariant: every variable's value is of its declared type."""
    return all(_out_of_range(v, t) is None for v, t in zip(state, types))


def _out_of_range(v: object, t: TypeDesc) -> str | None:
    """What is wrong with the first integer inside ``v`` outside its declared range, the
    first sequence longer than its bound, or a value outside the constant set that is
    its type; else None. Called on every composite value
    a spec stores, so it builds nothing unless something is wrong."""
    kind = t[0]
    if kind == "int":
        if t[1] is not None and not t[1] <= v <= t[2]:  # type: ignore[operator]
            return f"value {v} is outside its declared range {t[1]}..{t[2]}"
    elif kind == "sub":  # a variable or parameter whose type is a constant set
        if v not in t[3]:  # type: ignore[operator]
            return f"value {render(describe(v, t[2]))} is not in {t[1]}"
    elif kind == "seq":
        if len(v) > t[2]:  # type: ignore[arg-type]
            return (f"a sequence of length {len(v)} exceeds its bound {t[2]} "  # type: ignore
                    f"(seq[{type_words(t[1])}, {t[2]}])")
        for x in v:  # type: ignore[attr-defined]
            bad = _out_of_range(x, t[1])
            if bad is not None:
                return bad
    elif kind == "rec":
        for (_, ft), x in zip(t[2], v):  # type: ignore[call-overload]
            bad = _out_of_range(x, ft)
            if bad is not None:
                return bad
    elif kind == "union":
        for (_, ft), x in zip(t[2][v[0]][1], v[1:]):  # type: ignore[index]
            bad = _out_of_range(x, ft)
            if bad is not None:
                return bad
    elif kind in ("map", "set"):
        et = t[2] if kind == "map" else t[1]
        for x in v:  # type: ignore[attr-defined]
            bad = _out_of_range(x, et)
            if bad is not None:
                return bad
    elif kind == "tup":
        for x, it in zip(v, t[1]):  # type: ignore[call-overload]
            bad = _out_of_range(x, it)
            if bad is not None:
                return bad
    return None


SAFE_BUILTINS = {
    "all": all, "any": any, "sum": sum, "len": len, "min": min, "max": max, "abs": abs,
    "sorted": sorted, "frozenset": frozenset, "tuple": tuple, "range": range, "True": True,
    "False": False, "None": None,
}


# ---- the model a compiled spec builds ------------------------------------------------
class CompiledModel(Model):
    """A model whose behaviour is generated code and whose words are its metadata."""

    def __init__(self, *, name: str, spec_file: str, code_file: str,
                 positions: Sequence[tuple[str, int, int]], srcmap: Sequence[int],
                 variables: tuple[str, ...], var_types: tuple[TypeDesc, ...],
                 constants: dict[str, Value], actions: tuple[ActionInfo, ...],
                 param_types: tuple[tuple[TypeDesc, ...], ...],
                 init: Callable[[], list[State]], successors: Callable[[State], list],
                 checks: tuple[Check, ...], views: tuple[View, ...],
                 scenarios: tuple[Scenario, ...], expect_violated: frozenset[str],
                 check_deadlock: bool, symmetric: tuple[str, ...] = (),
                 temporal: tuple[Temporal, ...] = (), fairness: tuple[Fairness, ...] = ()):
        self.name = name
        self.spec_file = spec_file
        self.code_file = code_file
        self._positions = positions
        self._srcmap = srcmap
        self.variables = variables
        self.var_types = var_types
        self.constants = constants
        self.actions = actions
        self.param_types = param_types
        self._init = init
        self.successors = successors  # type: ignore[method-assign]
        self.invariants = tuple(c for c in checks if c.kind == "invariant")
        self.action_properties = tuple(c for c in checks if c.kind == "property")
        self.reachables = tuple(c for c in checks if c.kind == "reachable")
        self.constraints = tuple(c for c in checks if c.kind == "constraint")
        self.views = views
        self.scenarios = scenarios
        self.expect_violated = expect_violated
        self.check_deadlock = check_deadlock
        self.symmetric = symmetric
        self.temporal = temporal
        self.fairness = fairness

    def initial_states(self) -> list[State]:
        return self._init()

    def describe_state(self, state: State) -> dict[str, Value]:
        return {n: describe(v, t) for n, v, t in zip(self.variables, state, self.var_types)}

    def describe_params(self, action: int, params: tuple) -> tuple[Value, ...]:
        return tuple(describe(v, t) for v, t in zip(params, self.param_types[action]))

    def explain_error(self, exc: BaseException) -> EvalError:
        if isinstance(exc, EvalError):
            return exc
        where: SourcePos | None = None
        for frame, lineno in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == self.code_file and 0 < lineno <= len(self._srcmap):
                k = self._srcmap[lineno - 1]
                if k >= 0:
                    where = SourcePos(*self._positions[k])
        if isinstance(exc, RecursionError):
            message = "evaluation nested too deeply"
        elif isinstance(exc, MemoryError):
            message = "evaluation ran out of memory (a set or map too large to build)"
        else:
            message = f"{type(exc).__name__}: {exc}"
        return EvalError(message, where)


__all__ = [
    "ActionInfo", "Check", "CompiledModel", "EvalError", "Fairness", "Temporal", "MapV",
    "ModelConfigError", "Rec",
    "Scenario",
    "ScenarioStep", "SeqV", "SetV", "SourcePos", "Tag", "TupV", "Variant", "View", "label",
    "make_helpers",
]
