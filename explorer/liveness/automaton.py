"""The Büchi automaton of each temporal form's negation.

A property holds when no fair behaviour of the spec satisfies its negation. Each form
the language accepts (:mod:`pyspec.passes.temporal`) has a fixed, tiny automaton for its
negation, written out here instead of built by a general tableau: with at most two
states each, the product with the state graph stays as small as the graph times two,
and each automaton can be read and checked by eye.

Conventions: automaton state 0 is initial; a transition ``(q, q2, guard)`` is taken on a
step of the behaviour, and its guard reads that step's :class:`Letters`: the state
predicates at the step's target, and for the ``step`` forms whether the step is one of
the property's actions that changes the state (TLA+'s ``<<S>>_vars``) and whether it
changes the state at all. The behaviour's first state is entered by a virtual step that
changes nothing and is no action's (the product's initial nodes are ``(s0, q2)`` for
every transition out of 0 whose guard holds on it). A behaviour is accepted when it
visits an accepting state infinitely often.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Letters:
    """What guards read, one value per step: ``p`` and ``q``, the state predicates at
    the step's target (None when the form has none); ``step``, whether some action the
    property's ``step`` names goes from the step's source to its target (None without a
    ``step``); ``moving``, whether the step changes the state."""

    p: np.ndarray | None
    q: np.ndarray | None
    step: np.ndarray | None
    moving: np.ndarray


Guard = Callable[[Letters], np.ndarray]


def _true(x: Letters) -> np.ndarray:
    return np.ones(len(x.moving), dtype=bool)


def _not_p(x: Letters) -> np.ndarray:
    return ~x.p  # type: ignore[operator]


def _p(x: Letters) -> np.ndarray:
    return x.p  # type: ignore[return-value]


def _not_q(x: Letters) -> np.ndarray:
    return ~x.q  # type: ignore[operator]


def _p_not_q(x: Letters) -> np.ndarray:
    return x.p & ~x.q  # type: ignore[operator]


def _not_angle(x: Letters) -> np.ndarray:
    """Not ``<<S>>_vars``: a step of none of S, or one that leaves the state as it is."""
    return ~(x.step & x.moving)  # type: ignore[operator]


def _not_square(x: Letters) -> np.ndarray:
    """Not ``[S]_vars``: a step that changes the state and is none of S's."""
    return x.moving & ~x.step  # type: ignore[operator]


@dataclass(frozen=True)
class Automaton:
    """A Büchi automaton over steps; see the module doc."""

    states: int
    transitions: tuple[tuple[int, int, Guard], ...]
    accepting: frozenset[int]
    #: What an accepted behaviour does, for the verdict's message ({S}: the step's actions).
    meaning: str


#: Per form, the automaton of its negation. S: the actions of the property's ``step``.
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
    # not <><<S>>_vars  =  [][~S]_vars: no step is an S step that changes the state
    "eventually_step": Automaton(1, ((0, 0, _not_angle),), frozenset({0}),
                                 "no step of {S} is ever taken"),
    # not [][S]_vars  =  <><<~S>>_vars: some step changes the state and is not S's
    "always_step": Automaton(2, ((0, 0, _true), (0, 1, _not_square), (1, 1, _true)),
                             frozenset({1}), "a step that is none of {S} changes the state"),
    # not []<><<S>>_vars  =  <>[][~S]_vars: from some point on no S step
    "always_eventually_step": Automaton(
        2, ((0, 0, _true), (0, 1, _true), (1, 1, _not_angle)), frozenset({1}),
        "from some point on no step of {S} is taken"),
    # not <>[][S]_vars  =  []<><<~S>>_vars: steps that are not S's, again and again
    "eventually_always_step": Automaton(
        2, ((0, 0, _true), (0, 1, _not_square), (1, 0, _true), (1, 1, _not_square)),
        frozenset({1}), "steps that are none of {S} change the state again and again"),
    # not (P leads_to <<S>>_vars)  =  eventually (P and [][~S]_vars)
    "leads_to_step": Automaton(2, ((0, 0, _true), (0, 1, _p), (1, 1, _not_angle)),
                               frozenset({1}), "P holds and no step of {S} follows"),
}


def arity(form: str) -> int:
    """How many state predicates a form has (P, Q)."""
    if form == "leads_to":
        return 2
    if form == "leads_to_step" or not form.endswith("_step"):
        return 1
    return 0
