"""``--setup``: a temporary swap file and a huge-page reservation, restored exactly.

The swap, hugetlb and mTHP variants need facilities a stock machine lacks. As root,
the runner can provide them for the duration of one run: it reserves huge pages by
raising /proc/sys/vm/nr_hugepages (and the nr_hugepages of every other hugetlb size),
saves the THP/mTHP enabled controls so that each THP size can be enabled alone while
its variants run (:meth:`MachineSetup.prepare`), and creates, formats (the swap header
is written here, no mkswap needed) and enables a swap file with swapon(2). Everything
it did is undone in reverse order by :meth:`MachineSetup.restore`: swapoff(2) and
unlink of the file, the THP controls and the previous nr_hugepages values written back
and checked. Restore runs on normal exit,
on exceptions, on SIGINT/SIGTERM/SIGHUP (the CLI turns them into exceptions) and from
an atexit hook, with those signals blocked so that a second Ctrl-C cannot cut it short.
"""

from __future__ import annotations

import atexit
import errno
import os
import signal
import struct
import tempfile
import uuid
from collections.abc import Callable

from explorer.kernelrun import procfs, thp_sysfs, variants
from explorer.kernelrun import syscalls as sc

NR_HUGEPAGES = "/proc/sys/vm/nr_hugepages"
SWAP_MB = 64
HUGEPAGES = 8
#: Huge pages reserved of every other hugetlb size (1 GB ones are costly): the page, a
#: COW copy, a fork copy.
OTHER_HUGEPAGES = 3
_BLOCKED = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
#: How often swapoff(2) is tried when it is interrupted (see :func:`swapoff`).
SWAPOFF_TRIES = 20


class SetupError(Exception):
    """Setting the machine up, or restoring it, failed; the message says what to fix."""


def swap_header(npages: int) -> bytes:
    """The first page of a version-1 swap area (the layout of ``union swap_header``)."""
    page = bytearray(sc.PAGE_SIZE)
    struct.pack_into("<III", page, 1024, 1, npages - 1, 0)  # version, last_page, nr_badpages
    page[1036:1052] = uuid.uuid4().bytes
    page[1052:1068] = b"cowspec".ljust(16, b"\0")
    page[sc.PAGE_SIZE - 10:] = b"SWAPSPACE2"
    return bytes(page)


def swapoff(path: str) -> None:
    """swapoff(2), tried again while it fails with EINTR.

    try_to_unuse() (mm/swapfile.c) gives up with EINTR whenever signal_pending() is true
    for the caller, which includes task work that io_uring queues with TIF_NOTIFY_SIGNAL
    (the runner's io_uring rings are torn down just before the restore). The blocked
    SIGINT/SIGTERM/SIGHUP do not count. An interrupted swapoff leaves the swap file in
    use and undeletable, so it is retried rather than reported at once.
    """
    for attempt in range(SWAPOFF_TRIES):
        try:
            sc.swapoff(path)
            return
        except OSError as e:
            if e.errno != errno.EINTR or attempt == SWAPOFF_TRIES - 1:
                raise


def swap_directory() -> str:
    """A disk-backed directory for the swap file (tmpfs cannot hold an active swap file)."""
    return "/var/tmp" if os.path.isdir("/var/tmp") else tempfile.gettempdir()


