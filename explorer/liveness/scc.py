"""Fair accepting cycles in the product of the state graph with a property's automaton.

The product's nodes are ``state * A + q`` (A automaton states); its edges are the graph's
transitions plus one stuttering self-loop per state (TLA+: any behaviour may stutter,
and a state without successors, a deadlock under ``check deadlock off``, can only
stutter), each kept for every automaton transition whose guard holds at the target.

A counterexample is a reachable strongly connected component that has an edge, an
accepting node, and satisfies every fairness constraint (TLC's rules, per component):

- weak (``WF``): the constraint's actions are *taken* on some edge inside the component,
  or are *disabled* in some state of it (a cycle through that state is not continuously
  enabled);
- strong (``SF``): taken inside, or disabled in every state of it; otherwise the states
  where it is enabled are removed and the rest is decomposed again (Emerson-Lei), since a
  fair cycle may still live in what remains.

"Taken" and "enabled" count only steps that change the state (``<<A>>_vars``); a
successor outside a state constraint still makes its action enabled. Components are
computed by scipy's compiled strong-components routine over the edge arrays, so the
check scales with the engines' graphs; only the components it picks are walked in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components

from explorer.liveness.automaton import Automaton
from explorer.liveness.graph import StateGraph
from pyspec.model import Model

#: The label of a stuttering step.
STUTTER = -1


@dataclass(frozen=True)
class Constraint:
    """One fairness constraint, resolved on the graph: which graph edges take it, in
    which states it is enabled."""

    strong: bool
    takes: np.ndarray
    enabled: np.ndarray
    text: str


@dataclass
class Product:
    """The product graph: edges sorted by source, each with its graph edge (or
    :data:`STUTTER`), the BFS order from the initial nodes and the BFS tree."""

    size: int
    automaton: int
    src: np.ndarray
    dst: np.ndarray
    label: np.ndarray
    indptr: np.ndarray
    accepting: np.ndarray
    reached: np.ndarray
    order_rank: np.ndarray
    parent: np.ndarray


def constraints(model: Model, graph: StateGraph) -> list[Constraint]:
    """The model's fairness lines as constraints on the graph (``each``: one per
    parameter binding of the action that occurs in the graph)."""
    out: list[Constraint] = []
    moving = graph.dst != graph.src
    for f in model.fairness:
        if f.each:
            groups = [[k] for k, (a, _) in enumerate(graph.instances) if a in f.actions]
        else:
            groups = [[k for k, (a, _) in enumerate(graph.instances) if a in f.actions]]
        for group in groups:
            takes = moving & np.isin(graph.inst, np.array(group, dtype=np.int32))
            enabled = np.zeros(graph.n, dtype=bool)
            enabled[graph.src[takes]] = True
            if f.each:
                a, params = graph.instances[group[0]]
                text = f"{f.text(model)} ({model.action_label(a, params)})"
            else:
                text = f.text(model)
            out.append(Constraint(f.strong, takes, enabled, text))
    return out


def product(graph: StateGraph, aut: Automaton, atoms: list[np.ndarray]) -> Product:
    """The product graph, its accepting nodes and what is reachable from its initial
    nodes (a virtual source, breadth first)."""
    n, k = graph.n, aut.states
    # Node and edge numbers in 32 bits while they fit: the product is the check's
    # largest structure (its edges times three arrays).
    index = np.int32 if max(n * k, len(graph.src) + n) < 2**31 - 1 else np.int64
    stored = graph.dst >= 0
    gsrc = np.concatenate([graph.src[stored], np.arange(n)]).astype(index)
    gdst = np.concatenate([graph.dst[stored], np.arange(n)]).astype(index)
    glab = np.concatenate([np.flatnonzero(stored), np.full(n, STUTTER)]).astype(index)
    srcs, dsts, labs = [], [], []
    for q, q2, guard in aut.transitions:
        ok = guard(atoms)
        m = ok[gdst]
        srcs.append(gsrc[m] * index(k) + index(q))
        dsts.append(gdst[m] * index(k) + index(q2))
        labs.append(glab[m])
    src, dst, lab = np.concatenate(srcs), np.concatenate(dsts), np.concatenate(labs)
    order = np.argsort(src, kind="stable")
    src, dst, lab = src[order], dst[order], lab[order]
    size = n * k
    indptr = np.searchsorted(src, np.arange(size + 1, dtype=index))
    # Initial nodes: transitions out of automaton state 0 into the initial states.
    init = []
    for q, q2, guard in aut.transitions:
        if q == 0:
            ok = guard(atoms)
            init.append((graph.initial[ok[graph.initial]] * k + q2).astype(index))
    starts = np.unique(np.concatenate(init)) if init else np.zeros(0, dtype=index)
    virtual = size
    rows = np.concatenate([src, np.full(len(starts), virtual, dtype=index)])
    cols = np.concatenate([dst, starts])
    mat = csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)),
                     shape=(size + 1, size + 1))
    bfs, pred = breadth_first_order(mat, virtual, directed=True, return_predecessors=True)
    reached = np.zeros(size + 1, dtype=bool)
    reached[bfs] = True
    reached = reached[:size]
    rank = np.full(size, np.iinfo(np.int64).max, dtype=np.int64)
    rank[bfs[1:]] = np.arange(1, len(bfs))
    accepting = np.zeros(size, dtype=bool)
    for q in aut.accepting:
        accepting[q::k] = True
    return Product(size, k, src, dst, lab, indptr, accepting, reached, rank, pred[:size])


def fair_component(p: Product, cons: list[Constraint], inside: np.ndarray
                   ) -> tuple[np.ndarray, list[tuple[str, int]]] | None:
    """A fair accepting component among the product nodes ``inside`` (the one closest to
    the initial nodes among those fair as they are), with what its cycle must visit:
    ``("edge", product edge)`` or ``("node", product node)``; None when there is none.
    Every component is judged at once, with array operations; components that fail
    only strong constraints are decomposed again without the states where those are
    enabled."""
    internal = np.flatnonzero(inside[p.src] & inside[p.dst])
    mat = csr_matrix((np.ones(len(internal), dtype=np.int8),
                      (p.src[internal], p.dst[internal])), shape=(p.size, p.size))
    _, comp = connected_components(mat, directed=True, connection="strong")
    comp = np.where(inside, comp, -1)
    edges = internal[comp[p.src[internal]] == comp[p.dst[internal]]]
    ncomp = int(comp.max()) + 1 if len(comp) else 0
    ecomp = comp[p.src[edges]]
    nodes = np.flatnonzero(inside)
    ncomp_of = comp[nodes]
    states = nodes // p.automaton

    def per_comp(mask_nodes: np.ndarray) -> np.ndarray:
        return np.bincount(ncomp_of[mask_nodes], minlength=ncomp) > 0

    ok = (np.bincount(ecomp, minlength=ncomp) > 0) & per_comp(p.accepting[nodes])
    glab = p.label[edges]
    moving = glab >= 0
    refine = np.zeros(ncomp, dtype=bool)
    drop = np.zeros(len(nodes), dtype=bool)
    for con in cons:
        took = np.zeros(len(edges), dtype=bool)
        took[moving] = con.takes[glab[moving]]
        taken = np.bincount(ecomp[took], minlength=ncomp) > 0
        enabled = con.enabled[states]
        if con.strong:
            bad = ~taken & per_comp(enabled)
            refine |= bad
            drop |= bad[ncomp_of] & enabled
        else:
            ok &= taken | per_comp(~enabled)
    good = np.flatnonzero(ok & ~refine)
    if len(good):
        closest = np.full(ncomp, np.iinfo(np.int64).max, dtype=np.int64)
        np.minimum.at(closest, ncomp_of, p.order_rank[nodes])
        c = int(good[np.argmin(closest[good])])
        return _visits(p, cons, comp == c, edges[ecomp == c])
    rest = np.zeros(p.size, dtype=bool)
    rest[nodes[(ok & refine)[ncomp_of] & ~drop]] = True
    return fair_component(p, cons, rest) if rest.any() else None


def _visits(p: Product, cons: list[Constraint], nodes: np.ndarray, edges: np.ndarray
            ) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """What a cycle through a fair component visits: an accepting node, and per
    constraint an edge that takes it or a state where it is disabled (none when it is
    disabled everywhere)."""
    visits: list[tuple[str, int]] = [("node", int(np.flatnonzero(nodes & p.accepting)[0]))]
    members = np.flatnonzero(nodes)
    glab = p.label[edges]
    moving = glab >= 0
    for con in cons:
        taken = edges[moving][con.takes[glab[moving]]]
        if len(taken):
            visits.append(("edge", int(taken[0])))
            continue
        enabled = con.enabled[members // p.automaton]
        if enabled.any():
            visits.append(("node", int(members[np.argmin(enabled)])))
    return nodes, visits
