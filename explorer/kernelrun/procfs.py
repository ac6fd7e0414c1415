"""Readers of /proc that tell what kind of memory really backs an address.

A scenario that claims to run on a THP, a swapped-out page or the shared zeropage must
prove it, or it could pass for the wrong reason. These readers expose exactly the facts
the runner checks: pagemap's present/swapped bits and PFN, kpageflags' THP and zero-page
bits, a VMA's smaps counters, and the swap and huge-page totals.
"""

from __future__ import annotations

import struct

from explorer.kernelrun.syscalls import PAGE_SIZE

PM_PRESENT = 1 << 63
PM_SWAPPED = 1 << 62
PM_SOFT_DIRTY = 1 << 55
PM_PFN_MASK = (1 << 55) - 1

KPF_THP = 1 << 22
KPF_ZERO_PAGE = 1 << 24


def pagemap_entry(addr: int) -> int:
    """The 64-bit /proc/self/pagemap entry of the page containing ``addr``."""
    with open("/proc/self/pagemap", "rb") as f:
        f.seek((addr // PAGE_SIZE) * 8)
        data = f.read(8)
    return struct.unpack("<Q", data)[0]


def is_present(addr: int) -> bool:
    return bool(pagemap_entry(addr) & PM_PRESENT)


def is_swapped(addr: int) -> bool:
    """True if the page table holds a swap entry for ``addr`` (not present, swapped)."""
    entry = pagemap_entry(addr)
    return bool(entry & PM_SWAPPED) and not entry & PM_PRESENT


def pfn(addr: int) -> int:
    """The page frame number mapped at ``addr``; 0 when absent or when not root."""
    entry = pagemap_entry(addr)
    return entry & PM_PFN_MASK if entry & PM_PRESENT else 0


def kpageflags(frame: int) -> int:
    """The /proc/kpageflags word of one page frame (root only)."""
    with open("/proc/kpageflags", "rb") as f:
        f.seek(frame * 8)
        return struct.unpack("<Q", f.read(8))[0]


def smaps_of(addr: int) -> dict[str, int]:
    """The numeric smaps fields (in kB) of the VMA containing ``addr``; {} if none."""
    fields: dict[str, int] = {}
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split(None, 1)[0]
            if "-" in head and not head.endswith(":"):
                start, end = (int(x, 16) for x in head.split("-"))
                if inside:
                    break
                inside = start <= addr < end
                continue
            if inside and head.endswith(":"):
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    fields[head[:-1]] = int(parts[1])
    return fields


def meminfo() -> dict[str, int]:
    """/proc/meminfo as numbers (kB, or pages for the HugePages_* counters)."""
    out: dict[str, int] = {}
    with open("/proc/meminfo") as f:
        for line in f:
            name, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                out[name] = int(parts[0])
    return out


def active_swaps() -> list[tuple[str, int, int]]:
    """(filename, size kB, used kB) of every active swap area, from /proc/swaps."""
    rows: list[tuple[str, int, int]] = []
    with open("/proc/swaps") as f:
        for line in f.readlines()[1:]:
            parts = line.split()
            if len(parts) >= 4:
                rows.append((parts[0].replace("\\040", " "), int(parts[2]), int(parts[3])))
    return rows


def read_int(path: str) -> int:
    with open(path) as f:
        return int(f.read().split()[0])


def write_text(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def read_text(path: str) -> str:
    with open(path) as f:
        return f.read()
