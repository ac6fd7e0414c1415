"""Graphviz diagrams: the state graph, counterexample paths, view and comparison diagrams.

Output must be identical byte for byte across runs, so every graph, node and edge
attribute is set explicitly, node ids come from BFS ids or sorted labels, and statements
are emitted in sorted order. Styles follow TLC's ``-dump dot``: rounded boxes, initial
states filled, edges coloured per action, BFS levels as ranks.
"""

from __future__ import annotations

import html
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

import graphviz

from explorer.graph import CLEAN, EXPECTED
from explorer.result import PropertyVerdict, Trace
from explorer.textsafe import encodable
from explorer.traces import changes, leaves

if TYPE_CHECKING:
    import networkx as nx

FONT = "Helvetica"
#: An unexpected violation (a bug the model did not expect).
RED = "#d62728"
#: A violation the model expects (a documented gap of that kernel version): drawn dashed
#: in amber, so that a version whose gaps touch many states is not painted red.
AMBER = "#b8860b"
INITIAL_FILL = "#e8e8e8"
CHANGED_FILL = "#fff2a8"
#: Edge colours by action index (Tableau 10 without red, which marks violations).
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b",
    "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)  # fmt: skip
#: Colours of the two models in a comparison: edges only in the first, only in the second.
COMPARE_COLORS = ("#1f77b4", "#ff7f0e")


def heading(spec: str | None, model: str, what: str) -> str:
    """A diagram's title: which spec and model it shows, and what of them."""
    title = f"{Path(spec).name}, model {model}: {what}" if spec else f"model {model}: {what}"
    return encodable(title)


def _digraph(name: str, title: str, rankdir: str = "TB") -> graphviz.Digraph:
    g = graphviz.Digraph(name)
    g.attr(
        "graph",
        label=title,
        labelloc="t",
        fontname=FONT,
        fontsize="14",
        rankdir=rankdir,
        nodesep="0.35",
        ranksep="0.5",
    )
    g.attr("node", shape="box", style="rounded", fontname=FONT, fontsize="10", color="black")
    g.attr("edge", fontname=FONT, fontsize="9", color="black", fontcolor="black")
    return g


def _colour(severity: int) -> str:
    return RED if severity > EXPECTED else AMBER


def _legend(g: graphviz.Digraph, rows: list[tuple[str, str, str]]) -> None:
    """A box saying what the marks mean: rows of (swatch colour, swatch text, meaning);
    a colour starting with ``fill:`` is a fill, else the swatch text's colour."""
    cells = []
    for colour, swatch, meaning in rows:
        if colour.startswith("fill:"):
            cell = f'<td bgcolor="{colour[5:]}" border="1">{html.escape(swatch)}</td>'
        else:
            cell = f'<td><font color="{colour}">{html.escape(swatch)}</font></td>'
        cells.append(f'<tr>{cell}<td align="left">{html.escape(meaning)}</td></tr>')
    table = ('<table border="0" cellborder="0" cellspacing="2" cellpadding="2">'
             '<tr><td colspan="2" align="left"><b>legend</b></td></tr>'
             + "".join(cells) + "</table>")
    with g.subgraph(name="cluster_legend") as box:
        box.attr(label="", color="grey", style="rounded")
        box.node("legend", label=f"<{table}>", shape="plaintext", style="solid")


_VIOLATION_ROWS = [
    (RED, "red, bold", "unexpected violation (the check fails)"),
    (AMBER, "amber, dashed", "violation the model expects (a documented gap)"),
]


def _plain(lines: list[str]) -> str:
    """Left-justified lines; a backslash in a value must not start an escape."""
    return "".join(line.replace("\\", "\\\\") + "\\l" for line in lines)


def state_graph(graph: nx.MultiDiGraph, title: str) -> graphviz.Digraph:
    g = _digraph("states", title)
    nodes = sorted(graph.nodes(data=True), key=lambda n: (n[1]["level"], n[0]))
    for level, members in groupby(nodes, key=lambda n: n[1]["level"]):
        with g.subgraph(name=f"level{level}") as rank:
            rank.attr(rank="same")
            for sid, data in members:
                lines = [f"{k} = {v}" for k, v in data["fields"].items()]
                if data["violated"]:
                    lines.append("violates " + ", ".join(data["violated"]))
                unexplored = data.get("unexplored", False)
                if unexplored:
                    lines.append("(successors not explored)")
                bad = data["severity"]
                style = "rounded,filled" if data["initial"] else "rounded"
                attrs = {
                    "label": _plain(lines),
                    "style": style + (",dashed" if unexplored or bad == EXPECTED else ""),
                    "fillcolor": INITIAL_FILL if data["initial"] else "white",
                    "color": _colour(bad) if bad else "black",
                    "fontcolor": _colour(bad) if bad else "black",
                    "penwidth": "2" if bad else "1",
                }
                rank.node(f"s{sid}", **attrs)
    for src, dst, label, data in sorted(graph.edges(keys=True, data=True)):
        bad = data["severity"]
        colour = _colour(bad) if bad else PALETTE[data["action"] % len(PALETTE)]
        text = label if data["count"] == 1 else f"{label} x{data['count']}"
        g.edge(f"s{src}", f"s{dst}", label=text, color=colour, fontcolor=colour,
               style="dashed" if bad == EXPECTED else "solid")
    _legend(g, [
        (f"fill:{INITIAL_FILL}", "box", "initial state"),
        ("black", "A(x) x3", "action and parameters; x3: three generated successors"),
        *_VIOLATION_ROWS,
    ])
    return g


