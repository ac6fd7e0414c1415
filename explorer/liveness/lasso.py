"""A lasso counterexample: a prefix from an initial state, then a cycle repeated forever.

Lengths count the steps that change the state (the ones a trace shows). The prefix is a
shortest path of the product graph to the nearest node of a fair accepting component
(Dijkstra from the initial nodes, :func:`explorer.liveness.scc.product`); among the
nodes at that distance (the first :data:`ENTRIES` by node number), the one with the
shortest cycle is the loop's start. The cycle is a shortest closed walk from it inside
its component that meets every obligation (:func:`explorer.liveness.scc.obligations`):
Dijkstra over the component times the set of obligations met so far, built as arrays.
When that expanded graph would pass :data:`CYCLE_BUDGET` edges, the cycle goes to the
nearest node or edge that meets an obligation not met yet, again and again, then back
(valid, not always shortest). Stuttering steps, which only move the automaton, are
dropped from what is shown; a cycle that is only stuttering is TLC's "Stuttering"
ending; a cycle whose closing step could be the prefix's last step is rolled back into
the prefix (the same behaviour, one state shorter).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from explorer.liveness.scc import STUTTER, Constraint, Need, Product, obligations, shortest

#: How many entry nodes at the shortest prefix distance are tried for the shortest cycle.
ENTRIES = 8
#: The most edges of a component times its obligation sets searched for a shortest cycle.
CYCLE_BUDGET = 1 << 22


@dataclass(frozen=True)
class Lasso:
    """Graph state ids from an initial state; ``labels[i]``: the graph edge into
    ``states[i]`` (``None`` for the first); the behaviour goes from the last state back
    to ``states[loop]`` by ``back`` (a graph edge or :data:`STUTTER`)."""

    states: tuple[int, ...]
    labels: tuple[int | None, ...]
    loop: int
    back: int


def lasso(p: Product, cons: list[Constraint], fair: np.ndarray) -> Lasso | None:
    """The lasso through the fair components ``fair`` (per node, a component id or -1),
    or None when none is reachable."""
    candidates = np.flatnonzero((fair >= 0) & p.reached)
    if not len(candidates):
        return None
    p.distances()
    assert p.dist is not None
    near = p.dist[candidates]
    entries = candidates[near == near.min()][:ENTRIES]
    best: tuple[float, list[int], int] | None = None
    for entry in entries:
        members = fair == fair[entry]
        cost, cycle = _cycle(p, cons, members, int(entry))
        if best is None or cost < best[0]:
            best = (cost, cycle, int(entry))
    assert best is not None
    return _assemble(p, best[2], best[1])


def _cycle(p: Product, cons: list[Constraint], members: np.ndarray, entry: int
           ) -> tuple[float, list[int]]:
    """The cycle from ``entry`` (its cost and product edges) that meets the component's
    obligations: shortest when the expanded graph fits the budget."""
    needs, strong, edges = obligations(p, cons, members)
    # An obligation every member meets on arrival needs no bit; nor does a strong
    # constraint enabled in every member (the cycle must take it: a plain need).
    needs = [(nd, ed) for nd, ed in needs if nd is None or not np.array_equal(nd, members)]
    needs += [(None, took) for took, on in strong if np.array_equal(on, members)]
    strong = [(took, on) for took, on in strong if not np.array_equal(on, members)]
    if len(edges) << (len(needs) + 2 * len(strong)) > CYCLE_BUDGET:
        cycle = _greedy(p, members, entry, needs + [(None, took) for took, _ in strong],
                        edges)
        return float(p.moving[cycle].sum()), cycle
    return _shortest_cycle(p, members, entry, needs, strong, edges, _before(p, entry))


def _before(p: Product, entry: int) -> int:
    """The graph state the prefix's last state-changing step leaves (-1: none)."""
    node = entry
    while 0 <= int(p.parent[node]) < p.size:
        up = int(p.parent[node])
        if up // p.automaton != node // p.automaton:
            return up // p.automaton
        node = up
    return -1


