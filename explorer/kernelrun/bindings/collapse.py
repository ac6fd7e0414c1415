"""cow.c's anonymous THP cases: MADV_COLLAPSE before or after fork, then basic COW.

cow.c PTE-maps a PMD-sized THP (mprotect() of one subpage there and back), collapses it
with MADV_COLLAPSE before fork, or after fork while the child shares all of it, its lower
half or its upper half (MADV_DONTFORK on the other half, MADV_DOFORK again before the
collapse), then the parent writes the whole range and the child compares its part with
its copy as of fork. A difference is a leak from the parent into the child (Isolation).

MADV_COLLAPSE of anonymous memory (collapse_huge_page(), mm/khugepaged.c, v6.18) copies
the small mappings into a freshly allocated THP that it maps with the PMD, exclusive
(RMAP_EXCLUSIVE), and refuses a folio with references beyond its mappings; the child
keeps the old pages. The kernel model has one THP per state (thp.cow), so it cannot hold
the child's old THP and the parent's new one at once: the collapses after fork have no
prediction. Collapsing before fork leaves the state of a fresh PMD-mapped exclusive THP,
which is where the model's BasicCowAfterForkThp starts, so that scenario predicts it.
"""

from __future__ import annotations

from typing import ClassVar

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

OLD, NEW = 7, 8
#: Which part of the THP the child shares: the whole of it, or its lower or upper half.
WHOLE, LOWER, UPPER = "whole", "lower", "upper"


def collapse(region: memory.Region) -> None:
    """MADV_COLLAPSE the region and prove it is PMD-mapped again (else the row skips)."""
    try:
        sc.madvise(region.addr, region.size, sc.MADV_COLLAPSE)
    except OSError as e:
        raise memory.KindUnavailable(f"MADV_COLLAPSE failed: {e.strerror}") from e
    memory.verify(region)


def cow_after_collapse(variant: Variant, before_fork: bool, shared: str) -> Observation:
    """cow.c's do_test_anon_thp_collapse(): PTE-map, collapse before fork (or share
    ``shared`` with the child and collapse after fork), write in the parent, let the
    child compare its part."""
    region, _ = memory.fill(variant, OLD)
    page, half = sc.PAGE_SIZE, region.size // 2
    start, length = {WHOLE: (0, region.size), LOWER: (0, half), UPPER: (half, half)}[shared]
    try:
        sc.mprotect(region.addr + page, page, sc.PROT_READ)
        sc.mprotect(region.addr + page, page, sc.PROT_READ | sc.PROT_WRITE)
        if before_fork:
            collapse(region)
        elif shared != WHOLE:
            hidden = half if shared == LOWER else 0
            sc.madvise(region.addr + hidden, half, sc.MADV_DONTFORK)

        def child(chan: Channel) -> None:
            copy = sc.read_memory(region.addr + start, length)
            chan.send("ready")
            chan.recv()
            seen = sc.read_memory(region.addr + start, length)
            new = memory.pattern(NEW, region.size)[start:start + length]
            detail = describe(seen, [("still reads the pre-fork data", copy),
                                     ("reads the parent's post-fork write", new)],
                              f"the child ({length // 1024} kB)")
            send_judgement(chan, Observation(bad=seen != copy, detail=detail))

        with Child(child) as c:
            c.recv()
            if not before_fork:
                if shared != WHOLE:
                    sc.madvise(region.addr, region.size, sc.MADV_DOFORK)
                collapse(region)
            return write_and_ask(c, region, NEW)
    finally:
        region.close()


class CollapseBeforeFork(Binding):
    """kernel cow.c "Basic COW after fork() when collapsing before fork()": a PTE-mapped
    THP collapsed into a PMD mapping before fork must be copied on the parent's write.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) + MADV_HUGEPAGE; store pattern; check smaps
        X PTE-mapped, then collapsed into a fresh exclusive PMD-mapped THP (the model's
            starting state) => mprotect(one subpage, PROT_READ) and back;
            madvise(MADV_COLLAPSE); smaps AnonHugePages
        fork: X shared R/O by P and C => fork(); C copies X to its private buffer
        P writes X => store a new pattern in P (write fault)
        C reads X => C compares X with its copy

    Observation: leak if the child reads anything but the pre-fork data; no leak
    otherwise.
    """

    property = "Isolation"
    kinds: ClassVar[tuple[str, ...]] = ("thp",)
    needs: ClassVar[tuple[str, ...]] = ("thp",)
    mthp = False
    explain = (
        "collapse_huge_page() maps a fresh THP exclusive (RMAP_EXCLUSIVE), so fork clears its "
        "PG_anon_exclusive like any THP's and the parent's write copies: a leak would mean the "
        "collapse kept a stale exclusive marker (the bug cow.c guards against)."
    )

    @classmethod
    def model_scenario(cls, kind: str) -> str | None:
        """After the collapse the state is a fresh PMD-mapped exclusive THP: the start of
        BasicCowAfterForkThp, which therefore predicts the row."""
        return "BasicCowAfterForkThp" if kind == "thp" else None

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        return cow_after_collapse(variant, before_fork=True, shared=WHOLE)


