"""Described values: how a model shows its states to the outside world.

A model stores states in whatever form is fastest for it (compiled specs use nested
tuples of small ints). Reports, traces, diagrams and JSON need names instead, so every
model describes a state as a mapping from variable name to a *described value*, built
only from the types below. The explorer renders these to text, JSON and ITF, and
flattens them into leaf paths to show what changed between two states; it never looks
at the model's raw state.

Plain Python ``bool``, ``int`` and ``str`` are described values too: ``str`` is the
name of a model value or enum constant, or a string literal.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rec:
    """A record: named fields in declaration order."""

    fields: tuple[tuple[str, Value], ...]


@dataclass(frozen=True)
class Variant:
    """A value of a tagged union: the variant's name and its fields (maybe none)."""

    tag: str
    fields: tuple[tuple[str, Value], ...] = ()


@dataclass(frozen=True)
class MapV:
    """A finite map, items in the key type's order."""

    items: tuple[tuple[Value, Value], ...]


@dataclass(frozen=True)
class SetV:
    """A finite set, elements in the element type's order."""

    items: tuple[Value, ...]


@dataclass(frozen=True)
class TupV:
    """A tuple."""

    items: tuple[Value, ...]


@dataclass(frozen=True)
class SeqV:
    """A sequence: its elements in order (no padding: a bounded sequence shows only
    the elements it has)."""

    items: tuple[Value, ...]


Value = bool | int | str | Rec | Variant | MapV | SetV | TupV | SeqV


def render(v: Value) -> str:
    """One-line text form, as a reader of the spec would write the value."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, str)):
        return str(v)
    if isinstance(v, Rec):
        return "{" + ", ".join(f"{k}: {render(x)}" for k, x in v.fields) + "}"
    if isinstance(v, Variant):
        if not v.fields:
            return v.tag
        return v.tag + "(" + ", ".join(render(x) for _, x in v.fields) + ")"
    if isinstance(v, MapV):
        return "[" + ", ".join(f"{render(k)} -> {render(x)}" for k, x in v.items) + "]"
    if isinstance(v, SetV):
        return "{" + ", ".join(render(x) for x in v.items) + "}"
    if isinstance(v, TupV):
        return "(" + ", ".join(render(x) for x in v.items) + ")"
    if isinstance(v, SeqV):
        return "<<" + ", ".join(render(x) for x in v.items) + ">>"
    raise TypeError(f"not a described value: {v!r}")


def flatten(name: str, v: Value) -> list[tuple[str, str]]:
    """Leaf paths of a value, e.g. ``pte[P0][A0]`` or ``page[F1].ae``, with their text.

    Maps and records are opened up; variants, sets and tuples are leaves, because a
    reader thinks of ``Present(F0, true)`` as one thing.
    """
    if isinstance(v, MapV):
        out: list[tuple[str, str]] = []
        for k, x in v.items:
            out.extend(flatten(f"{name}[{render(k)}]", x))
        return out
    if isinstance(v, Rec):
        out = []
        for k, x in v.fields:
            out.extend(flatten(f"{name}.{k}", x))
        return out
    return [(name, render(v))]


def to_json(v: Value) -> object:
    """Plain JSON: records and variants as objects, maps as lists of pairs, sets as lists."""
    if isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, Rec):
        return {k: to_json(x) for k, x in v.fields}
    if isinstance(v, Variant):
        return {"tag": v.tag, **{k: to_json(x) for k, x in v.fields}}
    if isinstance(v, MapV):
        return [[to_json(k), to_json(x)] for k, x in v.items]
    if isinstance(v, (SetV, TupV, SeqV)):
        return [to_json(x) for x in v.items]
    raise TypeError(f"not a described value: {v!r}")


def to_itf(v: Value) -> object:
    """The ITF trace format of Apalache (ADR-015): tagged sets, maps and tuples; every
    integer, small or big, as ``{"#bigint": "..."}`` as the ADR's current revision says."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return {"#bigint": str(v)}
    if isinstance(v, str):
        return v
    if isinstance(v, Rec):
        return {k: to_itf(x) for k, x in v.fields}
    if isinstance(v, Variant):
        value = {k: to_itf(x) for k, x in v.fields} if v.fields else {"#tup": []}
        return {"tag": v.tag, "value": value}
    if isinstance(v, MapV):
        return {"#map": [[to_itf(k), to_itf(x)] for k, x in v.items]}
    if isinstance(v, SetV):
        return {"#set": [to_itf(x) for x in v.items]}
    if isinstance(v, TupV):
        return {"#tup": [to_itf(x) for x in v.items]}
    if isinstance(v, SeqV):  # ADR-015: a TLA+ sequence is a plain JSON array
        return [to_itf(x) for x in v.items]
    raise TypeError(f"not a described value: {v!r}")
