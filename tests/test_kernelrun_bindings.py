"""The bindings on the live kernel: real fork, vmsplice, io_uring and /proc checks.

Each binding runs on one variant of every memory family this machine offers without
--setup (base pages always; the PMD THP when enabled; swap and hugetlb only if already
configured; the whole matrix of sizes is kernel-run's job). Negative
controls prove the observations can detect the bad outcome at all: a MAP_SHARED page
does leak through vmsplice, and a pinned page zapped by MADV_DONTNEED is incoherent.
"""

from __future__ import annotations

import os
import platform

import pytest

from explorer.kernelrun import children, facilities, memory, procfs, variants
from explorer.kernelrun import syscalls as sc
from explorer.kernelrun.bindings import BINDINGS, Observation
from explorer.kernelrun.bindings.collapse import (
    CollapseAfterForkLowerShared,
    CollapseAfterForkShared,
    CollapseAfterForkUpperShared,
    CollapseBeforeFork,
)
from explorer.kernelrun.bindings.rw_pins import _read_through_pin
from explorer.kernelrun.bindings.vmsplice import pipe_observation
from explorer.kernelrun.iouring import Ring
from explorer.kernelrun.variants import Variant

MAP_SHARED = 0x01
MADV_DONTNEED = 4


@pytest.fixture(scope="module")
def facs():
    f = facilities.probe()
    yield f
    f.close()


@pytest.fixture(autouse=True)
def no_child_left():
    yield
    assert children.live_children() == []
    mine = str(os.getpid())
    kids = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[1] == mine:
                        kids.append(pid)
            except OSError:
                continue
    assert kids == [], f"child processes left behind: {kids}"


def _kernel_version() -> tuple[int, int]:
    major, minor = platform.release().split(".")[:2]
    return int(major), int("".join(ch for ch in minor if ch.isdigit()))


PMD = variants.pmd_size()
HUGETLB = procfs.meminfo().get("Hugepagesize", 0) * 1024
#: One variant per family: the PMD THP size, the default hugetlb size.
ONE_OF_EACH = [Variant(f, HUGETLB if f == "hugetlb" else PMD if "thp" in f else sc.PAGE_SIZE,
                       PMD) for f in variants.FAMILIES]


def _cases():
    for b in BINDINGS:
        for v in ONE_OF_EACH:
            if v.family in b.kinds:
                yield pytest.param(b, v, id=f"{b.name()}-{v.family}")


@pytest.mark.parametrize(("binding", "variant"), list(_cases()))
def test_binding_runs_and_modern_kernel_keeps_the_guarantee(facs, binding, variant):
    missing = binding.missing(variant, facs)
    if missing:
        pytest.skip(missing)
    try:
        obs = binding().observe(variant, facs)
    except memory.KindUnavailable as e:
        pytest.skip(str(e))
    assert obs.detail
    vmsplice = binding.name().startswith("Vmsplice")
    if variant.family == "hugetlb" and vmsplice:
        # hugetlb COW still reuses by mapcount, so FOLL_GET (vmsplice) leaks (cow.c xfail).
        assert obs.bad, obs.detail
    elif binding.name() == "RoPinZeropage":
        # 5.19 leaves R/O pins on the zeropage; 6.2 unshares it for FOLL_LONGTERM pins.
        assert obs.bad == (_kernel_version() < (6, 2)), obs.detail
    else:
        # Every other scenario holds since 5.19 on base pages, every THP layout and swap.
        assert not obs.bad, obs.detail


def test_vmsplice_observation_detects_a_leak_on_shared_memory():
    """Control: with MAP_SHARED the child's pipe must show the parent's write."""
    addr = sc.mmap(sc.PAGE_SIZE, sc.PROT_READ | sc.PROT_WRITE, MAP_SHARED | sc.MAP_ANONYMOUS)
    region = memory.Region(facilities.BASE, addr, sc.PAGE_SIZE)
    try:
        old = region.write(1)
        new = memory.pattern(2, region.size)

        def child(chan: children.Channel) -> None:
            rfd, wfd = os.pipe()
            n = sc.vmsplice(wfd, region.addr, region.size)
            chan.send("ready")
            chan.recv()
            chan.send(str(int(pipe_observation(rfd, n, old, new).bad)))

        with children.Child(child) as c:
            c.recv()
            region.write(2)
            c.send("go")
            assert c.recv() == "1"
            assert c.wait() == 0
    finally:
        region.close()


