"""The kernel model (spec/kernel/*.cow): every model of every spec is judged as the
kernel history says, the litmus scenarios behave per model, the known bugs show up as
counterexamples of the expected shape, every action fires in linux-5.19, and the
witnesses of the interesting paths are reached.

Every model of every spec is checked once (two worker processes, about 40 s) and the
results are shared by the tests below.
"""

from __future__ import annotations

import re
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import pytest
from explorer_testing import run_cli

from explorer.cli_common import load
from explorer.engine.interface import Options
from explorer.result import Result, Trace
from explorer.run import run_model
from pyspec.values import Variant, render

KERNEL = Path(__file__).resolve().parents[1] / "spec" / "kernel"
SPECS = ("cow", "hugetlb", "thp", "gupfast")
VERSIONS = ("linux-5.7", "linux-5.8", "linux-5.17", "linux-5.18", "linux-5.19")
#: The patches of the series that change behaviour, hence have a model switched off.
SWITCHED = (1, 2, 9, 12, 15, 16)
MODELS = VERSIONS + tuple(f"linux-5.19-without-patch-{n}" for n in SWITCHED) + (
    "linux-5.19-without-swp-exclusive", "linux-6.x")

#: The models at wider bounds (`make check-wide`; too slow for the test suite but gupfast's).
WIDE = {
    "cow": ("linux-5.19-wide", "linux-5.19-3procs-wide"),
    "hugetlb": ("linux-5.17-wide", "linux-5.19-wide", "linux-5.19-3procs-wide"),
    "thp": ("linux-5.19-wide", "linux-5.19-3procs-wide"),
    "gupfast": ("linux-5.17-wide", "linux-5.19-wide", "linux-5.19-without-patch-9-wide",
                "linux-5.19-without-patch-15-wide", "linux-5.19-without-patch-16-wide"),
}

#: The scenarios the live runner binds to (explorer/kernelrun/bindings), per spec.
BOUND = {
    "cow": ("VmspliceAfterFork", "VmspliceAfterForkSwap", "VmspliceBeforeFork",
            "VmspliceBeforeForkSwap", "RoPinForkWrite", "RoPinForkWriteSwap", "RwPinFork",
            "RwPinWrprotectWrite", "RwPinSwapoutWrite", "RoPinZeropage", "VfioSwapRace"),
    "thp": ("VmspliceAfterForkThp", "VmspliceBeforeForkThp", "RoPinForkWriteThp",
            "RwPinForkThp", "RwPinWrprotectWriteThp", "RwPinSwapoutWriteThp",
            "RoPinZeropageThp"),
    "hugetlb": ("VmspliceAfterForkHugetlb", "VmspliceBeforeForkHugetlb",
                "RoPinForkWriteHugetlb", "RwPinForkHugetlb", "RwPinWrprotectWriteHugetlb"),
    "gupfast": (),
}


@cache
def _spec(spec: str) -> object:
    return load(str(KERNEL / f"{spec}.cow"))


def _check(job: tuple[str, str]) -> tuple[str, str, Result]:
    spec, model = job
    return spec, model, run_model(_spec(spec).instantiate(model, {}), Options(keep_going=True))


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, str], Result]:
    jobs = [(spec, model) for spec in SPECS for model in MODELS]
    with ProcessPoolExecutor(2) as pool:
        return {(s, m): r for s, m, r in pool.map(_check, jobs)}


def _labels(trace: Trace) -> list[str]:
    return [step.label for step in trace.steps[1:]]


def _trace(results: dict, spec: str, model: str, prop: str) -> Trace:
    p = next(p for p in results[(spec, model)].properties if p.name == prop)
    assert p.verdict == "violated" and p.trace is not None, (spec, model, prop)
    return p.trace


def _entry(state: dict, proc: str) -> Variant:
    """pte[proc][A0] of a described state."""
    row = dict(state["pte"].items)[proc]
    return dict(row.items)["A0"]


def _index(labels: list[str], pattern: str, after: int = -1) -> int:
    """The first step after `after` whose label matches `pattern` (fails if none)."""
    for i, label in enumerate(labels):
        if i > after and re.fullmatch(pattern, label):
            return i
    raise AssertionError(f"no step {pattern!r} after step {after} in {labels}")


# ---- the models -------------------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS)
def test_every_spec_defines_the_same_models(spec: str) -> None:
    names = load(str(KERNEL / f"{spec}.cow")).model_names
    assert tuple(n for n in names if not n.endswith("-wide")) == MODELS
    assert tuple(n for n in names if n.endswith("-wide")) == WIDE[spec]


