"""R/O long-term FOLL_PIN from user space, through the kernel's gup_test debugfs file.

No ordinary system call takes a R/O FOLL_PIN that outlives the call (io_uring fixed
buffers are always R/W), so the R/O pin scenarios need ``/sys/kernel/debug/gup_test``
(CONFIG_GUP_TEST): PIN_LONGTERM_TEST_START pins a range R/O with FOLL_LONGTERM,
PIN_LONGTERM_TEST_READ copies the pinned pages out, PIN_LONGTERM_TEST_STOP unpins.
When debugfs is not mounted, it is mounted on a private temporary directory just long
enough to open the file, then detached, so the machine's mount table is left as it was.
"""

from __future__ import annotations

import ctypes
import os
import tempfile

from explorer.kernelrun import syscalls as sc

DEBUGFS = "/sys/kernel/debug"


def _ioc(direction: int, nr: int, size: int) -> int:
    """_IOC() of the generic ioctl encoding (x86_64 and aarch64 share it)."""
    return (direction << 30) | (size << 16) | (ord("g") << 8) | nr


class PinLongtermTest(ctypes.Structure):
    """``struct pin_longterm_test`` of mm/gup_test.h."""

    _fields_ = [("addr", ctypes.c_uint64), ("size", ctypes.c_uint64), ("flags", ctypes.c_uint32)]


PIN_LONGTERM_TEST_START = _ioc(1, 7, ctypes.sizeof(PinLongtermTest))
PIN_LONGTERM_TEST_STOP = _ioc(0, 8, 0)
PIN_LONGTERM_TEST_READ = _ioc(1, 9, 8)


class GupTest:
    """An open gup_test file; pins are per open file and dropped when it is closed."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def pin_ro(self, addr: int, length: int) -> None:
        """PIN_LONGTERM_TEST_START: pin_user_pages(FOLL_LONGTERM), R/O, slow path."""
        args = PinLongtermTest(addr, length, 0)
        sc.ioctl(self.fd, PIN_LONGTERM_TEST_START, ctypes.addressof(args))

    def read_pinned(self, length: int) -> bytes:
        """PIN_LONGTERM_TEST_READ: the content of the pinned pages, not of the mapping."""
        buf = ctypes.create_string_buffer(length)
        target = ctypes.c_uint64(ctypes.addressof(buf))
        sc.ioctl(self.fd, PIN_LONGTERM_TEST_READ, ctypes.addressof(target))
        return buf.raw

    def unpin(self) -> None:
        sc.ioctl(self.fd, PIN_LONGTERM_TEST_STOP, None)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def open_gup_test() -> tuple[GupTest | None, str]:
    """Open gup_test, mounting debugfs privately if needed; (handle, "") or (None, why)."""
    path = os.path.join(DEBUGFS, "gup_test")
    if os.path.exists(path):
        return _open(path)
    if os.path.ismount(DEBUGFS):
        return None, "gup_test missing from debugfs (kernel built without CONFIG_GUP_TEST)"
    if os.geteuid() != 0:
        return None, "debugfs is not mounted and mounting it needs root"
    mnt = tempfile.mkdtemp(prefix="cowspec-debugfs-")
    try:
        try:
            sc.mount("debugfs", mnt, "debugfs")
        except OSError as e:
            return None, f"cannot mount debugfs: {e.strerror}"
        try:
            if not os.path.exists(os.path.join(mnt, "gup_test")):
                return None, "no gup_test in debugfs (kernel built without CONFIG_GUP_TEST)"
            return _open(os.path.join(mnt, "gup_test"))
        finally:
            sc.umount_detach(mnt)
    finally:
        os.rmdir(mnt)


def _open(path: str) -> tuple[GupTest | None, str]:
    try:
        return GupTest(os.open(path, os.O_RDWR | os.O_CLOEXEC)), ""
    except OSError as e:
        return None, f"cannot open gup_test: {e.strerror}"
