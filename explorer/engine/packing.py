"""Packing a scalar state into its layout words fast: the scalar engine's ``--fingerprint``.

:meth:`pyspec.layout.Layout.encode` walks a state's type tree leaf by leaf with generators:
right, but on the kernel models it costs several times what a ``marshal`` of the state
does. The scalar engine keys every generated successor by its packed words (the one
fingerprint function of :mod:`explorer.engine.fingerprint`), so it gets a packer made for
its layout: one straight-line Python function, generated from the types alone (item
indices, shifts and offsets; no name or value of the spec appears in its text), that reads
each leaf, turns it into its code (:func:`pyspec.layout.index_of`) and ors it into its word.
A set's mask is summed from a table of each element's bit, a union's code looked up in a
table of its values (up to :data:`MAX_TABLE` of them).
"""

from __future__ import annotations

from collections.abc import Callable

from pyspec.layout import (
    PART_BITS,
    Layout,
    index_of,
    items,
    leaf_codes,
    leaf_count,
    parts,
    size,
    value_at,
)
from pyspec.runtime import TypeDesc

#: A set whose element type, or a union type, has more values than this is coded by
#: :func:`~pyspec.layout.index_of` instead of a table.
MAX_TABLE = 4096

Packer = Callable[[tuple], tuple[int, ...]]


class _Source:
    """The lines of the packer being generated and the tables it reads."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.tables: dict[str, object] = {}
        self.codes: list[str] = []

    def table(self, value: object) -> str:
        name = f"T{len(self.tables)}"
        self.tables[name] = value
        return name

    def leaves(self, expr: str, t: TypeDesc) -> None:
        """The code expressions of the leaves of the value ``expr`` of type ``t``."""
        kind = t[0]
        if kind in ("rec", "tup", "map"):
            local = f"x{len(self.lines)}"
            self.lines.append(f"    {local} = {expr}")
            for i, it in enumerate(items(t)):
                self.leaves(f"{local}[{i}]", it)
        elif kind == "set":
            mask = f"m{len(self.lines)}"
            n = size(t[1])
            if n <= MAX_TABLE:
                bits = self.table({value_at(i, t[1]): 1 << i for i in range(n)})
                self.lines.append(f"    {mask} = sum(map({bits}.__getitem__, {expr}))")
            else:
                index = self.table(lambda e, et=t[1]: index_of(e, et))
                self.lines.append(f"    {mask} = sum(1 << {index}(e) for e in {expr})")
            for j in range(parts(t)):
                self.codes.append(f"({mask} >> {j * PART_BITS} & {(1 << PART_BITS) - 1})")
        elif kind == "seq":  # its length, then N slots: the layout's own walk pads them
            local = f"q{len(self.lines)}"
            codes = self.table(lambda v, st=t: tuple(leaf_codes(v, st)))
            self.lines.append(f"    {local} = {codes}({expr})")
            for k in range(leaf_count(t)):
                self.codes.append(f"{local}[{k}]")
        elif kind == "bool":
            self.codes.append(f"(1 if {expr} else 0)")
        elif kind == "int":
            self.codes.append(f"({expr} - {t[1]})")
        elif kind in ("enum", "mv"):
            self.codes.append(expr)
        elif size(t) <= MAX_TABLE:  # a union
            codes = self.table({value_at(i, t): i for i in range(size(t))})
            self.codes.append(f"{codes}[{expr}]")
        else:
            index = self.table(lambda v, ut=t: index_of(v, ut))
            self.codes.append(f"{index}({expr})")


def packer(layout: Layout) -> Packer:
    """A function equal to ``layout.encode``, generated for ``layout``."""
    src = _Source()
    for i, t in enumerate(layout.var_types):
        src.leaves(f"s[{i}]", t)
    words: list[list[str]] = [[] for _ in range(layout.words)]
    for leaf, code in zip(layout.leaves, src.codes, strict=True):
        words[leaf.word].append(f"{code} << {leaf.shift}" if leaf.shift else code)
    body = ", ".join(" | ".join(w) if w else "0" for w in words)
    text = "\n".join(["def pack(s):", *src.lines, f"    return ({body},)", ""])
    namespace: dict[str, object] = dict(src.tables)
    exec(compile(text, "<layout packer>", "exec"), namespace)  # noqa: S102 - our own code
    return namespace["pack"]  # type: ignore[return-value]