@pytest.mark.parametrize("spec", SPECS)
def test_every_model_is_judged_as_the_kernel_history_says(results: dict, spec: str) -> None:
    """A historical bug that stops being found fails here as much as a new one."""
    for model in MODELS:
        r = results[(spec, model)]
        assert r.complete and r.error is None, (spec, model, r.stopped)
        wrong = [f"{p.name}: {p.verdict}, expected {p.expected}" for p in r.properties
                 if p.judgement != "pass"]
        wrong += [f"scenario {s.name}: {s.reason}" for s in r.scenarios if s.judgement != "pass"]
        assert not wrong, (spec, model, wrong)
        assert r.exit_code == 0, (spec, model)


def test_linux_5_19_keeps_exactly_the_gaps_the_series_leaves(results: dict) -> None:
    bad = {spec: {p.name for p in results[(spec, "linux-5.19")].properties
                  if p.verdict in ("violated", "unreachable")} for spec in SPECS}
    assert bad["cow"] == {"PinCoherent", "GetCoherent", "GetDmaIsolation"}
    assert bad["thp"] == {"PinCoherent", "GetCoherent", "GetDmaIsolation"}
    # hugetlb_wp() reuses by mapcount: a vmsplice pipe sees CPU stores and, once the
    # writer's R/W pin reused the page, DMA (VmspliceThenPinHugetlb).
    assert bad["hugetlb"] == {"Isolation", "DmaIsolation", "GetCoherent", "GetDmaIsolation"}
    assert bad["gupfast"] == {"PinnedInForkWindow"}
    for spec in ("cow", "thp", "hugetlb"):
        verdicts = {p.name: p.verdict for p in results[(spec, "linux-5.19")].properties}
        for prop in ("AnonPinCoherent", "IsolationMappedOrPinned", "DmaIsolation",
                     "PinnedImpliesExclusive", "WritableImpliesExclusive"):
            if (spec, prop) != ("hugetlb", "DmaIsolation"):
                assert verdicts.get(prop, "holds") == "holds", (spec, prop)


def test_linux_6_x_closes_the_zeropage_gap_and_keeps_the_others(results: dict) -> None:
    """6.2's unsharing of the zeropage for long-term R/O pins closes PinCoherent (no pin
    is ever on a zeropage); FOLL_GET across fork and hugetlb's vmsplice leak stay, and so
    does hugetlb's vmsplice-then-pin DmaIsolation (reached from MaxRefs = 2, as in 5.19)."""
    bad = {spec: _broken(results, spec, "linux-6.x") for spec in SPECS}
    assert bad["cow"] == {"GetCoherent", "GetDmaIsolation", "ZeropagePinned"}
    assert bad["thp"] == {"GetCoherent", "GetDmaIsolation", "HugeZeropagePinned"}
    assert bad["hugetlb"] == {"Isolation", "DmaIsolation", "GetCoherent", "GetDmaIsolation"}
    assert bad["gupfast"] == {"PinnedInForkWindow"}


def _broken(results: dict, spec: str, model: str) -> set[str]:
    return {p.name for p in results[(spec, model)].properties
            if p.verdict in ("violated", "unreachable")}


@pytest.mark.parametrize(("patch", "spec", "newly"), [
    (1, "cow", {"SwapCountAccounting"}),
    (2, "gupfast", {"DmaIsolation", "PinnedImpliesExclusive", "PinnedPageNotShared"}),
    (9, "cow", {"WritableImpliesExclusive", "PinnedImpliesExclusive", "DmaIsolation"}),
    (9, "thp", {"WritableImpliesExclusive", "PinnedImpliesExclusive"}),
    (9, "gupfast", {"AnonPinCoherent", "PinnedImpliesExclusive"}),
    (12, "cow", {"AnonPinCoherent", "DmaIsolation", "PinnedStaysMapped",
                 "ReadExclusiveMigrationEntry", "SwpBitRestoredExclusive"}),
    (12, "thp", {"AnonPinCoherent", "SplitPassedExclusive"}),
    (12, "gupfast", {"AnonPinCoherent"}),
    (15, "cow", {"AnonPinCoherent", "PinnedImpliesExclusive", "UnshareCopied"}),
    (15, "hugetlb", {"IsolationMappedOrPinned", "AnonPinCoherent"}),
    (15, "gupfast", {"AnonPinCoherent", "PinnedImpliesExclusive", "PinnedPageNotShared",
                     "IsolationMappedOrPinned"}),
    (16, "thp", {"AnonPinCoherent", "PinnedImpliesExclusive", "UnshareCopied"}),
    (16, "gupfast", {"AnonPinCoherent", "PinnedImpliesExclusive", "Isolation"}),
])
def test_switching_a_patch_off_breaks_what_it_fixes(results: dict, patch: int, spec: str,
                                                    newly: set[str]) -> None:
    base = _broken(results, spec, "linux-5.19")
    ablated = _broken(results, spec, f"linux-5.19-without-patch-{patch}")
    assert newly <= ablated - base


