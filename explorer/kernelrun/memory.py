"""Memory variants made real: mapping a region of each variant, filling it, proving it.

A case runs on a base page, a THP of some size (PMD-mapped, PTE-mapped, one PTE of it,
half of it mremap()ed away, or partially shared with a short-lived child), a hugetlb
page of some size, each of them possibly swapped out, as cow.c prepares them. The
kernel is free to give something else (no THP when memory is fragmented, a page that
MADV_PAGEOUT did not reclaim), and a case run on the wrong memory proves nothing, so
every claim is checked against /proc and a failed check becomes a skip with the
reason, never a silent pass.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from explorer.kernelrun import procfs, thp_sysfs
from explorer.kernelrun import syscalls as sc
from explorer.kernelrun.variants import Variant

PAGEOUT_TRIES = 5


class KindUnavailable(Exception):
    """The kernel did not give the memory variant the case needs; the row is a skip."""


def pattern(seed: int, length: int) -> bytes:
    """Non-zero bytes, distinct for distinct seeds (1..254) at every offset.

    Never zero, so a THP is not paged out as one subpage plus zero pages, and never equal
    between two seeds at the same offset, so "old data" and "new data" always differ.
    """
    period = bytes(1 + (i + seed) % 255 for i in range(255))
    return (period * (length // 255 + 1))[:length]


@dataclass
class Region:
    """A private anonymous mapping of one variant; ``close()`` unmaps what is still
    mapped (also the other half of a partially mremap()ed THP)."""

    variant: Variant
    addr: int
    size: int
    mapped: bool = True
    others: list[tuple[int, int]] = field(default_factory=list)

    def write(self, seed: int) -> bytes:
        """The process writes ``pattern(seed)`` over the whole region (write faults)."""
        data = pattern(seed, self.size)
        sc.write_memory(self.addr, data)
        return data

    def read(self) -> bytes:
        return sc.read_memory(self.addr, self.size)

    def unmap(self) -> None:
        if self.mapped:
            sc.munmap(self.addr, self.size)
            self.mapped = False

    def close(self) -> None:
        self.unmap()
        while self.others:
            sc.munmap(*self.others.pop())


def _aligned(size: int, prot: int, flags: int) -> int:
    """``size`` bytes at a ``size``-aligned address (over-allocate, then trim)."""
    raw = sc.mmap(2 * size, prot, flags)
    start = (raw + size - 1) & ~(size - 1)
    if start > raw:
        sc.munmap(raw, start - raw)
    if start + size < raw + 2 * size:
        sc.munmap(start + size, raw + 2 * size - start - size)
    return start


def _hugetlb_free(size: int) -> int:
    try:
        return procfs.read_int(f"/sys/kernel/mm/hugepages/hugepages-{size // 1024}kB/"
                               "free_hugepages")
    except OSError:
        return 0


def allocate(variant: Variant) -> Region:
    """Map an empty (not yet faulted) region of ``variant``; :func:`fill` fills it."""
    rw = sc.PROT_READ | sc.PROT_WRITE
    anon = sc.MAP_PRIVATE | sc.MAP_ANONYMOUS
    if variant.layout == "base":
        addr = sc.mmap(sc.PAGE_SIZE, rw, anon)
        # A single page cannot become a THP, but say so anyway: THP "always" mode must
        # not turn a base-page case into a THP one through a neighbouring VMA merge.
        sc.madvise(addr, sc.PAGE_SIZE, sc.MADV_NOHUGEPAGE)
        return Region(variant, addr, sc.PAGE_SIZE)
    if variant.layout == "hugetlb":
        if _hugetlb_free(variant.size) < 1:
            raise KindUnavailable(f"no free {variant.size // 1024} kB huge page "
                                  "(use --setup as root)")
        flags = anon | sc.MAP_HUGETLB | ((variant.size.bit_length() - 1) << sc.MAP_HUGE_SHIFT)
        try:
            addr = sc.mmap(variant.size, rw, flags)
        except OSError as e:
            raise KindUnavailable(f"MAP_HUGETLB failed: {e.strerror}") from e
        return Region(variant, addr, variant.size)
    if not thp_sysfs.madvise_gets(variant.size):
        raise KindUnavailable(f"THP size {variant.size // 1024} kB is not enabled for "
                              "MADV_HUGEPAGE (use --setup as root)")
    addr = _aligned(variant.size, rw, anon)
    sc.madvise(addr, variant.size, sc.MADV_HUGEPAGE)
    return Region(variant, addr, variant.size)


def _populate_thp(region: Region) -> None:
    """Touch the first byte and prove a folio of the whole size came (cow.c's test: the
    last subpage is populated although only the first was touched)."""
    sc.write_memory(region.addr, b"\x01")
    if not procfs.is_present(region.addr + region.size - sc.PAGE_SIZE):
        raise KindUnavailable(f"no {region.size // 1024} kB THP was populated")
    if region.variant.size == region.variant.pmd_size:
        anon_huge = procfs.smaps_of(region.addr).get("AnonHugePages", 0)
        if anon_huge < region.size // 1024:
            raise KindUnavailable(f"no PMD-mapped THP (AnonHugePages {anon_huge} kB)")


def _shape_thp(region: Region) -> None:
    """Turn the populated THP into cow.c's layout for the variant."""
    page = sc.PAGE_SIZE
    layout = region.variant.layout
    if layout == "pte-thp":
        # Mapping one subpage R/O and back splits a PMD mapping into PTEs (a no-op for
        # an mTHP, which is PTE-mapped anyway).
        sc.mprotect(region.addr + page, page, sc.PROT_READ)
        sc.mprotect(region.addr + page, page, sc.PROT_READ | sc.PROT_WRITE)
    elif layout == "single-pte-thp":
        sc.madvise(region.addr + page, region.size - page, sc.MADV_DONTNEED)
        sc.munmap(region.addr + page, region.size - page)
        region.size = page
    elif layout == "mremap-thp":
        half = region.size // 2
        target = sc.mmap(half, sc.PROT_NONE, sc.MAP_PRIVATE | sc.MAP_ANONYMOUS)
        sc.mremap_fixed(region.addr + half, half, target)
        region.others.append((target, half))
        region.size = half
    elif layout == "shared-thp":
        rest = region.size - page
        sc.madvise(region.addr + page, rest, sc.MADV_DONTFORK)
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)
        sc.madvise(region.addr + page, rest, sc.MADV_DOFORK)


