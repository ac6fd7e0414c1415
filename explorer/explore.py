"""What the interactive explorer page shows, as plain JSON-ready data.

One search records the first ``cap`` states in BFS order (their fields, the invariants
they violate, their successors and the BFS parent, whose chain is the shortest path to
them), the quotient of every view, and the verdicts with their traces, replay strings and
explanations. Strings are interned in one table and states are rows of indices into it,
so a page of a thousand kernel states stays a few megabytes. States past the cap are
counted, not kept: the page says so, and traces still show every one of their states.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from explorer.annotate import annotate
from explorer.engine.interface import Options
from explorer.graph import Recorders, ViewRecorder, severity
from explorer.replay import encode, follow, match
from explorer.result import PropertyVerdict, Result, Trace, Why
from explorer.run import run_model
from explorer.traces import RawStep, describe_trace, leaves
from pyspec.errors import SourceCache
from pyspec.model import Model, State
from pyspec.values import render

#: States a page keeps by default.
DEFAULT_CAP = 1000


class _Interner:
    def __init__(self) -> None:
        self.strings: list[str] = []
        self.index: dict[str, int] = {}

    def __call__(self, s: str) -> int:
        k = self.index.get(s)
        if k is None:
            k = self.index[s] = len(self.strings)
            self.strings.append(s)
        return k


class PageRecorder:
    """A search observer keeping the first ``cap`` states and their transitions."""

    def __init__(self, model: Model, cap: int) -> None:
        self.model = model
        self.cap = cap
        self.ids: dict[State, int] = {}
        self.fields: list[dict[str, str]] = []
        self.levels: list[int] = []
        self.violated: list[tuple[str, ...]] = []
        self.parent: list[tuple[int, int]] = []  # (parent id, edge position) or (-1, -1)
        self.edges: list[list[tuple[int, str, int]]] = []  # (action, label, target or -1)
        self.seen = 0

    def state(self, sid: int, state: State, level: int) -> None:
        self.seen += 1
        if sid >= self.cap:
            return
        self.ids[state] = sid
        self.fields.append(leaves(self.model.describe_state(state)))
        self.levels.append(level)
        self.violated.append(tuple(c.name for c in self.model.invariants if not c.fn(state)))
        self.parent.append((-1, -1))
        self.edges.append([])

    def edge(self, sid: int, state: State, action: int, params: tuple, next_id: int,
             next_state: State) -> None:
        if sid >= self.cap:
            return
        target = next_id if 0 <= next_id < self.cap else -1
        out = self.edges[sid]
        if target >= 0 and self.parent[target] == (-1, -1) and self.levels[target] > 1:
            self.parent[target] = (sid, len(out))
        out.append((action, self.model.action_label(action, params), target))


def _why(w: Why) -> dict:
    return {"text": w.text, "value": w.value, "pos": str(w.pos) if w.pos else "",
            "note": w.note, "parts": [_why(p) for p in w.parts]}


class PageBuilder:
    def __init__(self, model: Model, cap: int) -> None:
        self.model = model
        self.cap = cap
        self.strings = _Interner()
        self.field_index: dict[str, int] = {}
        self.field_names: list[str] = []

    def row(self, fields: dict[str, str]) -> list[int]:
        """A state as [field, value, field, value, ...] indices."""
        out = []
        for k, v in fields.items():
            if k not in self.field_index:
                self.field_index[k] = len(self.field_names)
                self.field_names.append(k)
            out += [self.field_index[k], self.strings(v)]
        return out

    def trace(self, trace: Trace, raw: list[RawStep] | None, ids: dict[State, int]) -> list:
        steps = []
        for i, step in enumerate(trace.steps):
            sid = ids.get(raw[i][2], -1) if raw is not None else -1
            steps.append({"label": step.label, "action": step.action_index, "state": sid,
                          "row": self.row(leaves(step.state))})
        return steps


def build_page(model: Model, options: Options, cap: int = DEFAULT_CAP,
               replay: list[int] | None = None,
               draw: Callable[[list[ViewRecorder]], dict[str, str]] | None = None) -> dict:
    """Everything the page shows. ``replay``: successor positions of a trace to show
    first; ``draw``: renders the recorded views (SVG text by view name)."""
    page = PageRecorder(model, cap)
    views = [ViewRecorder(model, v) for v in model.views]
    options = replace(options, keep_going=True, observer=Recorders([page, *views]),
                      backend="scalar", symmetry=False, fingerprint=False)
    result: Result = run_model(model, options, [])
    annotate(model, result)
    b = PageBuilder(model, cap)
    sources = SourceCache()
    states = []
    for sid, fields in enumerate(page.fields):
        bad = page.violated[sid]
        states.append({"level": page.levels[sid], "row": b.row(fields), "violated": list(bad),
                       "severity": severity(model, bad), "parent": list(page.parent[sid]),
                       "edges": [[a, b.strings(label), t] for a, label, t in page.edges[sid]]})
    traces = []
    for p in result.properties:
        if p.trace is None:
            continue
        found = match(model, p.trace)
        traces.append(_property_trace(b, p, None if found is None else found[1], page.ids))
    if replay is not None:
        raw = follow(model, replay)
        traces.insert(0, {"name": f"replayed {encode(model, replay)}", "kind": "replay",
                          "verdict": "", "expected": "", "judgement": "",
                          "replay": encode(model, replay), "why": [],
                          "steps": b.trace(describe_trace(model, raw), raw, page.ids)})
    actions = []
    for a in model.actions:
        line = sources.line(a.pos) if a.pos is not None else None
        actions.append({"name": a.name, "params": list(a.params), "doc": a.doc,
                        "pos": str(a.pos) if a.pos else "", "line": (line or "").strip(),
                        "tags": [str(t) for t in a.tags]})
    svgs = draw(views) if draw is not None else {}
    view_data = []
    for r in views:
        g = r.graph()
        labels: dict[str, list[int]] = {}
        for sid, per in enumerate(r.labels[:cap]):
            for label in per.values():
                labels.setdefault(label, []).append(sid)
        view_data.append({
            "name": r.view.name, "doc": r.view.doc, "svg": svgs.get(r.view.name),
            "nodes": [{"label": n, "states": g.nodes[n]["states"],
                       "initial": g.nodes[n]["initial"], "ids": labels.get(n, [])}
                      for n in sorted(g.nodes)],
            "edges": [[s, t, a, d["count"], d["severity"]]
                      for s, t, a, d in sorted(g.edges(keys=True, data=True))],
        })
    notes = list(result.notes)
    if page.seen > cap:
        notes.append(f"the page keeps the first {cap:,} of {page.seen:,} states (BFS order; "
                     "raise --max-shown); traces show all their states")
    return {
        "format": "cowspec-explore", "version": 1,
        "spec": result.spec, "model": result.model,
        "constants": {k: render(v) for k, v in result.constants.items()},
        "stats": {"distinct": result.stats.distinct_states, "generated":
                  result.stats.total_states, "depth": result.stats.depth,
                  "complete": result.complete, "shown": len(states)},
        "exit_code": result.exit_code,
        "notes": notes,
        "fields": b.field_names, "strings": b.strings.strings,
        "states": states, "actions": actions, "traces": traces, "views": view_data,
    }


def _property_trace(b: PageBuilder, p: PropertyVerdict, raw: list[RawStep] | None,
                    ids: dict[State, int]) -> dict:
    assert p.trace is not None
    return {"name": p.name, "kind": p.kind, "verdict": p.verdict, "expected": p.expected,
            "judgement": p.judgement, "replay": p.replay, "why": [_why(w) for w in p.why],
            "steps": b.trace(p.trace, raw, ids)}