def test_hugetlb_dma_through_a_pin_reaches_a_vmsplice_pipe(results: dict) -> None:
    """hugetlb_wp() reuses by mapcount: the R/W pin's write fault reuses the page C's
    pipe still references (VmspliceThenPinHugetlb), in every version but 5.8."""
    for model in ("linux-5.17", "linux-5.18", "linux-5.19"):
        labels = _labels(_trace(results, "hugetlb", model, "DmaIsolation"))
        gup = _index(labels, r"Gup\(p=C, a=A0, k=GET, w=false\)", _index(labels, r"Fork"))
        pin = _index(labels, r"Gup\(p=P, a=A0, k=PIN, w=true\)",
                     _index(labels, r"Store\(p=C, a=A0\)", gup))
        assert labels[pin + 1:] == ["Dma(p=P, a=A0, k=PIN)"]


def test_without_the_swp_bit_o_direct_loses_its_page_across_swap(results: dict) -> None:
    newly = _broken(results, "cow", "linux-5.19-without-swp-exclusive") - \
        _broken(results, "cow", "linux-5.19")
    assert newly == {"ExclusiveGetCoherent", "SwpBitRestoredExclusive", "ExclusiveSwapEntry"}


# ---- the known bugs as counterexamples -----------------------------------------------------

def test_5_7_isolation_is_cve_2020_29374(results: dict) -> None:
    """fork, then a FOLL_GET of the shared page, then a write fault that reuses the page
    the reference holds (its mapcount dropped to 1 when the referencing process's own
    write moved it to a copy) and writes into it."""
    trace = _trace(results, "cow", "linux-5.7", "Isolation")
    labels = _labels(trace)
    gup = _index(labels, r"Gup\(p=(\w), a=A0, k=GET, w=false\)", _index(labels, r"Fork"))
    holder = re.match(r"Gup\(p=(\w)", labels[gup]).group(1)
    last = len(labels) - 1
    writer = re.fullmatch(r"Store\(p=(\w), a=A0\)", labels[last]).group(1)
    assert writer != holder
    before, after = trace.steps[last].state, trace.steps[last + 1].state
    frame = _entry(before, writer)
    assert frame.tag == "Present" and dict(frame.fields)["writable"] is False
    reused = _entry(after, writer)
    assert reused.tag == "Present" and dict(reused.fields) == {"frame": dict(frame.fields)["frame"],
                                                               "writable": True}
    ref = next(iter(after["refs"].items))
    assert render(dict(ref.fields)["page"]) == f"Frame({dict(frame.fields)['frame']})"


def test_5_8_isolation_is_vmsplice_before_fork(results: dict) -> None:
    labels = _labels(_trace(results, "cow", "linux-5.8", "Isolation"))
    gup = _index(labels, r"Gup\(p=P, a=A0, k=GET, w=false\)")
    fork = _index(labels, r"Fork", gup)
    _index(labels, r"Store\(p=C, a=A0\)", fork)


def test_5_17_isolation_is_the_swap_variant(results: dict) -> None:
    """The write fault on a swap entry reuses the page by mapcount + swapcount."""
    labels = _labels(_trace(results, "cow", "linux-5.17", "Isolation"))
    swap = _index(labels, r"PageOut\(p=P, a=A0\)")
    swapin = _index(labels, r"Fault\(p=\w, a=A0, acc=WRITE\)", swap)
    assert labels[-1].startswith("Store(")
    assert swapin == len(labels) - 2
    assert "Fork" in labels and any(label.startswith("Gup(") and "GET" in label for label in labels)


def test_5_17_thp_isolation_reuses_the_thp_by_mapcount(results: dict) -> None:
    labels = _labels(_trace(results, "thp", "linux-5.17", "Isolation"))
    gup = _index(labels, r"Gup\(p=\w, a=A0, k=GET, w=false\)")
    fork = _index(labels, r"Fork")
    _index(labels, r"Store\(p=\w, a=A0\)", max(gup, fork))