def trace_diagram(
    trace: Trace, title: str, violation: bool, expected: bool = False
) -> graphviz.Digraph:
    """One node per state, fields as a table with changed fields highlighted; numbered
    edges carry the action and its parameters. The last state is red for a violation
    (amber for one the model expects)."""
    g = _digraph("trace", title)
    bad = AMBER if expected else RED
    diffs = changes(trace)
    n = len(trace.steps)
    # A kernel state has dozens of fields and a trace touches a few: the first state shows
    # them all, the others only the fields that change somewhere in the trace.
    moving = {k for diff in diffs[1:] for k in diff}
    for i, (step, diff) in enumerate(zip(trace.steps, diffs, strict=True), 1):
        last_bad = violation and i == n
        head = "state 1 (initial)" if i == 1 else f"state {i}"
        rows = [f'<tr><td colspan="2" bgcolor="{INITIAL_FILL}"><b>{head}</b></td></tr>']
        fields = leaves(step.state)
        for k, v in fields.items():
            if i > 1 and k not in moving:
                continue
            fill = f' bgcolor="{CHANGED_FILL}"' if i > 1 and k in diff else ""
            rows.append(
                f'<tr><td align="left"{fill}>{html.escape(k)}</td>'
                f'<td align="left"{fill}>{html.escape(v)}</td></tr>'
            )
        hidden = sum(1 for k in fields if k not in moving)
        if i > 1 and hidden:
            rows.append(f'<tr><td colspan="2" align="left"><i>{hidden} more fields as in '
                        "state 1</i></td></tr>")
        table = (
            '<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
            + "".join(rows)
            + "</table>"
        )
        g.node(
            f"t{i}",
            label=f"<{table}>",
            shape="plaintext",
            style="solid",
            color=bad if last_bad else "black",
            fontcolor=bad if last_bad else "black",
        )
    for i, step in enumerate(trace.steps[1:], 2):
        colour = bad if violation and i == n else "black"
        g.edge(f"t{i - 1}", f"t{i}", label=f"{i - 1}. {step.label}", color=colour, fontcolor=colour)
    if trace.loop is not None and trace.back is not None:
        g.edge(f"t{n}", f"t{trace.loop + 1}", label=f"{n}. {trace.back.label} (back: repeats "
               "forever)", color=bad, fontcolor=bad, style="dashed", constraint="false")
    _legend(g, [
        (f"fill:{CHANGED_FILL}", "field", "changed by the step into this state"),
        ("black", "k. A(x)", "step k: action and parameters"),
        *([(bad, "dashed", "a lasso's back edge: the cycle repeats forever")]
          if trace.loop is not None else []),
        *([(bad, "amber" if expected else "red", "the violating state and the step into it"
                + (" (a violation the model expects)" if expected else ""))]
          if violation else []),
    ])
    return g


def property_trace(p: PropertyVerdict, spec: str | None, model: str) -> graphviz.Digraph:
    """The path diagram of a property's counterexample or witness (it must have one)."""
    if p.trace is None:
        raise ValueError(f"{p.name} has no trace")
    title = heading(spec, model, f"{p.kind} {p.name} {p.verdict}")
    return trace_diagram(p.trace, title, violation=p.verdict == "violated",
                         expected=p.expected == "violated")


def _node_id(label: str, order: dict[str, int]) -> str:
    return f"v{order[label]}"


