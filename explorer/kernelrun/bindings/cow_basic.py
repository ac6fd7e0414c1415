"""cow.c's basic COW cases: after fork, the parent's write must not reach the child.

The child keeps a copy of the memory as of fork, the parent writes (optionally after
mprotect(PROT_READ) and mprotect(PROT_READ|PROT_WRITE), which since 6.0 may map an
exclusive page writable at once), and the child compares. A difference is a leak from
the parent into the child (property Isolation): the parent's write reused a page the
child still maps.
"""

from __future__ import annotations

from explorer.kernelrun import memory
from explorer.kernelrun import syscalls as sc
from explorer.kernelrun.bindings.base import (
    Binding,
    Observation,
    describe,
    send_judgement,
    write_and_ask,
)
from explorer.kernelrun.children import Channel, Child
from explorer.kernelrun.facilities import Facilities
from explorer.kernelrun.variants import Variant

OLD, NEW = 5, 6


def cow_in_parent(variant: Variant, mprotect: bool) -> Observation:
    """Fill, swap out if the variant says so, fork, let the parent write, ask the child."""
    region, old = memory.fill(variant, OLD)
    try:
        memory.swap_step(region)

        def child(chan: Channel) -> None:
            chan.send("ready")
            chan.recv()
            seen = region.read()
            detail = describe(seen, [("still reads the pre-fork data", old),
                                     ("reads the parent's post-fork write",
                                      memory.pattern(NEW, region.size))], "the child")
            send_judgement(chan, Observation(bad=seen != old, detail=detail))

        with Child(child) as c:
            c.recv()
            if mprotect:
                sc.mprotect(region.addr, region.size, sc.PROT_READ)
                sc.mprotect(region.addr, region.size, sc.PROT_READ | sc.PROT_WRITE)
            memory.still_of_variant(region)
            return write_and_ask(c, region, NEW)
    finally:
        region.close()


class BasicCowAfterFork(Binding):
    """kernel cow.c "Basic COW after fork()": the parent writes memory it shares with
    its child since fork; the child must keep reading the pre-fork data.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ THP / MAP_HUGETLB layout]; store pattern;
            check smaps/pagemap
        [swapped variants] X swapped out before fork => madvise(MADV_PAGEOUT); pagemap
            swapped bit
        fork: X shared R/O by P and C => fork(); C copies X to its private buffer
        P writes X => store a new pattern in P (write fault)
        C reads X => C compares X with its copy

    Observation: leak if the child reads anything but the pre-fork data; no leak
    otherwise.
    """

    property = "Isolation"
    explain = (
        "Every kernel copies on the parent's write to a page the child still maps; a leak "
        "would be a kernel bug, and the model predicts no leak on every memory kind."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        return cow_in_parent(variant, mprotect=False)


class BasicCowAfterForkMprotect(Binding):
    """kernel cow.c "Basic COW after fork() with mprotect() optimization": as
    BasicCowAfterFork, with mprotect(PROT_READ) and mprotect(PROT_READ|PROT_WRITE) by the
    parent before its write.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ THP / MAP_HUGETLB layout]; store pattern;
            check smaps/pagemap
        [swapped variants] X swapped out before fork => madvise(MADV_PAGEOUT); pagemap
            swapped bit
        fork: X shared R/O by P and C => fork(); C copies X to its private buffer
        P's mprotect: R/O, then R/W (6.0+: writable only if exclusive) =>
            mprotect(PROT_READ); mprotect(PROT_READ|PROT_WRITE)
        P writes X => store a new pattern in P
        C reads X => C compares X with its copy

    Observation: leak if the child reads anything but the pre-fork data; no leak
    otherwise.
    """

    property = "Isolation"
    explain = (
        "Since 6.0 can_change_pte_writable() maps a R/O PTE writable during mprotect() only "
        "for a PG_anon_exclusive page, and fork cleared the bit of every shared page: the "
        "write still faults and copies. A leak would mean mprotect() mapped a shared page "
        "writable."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        return cow_in_parent(variant, mprotect=True)
