"""The Büchi automaton of each temporal form's negation.

A property holds when no fair behaviour of the spec satisfies its negation. Each form
the language accepts (:mod:`pyspec.passes.temporal`) has a fixed, tiny automaton for its
negation, written out here instead of built by a general tableau: with at most two
states each, the product with the state graph stays as small as the graph times two,
and each automaton can be read and checked by eye.

Conventions: automaton state 0 is initial; a transition ``(q, q2, guard)`` is taken
into a graph state where ``guard`` holds, the first one included (the product's initial
nodes are ``(s0, q2)`` for every transition out of 0 whose guard holds at ``s0``). A
behaviour is accepted when it visits an accepting state infinitely often. Guards are
functions of the property's predicate arrays ``P`` (and ``Q``), one value per state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Guard = Callable[[list[np.ndarray]], np.ndarray]


def _true(atoms: list[np.ndarray]) -> np.ndarray:
    return np.ones(len(atoms[0]), dtype=bool)


def _not_p(atoms: list[np.ndarray]) -> np.ndarray:
    return ~atoms[0]


def _not_q(atoms: list[np.ndarray]) -> np.ndarray:
    return ~atoms[1]


def _p_not_q(atoms: list[np.ndarray]) -> np.ndarray:
    return atoms[0] & ~atoms[1]


@dataclass(frozen=True)
class Automaton:
    """A Büchi automaton over state predicates; see the module doc."""

    states: int
    transitions: tuple[tuple[int, int, Guard], ...]
    accepting: frozenset[int]
    #: What an accepted behaviour does, for the verdict's message.
    meaning: str


#: Per form, the automaton of its negation.
NEGATIONS: dict[str, Automaton] = {
    # not eventually P  =  always not P
    "eventually": Automaton(1, ((0, 0, _not_p),), frozenset({0}),
                            "P never holds"),
    # not always P  =  eventually not P (then any fair continuation)
    "always": Automaton(2, ((0, 0, _true), (0, 1, _not_p), (1, 1, _true)), frozenset({1}),
                        "P stops holding"),
    # not always eventually P  =  eventually always not P
    "always_eventually": Automaton(2, ((0, 0, _true), (0, 1, _not_p), (1, 1, _not_p)),
                                   frozenset({1}), "from some point on P never holds"),
    # not eventually always P  =  always eventually not P
    "eventually_always": Automaton(
        2, ((0, 0, _true), (0, 1, _not_p), (1, 0, _true), (1, 1, _not_p)), frozenset({1}),
        "P fails again and again"),
    # not (P leads_to Q)  =  eventually (P and not Q and always not Q)
    "leads_to": Automaton(2, ((0, 0, _true), (0, 1, _p_not_q), (1, 1, _not_q)),
                          frozenset({1}), "P holds and Q never holds from then on"),
}
