"""Graphviz diagrams: they render with ``dot``, are identical across runs, and a view's
quotient is exactly the abstraction of the state graph."""

from __future__ import annotations

import re
import shutil
import subprocess
from itertools import product

import pytest
from explorer_testing import load, model_path, run_cli

from explorer.dot import state_graph, view_diagram
from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.graph import Recorders, StateGraphRecorder, ViewRecorder, find_view

TOYS = model_path("toys")
pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz dot missing")


def draw(capsys, tmp_path, name: str, *argv: str) -> tuple[bytes, str]:
    out = tmp_path / f"{name}.svg"
    code, _, err = run_cli(capsys, "graph", *argv, "-o", str(out))
    assert code == 0, err
    return out.read_bytes(), out.with_suffix(".dot").read_text()


def renders(dot_source: str) -> bool:
    proc = subprocess.run(["dot", "-Tsvg"], input=dot_source.encode(), capture_output=True)
    return proc.returncode == 0 and proc.stdout.startswith(b"<?xml")


@pytest.mark.parametrize(
    "argv",
    [
        [TOYS, "--model", "pages"],
        [TOYS, "--model", "pages", "--view", "page"],
        [TOYS, "--model", "pages", "--view", "shared", "--self-loops"],
        [model_path("diehard"), "--trace", "NotSolved"],
        [model_path("diehard"), "--model", "witness", "--trace", "Solved"],
        [model_path("tcommit")],
    ],
)
def test_diagrams_render_and_are_identical_across_runs(capsys, tmp_path, argv) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    svg_a, dot_a = draw(capsys, tmp_path / "a", "d", *argv)
    svg_b, dot_b = draw(capsys, tmp_path / "b", "d", *argv)
    assert svg_a == svg_b and dot_a == dot_b
    assert svg_a.startswith(b"<?xml") and renders(dot_a)


def test_state_graph_marks_initial_and_violating_states_and_ranks_levels(capsys, tmp_path) -> None:
    _, dot = draw(capsys, tmp_path, "states", TOYS, "--model", "pages")
    nodes = re.findall(r"^\s*(s\d+) \[", dot, re.M)
    assert len(nodes) == 9
    assert dot.count('style="rounded,filled"') == 1  # the one initial state
    # The model expects NotBothShared to be violated: amber and dashed, not red.
    (bad,) = [line for line in dot.splitlines() if "violates NotBothShared" in line]
    assert 'color="#b8860b"' in bad and "dashed" in bad and "#d62728" not in bad
    assert "legend" in dot and "initial state" in dot and "unexpected violation" in dot
    assert len(re.findall(r"rank=same", dot)) == check(load("toys", "pages")).stats.depth
    edges = re.findall(r"^\s*s\d+ -> s\d+", dot, re.M)
    assert len(edges) == check(load("toys", "pages")).stats.total_states - 1


def test_unexpected_violations_are_red_and_expected_ones_amber() -> None:
    model = load("toys", "pages")
    model.expect_violated = frozenset()
    recorder = StateGraphRecorder(model, 100)
    view = ViewRecorder(model, find_view(model, "page"))
    check(model, Options(keep_going=True, observer=Recorders([recorder, view])))
    dot = state_graph(recorder.graph, "pages").source
    (bad,) = [line for line in dot.splitlines() if "violates NotBothShared" in line]
    assert 'color="#d62728"' in bad and "dashed" not in bad
    share = view_diagram(view.graph(), "pages").source
    (edge,) = [line for line in share.splitlines() if "Share (6)" in line]
    assert 'color="#d62728"' in edge


def test_state_graph_refuses_past_its_cap_and_suggests_a_view(capsys, tmp_path) -> None:
    out = tmp_path / "x.svg"
    code, _, err = run_cli(
        capsys, "graph", TOYS, "--model", "pages", "--max-nodes", "5", "-o", str(out)
    )
    assert code == 152
    assert "more than 5 states" in err and "--view" in err and "page, shared" in err
    assert not out.exists()


def test_trace_diagram_numbers_edges_and_highlights_changes(capsys, tmp_path) -> None:
    _, dot = draw(capsys, tmp_path, "t", model_path("diehard"), "--trace", "NotSolved")
    labels = re.findall(r'-> t\d+ \[label="([^"]+)"', dot)
    assert labels == [
        "1. FillBigJug",
        "2. BigToSmall",
        "3. EmptySmallJug",
        "4. BigToSmall",
        "5. FillBigJug",
        "6. BigToSmall",
    ]
    assert len(re.findall(r"^\s*t\d+ \[", dot, re.M)) == 7
    # FillBigJug changes big, not small.
    node2 = next(line for line in dot.splitlines() if line.strip().startswith("t2 ["))
    assert re.search(r'bgcolor="#fff2a8">big<', node2)
    assert not re.search(r'bgcolor="#fff2a8">small<', node2)


def test_trace_of_a_property_without_one_is_refused(capsys, tmp_path) -> None:
    argv = ("graph", model_path("twophase"), "-o", str(tmp_path / "x.svg"), "--trace")
    code, _, err = run_cli(capsys, *argv, "TPTypeOK")
    assert code == 151 and "no trace to draw: holds" in err
    code, _, err = run_cli(capsys, *argv, "Nope")
    assert code == 151


