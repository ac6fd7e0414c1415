"""Memory kinds: mapping a region of each kind, filling it, and proving what it is.

A scenario runs on a base page, a PMD-mapped THP, a page swapped out at the scenario's
swap step, or a hugetlb page. The kernel is free to give something else (no THP when
memory is fragmented, a page that MADV_PAGEOUT did not reclaim), and a scenario run on
the wrong kind proves nothing, so every claim is checked against /proc and a failed
check becomes a skip with the reason, never a silent pass.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from explorer.kernelrun import procfs
from explorer.kernelrun import syscalls as sc

KINDS = ("base", "swap", "thp", "hugetlb")
#: Suffix of the model scenario name for each kind (VmspliceAfterFork + "Thp").
KIND_SUFFIX = {"base": "", "swap": "Swap", "thp": "Thp", "hugetlb": "Hugetlb"}

HPAGE_PMD_SIZE = "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"
PAGEOUT_TRIES = 5


class KindUnavailable(Exception):
    """The kernel did not give the memory kind the scenario needs; the run is a skip."""


def pattern(seed: int, length: int) -> bytes:
    """Non-zero bytes, distinct for distinct seeds (1..254) at every offset.

    Never zero, so a THP is not paged out as one subpage plus zero pages, and never equal
    between two seeds at the same offset, so "old data" and "new data" always differ.
    """
    period = bytes(1 + (i + seed) % 255 for i in range(255))
    return (period * (length // 255 + 1))[:length]


@dataclass
class Region:
    """A private anonymous mapping of one kind; ``close()`` unmaps what is still mapped."""

    kind: str
    addr: int
    size: int
    mapped: bool = True

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


def pmd_size() -> int:
    """The size of a PMD-mapped THP (2 MiB on x86_64 and 4K-page aarch64, more with
    larger base pages)."""
    try:
        return procfs.read_int(HPAGE_PMD_SIZE)
    except OSError as e:
        raise KindUnavailable("no transparent_hugepage support (no hpage_pmd_size)") from e


def allocate(kind: str) -> Region:
    """Map an empty (not yet faulted) region of ``kind``; fill it and then :func:`verify`."""
    rw = sc.PROT_READ | sc.PROT_WRITE
    anon = sc.MAP_PRIVATE | sc.MAP_ANONYMOUS
    if kind in ("base", "swap"):
        addr = sc.mmap(sc.PAGE_SIZE, rw, anon)
        region = Region(kind, addr, sc.PAGE_SIZE)
        # A single page cannot become a THP, but say so anyway: THP "always" mode must
        # not turn a base-page scenario into a THP one through a neighbouring VMA merge.
        sc.madvise(addr, sc.PAGE_SIZE, sc.MADV_NOHUGEPAGE)
        return region
    if kind == "thp":
        size = pmd_size()
        # Over-allocate, then trim to one PMD-aligned PMD so that a THP can back it.
        raw = sc.mmap(2 * size, rw, anon)
        start = (raw + size - 1) & ~(size - 1)
        if start > raw:
            sc.munmap(raw, start - raw)
        if start + size < raw + 2 * size:
            sc.munmap(start + size, raw + 2 * size - start - size)
        region = Region(kind, start, size)
        sc.madvise(start, size, sc.MADV_HUGEPAGE)
        return region
    if kind == "hugetlb":
        size = procfs.meminfo().get("Hugepagesize", 0) * 1024
        if not size:
            raise KindUnavailable("no hugetlb support (no Hugepagesize in /proc/meminfo)")
        try:
            addr = sc.mmap(size, rw, anon | sc.MAP_HUGETLB)
        except OSError as e:
            raise KindUnavailable(f"MAP_HUGETLB failed: {e.strerror}") from e
        return Region(kind, addr, size)
    raise ValueError(f"unknown memory kind {kind!r}")


def verify(region: Region) -> None:
    """Check that the filled region really is of its kind (swap: present before pageout)."""
    fields = procfs.smaps_of(region.addr)
    if region.kind in ("base", "swap"):
        if not procfs.is_present(region.addr):
            raise KindUnavailable("the written page is not present")
        if fields.get("AnonHugePages", 0):
            raise KindUnavailable("the base page is part of a THP")
    elif region.kind == "thp":
        if fields.get("AnonHugePages", 0) < region.size // 1024:
            raise KindUnavailable(
                f"no PMD-mapped THP (AnonHugePages {fields.get('AnonHugePages', 0)} kB)")
    elif region.kind == "hugetlb":
        hugetlb_kb = fields.get("Private_Hugetlb", 0) + fields.get("Shared_Hugetlb", 0)
        if fields.get("KernelPageSize", 0) * 1024 != region.size or hugetlb_kb == 0:
            raise KindUnavailable("the region is not backed by a hugetlb page")


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


def all_swapped(region: Region) -> bool:
    return all(procfs.is_swapped(a) for a in range(region.addr, region.addr + region.size,
                                                   sc.PAGE_SIZE))


def map_zeropage(kind: str) -> Region:
    """A region of ``kind`` (base or thp) read-faulted, proven to map the zeropage.

    A read fault on a none PTE maps the shared zeropage (for a THP-enabled PMD the huge
    zeropage); only pagemap PFNs plus kpageflags can prove it, and both need root.
    """
    if os.geteuid() != 0:
        raise KindUnavailable("proving the zeropage is mapped needs root (pagemap PFNs)")
    region = allocate(kind)
    try:
        sc.touch_read(region.addr)
        flags = procfs.kpageflags(procfs.pfn(region.addr))
        want = procfs.KPF_ZERO_PAGE | (procfs.KPF_THP if kind == "thp" else 0)
        if flags & want != want:
            what = "huge zeropage" if kind == "thp" else "shared zeropage"
            raise KindUnavailable(f"the read fault did not map the {what}")
    except BaseException:
        region.close()
        raise
    return region


def fill(kind: str, seed: int) -> tuple[Region, bytes]:
    """Allocate a region of ``kind``, write ``pattern(seed)``, verify it; (region, data).

    The swap kind is left present here: each binding swaps it out at its own swap step.
    """
    region = allocate(kind)
    try:
        data = region.write(seed)
        verify(region)
    except BaseException:
        region.close()
        raise
    return region, data