def view_diagram(graph: nx.MultiDiGraph, title: str) -> graphviz.Digraph:
    """Abstract states as nodes (initial ones filled), actions with counts as edges, red
    where a transition enters a violating state."""
    g = _digraph("view", title)
    order = {label: i for i, label in enumerate(sorted(graph.nodes))}
    element = graph.graph.get("element")
    for label in sorted(graph.nodes):
        data = graph.nodes[label]
        n = data["states"]
        seen = f"({n} (state, {element}) pairs)" if element else f"({n} states)"
        g.node(
            _node_id(label, order),
            label=_plain([label, seen]),
            style="rounded,filled" if data["initial"] else "rounded",
            fillcolor=INITIAL_FILL if data["initial"] else "white",
        )
    # One drawn edge per pair of labels, listing its actions: a kernel lifecycle has a
    # dozen actions between two labels, and one arrow each would hide the shape.
    edges = sorted(graph.edges(keys=True, data=True))
    for (src, dst), group in groupby(edges, key=lambda e: (e[0], e[1])):
        items = list(group)
        bad = max(data.get("severity", CLEAN) for *_, data in items)
        colour = _colour(bad) if bad else "black"
        g.edge(
            _node_id(src, order),
            _node_id(dst, order),
            label="\\n".join(f"{action} ({data['count']})" for _, _, action, data in items),
            color=colour,
            fontcolor=colour,
            penwidth="2" if bad else "1",
            style="dashed" if bad == EXPECTED else "solid",
        )
    what = "(state, element) pairs" if element else "states"
    _legend(g, [
        (f"fill:{INITIAL_FILL}", "label", "label of an initial state"),
        ("black", "(n states)", f"reachable {what} with this label"),
        ("black", "A (n)", "action A changes the label: n transitions"),
        (RED, "red, bold", "some transition enters an unexpected violation"),
        (AMBER, "amber, dashed", "transitions enter only violations the model expects"),
    ])
    return g


def compare_diagram(
    a: nx.MultiDiGraph, b: nx.MultiDiGraph, names: tuple[str, str], title: str
) -> graphviz.Digraph:
    """Both quotients overlaid: edges and nodes in both models black, in one model only
    coloured by that model (a legend says which)."""
    g = _digraph("compare", title)
    labels = sorted(set(a.nodes) | set(b.nodes))
    order = {label: i for i, label in enumerate(labels)}
    _legend(g, [
        (f"fill:{INITIAL_FILL}", "label", "label of an initial state"),
        ("black", "black", "in both models"),
        (COMPARE_COLORS[0], f"only in {names[0]}", "label or actions only in this model"),
        (COMPARE_COLORS[1], f"only in {names[1]}", "label or actions only in this model"),
    ])
    for label in labels:
        in_a, in_b = label in a.nodes, label in b.nodes
        colour = "black" if in_a and in_b else COMPARE_COLORS[0 if in_a else 1]
        initial = (in_a and a.nodes[label]["initial"]) or (in_b and b.nodes[label]["initial"])
        g.node(
            _node_id(label, order),
            label=_plain([label]),
            style="rounded,filled" if initial else "rounded",
            fillcolor=INITIAL_FILL if initial else "white",
            color=colour,
            fontcolor=colour,
        )
    edges_a, edges_b = set(a.edges(keys=True)), set(b.edges(keys=True))

    def side(edge: tuple[str, str, str]) -> int:
        """0: both models, 1: only the first, 2: only the second."""
        return 0 if edge in edges_a and edge in edges_b else (1 if edge in edges_a else 2)

    # One drawn edge per pair of labels and side, listing its actions.
    edges = sorted(edges_a | edges_b, key=lambda e: (e[0], e[1], side(e), e[2]))
    for (src, dst, where), group in groupby(edges, key=lambda e: (e[0], e[1], side(e))):
        colour = "black" if where == 0 else COMPARE_COLORS[where - 1]
        g.edge(
            _node_id(src, order),
            _node_id(dst, order),
            label="\\n".join(action for _, _, action in group),
            color=colour,
            fontcolor=colour,
            style="solid" if where == 0 else "bold",
        )
    return g


#: What ``dot`` renders a diagram to, by the output file's extension (none: SVG).
FORMATS = ("svg", "png", "pdf")


def diagram_format(path: str | Path) -> str | None:
    """The format an output path asks for; None for an extension dot is not asked for."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if not suffix:
        return "svg"
    return suffix if suffix in FORMATS else None


def write_diagram(g: graphviz.Digraph, path: str | Path) -> tuple[Path, Path]:
    """Write ``FILE.dot`` and render ``FILE.svg`` (``.png``, ``.pdf`` as the path says)
    next to it; returns both paths.

    Raises :class:`graphviz.ExecutableNotFound` when Graphviz's ``dot`` is missing (the
    ``.dot`` file is written first, so it is kept), ValueError for another extension.
    """
    out = Path(path)
    fmt = diagram_format(out)
    if fmt is None:
        raise ValueError(f"cannot draw {out}: the extension must be one of {', '.join(FORMATS)}")
    dot_path, image_path = out.with_suffix(".dot"), out.with_suffix(f".{fmt}")
    dot_path.write_text(g.source, encoding="utf-8")
    image_path.write_bytes(g.pipe(format=fmt, quiet=True))
    return image_path, dot_path
