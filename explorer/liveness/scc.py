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
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra

from explorer.liveness.automaton import Automaton, Letters
from explorer.liveness.graph import StateGraph
from pyspec.model import Model
from pyspec.runtime import domain

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
    :data:`STUTTER`) and whether it changes the graph state; per node, whether it is
    accepting and reachable, and once :meth:`distances` ran its distance from the initial
    nodes in steps that change the state and its predecessor on a shortest path (-1 for
    none; an initial node's is ``size``, the virtual source)."""

    size: int
    automaton: int
    src: np.ndarray
    dst: np.ndarray
    label: np.ndarray
    moving: np.ndarray
    indptr: np.ndarray
    accepting: np.ndarray
    reached: np.ndarray
    #: The initial nodes.
    starts: np.ndarray
    dist: np.ndarray | None = None
    parent: np.ndarray | None = None

    def distances(self) -> None:
        """Fill ``dist`` and ``parent`` (only a violation needs them: a lasso)."""
        virtual = self.size
        rows = np.concatenate([self.src, np.full(len(self.starts), virtual,
                                                 dtype=self.src.dtype)])
        cols = np.concatenate([self.dst, self.starts])
        cost = np.concatenate([self.moving, np.zeros(len(self.starts), dtype=bool)])
        dist, parent = shortest(rows, cols, cost, self.size + 1, virtual)
        self.dist, self.parent = dist[:self.size], parent[:self.size]


def constraints(model: Model, graph: StateGraph) -> list[Constraint]:
    """The model's fairness lines as constraints on the graph (``each``: one per
    parameter binding of the action that occurs in the graph)."""
    out: list[Constraint] = []
    moving = graph.dst != graph.src
    for f in model.fairness:
        if f.each:
            groups = [[k] for k in binding_order(model, graph.instances)
                      if graph.instances[k][0] in f.actions]
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


def binding_order(model: Model, instances: list[tuple[int, tuple]]) -> list[int]:
    """The instances' numbers in order of action and of binding (each parameter by its
    type's order), whatever order an engine met them in: the constraints, and so the
    lasso, are the same on every engine."""
    types = getattr(model, "param_types", None)
    if types is None:
        return list(range(len(instances)))
    listed: dict[object, dict[object, int]] = {}

    def position(v: object, t: object) -> int:
        if t not in listed:
            listed[t] = {x: i for i, x in enumerate(domain(t))}  # type: ignore[arg-type]
        return listed[t][v]

    return sorted(range(len(instances)), key=lambda k: (
        instances[k][0], tuple(position(v, t) for v, t in
                               zip(instances[k][1], types[instances[k][0]]))))


def product(graph: StateGraph, aut: Automaton, atoms: list[np.ndarray],
            steps: np.ndarray | None = None) -> Product:
    """The product graph, its accepting nodes and what is reachable from its initial
    nodes (a virtual source, breadth first; :meth:`Product.distances` adds shortest
    distances, where steps that change the state count 1 and the others 0).
    ``steps``, per graph edge, whether it is an action of the property's ``step``."""
    n, k = graph.n, aut.states
    # Node and edge numbers in 32 bits while they fit: the product is the check's
    # largest structure (its edges times three arrays).
    index = np.int32 if max(n * k, len(graph.src) + n) < 2**31 - 1 else np.int64
    stored = graph.dst >= 0
    gsrc = np.concatenate([graph.src[stored], np.arange(n)]).astype(index)
    gdst = np.concatenate([graph.dst[stored], np.arange(n)]).astype(index)
    glab = np.concatenate([np.flatnonzero(stored), np.full(n, STUTTER)]).astype(index)
    letters = Letters(
        p=atoms[0][gdst] if atoms else None, q=atoms[1][gdst] if len(atoms) > 1 else None,
        step=None if steps is None else np.concatenate(
            [pair_any(graph.src[stored], graph.dst[stored], steps[stored], n),
             np.zeros(n, dtype=bool)]),
        moving=gsrc != gdst)
    srcs, dsts, labs = [], [], []
    for q, q2, guard in aut.transitions:
        m = guard(letters)
        srcs.append(gsrc[m] * index(k) + index(q))
        dsts.append(gdst[m] * index(k) + index(q2))
        labs.append(glab[m])
    src, dst, lab = np.concatenate(srcs), np.concatenate(dsts), np.concatenate(labs)
    order = np.argsort(src, kind="stable")
    src, dst, lab = src[order], dst[order], lab[order]
    size = n * k
    indptr = np.searchsorted(src, np.arange(size + 1, dtype=index))
    # Initial nodes: transitions out of automaton state 0 on the virtual first step.
    first = graph.initial
    entering = Letters(p=atoms[0][first] if atoms else None,
                       q=atoms[1][first] if len(atoms) > 1 else None,
                       step=None if steps is None else np.zeros(len(first), dtype=bool),
                       moving=np.zeros(len(first), dtype=bool))
    init = [(first[guard(entering)] * k + q2).astype(index)
            for q, q2, guard in aut.transitions if q == 0]
    starts = np.unique(np.concatenate(init)) if init else np.zeros(0, dtype=index)
    virtual = size
    rows = np.concatenate([src, np.full(len(starts), virtual, dtype=index)])
    cols = np.concatenate([dst, starts])
    mat = csr_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)),
                     shape=(size + 1, size + 1))
    reached = np.zeros(size + 1, dtype=bool)
    reached[breadth_first_order(mat, virtual, directed=True, return_predecessors=False)] = True
    accepting = np.zeros(size, dtype=bool)
    for q in aut.accepting:
        accepting[q::k] = True
    return Product(size, k, src, dst, lab, (src // k) != (dst // k), indptr, accepting,
                   reached[:size], starts)


def pair_any(src: np.ndarray, dst: np.ndarray, flag: np.ndarray, n: int) -> np.ndarray:
    """Per edge, whether some edge between the same two states has ``flag``: a TLA+ step
    is a pair of states, an A step when any A transition joins them."""
    if not len(src):
        return np.zeros(0, dtype=bool)
    pairs, which = np.unique(src.astype(np.int64) * n + dst, return_inverse=True)
    hit = np.zeros(len(pairs), dtype=bool)
    hit[which[flag]] = True
    return hit[which]


def shortest(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, size: int,
             source: int) -> tuple[np.ndarray, np.ndarray]:
    """Distances (0/1 edge costs) from ``source`` and each node's predecessor on a
    shortest path, by scipy's compiled Dijkstra. Parallel edges are merged first (a
    sparse matrix would add their costs), keeping the cheaper."""
    key = rows.astype(np.int64) * size + cols
    order = np.lexsort((cost, key))
    key, cost = key[order], cost[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, cost = key[first], cost[first]
    mat = csr_matrix((cost.astype(np.float64), (key // size, key % size)), shape=(size, size))
    dist, pred = dijkstra(mat, directed=True, indices=source, return_predecessors=True)
    return dist, pred


def fair_components(p: Product, cons: list[Constraint], inside: np.ndarray,
                    first: int = 0) -> np.ndarray:
    """Per product node, the fair accepting component it belongs to (ids from ``first``),
    or -1, among the nodes ``inside``. Every component is judged at once, with array
    operations; components that fail only strong constraints are decomposed again
    without the states where those are enabled, and their fair parts numbered on."""
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
    good = ok & ~refine
    labels = np.full(p.size, -1, dtype=np.int64)
    labels[nodes] = np.where(good[ncomp_of], first + ncomp_of, -1)
    rest = np.zeros(p.size, dtype=bool)
    rest[nodes[(ok & refine)[ncomp_of] & ~drop]] = True
    if rest.any():
        deeper = fair_components(p, cons, rest, first + ncomp)
        labels = np.where(deeper >= 0, deeper, labels)
    return labels


Need = tuple[np.ndarray | None, np.ndarray | None]


def obligations(p: Product, cons: list[Constraint], members: np.ndarray
                ) -> tuple[list[Need], list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """What a cycle inside one fair component (``members``, a node mask) must do.

    ``needs``: ``(nodes, edges)`` masks, one of which the cycle meets: an accepting node;
    per weak constraint, an edge that takes it or a state where it is disabled.
    ``strong``: per strong constraint taken inside, ``(edges that take it, nodes where
    it is enabled)``: the cycle takes it or never enters such a node (one disabled
    everywhere inside needs nothing). Also the component's internal edges."""
    edges = np.flatnonzero(members[p.src] & members[p.dst])
    needs: list[Need] = [(members & p.accepting, None)]
    strong: list[tuple[np.ndarray, np.ndarray]] = []
    glab = p.label[edges]
    moving = glab >= 0
    states = np.flatnonzero(members) // p.automaton
    for con in cons:
        took = np.zeros(p.src.shape, dtype=bool)
        took[edges[moving][con.takes[glab[moving]]]] = True
        enabled = np.zeros(p.size, dtype=bool)
        enabled[members] = con.enabled[states]
        if not con.strong:
            needs.append((members & ~enabled, took))
        elif took.any():
            strong.append((took, enabled))
    return needs, strong, edges
