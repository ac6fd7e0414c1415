"""The system calls the kernel runner needs, through ctypes and nothing else.

The runner must work with the Python standard library alone (no C toolchain, no extra
packages), so every memory-management call goes through libc via ctypes, and the calls
libc has no wrapper for (io_uring) or that the brief wants issued directly (swapon,
swapoff) go through ``syscall(2)`` with a per-architecture number table. Every wrapper
turns a failure into :class:`OSError` carrying errno, so callers never check return
values by hand.
"""

from __future__ import annotations

import ctypes
import os
import platform

PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")

PROT_NONE = 0x0
PROT_READ = 0x1
PROT_WRITE = 0x2

MAP_PRIVATE = 0x02
MAP_ANONYMOUS = 0x20
MAP_HUGETLB = 0x40000
#: The hugetlb page size goes into the flags as log2(size) << MAP_HUGE_SHIFT.
MAP_HUGE_SHIFT = 26
MREMAP_MAYMOVE = 1
MREMAP_FIXED = 2

MADV_DONTNEED = 4
MADV_DONTFORK = 10
MADV_DOFORK = 11
MADV_HUGEPAGE = 14
MADV_NOHUGEPAGE = 15
MADV_PAGEOUT = 21
MADV_COLLAPSE = 25

MNT_DETACH = 0x2
PR_SET_PDEATHSIG = 1

#: Numbers of the calls issued through ``syscall(2)``; x86_64 has its own table, aarch64
#: uses the generic one (include/uapi/asm-generic/unistd.h).
SYSCALL_NUMBERS: dict[str, dict[str, int]] = {
    "x86_64": {
        "swapon": 167,
        "swapoff": 168,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
    },
    "aarch64": {
        "swapon": 224,
        "swapoff": 225,
        "io_uring_setup": 425,
        "io_uring_enter": 426,
        "io_uring_register": 427,
    },
}

_MAP_FAILED = ctypes.c_void_p(-1).value

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [
    ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long,
]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_libc.mremap.restype = ctypes.c_void_p
_libc.mremap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int,
                         ctypes.c_void_p]
_libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_libc.vmsplice.restype = ctypes.c_ssize_t
_libc.vmsplice.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint]
_libc.ioctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p]
_libc.mount.argtypes = [
    ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p,
]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]
_libc.syscall.restype = ctypes.c_long
_libc.getrusage.argtypes = [ctypes.c_int, ctypes.c_void_p]


class IOVec(ctypes.Structure):
    """``struct iovec``, as vmsplice(2) and IORING_REGISTER_BUFFERS take it."""

    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class _RUsage(ctypes.Structure):
    """``struct rusage`` (timevals as two longs; only ru_minflt is read)."""

    _fields_ = [("ru_utime", ctypes.c_long * 2), ("ru_stime", ctypes.c_long * 2)] + [
        (name, ctypes.c_long) for name in (
            "ru_maxrss", "ru_ixrss", "ru_idrss", "ru_isrss", "ru_minflt", "ru_majflt",
            "ru_nswap", "ru_inblock", "ru_oublock", "ru_msgsnd", "ru_msgrcv", "ru_nsignals",
            "ru_nvcsw", "ru_nivcsw")]


def machine() -> str:
    """The architecture name as ``uname -m`` prints it."""
    return platform.machine()


def syscall_number(name: str) -> int:
    """The number of ``name`` on this architecture, or OSError(ENOSYS) if we have none."""
    table = SYSCALL_NUMBERS.get(machine())
    if table is None:
        raise OSError(38, f"no system call table for architecture {machine()!r}")
    return table[name]


def _check(ret: int, what: str) -> int:
    if ret == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return ret


def raw_syscall(name: str, *args: int | ctypes.c_void_p | bytes | None) -> int:
    """Issue system call ``name`` through syscall(2); arguments are ints or pointers."""
    conv = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    return _check(_libc.syscall(ctypes.c_long(syscall_number(name)), *conv), name)


