"""A minimal io_uring, raw system calls only: enough for fixed buffers and WRITE_FIXED.

Registering a buffer (IORING_REGISTER_BUFFERS) is the one way an unprivileged program
takes a long-term R/W FOLL_PIN (FOLL_PIN | FOLL_WRITE | FOLL_LONGTERM) on its own
anonymous memory. An IORING_OP_WRITE_FIXED then copies from the *pinned pages* into a
file, so comparing the file with what the process reads through its page table tells
whether the pin still refers to the page mapped at that address. liburing is not
available without a C toolchain, hence this small ring of one entry.
"""

from __future__ import annotations

import ctypes
import mmap as _mmap
import os

from explorer.kernelrun import syscalls as sc

IORING_OFF_SQ_RING = 0
IORING_OFF_CQ_RING = 0x8000000
IORING_OFF_SQES = 0x10000000
IORING_ENTER_GETEVENTS = 1
IORING_REGISTER_BUFFERS = 0
IORING_UNREGISTER_BUFFERS = 1
IORING_OP_WRITE_FIXED = 5
SQE_SIZE = 64
CQE_SIZE = 16


class _SQOffsets(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in (
        "head", "tail", "ring_mask", "ring_entries", "flags", "dropped", "array", "resv1")
    ] + [("user_addr", ctypes.c_uint64)]


class _CQOffsets(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in (
        "head", "tail", "ring_mask", "ring_entries", "overflow", "cqes", "flags", "resv1")
    ] + [("user_addr", ctypes.c_uint64)]


class _Params(ctypes.Structure):
    _fields_ = [(n, ctypes.c_uint32) for n in (
        "sq_entries", "cq_entries", "flags", "sq_thread_cpu", "sq_thread_idle", "features",
        "wq_fd")] + [("resv", ctypes.c_uint32 * 3), ("sq_off", _SQOffsets),
                     ("cq_off", _CQOffsets)]


class _SQE(ctypes.Structure):
    _fields_ = [
        ("opcode", ctypes.c_uint8), ("flags", ctypes.c_uint8), ("ioprio", ctypes.c_uint16),
        ("fd", ctypes.c_int32), ("off", ctypes.c_uint64), ("addr", ctypes.c_uint64),
        ("len", ctypes.c_uint32), ("rw_flags", ctypes.c_uint32), ("user_data", ctypes.c_uint64),
        ("buf_index", ctypes.c_uint16), ("personality", ctypes.c_uint16),
        ("splice_fd_in", ctypes.c_int32), ("addr3", ctypes.c_uint64), ("pad", ctypes.c_uint64),
    ]


class _CQE(ctypes.Structure):
    _fields_ = [("user_data", ctypes.c_uint64), ("res", ctypes.c_int32),
                ("flags", ctypes.c_uint32)]


assert ctypes.sizeof(_Params) == 120 and ctypes.sizeof(_SQE) == SQE_SIZE
assert ctypes.sizeof(_CQE) == CQE_SIZE


class Ring:
    """An io_uring with one submission entry, used synchronously.

    Use as a context manager: leaving it unregisters buffers, unmaps the rings and
    closes the ring fd, which drops every pin it holds.
    """

    def __init__(self) -> None:
        params = _Params()
        self.fd = sc.raw_syscall("io_uring_setup", 1, ctypes.addressof(params))
        self._maps: list[_mmap.mmap] = []
        self._registered = False
        try:
            sq, cq = params.sq_off, params.cq_off
            sq_len = sq.array + params.sq_entries * 4
            cq_len = cq.cqes + params.cq_entries * CQE_SIZE
            self._sq = self._map(sq_len, IORING_OFF_SQ_RING)
            self._cq = self._map(cq_len, IORING_OFF_CQ_RING)
            self._sqes = self._map(params.sq_entries * SQE_SIZE, IORING_OFF_SQES)
            self._sq_off, self._cq_off = sq, cq
        except BaseException:
            self.close()
            raise

    def _map(self, length: int, offset: int) -> int:
        m = _mmap.mmap(self.fd, length, _mmap.MAP_SHARED, _mmap.PROT_READ | _mmap.PROT_WRITE,
                       offset=offset)
        self._maps.append(m)
        return ctypes.addressof(ctypes.c_char.from_buffer(m))

    def _u32(self, base: int, off: int) -> ctypes.c_uint32:
        return ctypes.c_uint32.from_address(base + off)

    def register_buffer(self, addr: int, length: int) -> None:
        """IORING_REGISTER_BUFFERS: a long-term R/W FOLL_PIN on ``[addr, addr+length)``."""
        iov = sc.IOVec(addr, length)
        sc.raw_syscall("io_uring_register", self.fd, IORING_REGISTER_BUFFERS,
                       ctypes.addressof(iov), 1)
        self._registered = True

    def write_fixed(self, file_fd: int, addr: int, length: int) -> int:
        """IORING_OP_WRITE_FIXED from registered buffer 0 to ``file_fd`` at offset 0.

        The kernel copies from the pinned pages, not through the page table. Returns the
        completion result (bytes written); a negative result becomes OSError.
        """
        sq_mask = self._u32(self._sq, self._sq_off.ring_mask).value
        tail = self._u32(self._sq, self._sq_off.tail)
        index = tail.value & sq_mask
        sqe = _SQE.from_address(self._sqes + index * SQE_SIZE)
        ctypes.memset(ctypes.addressof(sqe), 0, SQE_SIZE)
        sqe.opcode = IORING_OP_WRITE_FIXED
        sqe.fd = file_fd
        sqe.addr = addr
        sqe.len = length
        sqe.buf_index = 0
        sqe.user_data = 0xC0FFEE
        self._u32(self._sq, self._sq_off.array + index * 4).value = index
        tail.value = tail.value + 1
        sc.raw_syscall("io_uring_enter", self.fd, 1, 1, IORING_ENTER_GETEVENTS, None, 0)
        head = self._u32(self._cq, self._cq_off.head)
        cq_mask = self._u32(self._cq, self._cq_off.ring_mask).value
        if head.value == self._u32(self._cq, self._cq_off.tail).value:
            raise OSError(5, "io_uring: no completion after io_uring_enter")
        cqe = _CQE.from_address(self._cq + self._cq_off.cqes + (head.value & cq_mask) * CQE_SIZE)
        res = cqe.res
        head.value = head.value + 1
        if res < 0:
            raise OSError(-res, f"io_uring WRITE_FIXED: {os.strerror(-res)}")
        return res

    def close(self) -> None:
        """Unregister (unpin), unmap the rings and close the ring; safe to call twice."""
        if self.fd < 0:
            return
        if self._registered:
            try:
                sc.raw_syscall("io_uring_register", self.fd, IORING_UNREGISTER_BUFFERS, None, 0)
            except OSError:
                pass  # closing the ring below drops the pins all the same
            self._registered = False
        for m in self._maps:
            m.close()
        self._maps.clear()
        os.close(self.fd)
        self.fd = -1

    def __enter__(self) -> Ring:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
