"""The isolation scenarios: a vmsplice pipe (a FOLL_GET R/O reference) across fork.

vmsplice(2) queues references to the caller's pages in a pipe (GUP with FOLL_GET, no
FOLL_WRITE); reading the pipe later reads those pages. If a write fault in one process
reuses a page that the other process still references through its pipe, the other
process reads data written after fork: the leak of CVE-2020-29374 (property Isolation).
"""

from __future__ import annotations

import os

from explorer.kernelrun import memory
from explorer.kernelrun import syscalls as sc
from explorer.kernelrun.bindings.base import (
    Binding,
    Observation,
    ScenarioError,
    describe,
    read_exact,
    send_judgement,
    write_and_ask,
)
from explorer.kernelrun.children import Channel, Child
from explorer.kernelrun.facilities import Facilities
from explorer.kernelrun.variants import Variant

OLD, NEW = 1, 2


def pipe_observation(rfd: int, spliced: int, old: bytes, new: bytes) -> Observation:
    """Read the ``spliced`` bytes a vmsplice queued in the pipe ``rfd`` and judge them: a
    leak unless they equal the first ``spliced`` bytes of ``old`` (the data as of the
    reference); the detail says whether they equal ``new`` (the other process's write)."""
    seen = read_exact(rfd, spliced)
    old, new = old[:spliced], new[:spliced]
    candidates = [("holds the pre-fork data", old),
                  ("holds the other process's post-fork write", new)]
    return Observation(bad=seen != old, detail=describe(seen, candidates, f"pipe ({spliced} B)"))


def vmsplice_in_child(variant: Variant, mprotect: bool) -> Observation:
    """cow.c's do_test_vmsplice_in_child(): the child vmsplices and unmaps, the parent
    (after an mprotect() round trip if asked) writes, the child reads its pipe."""
    region, old = memory.fill(variant, OLD)
    try:
        memory.swap_step(region)
        new = memory.pattern(NEW, region.size)

        def child(chan: Channel) -> None:
            rfd, wfd = os.pipe()
            spliced = sc.vmsplice(wfd, region.addr, region.size)
            sc.munmap(region.addr, region.size)
            chan.send(str(spliced))
            chan.recv()
            obs = pipe_observation(rfd, spliced, old, new)
            send_judgement(chan, obs)

        with Child(child) as c:
            spliced = int(c.recv())
            if spliced <= 0:
                raise ScenarioError("vmsplice queued nothing")
            if mprotect:
                sc.mprotect(region.addr, region.size, sc.PROT_READ)
                sc.mprotect(region.addr, region.size, sc.PROT_READ | sc.PROT_WRITE)
            memory.still_of_variant(region)
            return write_and_ask(c, region, NEW)
    finally:
        region.close()