def test_5_19_hugetlb_still_leaks_through_vmsplice(results: dict) -> None:
    labels = _labels(_trace(results, "hugetlb", "linux-5.19", "Isolation"))
    fork = _index(labels, r"Fork")
    gup = _index(labels, r"Gup\(p=\w, a=A0, k=GET, w=false\)", fork)
    _index(labels, r"Store\(p=\w, a=A0\)", gup)


def test_pin_losses_before_5_19(results: dict) -> None:
    # 5.7 - 5.18: a R/O pin of the page shared after fork (no unsharing; 5.8's GUP
    # breaks COW instead); the pinner's write copies the page (RoPinForkWrite).
    for model in ("linux-5.7", "linux-5.17", "linux-5.18"):
        labels = _labels(_trace(results, "cow", model, "AnonPinCoherent"))
        assert labels[1:] == ["Fork", "Gup(p=P, a=A0, k=PIN, w=false)", "Store(p=P, a=A0)"]
    # 5.8: the pin comes before fork; fork shares the page, the write copies it.
    labels = _labels(_trace(results, "cow", "linux-5.8", "AnonPinCoherent"))
    pin = _index(labels, r"Gup\(p=P.*k=PIN.*")
    _index(labels, r"Store\(p=P, a=A0\)", _index(labels, r"Fork", pin))
    # 5.7 and 5.19 alike: the R/O pin of the zeropage.
    for model in ("linux-5.7", "linux-5.19"):
        labels = _labels(_trace(results, "cow", model, "PinCoherent"))
        assert labels == ["Fault(p=P, a=A0, acc=READ)", "Gup(p=P, a=A0, k=PIN, w=false)",
                          "Store(p=P, a=A0)"]


def test_dma_through_a_pin_reaches_the_child(results: dict) -> None:
    labels = _labels(_trace(results, "cow", "linux-5.7", "DmaIsolation"))
    assert labels[-2:] == ["Fork", "Dma(p=P, a=A0, k=PIN)"]
    # 5.17: a migration entry hides the pinned page from fork's pin check (patch 12, II).
    labels = _labels(_trace(results, "cow", "linux-5.17", "DmaIsolation"))
    _index(labels, r"Dma\(p=P, a=A0, k=PIN\)",
           _index(labels, r"Fork", _index(labels, r"MigrateStart\(p=P, a=A0\)")))


def test_gup_fast_pins_inside_the_hugetlb_fork_window_before_patch_2(results: dict) -> None:
    # 5.17's shortest PinnedPageNotShared is a R/O GUP-fast pin of a page shared after
    # fork (no unsharing before 5.19); its DMA leak is the race.
    for model, prop in (("linux-5.17", "DmaIsolation"),
                        ("linux-5.19-without-patch-2", "PinnedPageNotShared")):
        trace = _trace(results, "gupfast", model, prop)
        assert trace.steps[0].state["vma_huge"] is True
        labels = _labels(trace)
        order = [_index(labels, s) for s in (r"FastSample\(w=\w+\)", r"ForkBegin", r"ForkCheck",
                                             r"FastGrab", r"FastFinish", r"ForkFinish")]
        assert order == sorted(order)


def test_gup_fast_pins_a_shared_page_r_o_without_patch_16(results: dict) -> None:
    """GUP-fast's half of patch 16: gup_pte_range() bails out on a R/O entry of a page
    that is not exclusive; without it GUP-fast itself pins the page shared after fork
    (cow.c case 10: no fallback to the slow path), and P's write moves P to a copy."""
    sr = _scenario(results, "gupfast", "linux-5.19-without-patch-16", "RoFastPinForkWrite")
    assert sr.judgement == "pass" and "AnonPinCoherent" in sr.violated
    steps = sr.traces["AnonPinCoherent"].steps
    labels = [s.label for s in steps]
    order = [_index(labels, s) for s in (r"ForkFinish", r"FastSample\(w=false\)", r"FastGrab",
                                         r"FastFinish", r"Store\(p=P, a=A0\)")]
    assert order == sorted(order)
    assert render(steps[order[2]].state["fast"]).startswith("Grabbed(false")
    assert all(not render(s.state["fast"]).startswith("Fallback") for s in steps)
    assert {p.name for p in results[("gupfast", "linux-5.19")].properties
            if p.verdict == "violated"} == set()


def _scenario(results: dict, spec: str, model: str, name: str) -> object:
    return next(s for s in results[(spec, model)].scenarios if s.name == name)


@pytest.mark.parametrize(("name", "pin_on_copy"), [
    ("RoFastPinForkWrite", True), ("RoFastPinPreviouslySharedWrite", False)])
