"""Draws docs/images/architecture/packages.svg (and .dot): the modules of explorer/ and
explorer/engine/ and who imports whom, from the code itself (grimp, the import graph
import-linter checks). pyspec/ and explorer/kernelrun/ are one box each; an import that
follows from others (a transitive one) is left out so that the layers show.

Run by ``make docs``: ``.venv/bin/python docs/images/architecture/generate.py``. The output
is deterministic: rerunning it on an unchanged tree changes no file.
"""

from __future__ import annotations

from pathlib import Path

import graphviz
import grimp
import networkx as nx

OUT = Path(__file__).resolve().parent / "packages"
#: Packages drawn as one box.
COLLAPSED = ("pyspec", "explorer.kernelrun")
#: Clusters, innermost last: a module goes to the last whose prefix it has.
CLUSTERS = (("explorer", "explorer/: commands, runs, reports, diagrams"),
            ("explorer.engine", "explorer/engine/: engines and their parts"))


def node(module: str) -> str:
    for package in COLLAPSED:
        if module == package or module.startswith(package + "."):
            return package
    return module


def imports() -> nx.DiGraph:
    graph = grimp.build_graph("pyspec", "explorer")
    g = nx.DiGraph()
    for module in sorted(graph.modules):
        if module in ("explorer", "explorer.engine"):
            continue  # package docstrings only
        g.add_node(node(module))
        for imported in graph.find_modules_directly_imported_by(module):
            a, b = node(module), node(imported)
            if a != b and b not in ("explorer", "explorer.engine"):
                g.add_edge(a, b)
    return nx.transitive_reduction(g) if nx.is_directed_acyclic_graph(g) else g


def draw(g: nx.DiGraph) -> graphviz.Digraph:
    dot = graphviz.Digraph("packages", graph_attr={"rankdir": "TB", "fontname": "Helvetica",
                                                   "fontsize": "11", "nodesep": "0.15",
                                                   "ranksep": "0.35"},
                           node_attr={"shape": "box", "fontname": "Helvetica",
                                      "fontsize": "10", "style": "rounded"},
                           edge_attr={"arrowsize": "0.6", "color": "#555555"})

    def cluster_of(module: str) -> str | None:
        found = None
        for prefix, _ in CLUSTERS:
            if module.startswith(prefix + "."):
                found = prefix
        return found

    for prefix, label in CLUSTERS:
        with dot.subgraph(name=f"cluster_{prefix}") as c:
            c.attr(label=label, style="rounded", color="#999999")
            for m in sorted(g.nodes):
                if cluster_of(m) == prefix:
                    c.node(m, m.rsplit(".", 1)[-1])
    for m in sorted(g.nodes):
        if cluster_of(m) is None or m in COLLAPSED:
            dot.node(m, m.rsplit(".", 1)[-1] + "/", style="rounded,filled", fillcolor="#eeeeee")
    for a, b in sorted(g.edges):
        dot.edge(a, b)
    return dot


def main() -> None:
    dot = draw(imports())
    OUT.with_suffix(".dot").write_text(dot.source, encoding="utf-8")
    OUT.with_suffix(".svg").write_bytes(dot.pipe(format="svg"))


if __name__ == "__main__":
    main()
