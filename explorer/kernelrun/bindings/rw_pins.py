"""The R/W pin coherency scenarios: an io_uring fixed buffer against the page table.

Registering an io_uring fixed buffer is a long-term R/W FOLL_PIN. After some event that
write-protects or shares the page (fork, mprotect + clear_refs, an attempted swap-out),
the process writes its memory; a WRITE_FIXED then copies the *pinned* pages into a memfd.
If the file differs from what the process reads through its page table, the write fault
replaced the pinned page with a copy and the pin is lost (property PinCoherent).
"""

from __future__ import annotations

import os

from explorer.kernelrun import memory, procfs
from explorer.kernelrun import syscalls as sc
from explorer.kernelrun.bindings.base import Binding, Observation, ScenarioError, describe
from explorer.kernelrun.children import Channel, Child
from explorer.kernelrun.facilities import Facilities
from explorer.kernelrun.iouring import Ring
from explorer.kernelrun.variants import Variant

OLD, NEW = 3, 4


def _read_through_pin(ring: Ring, region: memory.Region, old: bytes) -> Observation:
    """WRITE_FIXED the pinned buffer to a memfd and compare it with the process's view."""
    fd = os.memfd_create("cowspec-write-fixed", os.MFD_CLOEXEC)
    try:
        written = ring.write_fixed(fd, region.addr, region.size)
        if written != region.size:
            raise ScenarioError(f"WRITE_FIXED wrote {written} of {region.size} bytes")
        via_pin = os.pread(fd, region.size, 0)
    finally:
        os.close(fd)
    mem = region.read()
    detail = describe(via_pin, [("matches the process's memory", mem),
                                ("shows the content before the write", old)],
                      "WRITE_FIXED through the pin")
    return Observation(bad=via_pin != mem, detail=detail)