def test_gup_fast_falls_back_and_the_slow_path_unshares_in_5_19(results: dict, name: str,
                                                               pin_on_copy: bool) -> None:
    """cow.c's GUP-fast cases 10 and 12: in 5.19 gup_pte_range() bails out on the R/O
    entry of a page that is not exclusive (patch 16), internal_get_user_pages_fast() goes
    on with the slow path, whose unshare fault copies the page C maps (case 10) or marks
    the page C left exclusive (case 12), and the write reuses the pinned page."""
    sr = _scenario(results, "gupfast", "linux-5.19", name)
    assert sr.judgement == "pass" and sr.violated == ()
    steps = sr.traces["end"].steps
    labels = [s.label for s in steps]
    grab = steps[labels.index("FastGrab")].state
    assert render(grab["fast"]) == "Fallback(false)"
    mapped = re.search(r"P -> Mapped\((F\d), false\)", render(grab["pte"])).group(1)
    finish = steps[labels.index("FastFinish")].state
    pinned = re.search(r"page: Frame\((F\d)\), attached: true, excl: true",
                       render(finish["refs"])).group(1)
    assert (pinned != mapped) == pin_on_copy
    assert f"P -> Mapped({pinned}, false)" in render(finish["pte"])


def test_swap_count_leak_needs_arch_unmap_one_failure(results: dict) -> None:
    labels = _labels(_trace(results, "cow", "linux-5.19-without-patch-1", "SwapCountAccounting"))
    assert labels[-1] == "ArchUnmapFails(p=P, a=A0)"


# ---- coverage and witnesses -------------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS)
def test_every_action_fires_in_linux_5_19(results: dict, spec: str) -> None:
    assert results[(spec, "linux-5.19")].coverage.never_fired == []


@pytest.mark.parametrize("spec", SPECS)
def test_the_witnesses_of_linux_5_19_are_reached(results: dict, spec: str) -> None:
    witnesses = [p for p in results[(spec, "linux-5.19")].properties if p.kind == "reachable"]
    assert witnesses
    for p in witnesses:
        assert p.verdict == p.expected, p.name
        if p.verdict == "reachable":
            assert p.trace is not None and len(p.trace.steps) > 1


def test_the_paths_of_the_series_happen(results: dict) -> None:
    reached = {p.name for spec in SPECS for p in results[(spec, "linux-5.19")].properties
               if p.kind == "reachable" and p.verdict == "reachable"}
    assert {"ForkCopiedPinnedPage", "UnshareCopied", "UnshareMarkedExclusive",
            "SwpBitRestoredExclusive", "ReadExclusiveMigrationEntry", "PinnedPageInSwapCache",
            "FalsePositivePin", "SplitPassedExclusive", "FastGupRetried"} <= reached


# ---- scenarios and the live runner ---------------------------------------------------------

@pytest.mark.parametrize("spec", SPECS)
def test_the_bound_scenarios_exist_and_name_their_binding(spec: str) -> None:
    model = load(str(KERNEL / f"{spec}.cow")).instantiate("linux-5.19", {})
    bindings = {s.name: [t.args for t in s.tags if t.name == "binding"] for s in model.scenarios}
    for name in BOUND[spec]:
        assert bindings.get(name) == [(name,)], name