class VmspliceAfterFork(Binding):
    """CVE-2020-29374 (semantics 5.1; swap variant 5.2, THP 5.3): the child vmsplices a
    page it shares with the parent, unmaps it, and reads the pipe after the parent wrote.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ MADV_HUGEPAGE | MAP_HUGETLB]; store pattern; check
            smaps/pagemap
        [swap kind] X swapped out before fork => madvise(MADV_PAGEOUT); pagemap swapped bit
        fork: X shared R/O by P and C => fork()
        C takes a FOLL_GET R/O reference => pipe(); vmsplice(pipe, X)
        C unmaps X => munmap(X) in C
        P writes X => store a new pattern in P (write fault)
        C reads through its reference => read(pipe) in C; compare with the pre-fork data

    Observation: leak if the child's pipe returns anything but the pre-fork data (it saw
    the parent's post-fork write); no leak if it returns the pre-fork data.
    """

    property = "Isolation"
    explain = (
        "On base pages, swap and THP every kernel since 5.18 copies on the parent's write "
        "(page_count-based reuse, then PG_anon_exclusive), so a leak there would be a kernel "
        "regression and no-leak is what linux-5.19 must predict. On hugetlb, hugetlb_wp() still "
        "reuses a page whose mapcount is 1 and ignores the vmsplice reference (6.x keeps this on "
        "purpose; cow.c marks it xfail), so this kernel leaks as 5.19 does: a model that predicts "
        "no leak for the Hugetlb variant is wrong."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        return vmsplice_in_child(variant, mprotect=False)


class VmspliceAfterForkMprotect(Binding):
    """kernel cow.c "vmsplice() + unmap in child with mprotect() optimization": as
    VmspliceAfterFork, with the parent's mprotect(PROT_READ), mprotect(PROT_READ|
    PROT_WRITE) before its write.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ THP / MAP_HUGETLB layout]; store pattern;
            check smaps/pagemap
        [swapped variants] X swapped out before fork => madvise(MADV_PAGEOUT); pagemap
            swapped bit
        fork: X shared R/O by P and C => fork()
        C takes a FOLL_GET R/O reference => pipe(); vmsplice(pipe, X)
        C unmaps X => munmap(X) in C
        P's mprotect: R/O, then R/W (6.0+: writable only if exclusive) =>
            mprotect(PROT_READ); mprotect(PROT_READ|PROT_WRITE)
        P writes X => store a new pattern in P
        C reads through its reference => read(pipe) in C; compare with the pre-fork data

    Observation: leak if the child's pipe returns anything but the pre-fork data; no
    leak otherwise.
    """

    property = "Isolation"
    explain = (
        "After the child's munmap the parent maps X once but X is not PG_anon_exclusive (fork "
        "cleared it), so 6.x's mprotect() leaves it R/O and the write copies because of the "
        "pipe's reference. On hugetlb the mapcount-1 reuse of hugetlb_wp() leaks, as without "
        "mprotect()."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        return vmsplice_in_child(variant, mprotect=True)


class VmspliceBeforeFork(Binding):
    """kernel cow.c "vmsplice() before fork()": the parent's pipe must keep returning the
    data as of vmsplice time after the child, now the page's only mapper, writes it.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ MADV_HUGEPAGE | MAP_HUGETLB]; store pattern; check
            smaps/pagemap
        P takes a FOLL_GET R/O reference => pipe(); vmsplice(pipe, X)
        [swap kind] X swapped out while referenced (swapped-out THPs: before the vmsplice,
            as cow.c) => madvise(MADV_PAGEOUT); pagemap swapped bit
        fork: X shared R/O by P and C => fork()
        P unmaps X => munmap(X) in P
        C writes X => store a new pattern in C (write fault)
        P reads through its reference => read(pipe) in P; compare with the vmsplice-time data

    Observation: leak if the parent's pipe returns anything but the data as of vmsplice
    time (it saw the child's post-fork write); no leak otherwise.
    """

    property = "Isolation"
    explain = (
        "The reference is taken before fork with FOLL_GET, which neither fork nor the child's "
        "write fault treats as a pin. On base pages, swap and THP the child's write copies "
        "because the pipe's reference raises page_count (5.18+); on hugetlb the mapcount-1 reuse "
        "of hugetlb_wp() gives the child the parent's referenced page, in 5.19 and in this kernel "
        "alike, so the Hugetlb variant leaks on both."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        region, old = memory.fill(variant, OLD)
        rfd, wfd = os.pipe()
        try:
            # The model swaps out after the vmsplice; where no model scenario stands for
            # the variant (swapped-out THPs), swap out first, as cow.c does.
            early = region.variant.model_kind is None
            if early:
                memory.swap_step(region)
            spliced = sc.vmsplice(wfd, region.addr, region.size)
            if spliced <= 0:
                raise ScenarioError("vmsplice queued nothing")
            if not early:
                memory.swap_step(region)

            def child(chan: Channel) -> None:
                chan.recv()
                if not early:  # else the vmsplice itself swapped it in, as in cow.c
                    memory.still_of_variant(region)
                region.write(NEW)
                chan.send("written")

            with Child(child) as c:
                region.unmap()
                c.send("unmapped")
                c.recv()
                c.wait()
            return pipe_observation(rfd, spliced, old, memory.pattern(NEW, region.size))
        finally:
            os.close(rfd)
            os.close(wfd)
            region.close()


class VmspliceInParentAfterFork(Binding):
    """kernel cow.c "vmsplice() + unmap in parent after fork()": the parent vmsplices a
    page it shares with its child, unmaps it, the child writes it; the parent's pipe
    must return the pre-fork data.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ THP / MAP_HUGETLB layout]; store pattern;
            check smaps/pagemap
        [swapped variants] X swapped out before fork => madvise(MADV_PAGEOUT); pagemap
            swapped bit
        fork: X shared R/O by P and C => fork()
        P takes a FOLL_GET R/O reference => pipe(); vmsplice(pipe, X)
        P unmaps X => munmap(X) in P
        C writes X => store a new pattern in C (write fault)
        P reads through its reference => read(pipe) in P; compare with the pre-fork data

    Observation: leak if the parent's pipe returns anything but the pre-fork data (it saw
    the child's write); no leak otherwise.
    """

    property = "Isolation"
    explain = (
        "Since 5.9 the child's write copies because the pipe's reference raises page_count "
        "(5.19+: X is not exclusive after fork). On hugetlb, hugetlb_wp() reuses a page whose "
        "mapcount is 1, so the child writes the page the parent's pipe references: a leak in "
        "5.19 and 6.x alike (cow.c marks it XFAIL)."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        region, old = memory.fill(variant, OLD)
        rfd, wfd = os.pipe()
        try:
            memory.swap_step(region)

            def child(chan: Channel) -> None:
                chan.recv()
                region.write(NEW)
                chan.send("written")

            with Child(child) as c:
                spliced = sc.vmsplice(wfd, region.addr, region.size)
                if spliced <= 0:
                    raise ScenarioError("vmsplice queued nothing")
                region.unmap()
                c.send("unmapped")
                c.recv()
                c.wait()
            return pipe_observation(rfd, spliced, old, memory.pattern(NEW, region.size))
        finally:
            os.close(rfd)
            os.close(wfd)
            region.close()
