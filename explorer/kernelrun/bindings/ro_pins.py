"""The R/O pin coherency scenarios, through gup_test's long-term R/O FOLL_PIN.

A R/O pin must keep referring to the page mapped at its address when the pinning
process later writes there. 5.19 makes that hold for anonymous pages by unsharing at
pin time (FAULT_FLAG_UNSHARE), but not for the shared zeropage, which is not anonymous.
"""

from __future__ import annotations

from explorer.kernelrun import memory
from explorer.kernelrun.bindings.base import Binding, Observation, ScenarioError, describe
from explorer.kernelrun.children import Channel, Child
from explorer.kernelrun.facilities import Facilities
from explorer.kernelrun.gup_test import GupTest
from explorer.kernelrun.variants import Variant

OLD, NEW = 5, 6


def _pin_write_read(gup: GupTest, region: memory.Region, old: bytes) -> Observation:
    """Pin R/O, write through the page table, read back through the pin, unpin."""
    gup.pin_ro(region.addr, region.size)
    try:
        region.write(NEW)
        via_pin = gup.read_pinned(region.size)
    finally:
        gup.unpin()
    mem = region.read()
    detail = describe(via_pin, [("matches the process's memory", mem),
                                ("shows the content before the write", old)],
                      "PIN_LONGTERM_TEST_READ through the pin")
    return Observation(bad=via_pin != mem, detail=detail)


class RoPinForkWrite(Binding):
    """Semantics 5.4, first bullet (kernel cow.c "R/O GUP pin on R/O-mapped shared
    page"): the parent R/O-pins a page it shares with its child, then writes it.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ MADV_HUGEPAGE | MAP_HUGETLB]; store pattern; check
            smaps/pagemap
        [swap kind] X swapped out before fork => madvise(MADV_PAGEOUT); pagemap swapped bit
        fork, C stays alive: X shared R/O => fork(); C waits on a pipe
        P takes a long-term R/O FOLL_PIN on X (5.19: unshare fault) =>
            ioctl(gup_test, PIN_LONGTERM_TEST_START)
        P writes X => store a new pattern in P
        read through the pin => ioctl(gup_test, PIN_LONGTERM_TEST_READ); compare with P's memory

    Observation: incoherent if the content read through the pin differs from what the
    parent reads at that address; coherent if equal.
    """

    property = "PinCoherent"
    needs = ("gup_test",)
    explain = (
        "5.19 unshares a possibly shared anonymous page when it is R/O-pinned "
        "(FAULT_FLAG_UNSHARE, patches 15-16), so the later write reuses the pinned page; newer "
        "kernels keep this. A kernel before 5.19 (or a model variant without the unshare patches) "
        "shows incoherent."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        if facs.gup is None:
            raise ScenarioError("gup_test is not open")
        region, old = memory.fill(variant, OLD)
        try:
            memory.swap_step(region)

            def child(chan: Channel) -> None:
                chan.send("ready")
                chan.recv()

            with Child(child) as c:
                c.recv()
                obs = _pin_write_read(facs.gup, region, old)
                c.send("quit")
                c.wait()
            return obs
        finally:
            region.close()


class RoPinZeropage(Binding):
    """Semantics 2.6 and 4.3 (P1's 5.19 gap): a read fault maps the shared zeropage, the
    process R/O-pins it, then writes; the pin stays on the zeropage in 5.19 (6.2 fixed
    this for FOLL_LONGTERM pins by unsharing the zeropage too).

    Steps (model step => system calls):
        P read-faults X: the shared zeropage is mapped =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ MADV_HUGEPAGE]; load one byte; pagemap PFN +
            kpageflags ZERO_PAGE
        P takes a long-term R/O FOLL_PIN on X => ioctl(gup_test, PIN_LONGTERM_TEST_START)
        P writes X => store a pattern in P
        read through the pin => ioctl(gup_test, PIN_LONGTERM_TEST_READ); compare with P's memory

    Observation: incoherent if the content read through the pin differs from what the
    process reads at that address (the pin still holds the zeropage); coherent if equal.
    """

    property = "PinCoherent"
    kinds = ("base", "thp")
    mthp = False
    needs = ("gup_test",)
    explain = (
        "linux-5.19 pins the shared zeropage as it is (gup_must_unshare() only unshares anonymous "
        "pages), so the later write gives the process a new page and the pin stays on the "
        "zeropage: incoherent. Linux 6.2 (84209e87c696 'mm/gup: reliable R/O long-term pinning in "
        "COW mappings') unshares the zeropage for FOLL_LONGTERM pins, which is what gup_test "
        "takes, so any kernel since 6.2 reports coherent: the kernel is newer than the model and "
        "has fixed a gap the model keeps."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        if facs.gup is None:
            raise ScenarioError("gup_test is not open")
        region = memory.map_zeropage(variant)
        try:
            return _pin_write_read(facs.gup, region, bytes(region.size))
        finally:
            region.close()