def test_scenario_verdicts_across_versions(results: dict) -> None:
    def violated(spec: str, model: str, scenario: str) -> set[str]:
        sr = next(s for s in results[(spec, model)].scenarios if s.name == scenario)
        assert sr.reached == len(sr.steps) or sr.violated
        return set(sr.violated)

    cve = {m: violated("cow", m, "VmspliceAfterFork") for m in VERSIONS}
    assert cve == {"linux-5.7": {"Isolation"}, "linux-5.8": set(), "linux-5.17": set(),
                   "linux-5.18": set(), "linux-5.19": set()}
    assert violated("cow", "linux-5.17", "VmspliceAfterForkSwap") == {"Isolation"}
    assert violated("thp", "linux-5.17", "VmspliceAfterForkThp") == {"Isolation"}
    assert violated("hugetlb", "linux-5.19", "VmspliceAfterForkHugetlb") == {"Isolation"}
    assert violated("cow", "linux-5.8", "VmspliceBeforeFork") == {"Isolation"}
    wrprotect = {m: violated("cow", m, "RwPinWrprotectWrite") for m in VERSIONS}
    assert wrprotect["linux-5.8"] == wrprotect["linux-5.19"] == set()
    assert wrprotect["linux-5.17"] == wrprotect["linux-5.18"] == {"PinCoherent", "AnonPinCoherent"}
    assert violated("cow", "linux-5.19", "VfioSwapRace") == set()
    assert "PinnedStaysMapped" in violated("cow", "linux-5.18", "VfioSwapRace")
    assert violated("cow", "linux-5.19", "RoPinZeropage") == {"PinCoherent"}
    # The cow.c cases added as scenarios (docs/kernel-model.md, "cow.c cases").
    for name in ("BasicCowAfterFork", "BasicCowAfterForkMprotect"):
        assert {violated("cow", m, name) == set() for m in MODELS} == {True}, name
    for name in ("VmspliceAfterForkMprotect", "VmspliceInParentAfterFork"):
        assert {m for m in VERSIONS if violated("cow", m, name)} == {"linux-5.7"}, name
    lost = {m for m in MODELS if violated("cow", m, "RoPinPreviouslySharedWrite")}
    assert lost == {"linux-5.17", "linux-5.18", "linux-5.19-without-patch-9",
                    "linux-5.19-without-patch-12", "linux-5.19-without-patch-15",
                    "linux-5.19-without-patch-16"}
    lost = {m for m in MODELS if violated("cow", m, "RoPinExclusiveWrite")}
    assert lost == {"linux-5.17", "linux-5.18", "linux-5.19-without-patch-12"}
    assert {m for m in VERSIONS if violated("thp", m, "VmspliceInParentAfterForkThp")} == \
        {"linux-5.7", "linux-5.17"}
    lost = {m for m in MODELS if violated("thp", m, "RoPinPreviouslySharedWriteThp")}
    assert lost == {"linux-5.18", "linux-5.19-without-patch-9", "linux-5.19-without-patch-12",
                    "linux-5.19-without-patch-15", "linux-5.19-without-patch-16"}
    leak = {m for m in VERSIONS if violated("hugetlb", m, "VmspliceInParentAfterForkHugetlb")}
    assert leak == set(VERSIONS) - {"linux-5.8"}
    then_pin = {m: violated("hugetlb", m, "VmspliceThenPinHugetlb") for m in VERSIONS}
    assert then_pin == {m: set() if m == "linux-5.8" else {"GetCoherent", "DmaIsolation"}
                        for m in VERSIONS}


def test_the_live_runner_gets_a_prediction_for_every_binding() -> None:
    from explorer.kernelrun.bindings import BINDINGS
    from explorer.kernelrun.predict import model_predictions

    names = [n for b in BINDINGS for kind in b.kinds if (n := b.model_scenario(kind))]
    hugetlb_leaks = {"VmspliceAfterForkHugetlb", "VmspliceAfterForkMprotectHugetlb",
                     "VmspliceBeforeForkHugetlb", "VmspliceInParentAfterForkHugetlb"}
    predicted = model_predictions(names)
    assert set(predicted) == set(names)
    leaks = {n for n, props in predicted.items() if props}
    assert leaks == hugetlb_leaks | {"RoPinZeropage", "RoPinZeropageThp"}
    assert predicted["RoPinZeropage"] == {"PinCoherent"}
    assert predicted["VmspliceBeforeForkHugetlb"] == {"Isolation"}
    # 6.x: the zeropage is unshared for long-term R/O pins; hugetlb's vmsplice leak stays.
    predicted = model_predictions(names, "linux-6.x")
    assert {n for n, props in predicted.items() if props} == hugetlb_leaks


# ---- bounds: what each constant may be set to ------------------------------------------