def verify(region: Region) -> None:
    """Check that a filled base page or hugetlb page really is what its variant says."""
    fields = procfs.smaps_of(region.addr)
    layout = region.variant.layout
    if layout == "base":
        if not procfs.is_present(region.addr):
            raise KindUnavailable("the written page is not present")
        if fields.get("AnonHugePages", 0):
            raise KindUnavailable("the base page is part of a THP")
    elif layout == "hugetlb":
        hugetlb_kb = fields.get("Private_Hugetlb", 0) + fields.get("Shared_Hugetlb", 0)
        if fields.get("KernelPageSize", 0) * 1024 != region.size or hugetlb_kb == 0:
            raise KindUnavailable("the region is not backed by a hugetlb page")
    elif region.variant.layout == "thp" and region.size == region.variant.pmd_size:
        anon_huge = fields.get("AnonHugePages", 0)
        if anon_huge < region.size // 1024:
            raise KindUnavailable(f"the THP is no longer PMD-mapped (AnonHugePages "
                                  f"{anon_huge} kB)")


def page_out(region: Region) -> None:
    """MADV_PAGEOUT the region and prove every page now has a swap entry.

    Reclaim may skip a page on the first try (e.g. not yet on the LRU), so try a few
    times before giving up with a skip.
    """
    for _ in range(PAGEOUT_TRIES):
        sc.madvise(region.addr, region.size, sc.MADV_PAGEOUT)
        if all_swapped(region):
            return
    raise KindUnavailable("MADV_PAGEOUT did not swap the page out (is swap full?)")


def swap_step(region: Region) -> None:
    """The case's swap-out step: page the region out if its variant is a swapped one."""
    if region.variant.swapped:
        page_out(region)


def all_swapped(region: Region) -> bool:
    return all(procfs.is_swapped(a) for a in range(region.addr, region.addr + region.size,
                                                   sc.PAGE_SIZE))


def still_of_variant(region: Region) -> None:
    """Before the decisive write: a PMD-mapped THP is still PMD-mapped and swapped-out
    memory still swapped out; otherwise the write fault would not take the path the
    variant stands for, and the run would prove nothing about it."""
    if region.variant.pmd_mapped:
        verify(region)
    elif region.variant.swapped and not all_swapped(region):
        raise KindUnavailable("the page was swapped in before the decisive write")


def map_zeropage(variant: Variant) -> Region:
    """A region of ``variant`` (base or PMD THP) read-faulted, proven to map the zeropage.

    A read fault on a none PTE maps the shared zeropage (for a THP-enabled PMD the huge
    zeropage); only pagemap PFNs plus kpageflags can prove it, and both need root.
    """
    if os.geteuid() != 0:
        raise KindUnavailable("proving the zeropage is mapped needs root (pagemap PFNs)")
    region = allocate(variant)
    try:
        sc.touch_read(region.addr)
        flags = procfs.kpageflags(procfs.pfn(region.addr))
        huge = variant.layout == "thp"
        want = procfs.KPF_ZERO_PAGE | (procfs.KPF_THP if huge else 0)
        if flags & want != want:
            what = "huge zeropage" if huge else "shared zeropage"
            raise KindUnavailable(f"the read fault did not map the {what}")
    except BaseException:
        region.close()
        raise
    return region


def fill(variant: Variant, seed: int) -> tuple[Region, bytes]:
    """Allocate a region of ``variant``, write ``pattern(seed)``, prove it; (region, data).

    Swapped variants are left present here: each case swaps out at its own swap step
    (:func:`swap_step`).
    """
    region = allocate(variant)
    try:
        if variant.layout not in ("base", "hugetlb"):
            _populate_thp(region)
            _shape_thp(region)
        data = region.write(seed)
        verify(region)
    except BaseException:
        region.close()
        raise
    return region, data