class _CollapseAfterFork(Binding):
    """Shared attributes of the three collapse-after-fork cases (no model scenario)."""

    property = "Isolation"
    kinds: ClassVar[tuple[str, ...]] = ("thp",)
    needs: ClassVar[tuple[str, ...]] = ("thp",)
    mthp = False
    shared: ClassVar[str] = WHOLE
    explain = (
        "MADV_COLLAPSE after fork copies the parent's part into a new exclusive THP and leaves "
        "the child the old pages, so the parent's write cannot reach the child. The model has "
        "one THP per state and cannot hold both: no prediction."
    )

    @classmethod
    def model_scenario(cls, kind: str) -> str | None:
        return None

    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        return cow_after_collapse(variant, before_fork=False, shared=self.shared)


class CollapseAfterForkShared(_CollapseAfterFork):
    """kernel cow.c "Basic COW after fork() when collapsing after fork() (fully
    shared)": the parent collapses a PTE-mapped THP it shares with its child, then writes.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) + MADV_HUGEPAGE; store pattern; check smaps
        X PTE-mapped => mprotect(one subpage, PROT_READ) and back
        fork: X shared R/O by P and C => fork(); C copies X to its private buffer
        P collapses X into a new THP (not modelled: a second THP) =>
            madvise(MADV_COLLAPSE); smaps AnonHugePages
        P writes X => store a new pattern in P
        C reads X => C compares X with its copy

    Observation: leak if the child reads anything but the pre-fork data; no leak
    otherwise.
    """

    shared = WHOLE


class CollapseAfterForkLowerShared(_CollapseAfterFork):
    """kernel cow.c "Basic COW after fork() when collapsing after fork() (lower
    shared)": as CollapseAfterForkShared, with only the lower half of the THP shared.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) + MADV_HUGEPAGE; store pattern; check smaps
        X PTE-mapped; its upper half not to be shared => mprotect(one subpage, PROT_READ)
            and back; madvise(upper half, MADV_DONTFORK)
        fork: the lower half of X shared R/O by P and C => fork(); C copies the lower
            half to its private buffer
        P collapses X into a new THP (not modelled: a second THP) =>
            madvise(MADV_DOFORK); madvise(MADV_COLLAPSE); smaps AnonHugePages
        P writes X => store a new pattern in P
        C reads the lower half => C compares it with its copy

    Observation: leak if the child reads anything but the pre-fork data; no leak
    otherwise.
    """

    shared = LOWER


class CollapseAfterForkUpperShared(_CollapseAfterFork):
    """kernel cow.c "Basic COW after fork() when collapsing after fork() (upper
    shared)": as CollapseAfterForkShared, with only the upper half of the THP shared.

    Steps (model step => system calls):
        P writes X (fresh exclusive anon page) =>
            mmap(MAP_PRIVATE|MAP_ANONYMOUS) + MADV_HUGEPAGE; store pattern; check smaps
        X PTE-mapped; its lower half not to be shared => mprotect(one subpage, PROT_READ)
            and back; madvise(lower half, MADV_DONTFORK)
        fork: the upper half of X shared R/O by P and C => fork(); C copies the upper
            half to its private buffer
        P collapses X into a new THP (not modelled: a second THP) =>
            madvise(MADV_DOFORK); madvise(MADV_COLLAPSE); smaps AnonHugePages
        P writes X => store a new pattern in P
        C reads the upper half => C compares it with its copy

    Observation: leak if the child reads anything but the pre-fork data; no leak
    otherwise.
    """

    shared = UPPER