def brute_force_quotient(model, view_name):
    """The page lifecycle computed from scratch: every state, every transition."""
    view = find_view(model, view_name)
    states = [tuple(s) for s in product(range(3), repeat=2)]
    edges: dict[tuple[str, str, str], int] = {}
    seen: dict[str, int] = {}
    for s in states:
        labels = dict(view.fn(s))
        for label in labels.values():
            seen[label] = seen.get(label, 0) + 1
        for a, _, t in model.successors(s):
            after = dict(view.fn(t))
            for e, before in labels.items():
                if after[e] != before:
                    key = (before, after[e], model.actions[a].name)
                    edges[key] = edges.get(key, 0) + 1
    return seen, edges


def test_view_quotient_node_by_node_and_edge_by_edge() -> None:
    model = load("toys", "pages")
    recorder = ViewRecorder(model, find_view(model, "page"))
    check(model, Options(keep_going=True, observer=recorder))
    graph = recorder.graph()
    seen, edges = brute_force_quotient(model, "page")
    # The lifecycle the model describes, and nothing else.
    assert set(graph.nodes) == {"Free", "Anon", "Shared"}
    assert set(graph.edges(keys=True)) == {
        ("Free", "Anon", "Map"),
        ("Anon", "Shared", "Share"),
        ("Shared", "Anon", "Unshare"),
        ("Anon", "Free", "Release"),
    }
    assert {n: graph.nodes[n]["states"] for n in graph.nodes} == seen
    assert {k: graph.edges[k]["count"] for k in graph.edges(keys=True)} == edges
    assert {n for n in graph.nodes if graph.nodes[n]["initial"]} == {"Free"}
    # Only Share can enter the state where both pages are shared.
    assert {k for k in graph.edges(keys=True) if graph.edges[k]["into_violation"]} == {
        ("Anon", "Shared", "Share")
    }
    dot = view_diagram(graph, "pages").source
    assert len(re.findall(r"^\s*v\d+ -> v\d+", dot, re.M)) == 4
    (share,) = [line for line in dot.splitlines() if "Share (6)" in line]
    assert 'color="#b8860b"' in share and "dashed" in share  # the model expects it
    assert "amber, dashed" in dot and "label of an initial state" in dot


def test_whole_state_view_and_self_loops() -> None:
    model = load("toys", "pages")
    plain = ViewRecorder(model, find_view(model, "shared"))
    loops = ViewRecorder(model, find_view(model, "shared"), self_loops=True)
    check(model, Options(keep_going=True, observer=Recorders([plain, loops])))
    assert set(plain.graph().nodes) == {"0 shared", "1 shared", "2 shared"}
    assert all(src != dst for src, dst in plain.graph().edges())
    assert ("0 shared", "0 shared", "Map") in set(loops.graph().edges(keys=True))


def test_compare_colours_edges_present_in_one_model_only(capsys, tmp_path) -> None:
    out = tmp_path / "cmp.svg"
    code, stdout, _ = run_cli(
        capsys,
        "compare",
        TOYS,
        "--model",
        "pages",
        "--model",
        "pages-noshare",
        "--view",
        "page",
        "-o",
        str(out),
    )
    assert code == 0
    assert re.search(r"invariant NotBothShared\s+violated\s+violated", stdout)
    dot = out.with_suffix(".dot").read_text()
    (unshare,) = [line for line in dot.splitlines() if 'label=Unshare' in line]
    assert '#1f77b4' in unshare and "bold" in unshare
    shared = [line for line in dot.splitlines() if "label=Map" in line]
    assert shared and "color=black" in shared[0]
    assert renders(dot)


def test_compare_table_marks_unexpected_verdicts(capsys) -> None:
    code, out, _ = run_cli(
        capsys, "compare", model_path("diehard"), "--model", "puzzle", "--model", "solve"
    )
    assert code == 12
    assert re.search(r"invariant NotSolved\s+violated !\s+violated\n", out)
    assert re.search(r"invariant TypeOK\s+unknown\s+holds", out)


def test_check_writes_every_diagram_of_a_model(capsys, tmp_path) -> None:
    code, _, _ = run_cli(
        capsys, "check", TOYS, "--model", "pages", "--diagrams", str(tmp_path / "d")
    )
    assert code == 0
    names = sorted(p.name for p in (tmp_path / "d").iterdir())
    assert names == sorted(
        f"{stem}.{ext}"
        for stem in ("states", "trace-NotBothShared", "view-page", "view-shared")
        for ext in ("svg", "dot")
    )


def test_state_graph_recorder_counts_duplicate_successors_once_per_label() -> None:
    model = load("ewd840", N=2)
    recorder = StateGraphRecorder(model, 1000)
    result = check(model, Options(observer=recorder))
    counts = sum(d["count"] for *_, d in recorder.graph.edges(keys=True, data=True))
    initial = len(model.initial_states())
    assert counts == result.stats.total_states - initial


def test_trace_nodes_after_the_first_show_only_fields_the_trace_changes(tmp_path) -> None:
    from explorer.dot import trace_diagram
    from pyspec.loader import load_spec

    spec = tmp_path / "t.cow"
    spec.write_text("var x: 0..3, y: 0..3, z: bool\ninit { x = 0  y = 2  z = false }\n"
                    "action Up { requires x < 3  x' = x + 1 }\n"
                    "invariant Low = x < 2\n")
    result = check(load_spec(str(spec)).instantiate(), Options())
    (low,) = [p for p in result.properties if p.name == "Low"]
    dot = trace_diagram(low.trace, "t", violation=True).source
    nodes = {m.group(1): m.group(2) for m in re.finditer(r"^\s*(t\d+) \[label=<(.*)>", dot, re.M)}
    assert ">y<" in nodes["t1"] and ">z<" in nodes["t1"]
    assert ">y<" not in nodes["t3"] and ">x<" in nodes["t3"]
    assert "2 more fields as in state 1" in nodes["t3"]