def _shortest_cycle(p: Product, members: np.ndarray, entry: int, needs: list[Need],
                    strong: list[tuple[np.ndarray, np.ndarray]], edges: np.ndarray,
                    before: int) -> tuple[float, list[int]]:
    """Dijkstra over (node, what the walk has met) inside the component, from a copy of
    the entry before any step to the entry with every need met and, per strong
    constraint, the constraint taken or no node where it is enabled entered."""
    bits = needs + [pair for took, on in strong for pair in ((None, took), (on, None))]
    nodes = np.flatnonzero(members)
    local = np.full(p.size, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    masks = 1 << len(bits)
    node_bits = np.zeros(len(nodes), dtype=np.int64)
    edge_bits = np.zeros(len(edges), dtype=np.int64)
    for bit, (nd, ed) in enumerate(bits):
        if nd is not None:
            node_bits[nd[nodes]] |= 1 << bit
        if ed is not None:
            edge_bits[ed[edges]] |= 1 << bit
    every = np.arange(masks)
    required = (1 << len(needs)) - 1
    done = (every & required) == required
    for i in range(len(strong)):
        took, on = 1 << (len(needs) + 2 * i), 1 << (len(needs) + 2 * i + 1)
        done &= ((every & took) != 0) | ((every & on) == 0)
    u, v = local[p.src[edges]], local[p.dst[edges]]
    gained = edge_bits | node_bits[v]
    cost = p.moving[edges]
    virtual = len(nodes) * masks
    rows, cols, costs, ids = [], [], [], []
    for m in range(masks):
        rows.append(u * masks + m)
        cols.append(v * masks + (m | gained))
        costs.append(cost)
        ids.append(edges)
    out = p.src[edges] == entry
    rows.append(np.full(int(out.sum()), virtual, dtype=np.int64))
    cols.append(v[out] * masks + (node_bits[local[entry]] | gained[out]))
    costs.append(cost[out])
    ids.append(edges[out])
    row, col = np.concatenate(rows), np.concatenate(cols)
    dist, pred = shortest(row, col, np.concatenate(costs), virtual + 1, virtual)
    goals = int(local[entry]) * masks + np.flatnonzero(done)
    goal = int(goals[np.argmin(dist[goals])])
    assert np.isfinite(dist[goal]), "a fair component's obligations can be met"
    # The product edge of each expanded step: the first of the parallel ones.
    edge_of = np.concatenate(ids)
    key = row * (virtual + 1) + col
    order = np.argsort(key, kind="stable")
    path = [goal]
    # Among the shortest, a cycle whose last step leaves the state the prefix's last step
    # leaves, so that the lasso can be rolled back (_assemble) to start the loop earlier.
    into = np.flatnonzero((col == goal) & (row != virtual))
    last = into[(dist[row[into]] + np.concatenate(costs)[into] == dist[goal])
                & (p.src[edge_of[into]] // p.automaton == before)] if before >= 0 else into[:0]
    if len(last):
        path.append(int(row[last[0]]))
    while path[-1] != virtual:
        path.append(int(pred[path[-1]]))
    path.reverse()
    cycle = []
    for a, b in zip(path, path[1:]):
        at = order[np.searchsorted(key[order], a * (virtual + 1) + b)]
        cycle.append(int(edge_of[at]))
    return float(dist[goal]), cycle


def _greedy(p: Product, members: np.ndarray, entry: int, needs: list[Need],
            edges: np.ndarray) -> list[int]:
    """A cycle that goes, again and again, to the nearest node or edge meeting an
    obligation not met yet (Dijkstra inside the component), then back to the entry."""
    mat, local, nodes = _component_matrix(p, members, edges)
    met = [False] * len(needs)
    cur, cycle = entry, []
    while not all(met):
        dist, pred = dijkstra(mat, directed=True, indices=int(local[cur]),
                              return_predecessors=True)
        options = []  # (cost, need, node reached, edge taken or -1)
        for i, (nd, ed) in enumerate(needs):
            if met[i]:
                continue
            if nd is not None and nd.any():
                at = np.flatnonzero(nd)
                j = int(np.argmin(dist[local[at]]))
                options.append((float(dist[local[at[j]]]), i, int(at[j]), -1))
            if ed is not None and ed.any():
                at = np.flatnonzero(ed)
                cost = dist[local[p.src[at]]] + p.moving[at]
                j = int(np.argmin(cost))
                options.append((float(cost[j]), i, int(p.dst[at[j]]), int(at[j])))
        _, _, goal, edge = min(options)
        cycle += _path(p, local, nodes, pred, cur, int(p.src[edge]) if edge >= 0 else goal)
        cycle += [edge] if edge >= 0 else []
        met = [m or (nd is not None and (bool(nd[goal]) or bool(nd[p.dst[cycle]].any())))
               or (ed is not None and bool(ed[cycle].any())) for m, (nd, ed) in zip(met, needs)]
        cur = goal
    dist, pred = dijkstra(mat, directed=True, indices=int(local[cur]),
                          return_predecessors=True)
    cycle += _path(p, local, nodes, pred, cur, entry)
    return cycle or _walk(p, members, entry, entry, at_least_one=True)


def _component_matrix(p: Product, members: np.ndarray, edges: np.ndarray
                      ) -> tuple[object, np.ndarray, np.ndarray]:
    """The component's edges as a sparse matrix over local node numbers (cost 1 for a
    step that changes the state), the local numbers, and the members in order."""
    nodes = np.flatnonzero(members)
    local = np.full(p.size, -1, dtype=np.int64)
    local[nodes] = np.arange(len(nodes))
    key = local[p.src[edges]] * len(nodes) + local[p.dst[edges]]
    cost = p.moving[edges]
    order = np.lexsort((cost, key))
    key, cost = key[order], cost[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    mat = csr_matrix((cost[first].astype(np.float64),
                      (key[first] // len(nodes), key[first] % len(nodes))),
                     shape=(len(nodes), len(nodes)))
    return mat, local, nodes


def _path(p: Product, local: np.ndarray, nodes: np.ndarray, pred: np.ndarray, start: int,
          goal: int) -> list[int]:
    """Product edges of the predecessor path from ``start`` to ``goal``."""
    chain = [goal]
    while chain[-1] != start:
        chain.append(int(nodes[pred[local[chain[-1]]]]))
    chain.reverse()
    out = []
    for u, v in zip(chain, chain[1:]):
        lo, hi = int(p.indptr[u]), int(p.indptr[u + 1])
        out.append(lo + int(np.flatnonzero(p.dst[lo:hi] == v)[0]))
    return out


def _assemble(p: Product, entry: int, cycle: list[int]) -> Lasso:
    """The prefix (predecessors back from ``entry``) and the cycle as graph states, with
    the steps that leave the state as it is dropped."""
    k = p.automaton
    path = [entry]
    while True:
        up = int(p.parent[path[-1]])
        if up < 0 or up >= p.size:
            break
        path.append(up)
    path.reverse()
    seq_nodes = list(path)
    seq_labels: list[int | None] = [None] + [
        _label(p, u, v) for u, v in zip(path, path[1:])]
    for e in cycle[:-1]:
        seq_nodes.append(int(p.dst[e]))
        seq_labels.append(_edge_label(p, e))
    loop = len(path) - 1
    back = _edge_label(p, cycle[-1])
    states = [n // k for n in seq_nodes]
    kept_states, kept_labels, new_loop = [states[0]], [seq_labels[0]], 0
    for i in range(1, len(states)):
        if states[i] == states[i - 1]:
            if i == loop:
                new_loop = len(kept_states) - 1
            continue
        if i == loop:
            new_loop = len(kept_states)
        kept_states.append(states[i])
        kept_labels.append(seq_labels[i])
    if back == STUTTER and len(kept_states) - 1 > new_loop \
            and kept_states[-1] == kept_states[new_loop]:
        last = kept_labels.pop()
        back = STUTTER if last is None else last
        kept_states.pop()
    # Roll the cycle back into the prefix while the prefix ends as the cycle does (the
    # automaton's cycle may start later than the behaviour's): the same behaviour.
    while new_loop > 0 and len(kept_states) - 1 > new_loop \
            and kept_states[new_loop - 1] == kept_states[-1] \
            and _same_step(kept_labels[new_loop], back):
        back = kept_labels.pop()  # type: ignore[assignment]
        kept_states.pop()
        new_loop -= 1
    return Lasso(tuple(kept_states), tuple(kept_labels), new_loop, back)


def _same_step(label: int | None, back: int) -> bool:
    """Whether the step into the cycle's start can be the closing step (both move)."""
    return label is not None and label != STUTTER and back != STUTTER


def _edge_label(p: Product, e: int) -> int:
    """A product edge's graph edge; a step that leaves the state as it is stutters."""
    return int(p.label[e]) if p.moving[e] else STUTTER


def _label(p: Product, u: int, v: int) -> int:
    """The graph edge of a product step ``u -> v``: an action's when there is one."""
    if u // p.automaton == v // p.automaton:
        return STUTTER
    lo, hi = p.indptr[u], p.indptr[u + 1]
    hits = np.flatnonzero(p.dst[lo:hi] == v) + lo
    labels = p.label[hits]
    return int(labels[labels >= 0][0])


def _walk(p: Product, nodes: np.ndarray, start: int, goal: int,
          at_least_one: bool = False) -> list[int]:
    """Product edges of a shortest path (in edges) from ``start`` to ``goal`` inside
    ``nodes`` (empty when they are the same node, unless ``at_least_one``)."""
    if start == goal and not at_least_one:
        return []
    via: dict[int, int] = {}
    queue = deque([start])
    seen = {start} if not at_least_one else set()
    while queue:
        u = queue.popleft()
        for e in range(int(p.indptr[u]), int(p.indptr[u + 1])):
            v = int(p.dst[e])
            if not nodes[v] or v in seen:
                continue
            seen.add(v)
            via[v] = e
            if v == goal:
                out = [e]
                while int(p.src[out[-1]]) != start:
                    out.append(via[int(p.src[out[-1]])])
                return out[::-1]
            queue.append(v)
    raise AssertionError("a strongly connected component is connected")
