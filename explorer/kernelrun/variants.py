"""Memory variants: cow.c's list of the memory a case runs on, and what the model says.

A variant is a family (how the memory is laid out: a base page, a PMD-mapped THP, a
PTE-mapped THP, a single PTE of a THP, a partially mremap()ed or partially shared THP,
a hugetlb page; and whether it is swapped out before the case) and a folio size. The
families are fixed; the sizes are what this kernel offers (every THP/mTHP size, every
hugetlb size), found at run time. Each family that the kernel model can express maps
to the suffix of its model scenario (``VmspliceAfterFork`` + ``PteThp``); the others
have no prediction, and their rows say so.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from explorer.kernelrun import procfs, thp_sysfs
from explorer.kernelrun import syscalls as sc

#: cow.c's memory variants, in its order. "thp" is cow.c's "THP": PMD-mapped for the
#: PMD size, an mTHP folio (PTE-mapped) for smaller sizes.
FAMILIES = ("base", "swap", "thp", "thp-swap", "pte-thp", "pte-thp-swap", "single-pte-thp",
            "single-pte-thp-swap", "mremap-thp", "shared-thp", "hugetlb")
THP_FAMILIES = tuple(f for f in FAMILIES if "thp" in f)
#: The model's memory kinds and their scenario-name suffixes.
KIND_SUFFIX = {"base": "", "swap": "Swap", "thp": "Thp", "pte-thp": "PteThp",
               "hugetlb": "Hugetlb"}
HUGETLB_DIR = "/sys/kernel/mm/hugepages"
_HUGETLB_SIZE = re.compile(r"^hugepages-(\d+)kB$")


@dataclass(frozen=True)
class Variant:
    """One family at one folio size (bytes; the page size for base pages)."""

    family: str
    size: int
    pmd_size: int = 0

    @property
    def name(self) -> str:
        """``base``, ``swap``, or family/size such as ``pte-thp-swap/64kB``."""
        if self.family in ("base", "swap"):
            return self.family
        return f"{self.family}/{self.size // 1024}kB"

    @property
    def swapped(self) -> bool:
        return self.family.endswith("swap")

    @property
    def layout(self) -> str:
        """The family without the swap-out: base, thp, pte-thp, ..., hugetlb."""
        return "base" if self.family == "swap" else self.family.removesuffix("-swap")

    @property
    def pmd_mapped(self) -> bool:
        """A THP that is PMD-mapped until the case's decisive write (cow.c's "THP" at the
        PMD size; swapped out, it comes back as PTEs)."""
        return self.family == "thp" and self.size == self.pmd_size

    @property
    def model_kind(self) -> str | None:
        """The model's memory kind for this variant, or None when it has none.

        An mTHP folio is PTE-mapped from the start, so it is the model's PTE-mapped THP
        (thp.cow's two-subpage folio after a split); a swapped-out THP, a single PTE of
        a THP and the partial mremap()/sharing cases have no counterpart.
        """
        if self.family in ("base", "swap", "hugetlb"):
            return self.family
        if self.family == "thp":
            return "thp" if self.pmd_mapped else "pte-thp"
        if self.family == "pte-thp":
            return "pte-thp"
        return None


def hugetlb_sizes() -> list[int]:
    """Every hugetlb page size in bytes, ascending."""
    try:
        names = os.listdir(HUGETLB_DIR)
    except OSError:
        return []
    return sorted(int(m.group(1)) * 1024 for n in names if (m := _HUGETLB_SIZE.match(n)))


def pmd_size() -> int:
    """The size of a PMD-mapped THP (2 MiB on x86_64), 0 without THP."""
    try:
        return procfs.read_int(f"{thp_sysfs.THP_DIR}/hpage_pmd_size")
    except OSError:
        return 0


def detect() -> list[Variant]:
    """Every variant this kernel can express, in cow.c's order (family, then size)."""
    thp_sizes = thp_sysfs.sizes()
    pmd = pmd_size()
    out = []
    for family in FAMILIES:
        if family in ("base", "swap"):
            out.append(Variant(family, sc.PAGE_SIZE, pmd))
        elif family == "hugetlb":
            out += [Variant(family, s, pmd) for s in hugetlb_sizes()]
        else:
            out += [Variant(family, s, pmd) for s in thp_sizes]
    return out
