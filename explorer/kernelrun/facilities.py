"""What this kernel and machine offer, probed by trying it, with the reason when not.

Every scenario depends on some facility (io_uring, gup_test, THP, swap, hugetlb). A
facility counts as available only once a small trial of it worked here: io_uring may be
disabled by sysctl, THP may be set to "never", swap may be active but full. The reasons
go into the skip messages and into docs/conformance.md.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field

from explorer.kernelrun import memory, procfs, variants
from explorer.kernelrun import syscalls as sc
from explorer.kernelrun.gup_test import GupTest, open_gup_test
from explorer.kernelrun.iouring import Ring
from explorer.kernelrun.variants import Variant

BASE = Variant("base", sc.PAGE_SIZE)
SWAP = Variant("swap", sc.PAGE_SIZE)

#: Free huge pages a hugetlb scenario may need: the page, a COW copy, a fork copy.
HUGETLB_PAGES_NEEDED = 3
#: Free swap (kB) below which the swap kind is not attempted.
SWAP_FREE_NEEDED_KB = 4096


@dataclass(frozen=True)
class Facility:
    name: str
    available: bool
    detail: str


@dataclass
class Facilities:
    """The probed facilities; owns the open gup_test handle until :meth:`close`."""

    release: str
    machine: str
    root: bool
    items: dict[str, Facility] = field(default_factory=dict)
    gup: GupTest | None = None

    def has(self, name: str) -> bool:
        return self.items[name].available

    def why_not(self, name: str) -> str:
        return f"{name}: {self.items[name].detail}"

    def close(self) -> None:
        if self.gup is not None:
            self.gup.close()
            self.gup = None


def _probe_io_uring() -> Facility:
    try:
        disabled = procfs.read_int("/proc/sys/kernel/io_uring_disabled")
    except OSError:
        disabled = 0
    if disabled == 2:
        return Facility("io_uring", False, "disabled by sysctl kernel.io_uring_disabled=2")
    try:
        region, _ = memory.fill(BASE, 1)
    except memory.KindUnavailable as e:
        return Facility("io_uring", False, f"no page to register: {e}")
    try:
        with Ring() as ring:
            ring.register_buffer(region.addr, region.size)
    except OSError as e:
        return Facility("io_uring", False, f"io_uring fixed buffers unusable: {e}")
    finally:
        region.close()
    return Facility("io_uring", True, "io_uring_setup and IORING_REGISTER_BUFFERS work")


def _probe_thp() -> Facility:
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            mode = f.read().split("[")[1].split("]")[0]
    except (OSError, IndexError):
        return Facility("thp", False, "no /sys/kernel/mm/transparent_hugepage (no THP)")
    if mode == "never":
        return Facility("thp", False, "transparent_hugepage/enabled is [never]")
    pmd = variants.pmd_size()
    try:
        region, _ = memory.fill(Variant("thp", pmd, pmd), 1)
    except (memory.KindUnavailable, OSError) as e:
        return Facility("thp", False, f"trial THP failed: {e}")
    region.close()
    return Facility("thp", True, f"PMD-mapped THP after MADV_HUGEPAGE (mode [{mode}])")


def _probe_swap() -> Facility:
    swaps = procfs.active_swaps()
    if not swaps:
        return Facility("swap", False, "no active swap (use --setup as root)")
    free_kb = sum(size - used for _, size, used in swaps)
    if free_kb < SWAP_FREE_NEEDED_KB:
        return Facility("swap", False, f"only {free_kb} kB of swap free")
    try:
        region, _ = memory.fill(SWAP, 1)
    except memory.KindUnavailable as e:
        return Facility("swap", False, f"no page to swap out: {e}")
    try:
        memory.page_out(region)
    except memory.KindUnavailable as e:
        return Facility("swap", False, f"trial swap-out failed: {e}")
    finally:
        region.close()
    names = ", ".join(name for name, _, _ in swaps)
    return Facility("swap", True, f"MADV_PAGEOUT swaps out ({names}; {free_kb} kB free)")


def _probe_hugetlb() -> Facility:
    info = procfs.meminfo()
    size_kb, free = info.get("Hugepagesize", 0), info.get("HugePages_Free", 0)
    if not size_kb:
        return Facility("hugetlb", False, "kernel without hugetlb")
    if free < HUGETLB_PAGES_NEEDED:
        return Facility("hugetlb", False,
                        f"{free} free {size_kb} kB huge pages, need {HUGETLB_PAGES_NEEDED} "
                        "(use --setup as root)")
    return Facility("hugetlb", True, f"{free} free {size_kb} kB huge pages")


def _probe_soft_dirty() -> Facility:
    """Soft-dirty tracking: a freshly written page reports bit 55 in pagemap."""
    region, _ = memory.fill(BASE, 1)
    try:
        dirty = bool(procfs.pagemap_entry(region.addr) & procfs.PM_SOFT_DIRTY)
    finally:
        region.close()
    if dirty:
        return Facility("soft_dirty", True, "clear_refs 4 write-protects PTEs")
    return Facility("soft_dirty", False,
                    "no soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY off): clear_refs 4 is a "
                    "no-op")


def _probe_gup_test() -> tuple[Facility, GupTest | None]:
    gup, why = open_gup_test()
    if gup is None:
        return Facility("gup_test", False, why), None
    return Facility("gup_test", True, "PIN_LONGTERM_TEST_START/READ via debugfs gup_test"), gup


def probe() -> Facilities:
    """Probe every facility; call :meth:`Facilities.close` when done."""
    facs = Facilities(release=platform.release(), machine=sc.machine(), root=os.geteuid() == 0)
    gup_fac, facs.gup = _probe_gup_test()
    for fac in (_probe_io_uring(), gup_fac, _probe_thp(), _probe_swap(), _probe_hugetlb(),
                _probe_soft_dirty()):
        facs.items[fac.name] = fac
    return facs