def mmap(length: int, prot: int, flags: int, addr: int = 0) -> int:
    """mmap(2) of anonymous memory; returns the address."""
    ret = _libc.mmap(addr or None, length, prot, flags, -1, 0)
    if ret is None or ret == _MAP_FAILED:
        err = ctypes.get_errno()
        raise OSError(err, f"mmap({length:#x}): {os.strerror(err)}")
    return int(ret)


def mremap_fixed(old: int, length: int, new: int) -> None:
    """mremap(2) ``length`` bytes at ``old`` to exactly ``new`` (MREMAP_FIXED)."""
    ret = _libc.mremap(old, length, length, MREMAP_MAYMOVE | MREMAP_FIXED, new)
    if ret is None or ret == _MAP_FAILED:
        err = ctypes.get_errno()
        raise OSError(err, f"mremap({old:#x}): {os.strerror(err)}")


def munmap(addr: int, length: int) -> None:
    _check(_libc.munmap(addr, length), "munmap")


def mprotect(addr: int, length: int, prot: int) -> None:
    _check(_libc.mprotect(addr, length, prot), "mprotect")


def madvise(addr: int, length: int, advice: int) -> None:
    _check(_libc.madvise(addr, length, advice), f"madvise({advice})")


def vmsplice(pipe_fd: int, addr: int, length: int) -> int:
    """vmsplice(2) ``length`` bytes at ``addr`` into a pipe; returns the bytes queued.

    Each queued page holds a FOLL_GET reference taken by GUP (R/O: the pipe reads the
    memory), which is what CVE-2020-29374 abuses.
    """
    iov = IOVec(addr, length)
    ret = _libc.vmsplice(pipe_fd, ctypes.byref(iov), 1, 0)
    return _check(ret, "vmsplice")


def ioctl(fd: int, request: int, arg: ctypes.c_void_p | int | None) -> int:
    return _check(_libc.ioctl(fd, request, arg), f"ioctl({request:#x})")


def mount(source: str, target: str, fstype: str) -> None:
    _check(_libc.mount(source.encode(), target.encode(), fstype.encode(), 0, None), "mount")


def umount_detach(target: str) -> None:
    """umount2(MNT_DETACH): the mount disappears now; open files on it stay usable."""
    _check(_libc.umount2(target.encode(), MNT_DETACH), "umount2")


def set_parent_death_signal(sig: int) -> None:
    """prctl(PR_SET_PDEATHSIG): a forked child dies with its parent, never lingers."""
    _check(_libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0), "prctl")


def swapon(path: str) -> None:
    raw_syscall("swapon", ctypes.c_char_p(path.encode()), 0)


def swapoff(path: str) -> None:
    raw_syscall("swapoff", ctypes.c_char_p(path.encode()))


def write_memory(addr: int, data: bytes) -> None:
    """Store ``data`` at ``addr`` (the process's own write through its page table)."""
    ctypes.memmove(addr, data, len(data))


def read_memory(addr: int, length: int) -> bytes:
    """Load ``length`` bytes at ``addr`` (a read through the process's page table)."""
    return ctypes.string_at(addr, length)


def touch_read(addr: int) -> int:
    """Read one byte at ``addr``: a read fault if nothing is mapped there yet."""
    return ctypes.c_ubyte.from_address(addr).value


def write_counting_faults(addr: int, data: bytes) -> int:
    """Store ``data`` at ``addr`` and return the page faults the store took.

    Tells whether a write really faulted on a write-protected PTE. The count is the
    process's minor-fault counter around a bare memmove, with the rusage buffers
    preallocated and the same call sequence run once on a scratch buffer first, so that
    the interpreter's own first touches of fresh heap pages do not count.
    """
    before, after = _RUsage(), _RUsage()
    pb, pa = ctypes.byref(before), ctypes.byref(after)
    getrusage, memmove, n = _libc.getrusage, ctypes.memmove, len(data)
    scratch = ctypes.create_string_buffer(n)
    for target in (ctypes.addressof(scratch), addr):
        getrusage(0, pb)
        memmove(target, data, n)
        getrusage(0, pa)
    return after.ru_minflt - before.ru_minflt