@pytest.mark.parametrize(("spec", "define", "message"), [
    ("cow", "Procs={P,C,D,E}", "constant NumProcs = card(Procs) = 4 is outside its declared "
                               "range 2..3"),
    ("cow", "Procs=3", "model value 'P' is not in Procs = {Procs0, Procs1, Procs2}"),
    ("cow", "Addrs=3", "constant NumAddrs = card(Addrs) = 3 is outside its declared range 1..2"),
    ("cow", "Frames=6", "constant NumFrames = card(Frames) = 6 is outside its declared range "
                        "3..5"),
    ("cow", "Frames=2", "constant NumFrames = card(Frames) = 2 is outside its declared range "
                        "3..5"),
    ("cow", "Slots=3", "constant NumSlots = card(Slots) = 3 is outside its declared range 1..2"),
    ("cow", "MaxRefs=4", "constant MaxRefs = 4 is outside its declared range 1..3"),
    ("cow", "Bias=8", "-D Bias: the spec has no constant 'Bias'"),
    ("cow", "Hugetlb=true", "-D Hugetlb: the spec has no constant 'Hugetlb'"),
    ("cow", "WithoutPatch=13", "constant UnswitchedPatch = if (WithoutPatch in SwitchedPatches) "
                               "then 0 else WithoutPatch = 13 is outside its declared range 0..0"),
    ("hugetlb", "MaxRefs=1", "constant MaxRefs = 1 is outside its declared range 2..3"),
    ("hugetlb", "Slots=2", "constant NumSlots = card(Slots) = 2 is outside its declared range "
                           "1..1"),
    ("thp", "Addrs=3", "constant NumAddrs = card(Addrs) = 3 is outside its declared range 2..2"),
    ("thp", "Procs={P,C,D,E}", "constant NumProcs = card(Procs) = 4 is outside its declared "
                               "range 2..3"),
    ("gupfast", "Procs={P,C,D,E}", "constant NumProcs = card(Procs) = 4 is outside its "
                                   "declared range 2..3"),
    ("gupfast", "MaxRefs=3", "constant MaxRefs = 3 is outside its declared range 1..2"),
    ("gupfast", "Addrs=2", "constant NumAddrs = card(Addrs) = 2 is outside its declared range "
                           "1..1"),
])
def test_a_bound_outside_the_supported_range_is_refused_before_the_search(
        capsys, spec: str, define: str, message: str) -> None:
    code, out, err = run_cli(capsys, "check", str(KERNEL / f"{spec}.cow"), "--model",
                             "linux-5.19", "-D", define)
    assert code == 151
    assert message in err
    assert "states:" not in out and "Traceback" not in out + err


def test_gupfast_checking_no_mapping_kind_is_refused(capsys) -> None:
    code, _, err = run_cli(capsys, "check", str(KERNEL / "gupfast.cow"), "--model", "linux-5.19",
                           "-D", "CheckSmall=false", "-D", "CheckHugetlb=false")
    assert code == 151
    assert "constant NumMappingKinds" in err and "outside its declared range 1..2" in err


def test_gupfast_at_two_pins_keeps_every_verdict() -> None:
    """A second pin differs in FOLL_WRITE from the first (refcount accounting holds), and
    no verdict depends on it."""
    for model in MODELS:
        r = run_model(_spec("gupfast").instantiate(model, {"MaxRefs": "2"}),
                      Options(keep_going=True))
        assert r.complete and r.exit_code == 0, (model, r.stopped)


def _base_of(wide: str) -> str:
    """The model a wide model extends: linux-5.19-3procs-wide widens linux-5.19."""
    return wide.removesuffix("-wide").removesuffix("-3procs")


@pytest.mark.parametrize("spec", SPECS)
def test_the_wide_models_widen_the_bounds_of_their_base(spec: str) -> None:
    loaded = _spec(spec)
    for wide in WIDE[spec]:
        base = loaded.instantiate(_base_of(wide), {})
        model = loaded.instantiate(wide, {})
        consts, base_consts = dict(model.constants), dict(base.constants)
        if "-3procs" in wide:
            assert list(consts["Procs"].items) == ["P", "C", "D"], wide
            assert len(base_consts["Procs"].items) == 2, wide
            continue
        assert consts["MaxRefs"] > base_consts["MaxRefs"], wide
        assert len(consts["Frames"].items) > len(base_consts["Frames"].items), wide


#: gupfast's verdicts that change when P forks a second time (three processes): a pin on a
#: page that is not exclusive (no marking without patch 9, no unsharing without 15 or 16)
#: is shared by the second fork, whose window then holds it; without patch 9 it can be a
#: R/W pin, and DMA through it reaches the second child.
SECOND_FORK = {
    "linux-5.19-without-patch-9": {"PinnedInForkWindow", "DmaIsolation", "PinnedPageNotShared"},
    "linux-5.19-without-patch-15": {"PinnedInForkWindow"},
    "linux-5.19-without-patch-16": {"PinnedInForkWindow"},
}


def test_gupfast_wide_models_are_judged_as_their_base_but_for_the_second_fork() -> None:
    """gupfast's wide models have a third process (P forks twice): without patch 16 the
    second fork finds a pinned page that is not exclusive in its window."""
    for wide in WIDE["gupfast"]:
        r = run_model(_spec("gupfast").instantiate(wide, {}), Options(keep_going=True))
        assert r.complete and r.exit_code == 0, wide
        base = run_model(_spec("gupfast").instantiate(_base_of(wide), {}),
                         Options(keep_going=True))
        verdicts = {p.name: p.verdict for p in r.properties}
        changed = {n for n, v in {p.name: p.verdict for p in base.properties}.items()
                   if verdicts[n] != v}
        assert changed == SECOND_FORK.get(_base_of(wide), set()), wide


