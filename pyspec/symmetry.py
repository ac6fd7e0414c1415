"""Symmetry reduction: states equal up to renaming the members of a ``symmetric`` set.

A set of model values declared ``symmetric`` (``const Procs = symmetric {P0, P1}``) says
that permuting its members maps behaviours to behaviours with the same verdicts. The
search then stores one state per orbit: the **canonical** state, the permutation of a
state whose packed words (:mod:`pyspec.layout`) are smallest. Permutations act on values
through their type descriptors: a model value of the set is renamed, a map keyed by the
set has its entries moved, a set of values containing the set's members has its elements
renamed, recursively through records, unions and tuples. :class:`Symmetry` does it for one
state (the scalar engine, and traces) and for a batch of packed states (the array engine).

:func:`warnings` finds what does not mix with symmetry: a property, action or scenario
that names one member of a symmetric set, or orders its members (``<``, ``min``).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import permutations as orderings
from itertools import product

import numpy as np

from pyspec import ast as A
from pyspec.analysis import walk
from pyspec.checked import Builtin, Checked, ModelValue
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
from pyspec.model import Model
from pyspec.runtime import TypeDesc, domain
from pyspec.types import MVT, SetT

#: A permutation: per symmetric set, the new index of each member.
Perm = dict[str, tuple[int, ...]]
#: A leaf-value table larger than this is not built (the array canonicaliser gives up).
MAX_TABLE = 2**16


def permutations(sets: dict[str, int]) -> list[Perm]:
    """Every permutation of the members of the given sets (name -> member count), the
    identity first."""
    names = sorted(sets)
    return [dict(zip(names, choice))
            for choice in product(*(list(orderings(range(sets[n]))) for n in names))]


def involved(t: TypeDesc, perm: Perm) -> bool:
    """Whether values of type ``t`` can change under ``perm``."""
    kind = t[0]
    if kind == "mv":
        return t[1] in perm
    if kind in ("bool", "int", "enum", "str", "seq", "sub"):
        return False  # no set with members in a sequence or a key set is permuted
        # (symmetric_sets)
    if kind == "set":
        return involved(t[1], perm)
    if kind == "map":
        return involved(t[1], perm) or involved(t[2], perm)
    if kind == "union":
        return any(involved(ft, perm) for _, fields in t[2] for _, ft in fields)
    return any(involved(it, perm) for it in items(t))


def apply(v: object, t: TypeDesc, perm: Perm) -> object:
    """Value ``v`` of type ``t`` with the members of the permuted sets renamed."""
    kind = t[0]
    if kind == "mv":
        return perm[t[1]][v] if t[1] in perm else v  # type: ignore[index]
    if kind in ("bool", "int", "enum", "str") or not involved(t, perm):
        return v
    if kind == "set":
        return frozenset(apply(e, t[1], perm) for e in v)  # type: ignore[attr-defined]
    if kind == "union":
        fields = t[2][v[0]][1]  # type: ignore[index]
        return (v[0],) + tuple(apply(x, ft, perm) for x, (_, ft) in zip(v[1:], fields))  # type: ignore
    moved = tuple(apply(x, it, perm) for x, it in zip(v, items(t)))  # type: ignore[call-overload]
    if kind == "map" and involved(t[1], perm):
        out: list[object] = [None] * len(moved)
        for i, new in enumerate(key_moves(t[1], perm)):
            out[new] = moved[i]
        return tuple(out)
    return moved


def key_moves(key: TypeDesc, perm: Perm) -> list[int]:
    """Where each key of a map moves: the position of its permuted key."""
    return [index_of(apply(k, key, perm), key) for k in domain(key)]


def symmetric_sets(model: Model, wanted: bool | None) -> dict[str, int]:
    """The symmetric sets a search permutes (name -> member count): the model's own
    unless ``wanted`` is False, and only those its state mentions."""
    if wanted is False:
        return {}
    declared = set(model.symmetric)
    found: dict[str, int] = {}
    #: Sets with members inside a sequence (a sequence's padding is its element type's
    #: first value, which a renaming would move) or a map's constant key set (which a
    #: renaming need not map onto itself): these sets are not permuted.
    in_seqs: set[str] = set()

    def visit(t: TypeDesc, in_seq: bool = False) -> None:
        if t[0] == "mv" and t[1] in declared:
            found[t[1]] = len(t[2])
            if in_seq:
                in_seqs.add(t[1])
        elif t[0] == "seq":
            visit(t[1], True)
        elif t[0] == "sub":  # a constant key set need not be closed under renaming
            visit(t[2], True)
        elif t[0] in ("set",):
            visit(t[1], in_seq)
        elif t[0] == "map":
            visit(t[1], in_seq)
            visit(t[2], in_seq)
        elif t[0] == "union":
            for _, fields in t[2]:
                for _, ft in fields:
                    visit(ft, in_seq)
        elif t[0] in ("rec", "tup"):
            for it in items(t):
                visit(it, in_seq)

    for t in model.var_types or ():
        visit(t)
    return {name: n for name, n in found.items() if name not in in_seqs}


class Symmetry:
    """Canonical states of one model: one state (the scalar engine, traces) or a batch of
    packed states (the array engine).

    Per permutation there is a *plan*: each leaf of the permuted state is some leaf of
    the state (maps keyed by a symmetric set move their entries), its code renamed
    through a table (a model value, a union holding one); a set's parts have their
    element bits moved. The canonical state is the permutation with the smallest words.
    """

    def __init__(self, var_types: tuple[TypeDesc, ...], sets: dict[str, int]) -> None:
        self.var_types = var_types
        self.sets = tuple(sorted(sets))
        self.layout = Layout(var_types)
        self.perms = permutations(sets)
        self.plans = [list(self._plan_state(perm)) for perm in self.perms[1:]]
        #: The plans with plain lists for tables, for one state at a time.
        self._lists = [[("leaf", e[1], None if e[2] is None else e[2].tolist())
                        if e[0] == "leaf" else e for e in plan] for plan in self.plans]

    def _plan_state(self, perm: Perm) -> Iterator[tuple]:
        first = 0
        for t in self.var_types:
            yield from self._plan(t, first, perm)
            first += leaf_count(t)

    def _plan(self, t: TypeDesc, first: int, perm: Perm) -> Iterator[tuple]:
        """Per output leaf (in order): ``("leaf", source leaf, table or None)``; per set:
        ``("set", first source leaf, element moves or None, parts)``."""
        kind = t[0]
        if kind in ("rec", "tup", "map"):
            children = items(t)
            starts = []
            for it in children:
                starts.append(first)
                first += leaf_count(it)
            order = list(range(len(children)))
            if kind == "map" and involved(t[1], perm):
                for i, new in enumerate(key_moves(t[1], perm)):
                    order[new] = i
            for q in order:
                yield from self._plan(children[q], starts[q], perm)
        elif kind == "seq":  # never involved (symmetric_sets): every leaf stays
            for j in range(leaf_count(t)):
                yield ("leaf", first + j, None)
        elif kind == "set":
            moves = None
            if involved(t[1], perm):
                moves = [index_of(apply(e, t[1], perm), t[1]) for e in domain(t[1])]
            yield ("set", first, moves, parts(t))
        else:
            table = None
            if involved(t, perm):
                n = size(t)
                if n > MAX_TABLE:
                    raise ValueError(f"a value with {n} possibilities to rename")
                table = np.array([index_of(apply(value_at(i, t), t, perm), t)
                                  for i in range(n)], dtype=np.int64)
            yield ("leaf", first, table)

    # -- one state ------------------------------------------------------------------

    def permute(self, state: tuple, perm: Perm) -> tuple:
        return tuple(apply(v, t, perm) for v, t in zip(state, self.var_types))

    def canonical(self, state: tuple) -> tuple:
        """The permutation of ``state`` with the smallest packed words."""
        codes = [c for v, t in zip(state, self.var_types) for c in leaf_codes(v, t)]
        best = best_words = self._pack(codes)
        for plan in self._lists:
            words = self._pack(_permuted(codes, plan, 0))
            if words < best_words:
                best_words = words
        return state if best_words is best else self.layout.decode(best_words)

    def _pack(self, codes: list[int]) -> tuple[int, ...]:
        words = [0] * self.layout.words
        for leaf, code in zip(self.layout.leaves, codes):
            words[leaf.word] |= code << leaf.shift
        return tuple(words)

    # -- a batch --------------------------------------------------------------------

    def canonical_words(self, words: list[np.ndarray]) -> list[np.ndarray]:
        """The smallest permutation of each packed state of a batch."""
        n = len(words[0])
        if not self.plans or not n:
            return words
        leaves = self.layout.leaves
        codes = [((words[lf.word] >> np.uint64(lf.shift)) & np.uint64((1 << lf.bits) - 1))
                 .astype(np.int64) for lf in leaves]
        best = list(words)
        for plan in self.plans:
            other = [np.zeros(n, dtype=np.uint64) for _ in words]
            for lf, code in zip(leaves, _permuted(codes, plan, np.zeros(n, dtype=np.int64))):
                other[lf.word] |= code.astype(np.uint64) << np.uint64(lf.shift)
            smaller = np.zeros(n, dtype=bool)
            same = np.ones(n, dtype=bool)
            for w, b in zip(other, best):
                smaller |= same & (w < b)
                same &= w == b
            best = [np.where(smaller, w, b) for w, b in zip(other, best)]
        return best


def _permuted(codes: list, plan: list[tuple], zero: object) -> list:
    """The leaf codes of a permuted state (ints, or arrays of a batch)."""
    out: list = []
    for entry in plan:
        if entry[0] == "leaf":
            _, src, table = entry[:3]
            out.append(codes[src] if table is None else table[codes[src]])
            continue
        _, src, moves, k = entry
        old = codes[src:src + k]
        if moves is None:
            out.extend(old)
            continue
        new = [zero] * k
        for i, j in enumerate(moves):
            bit = (old[i // PART_BITS] >> (i % PART_BITS)) & 1
            new[j // PART_BITS] = new[j // PART_BITS] | (bit << (j % PART_BITS))
        out.extend(new)
    return out


def warnings(checked: Checked, sets: tuple[str, ...]) -> list[str]:
    """Where the spec singles out a member of a symmetric set or orders the members: the
    results under symmetry reduction may then be wrong."""
    out: list[str] = []
    sym = checked.symbols
    decls: list[tuple[str, object]] = [("init", sym.init)] if sym.init else []
    decls += [(f"action {n}", d) for n, d in sym.actions.items()]
    decls += [(f"def {n}", d) for n, d in sym.defs.items()]
    decls += [(f"{d.kind} {n}", d) for n, d in sym.checks.items()]
    decls += [(f"scenario {n}", d) for n, d in sym.scenarios.items()]
    for what, decl in decls:
        named = sorted({ref.name for n in walk(decl) if isinstance(n, A.Name)
                        for ref in [checked.names.get(n)]
                        if isinstance(ref, ModelValue) and ref.set in sets})
        if named:
            out.append(f"symmetry: {what} names {', '.join(named)} of a symmetric set; "
                       "its verdict may be wrong under symmetry reduction")
        if any(_orders(n, checked, sets) for n in walk(decl)):
            out.append(f"symmetry: {what} orders the members of a symmetric set (<, min, "
                       "max); its verdict may be wrong under symmetry reduction")
    return out


def _orders(n: object, checked: Checked, sets: tuple[str, ...]) -> bool:
    if isinstance(n, A.BinOp) and n.op in ("<", "<=", ">", ">="):
        t = checked.types.get(n.left)
        return isinstance(t, MVT) and t.name in sets
    if isinstance(n, A.Call) and checked.calls.get(n) in (Builtin("min"), Builtin("max")):
        t = checked.types.get(n.args[0].value)
        return isinstance(t, SetT) and isinstance(t.elem, MVT) and t.elem.name in sets
    return False