class MachineSetup:
    """Context manager: set up on enter, restore on exit. ``notes`` say what was done."""

    def __init__(self, swap_mb: int = SWAP_MB, hugepages: int = HUGEPAGES,
                 directory: str | None = None) -> None:
        self.swap_mb = swap_mb
        self.hugepages = hugepages
        self.directory = directory or swap_directory()
        self.notes: list[str] = []
        self._undo: list[tuple[str, Callable[[], None]]] = []

    def __enter__(self) -> MachineSetup:
        if os.geteuid() != 0:
            raise SetupError("--setup needs root (it enables swap and reserves huge pages)")
        atexit.register(self.restore)
        try:
            self._reserve_hugepages()
            self._reserve_other_hugepages()
            self._save_thp_controls()
            self._enable_swap()
        except BaseException:
            self.restore()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.restore()

    def _reserve_hugepages(self) -> None:
        before = procfs.read_int(NR_HUGEPAGES)
        self._undo.append(("nr_hugepages", lambda: self._set_hugepages(before)))
        procfs.write_text(NR_HUGEPAGES, str(before + self.hugepages))
        got = procfs.read_int(NR_HUGEPAGES) - before
        self.notes.append(f"reserved {got} huge pages (nr_hugepages {before} -> {before + got})")

    def _set_hugepages(self, value: int) -> None:
        procfs.write_text(NR_HUGEPAGES, str(value))
        now = procfs.read_int(NR_HUGEPAGES)
        if now != value:
            raise SetupError(f"nr_hugepages is {now} after restoring {value}")
        self.notes.append(f"restored nr_hugepages to {value}")

    def _reserve_other_hugepages(self) -> None:
        default = procfs.meminfo().get("Hugepagesize", 0) * 1024
        for size in variants.hugetlb_sizes():
            if size == default:
                continue
            path = f"{variants.HUGETLB_DIR}/hugepages-{size // 1024}kB/nr_hugepages"
            before = procfs.read_int(path)
            self._undo.append((path, lambda p=path, b=before: self._set_int(p, b)))
            procfs.write_text(path, str(before + OTHER_HUGEPAGES))
            got = procfs.read_int(path) - before
            self.notes.append(f"reserved {got} huge pages of {size // 1024} kB")

    def _set_int(self, path: str, value: int) -> None:
        procfs.write_text(path, str(value))
        if procfs.read_int(path) != value:
            raise SetupError(f"{path} is {procfs.read_int(path)} after restoring {value}")
        self.notes.append(f"restored {path} to {value}")

    def _save_thp_controls(self) -> None:
        saved = thp_sysfs.snapshot()
        if not saved:
            return
        self._undo.append(("THP controls", lambda: self._restore_thp(saved)))
        self.notes.append(f"saved {len(saved)} THP/mTHP enabled controls")

    def _restore_thp(self, saved: dict[str, str]) -> None:
        wrong = thp_sysfs.restore(saved)
        if wrong:
            raise SetupError("; ".join(wrong))
        self.notes.append(f"restored {len(saved)} THP/mTHP enabled controls")

    def prepare(self, variant: variants.Variant) -> None:
        """Before a THP variant's rows: let MADV_HUGEPAGE get its folio size alone."""
        if "thp" in variant.family:
            thp_sysfs.enable_only(variant.size)

    def _enable_swap(self) -> None:
        fd, path = tempfile.mkstemp(prefix="cowspec-swap-", dir=self.directory)
        self._undo.append(("swap file", lambda: self._remove(path)))
        npages = self.swap_mb * 1024 * 1024 // sc.PAGE_SIZE
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, swap_header(npages))
            zeros = bytes(1024 * 1024)
            remaining = npages * sc.PAGE_SIZE - sc.PAGE_SIZE
            while remaining:
                remaining -= os.write(fd, zeros[:min(remaining, len(zeros))])
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            sc.swapon(path)
        except OSError as e:
            raise SetupError(f"swapon {path}: {e.strerror} (does this file system support "
                             "swap files?)") from e
        self._undo.append(("swapon", lambda: swapoff(path)))
        self.notes.append(f"enabled a {self.swap_mb} MiB swap file {path}")

    def _remove(self, path: str) -> None:
        os.unlink(path)
        self.notes.append(f"swapped off and deleted {path}")

    def restore(self) -> None:
        """Undo everything done so far, newest first; safe to call more than once.

        Every undo step is attempted even if an earlier one fails; the failures are then
        raised together as one SetupError.
        """
        if not self._undo:
            return
        old = signal.pthread_sigmask(signal.SIG_BLOCK, _BLOCKED)
        errors: list[str] = []
        try:
            while self._undo:
                what, undo = self._undo.pop()
                try:
                    undo()
                except (OSError, SetupError) as e:
                    errors.append(f"{what}: {e}")
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
            atexit.unregister(self.restore)
        if errors:
            raise SetupError("restoring the machine failed: " + "; ".join(errors))
