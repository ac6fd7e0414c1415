"""A lasso counterexample: a prefix from an initial state, then a cycle repeated forever.

The prefix is the breadth-first tree's path to the component's node closest to the
initial states (so it is as short as the product graph allows); the cycle starts and
ends there and walks, by breadth-first paths inside the component, through an accepting
node and through what each fairness constraint needs seen (an edge that takes it, or a
state where it is disabled). Stuttering steps that only move the automaton are dropped
from what is shown; a cycle that is only stuttering is TLC's "Stuttering" ending.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from explorer.liveness.scc import STUTTER, Product


@dataclass(frozen=True)
class Lasso:
    """Graph state ids from an initial state; ``labels[i]``: the graph edge into
    ``states[i]`` (``None`` for the first); the behaviour goes from the last state back
    to ``states[loop]`` by ``back`` (a graph edge or :data:`STUTTER`)."""

    states: tuple[int, ...]
    labels: tuple[int | None, ...]
    loop: int
    back: int


def lasso(p: Product, nodes: np.ndarray, visits: list[tuple[str, int]]) -> Lasso:
    k = p.automaton
    members = np.flatnonzero(nodes)
    entry = int(members[np.argmin(p.order_rank[members])])
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
    cur = entry
    cycle: list[int] = []
    for kind, x in visits:
        if kind == "node":
            cycle += _walk(p, nodes, cur, x)
            cur = x
        else:
            cycle += _walk(p, nodes, cur, int(p.src[x])) + [x]
            cur = int(p.dst[x])
    cycle += _walk(p, nodes, cur, entry)
    if not cycle:
        cycle = _walk(p, nodes, entry, entry, at_least_one=True)
    for e in cycle[:-1]:
        seq_nodes.append(int(p.dst[e]))
        seq_labels.append(int(p.label[e]))
    loop = len(path) - 1
    back = int(p.label[cycle[-1]])
    states = [n // k for n in seq_nodes]
    # Drop stuttering steps that only move the automaton (the state is unchanged).
    kept_states, kept_labels, new_loop = [states[0]], [seq_labels[0]], 0
    for i in range(1, len(states)):
        if seq_labels[i] == STUTTER and states[i] == states[i - 1]:
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
    return Lasso(tuple(kept_states), tuple(kept_labels), new_loop, back)


def _label(p: Product, u: int, v: int) -> int:
    """The graph edge of a product step ``u -> v``: an action's when there is one."""
    lo, hi = p.indptr[u], p.indptr[u + 1]
    hits = np.flatnonzero(p.dst[lo:hi] == v) + lo
    labels = p.label[hits]
    moving = labels[labels >= 0]
    return int(moving[0]) if len(moving) else STUTTER


def _walk(p: Product, nodes: np.ndarray, start: int, goal: int,
          at_least_one: bool = False) -> list[int]:
    """Product edges of a shortest path from ``start`` to ``goal`` inside ``nodes``
    (empty when they are the same node, unless ``at_least_one``)."""
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