class RwPinFork(Binding):
    """kernel cow.c "fork() with an iouring fixed buffer" (semantics 5.4): a R/W
    long-term pin taken before fork must still be the page the parent writes afterwards.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ MADV_HUGEPAGE | MAP_HUGETLB]; store pattern; check
            smaps
        [swapped variants] X swapped out => madvise(MADV_PAGEOUT); pagemap swapped bit
        P takes a long-term R/W FOLL_PIN on X (a write swap-in first if swapped) =>
            io_uring_setup(); io_uring_register(IORING_REGISTER_BUFFERS, X)
        fork, C stays alive => fork(); C waits on a pipe
        P writes X => store a new pattern in P
        read through the pin =>
            io_uring_enter(IORING_OP_WRITE_FIXED -> memfd); pread(memfd); compare with P's memory

    Observation: incoherent if the data written through the pin differs from what the
    parent reads at that address; coherent if equal.
    """

    property = "PinCoherent"
    needs = ("io_uring",)
    explain = (
        "Since 5.9 fork gives the child a copy of a maybe-pinned exclusive page instead of "
        "sharing it (5.19: page_try_dup_anon_rmap() fails when MMF_HAS_PINNED and the page is "
        "maybe pinned), so the parent's page stays writable and pinned: coherent in 5.19 and "
        "after. An incoherent prediction would mean the model shares pinned pages at fork."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        region, old = memory.fill(variant, OLD)
        try:
            memory.swap_step(region)
            with Ring() as ring:
                ring.register_buffer(region.addr, region.size)

                def child(chan: Channel) -> None:
                    chan.send("ready")
                    chan.recv()

                with Child(child) as c:
                    c.recv()
                    region.write(NEW)
                    obs = _read_through_pin(ring, region, old)
                    c.send("quit")
                    c.wait()
                return obs
        finally:
            region.close()


class RwPinWrprotectWrite(Binding):
    """kernel cow.c "R/O-mapping a page registered as iouring fixed buffer" (semantics
    5.4): the PTE of a R/W-pinned page is write-protected, then the process writes.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ MADV_HUGEPAGE | MAP_HUGETLB]; store pattern; check
            smaps
        [swapped variants] X swapped out => madvise(MADV_PAGEOUT); pagemap swapped bit
        P takes a long-term R/W FOLL_PIN on X (a write swap-in first if swapped) =>
            io_uring_setup(); io_uring_register(IORING_REGISTER_BUFFERS, X)
        P's PTE for X write-protected =>
            mprotect(PROT_READ); write "4" to /proc/self/clear_refs; mprotect(PROT_READ|PROT_WRITE)
        P writes X (write fault on the R/O PTE) => store a new pattern in P
        read through the pin =>
            io_uring_enter(IORING_OP_WRITE_FIXED -> memfd); pread(memfd); compare with P's memory

    Observation: incoherent if the data written through the pin differs from what the
    process reads at that address; coherent if equal.
    """

    property = "PinCoherent"
    needs = ("io_uring",)
    explain = (
        "In 5.19 the write faults on the R/O PTE and reuses the page because it is "
        "PG_anon_exclusive: coherent. Since 6.0 (64fe24a3e05e) mprotect(PROT_READ|PROT_WRITE) "
        "maps an exclusive anonymous page writable again at once, and without "
        "CONFIG_MEM_SOFT_DIRTY clear_refs does not write-protect it, so on base pages and THP the "
        "write takes no fault here (the detail says so): the outcome is decided by the same "
        "exclusivity bit, one step earlier. hugetlb mprotect does not do this, so there the write "
        "faults and hugetlb_wp() reuses the page (mapcount 1)."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        region, old = memory.fill(variant, OLD)
        try:
            memory.swap_step(region)
            with Ring() as ring:
                ring.register_buffer(region.addr, region.size)
                sc.mprotect(region.addr, region.size, sc.PROT_READ)
                procfs.write_text("/proc/self/clear_refs", "4")
                sc.mprotect(region.addr, region.size, sc.PROT_READ | sc.PROT_WRITE)
                faults = sc.write_counting_faults(region.addr, memory.pattern(NEW, region.size))
                obs = _read_through_pin(ring, region, old)
            if faults:
                how = f"the write took {faults} page fault(s)"
            else:
                how = ("the write took no fault: mprotect(PROT_READ|PROT_WRITE) had mapped the "
                       "exclusive page writable again")
            if not facs.has("soft_dirty"):
                how += " (clear_refs soft-dirty is a no-op on this kernel)"
            return Observation(obs.bad, f"{obs.detail}; {how}")
        finally:
            region.close()


class RwPinSwapoutWrite(Binding):
    """The VFIO / io_uring swap pin-loss pattern (semantics 2.8, 3.c item 3, 5.4): reclaim
    is asked to swap out a R/W-pinned page, then the process reads and writes it.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) [+ MADV_HUGEPAGE]; store pattern; check smaps
        P takes a long-term R/W FOLL_PIN on X =>
            io_uring_setup(); io_uring_register(IORING_REGISTER_BUFFERS, X)
        swap-out of X attempted (5.19 refuses a pinned exclusive page) =>
            madvise(MADV_PAGEOUT); pagemap present/swapped bits
        P reads X (swap-in fault if it was unmapped) => load from X in P
        P writes X => store a new pattern in P
        read through the pin =>
            io_uring_enter(IORING_OP_WRITE_FIXED -> memfd); pread(memfd); compare with P's memory

    Observation: incoherent if the data written through the pin differs from what the
    process reads at that address; coherent if equal. The detail says whether reclaim
    left the pinned page mapped.
    """

    property = "PinCoherent"
    kinds = ("base", "thp")
    mthp = False
    needs = ("io_uring", "swap")
    explain = (
        "5.19 refuses to unmap a pinned exclusive page during reclaim (page_try_share_anon_rmap() "
        "fails in try_to_unmap_one(), and shrink_page_list() skips maybe-pinned pages), so the "
        "page stays mapped and the later write reuses it: coherent, and newer kernels keep this. "
        "Before 5.19 the page could be unmapped, refaulted R/O and copied on write (the VFIO "
        "pattern): incoherent."
    )

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        region, old = memory.fill(variant, OLD)
        try:
            with Ring() as ring:
                ring.register_buffer(region.addr, region.size)
                sc.madvise(region.addr, region.size, sc.MADV_PAGEOUT)
                swapped = memory.all_swapped(region)
                region.read()
                region.write(NEW)
                obs = _read_through_pin(ring, region, old)
            where = "was swapped out" if swapped else "stayed mapped (swap-out refused)"
            return Observation(obs.bad, f"pinned page {where}; {obs.detail}")
        finally:
            region.close()
