"""The explorer on a compiled spec (``tests/explorer_specs/pages.cow``): views, scenarios
with wildcards, expectations and kernel tags as the spec language produces them."""

from __future__ import annotations

from pathlib import Path

from explorer.engine.interface import Options
from explorer.engine.registry import check
from explorer.graph import ViewRecorder, find_view
from explorer.run import run_model
from explorer.scenario import END, FURTHEST
from pyspec.loader import load_spec

PAGES = str(Path(__file__).parent / "explorer_specs" / "pages.cow")


def test_scenarios_of_a_compiled_spec_are_judged() -> None:
    result = run_model(load_spec(PAGES).instantiate(), Options())
    scenarios = {s.name: s for s in result.scenarios}
    assert {n: s.judgement for n, s in scenarios.items()} == {
        "ShareOne": "pass",
        "ShareBoth": "pass",
        "Stuck": "fail",
    }
    # Map(_) twice: either page first, each explored.
    assert scenarios["ShareBoth"].violated == ("NotBothShared",)
    assert [s.label for s in scenarios["ShareOne"].traces[END].steps][1:] == [
        "Map(p=P0)",
        "Share(p=P0)",
    ]
    stuck = scenarios["Stuck"]
    assert stuck.reached == 1 and stuck.reason.startswith("stuck at step 2 (Share(P1))")
    assert stuck.traces[FURTHEST].steps[-1].state["use"].items[0] == ("P0", "Anon")
    assert result.exit_code == 12


def test_expected_violation_trace_carries_kernel_and_patch_tags() -> None:
    result = run_model(load_spec(PAGES).instantiate(), Options(), scenarios=[])
    (inv,) = result.properties
    assert (inv.verdict, inv.judgement) == ("violated", "pass")
    last = inv.trace.steps[-1]
    assert last.action == "Share"
    assert {t.name: t.args for t in last.tags} == {
        "kernel": ("mm/memory.c: copy_present_pte",),
        "patch": (3,),
    }
    kernels = {k.value: k.actions for k in result.coverage.tagged("kernel")}
    assert kernels == {
        "mm/memory.c: copy_present_pte": ("Share",),
        "mm/memory.c: do_anonymous_page": ("Map",),
    }
    assert result.exit_code == 0


def test_view_of_a_compiled_spec() -> None:
    model = load_spec(PAGES).instantiate()
    recorder = ViewRecorder(model, find_view(model, "Lifecycle"))
    check(model, Options(keep_going=True, observer=recorder))
    graph = recorder.graph()
    assert set(graph.edges(keys=True)) == {
        ("free", "anon", "Map"),
        ("anon", "shared", "Share"),
        ("shared", "anon", "Unshare"),
        ("anon", "free", "Release"),
    }
    assert {n for n in graph.nodes if graph.nodes[n]["initial"]} == {"free"}
    assert [k for k in graph.edges(keys=True) if graph.edges[k]["into_violation"]] == [
        ("anon", "shared", "Share")
    ]