def test_gupfast_at_three_processes() -> None:
    """P forks twice (C, then D); every model keeps its verdicts but the one above, and
    the state space grows with the second child."""
    for model in MODELS:
        two = run_model(_spec("gupfast").instantiate(model, {}), Options(keep_going=True))
        three = run_model(_spec("gupfast").instantiate(model, {"Procs": "{P,C,D}"}),
                          Options(keep_going=True))
        assert three.complete, model
        assert three.stats.distinct_states > two.stats.distinct_states, model
        changed = {p.name for p, q in zip(three.properties, two.properties, strict=True)
                   if p.verdict != q.verdict}
        assert changed == SECOND_FORK.get(model, set()), model
    r = run_model(_spec("gupfast").instantiate("linux-5.19", {"Procs": "{P,C,D}"}), Options())
    assert (r.stats.distinct_states, r.stats.total_states, r.stats.depth) == (1535, 4637, 14)


@pytest.mark.parametrize("spec", SPECS)
def test_the_kernel_specs_have_no_warnings(spec: str) -> None:
    """No guard of a kernel rule is an 'or' TLC would branch on (W503): each one that is
    a condition on one path is written 'if A then true else B'."""
    assert [(w.code, w.pos.file, w.pos.line) for w in _spec(spec).warnings] == []


# ---- the 6.x rules of thp.cow, step by step ----------------------------------------------

def _walk(model_name: str, labels: list[str]) -> dict:
    """The thp state after taking the steps ``labels`` (action labels as traces print
    them) from the initial state; each step must be enabled and deterministic."""
    model = _spec("thp").instantiate(model_name, {})
    state = model.initial_states()[0]
    for label in labels:
        nexts = [t for a, p, t in model.successors(state) if model.action_label(a, p) == label]
        assert len(nexts) == 1, (label, len(nexts))
        state = nexts[0]
    return model.describe_state(state)


#: Fork a PTE-mapped THP, let the child unmap it: the parent maps both subpages, R/O and no
#: longer exclusive, and nothing else references the folio.
ALONE_AFTER_FORK = ["Fault(p=P, a=A0, acc=WRITE)", "Split(p=P)", "Fork", "Zap(p=C)"]


def _at(value: object, *keys: str) -> str:
    """A described map or record value at ``keys``, rendered (``ESub(true)``)."""
    for key in keys:
        if isinstance(value, dict):
            value = value[key]
        else:
            value = dict(value.items)[key] if hasattr(value, "items") else dict(value.fields)[key]
    return render(value)


def test_6_x_reuses_a_pte_mapped_thp_only_its_mm_maps() -> None:
    """__wp_can_reuse_large_anon_folio(): mapcount 2 == refcount 2, one mm: reused and the
    subpage marked exclusive; 5.19 copies (page_count() is 2, not 1)."""
    steps = ALONE_AFTER_FORK + ["Store(p=P, a=A0)"]
    new = _walk("linux-6.x", steps)
    assert _at(new, "pte", "P", "A0") == "ESub(true)"
    assert _at(new, "thp", "ae") == "[A0 -> true, A1 -> false]"
    assert _at(_walk("linux-5.19", steps), "pte", "P", "A0").startswith("ESmall(")


def test_6_x_copies_a_pte_mapped_thp_with_a_reference_besides_its_mappings() -> None:
    """A GUP reference makes the refcount exceed the mapcount: copied, as in 5.19."""
    steps = ALONE_AFTER_FORK + ["Gup(p=P, a=A0, k=GET, w=false)", "Store(p=P, a=A0)"]
    assert _at(_walk("linux-6.x", steps), "pte", "P", "A0").startswith("ESmall(")


def test_6_x_maps_a_fresh_thp_on_a_huge_zeropage_write() -> None:
    """do_huge_zero_wp_pmd(): a THP, PMD-mapped writable and exclusive; 5.19 splits the
    PMD and copies the small zeropage."""
    steps = ["Fault(p=P, a=A0, acc=READ)", "Store(p=P, a=A0)"]
    new = _walk("linux-6.x", steps)
    assert _at(new, "pmd", "P") == "PmdHuge(true)"
    assert _at(new, "thp", "ae") == "[A0 -> true, A1 -> false]"
    assert _at(_walk("linux-5.19", steps), "pmd", "P") == "PmdTable"