def test_pipe_observation_reads_the_spliced_bytes_and_names_what_they_are():
    old, new = memory.pattern(1, 8192), memory.pattern(2, 8192)
    for data, bad, words in ((old[:4096], False, "holds the pre-fork data"),
                             (new[:4096], True, "holds the other process's post-fork write")):
        rfd, wfd = os.pipe()
        try:
            os.write(wfd, data)
            obs = pipe_observation(rfd, 4096, old, new)
        finally:
            os.close(rfd)
            os.close(wfd)
        assert obs == Observation(bad=bad, detail=f"pipe (4096 B) {words}")


def test_collapse_before_fork_is_predicted_by_the_fresh_thp_scenario_only():
    assert CollapseBeforeFork.model_scenario("thp") == "BasicCowAfterForkThp"
    assert [b.model_scenario("thp") for b in (CollapseAfterForkShared,
            CollapseAfterForkLowerShared, CollapseAfterForkUpperShared)] == [None] * 3
    pmd_thp = Variant("thp", PMD, PMD)
    assert CollapseBeforeFork.scenario_for(pmd_thp) == "BasicCowAfterForkThp"
    assert CollapseAfterForkShared.scenario_for(pmd_thp) is None


def test_write_fixed_detects_a_lost_pin(facs):
    """Control: MADV_DONTNEED drops the page from the page table, not from the pin."""
    if not facs.has("io_uring"):
        pytest.skip(facs.why_not("io_uring"))
    region, old = memory.fill(facilities.BASE, 3)
    try:
        with Ring() as ring:
            ring.register_buffer(region.addr, region.size)
            sc.madvise(region.addr, region.size, MADV_DONTNEED)
            region.write(4)
            obs = _read_through_pin(ring, region, old)
        assert obs.bad
        assert "before the write" in obs.detail
    finally:
        region.close()


def test_fill_verifies_the_kind(facs):
    region, data = memory.fill(facilities.BASE, 7)
    try:
        assert region.read() == data
        assert procfs.is_present(region.addr)
        assert 0 not in data
    finally:
        region.close()
    if facs.has("thp"):
        region, _ = memory.fill(Variant("thp", PMD, PMD), 7)
        try:
            assert procfs.smaps_of(region.addr)["AnonHugePages"] == PMD // 1024
        finally:
            region.close()


@pytest.mark.parametrize(("family", "size"), [
    ("pte-thp", PMD), ("single-pte-thp", sc.PAGE_SIZE), ("mremap-thp", PMD // 2),
    ("shared-thp", PMD)])
def test_thp_layouts_are_shaped_as_cow_c_does(facs, family, size):
    """The PTE-mapped THP is no longer PMD-mapped; a single PTE keeps one page; the
    mremap() variant keeps half in place and moves the other half away."""
    if not facs.has("thp"):
        pytest.skip(facs.why_not("thp"))
    region, data = memory.fill(Variant(family, PMD, PMD), 8)
    try:
        assert region.size == size
        assert region.read() == data
        if family == "pte-thp":
            assert procfs.smaps_of(region.addr).get("AnonHugePages", 0) == 0
        if family == "mremap-thp":
            assert len(region.others) == 1 and region.others[0][1] == PMD // 2
    finally:
        region.close()


def test_verify_rejects_a_region_that_is_not_a_thp():
    region = memory.allocate(Variant("thp", PMD, PMD))
    try:
        sc.madvise(region.addr, region.size, sc.MADV_NOHUGEPAGE)
        region.write(1)
        with pytest.raises(memory.KindUnavailable, match="no longer PMD-mapped"):
            memory.verify(region)
    finally:
        region.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="zeropage PFNs need root")
def test_zeropage_is_proven_by_kpageflags(facs):
    region = memory.map_zeropage(facilities.BASE)
    try:
        assert procfs.kpageflags(procfs.pfn(region.addr)) & procfs.KPF_ZERO_PAGE
    finally:
        region.close()


def test_patterns_differ_everywhere_and_contain_no_zero():
    a, b = memory.pattern(1, 70000), memory.pattern(2, 70000)
    assert 0 not in a and 0 not in b
    assert all(x != y for x, y in zip(a, b, strict=True))


def test_child_error_surfaces_in_the_parent():
    def child(chan: children.Channel) -> None:
        raise ValueError("boom")

    with children.Child(child) as c, pytest.raises(children.ChildError, match="boom"):
        c.recv()


def test_write_counting_faults_sees_the_first_touch_and_nothing_after():
    region = memory.allocate(facilities.BASE)
    try:
        data = memory.pattern(9, region.size)
        assert sc.write_counting_faults(region.addr, data) >= 1
        assert sc.write_counting_faults(region.addr, data) == 0
        assert region.read() == data
    finally:
        region.close()
