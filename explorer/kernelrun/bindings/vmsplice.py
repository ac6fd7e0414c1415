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
)
from explorer.kernelrun.children import Channel, Child
from explorer.kernelrun.facilities import Facilities

OLD, NEW = 1, 2


def _leak_observation(seen: bytes, old: bytes, new: bytes, spliced: int) -> Observation:
    candidates = [("holds the pre-fork data", old),
                  ("holds the other process's post-fork write", new)]
    return Observation(bad=seen != old, detail=describe(seen, candidates, f"pipe ({spliced} B)"))


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
    kinds = ("base", "swap", "thp", "hugetlb")
    explain = ""

    def observe(self, kind: str, facs: Facilities) -> Observation:
        region, old = memory.fill(kind, OLD)
        try:
            if kind == "swap":
                memory.page_out(region)
            new = memory.pattern(NEW, region.size)

            def child(chan: Channel) -> None:
                rfd, wfd = os.pipe()
                spliced = sc.vmsplice(wfd, region.addr, region.size)
                sc.munmap(region.addr, region.size)
                chan.send(str(spliced))
                chan.recv()
                seen = read_exact(rfd, spliced)
                obs = _leak_observation(seen, old[:spliced], new[:spliced], spliced)
                chan.send(f"{int(obs.bad)}:{obs.detail}")

            with Child(child) as c:
                spliced = int(c.recv())
                if spliced <= 0:
                    raise ScenarioError("vmsplice queued nothing")
                region.write(NEW)
                c.send("written")
                bad, _, detail = c.recv().partition(":")
                c.wait()
            return Observation(bad=bad == "1", detail=detail)
        finally:
            region.close()


class VmspliceBeforeFork(Binding):
    """kernel cow.c "vmsplice() before fork()": the parent's pipe must keep returning the
    data as of vmsplice time after the child, now the page's only mapper, writes it.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ MADV_HUGEPAGE | MAP_HUGETLB]; store pattern; check
            smaps/pagemap
        P takes a FOLL_GET R/O reference => pipe(); vmsplice(pipe, X)
        [swap kind] X swapped out while referenced => madvise(MADV_PAGEOUT); pagemap swapped bit
        fork: X shared R/O by P and C => fork()
        P unmaps X => munmap(X) in P
        C writes X => store a new pattern in C (write fault)
        P reads through its reference => read(pipe) in P; compare with the vmsplice-time data

    Observation: leak if the parent's pipe returns anything but the data as of vmsplice
    time (it saw the child's post-fork write); no leak otherwise.
    """

    property = "Isolation"
    kinds = ("base", "swap", "thp", "hugetlb")
    explain = ""

    def observe(self, kind: str, facs: Facilities) -> Observation:
        region, old = memory.fill(kind, OLD)
        rfd, wfd = os.pipe()
        try:
            spliced = sc.vmsplice(wfd, region.addr, region.size)
            if spliced <= 0:
                raise ScenarioError("vmsplice queued nothing")
            if kind == "swap":
                memory.page_out(region)

            def child(chan: Channel) -> None:
                chan.recv()
                region.write(NEW)
                chan.send("written")

            with Child(child) as c:
                region.unmap()
                c.send("unmapped")
                c.recv()
                c.wait()
            seen = read_exact(rfd, spliced)
            return _leak_observation(seen, old[:spliced],
                                     memory.pattern(NEW, region.size)[:spliced], spliced)
        finally:
            os.close(rfd)
            os.close(wfd)
            region.close()
