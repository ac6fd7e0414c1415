"""State graphs and view quotient graphs, built only when asked for.

Both are search observers (:class:`explorer.engine.interface.Observer`): the ordinary search runs
once and they record what they need on the side, so a plain ``check`` never pays for a
graph. The state graph gives up (and frees itself) past its node cap; a view's quotient
stays small whatever the size of the state space, because it keeps one label per state
and counts per abstract edge.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from explorer.result import Result
from explorer.traces import leaves
from pyspec.errors import ModelConfigError
from pyspec.model import Model, State, View

if TYPE_CHECKING:
    import networkx as nx

    from explorer.search import Observer


def _failing(model: Model, state: State) -> tuple[str, ...]:
    return tuple(c.name for c in model.invariants if not c.fn(state))


def _failing_step(model: Model, state: State, next_state: State) -> tuple[str, ...]:
    return tuple(c.name for c in model.action_properties if not c.fn(state, next_state))


#: How bad a state or transition is: no violation, only violations the model expects
#: (documented gaps, drawn apart), or some unexpected violation.
CLEAN, EXPECTED, UNEXPECTED = 0, 1, 2


def severity(model: Model, names: Iterable[str]) -> int:
    names = set(names)
    if not names:
        return CLEAN
    return EXPECTED if names <= model.expect_violated else UNEXPECTED


class StateGraphRecorder:
    """The reachable state graph: nodes are state ids (BFS order), with their level, the
    invariants they violate and their fields as text; one edge per distinct action label
    between two states, with how many generated successors it stands for."""

    def __init__(self, model: Model, max_nodes: int) -> None:
        import networkx  # here: a run that draws no graph need not load it

        self.model = model
        self.max_nodes = max_nodes
        self.graph = networkx.MultiDiGraph()
        self.too_large = False

    def state(self, sid: int, state: State, level: int) -> None:
        if self.too_large:
            return
        if self.graph.number_of_nodes() >= self.max_nodes:
            self.too_large = True
            self.graph.clear()
            return
        self.graph.add_node(
            sid,
            level=level,
            initial=level == 1,
            violated=(failing := _failing(self.model, state)),
            severity=severity(self.model, failing),
            fields=leaves(self.model.describe_state(state)),
        )

    def edge(
        self, sid: int, state: State, action: int, params: tuple, next_id: int, next_state: State
    ) -> None:
        if self.too_large or next_id < 0:
            return
        label = self.model.action_label(action, params)
        if self.graph.has_edge(sid, next_id, key=label):
            self.graph.edges[sid, next_id, label]["count"] += 1
            return
        self.graph.add_edge(
            sid,
            next_id,
            key=label,
            action=action,
            count=1,
            violated=(failing := _failing_step(self.model, state, next_state)),
            severity=severity(self.model, failing),
        )


def mark_unexplored(graph: nx.MultiDiGraph, result: Result) -> str | None:
    """Mark the states of a search that stopped early whose successors were not drawn, so
    that they do not look like deadlocks; returns a note for the title, None when the
    search was complete. Ids are BFS order: the last ``queue`` stored states were never
    explored, and past ``--max-depth`` the deepest level's successors were not stored."""
    if result.stopped is None:
        return None
    first_unexplored = result.stats.distinct_states - result.stats.queue
    depth_cut = result.stopped == "max_depth"
    for sid, data in graph.nodes(data=True):
        data["unexplored"] = sid >= first_unexplored or (
            depth_cut and data["level"] >= result.stats.depth
        )
    return f"partial: search stopped ({result.stopped}); dashed states were not explored"


@dataclass
class _AbstractEdge:
    count: int = 0
    #: The worst transition it stands for (CLEAN, EXPECTED, UNEXPECTED).
    severity: int = CLEAN


class ViewRecorder:
    """The quotient of the state graph under a view.

    For each transition s -> t and each element e of the view, an edge from
    ``label(s, e)`` to ``label(t, e)`` named by the action; edges whose label does not
    change are dropped unless ``self_loops``. An edge is marked when some transition it
    stands for enters a state violating an invariant, or violates an action property.
    """

    def __init__(self, model: Model, view: View, self_loops: bool = False) -> None:
        self.model = model
        self.view = view
        self.self_loops = self_loops
        self.labels: list[dict[str | None, str]] = []
        self.bad = bytearray()
        self.initial: set[str] = set()
        self.states: dict[str, int] = {}
        self.edges: dict[tuple[str, str, str], _AbstractEdge] = {}

    def _labels(self, state: State) -> dict[str | None, str]:
        return dict(self.view.fn(state))

    def state(self, sid: int, state: State, level: int) -> None:
        labels = self._labels(state)
        self.labels.append(labels)
        self.bad.append(severity(self.model, _failing(self.model, state)))
        for label in labels.values():
            self.states[label] = self.states.get(label, 0) + 1
            if level == 1:
                self.initial.add(label)

    def edge(
        self, sid: int, state: State, action: int, params: tuple, next_id: int, next_state: State
    ) -> None:
        src = self.labels[sid]
        if next_id >= 0:
            dst, bad = self.labels[next_id], self.bad[next_id]
        else:
            dst = self._labels(next_state)
            bad = severity(self.model, _failing(self.model, next_state))
        bad = max(bad, severity(self.model, _failing_step(self.model, state, next_state)))
        name = self.model.actions[action].name
        for element, before in src.items():
            after = dst.get(element)
            if after is None or (after == before and not self.self_loops):
                continue
            e = self.edges.setdefault((before, after, name), _AbstractEdge())
            e.count += 1
            e.severity = max(e.severity, bad)

    def graph(self) -> nx.MultiDiGraph:
        """Nodes: labels (``initial``, ``states``: how many (state, element) pairs map to
        it); edges keyed by action name, with ``count``, ``into_violation`` (some
        transition enters a violation) and ``severity`` (the worst: :data:`EXPECTED` when
        every violation entered is one the model expects)."""
        import networkx  # here: a run that draws no graph need not load it

        g = networkx.MultiDiGraph(view=self.view.name, element=self.view.element)
        for label in sorted(self.states):
            g.add_node(label, initial=label in self.initial, states=self.states[label])
        for (src, dst, action), e in sorted(self.edges.items()):
            g.add_edge(src, dst, key=action, count=e.count, into_violation=e.severity > CLEAN,
                       severity=e.severity)
        return g


class Recorders:
    """Several observers behind one, so one search feeds every diagram."""

    def __init__(self, observers: Iterable[Observer]) -> None:
        self.observers = list(observers)

    def state(self, sid: int, state: State, level: int) -> None:
        for o in self.observers:
            o.state(sid, state, level)

    def edge(
        self, sid: int, state: State, action: int, params: tuple, next_id: int, next_state: State
    ) -> None:
        for o in self.observers:
            o.edge(sid, state, action, params, next_id, next_state)


def find_view(model: Model, name: str) -> View:
    for v in model.views:
        if v.name == name:
            return v
    known = ", ".join(v.name for v in model.views) or "none"
    raise ModelConfigError(f"model {model.name!r} has no view {name!r} (it has: {known})")
