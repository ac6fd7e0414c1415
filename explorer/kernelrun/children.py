"""fork() with a line-based channel, and the guarantee that no child outlives the runner.

The scenarios need a second process that shares the parent's anonymous memory at the
moment of fork (the "C" of the kernel model). The child runs a Python function and leaves
with ``os._exit``, never returning into the caller's stack (no duplicated cleanup, no
test-runner output). Every child is registered until it is reaped: ``close()`` kills and
reaps it, and an atexit hook does the same for any the caller forgot, so neither an
error nor Ctrl-C leaves a process behind. The child also dies with its parent
(PR_SET_PDEATHSIG), which covers a SIGKILL of the runner itself.
"""

from __future__ import annotations

import atexit
import os
import select
import signal
import traceback
from collections.abc import Callable

from explorer.kernelrun import syscalls as sc

#: How long one side waits for the other: a 1 GB hugetlb case copies, compares and
#: writes through io_uring gigabytes in Python on a busy machine.
TIMEOUT_S = 300.0

_live: dict[int, Child] = {}


class ChildError(Exception):
    """The child failed, died, or did not answer in time.

    ``exc_type`` names the exception the child raised ("" when it died or hung), so the
    parent can treat a child's KindUnavailable as the skip it is.
    """

    def __init__(self, message: str, exc_type: str = "") -> None:
        super().__init__(message)
        self.exc_type = exc_type


class Channel:
    """One end of a pair of pipes carrying short ASCII lines."""

    def __init__(self, rfd: int, wfd: int) -> None:
        self.rfd, self.wfd = rfd, wfd
        self._buf = b""

    def send(self, line: str) -> None:
        os.write(self.wfd, line.encode() + b"\n")

    def recv(self, timeout: float = TIMEOUT_S) -> str:
        """The next line; ChildError when the peer closed the pipe or stayed silent."""
        while b"\n" not in self._buf:
            ready, _, _ = select.select([self.rfd], [], [], timeout)
            if not ready:
                raise ChildError(f"no answer within {timeout:.0f} s")
            chunk = os.read(self.rfd, 4096)
            if not chunk:
                raise ChildError("the other process closed its channel (it died)")
            self._buf += chunk
        line, _, self._buf = self._buf.partition(b"\n")
        return line.decode()

    def close(self) -> None:
        for fd in (self.rfd, self.wfd):
            try:
                os.close(fd)
            except OSError:
                pass


class Child:
    """A forked process running ``fn(channel)``; the parent talks to it via ``channel``.

    A line starting with ``error:`` from the child is raised as ChildError by
    :meth:`recv`, so a child's failure always surfaces in the parent.
    """

    def __init__(self, fn: Callable[[Channel], None]) -> None:
        p2c_r, p2c_w = os.pipe()
        c2p_r, c2p_w = os.pipe()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            status = 1
            try:
                os.close(p2c_w)
                os.close(c2p_r)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                sc.set_parent_death_signal(signal.SIGKILL)
                if os.getppid() != parent:
                    os._exit(1)
                chan = Channel(p2c_r, c2p_w)
                try:
                    fn(chan)
                    status = 0
                except BaseException as e:  # report, then leave through os._exit
                    last = traceback.extract_tb(e.__traceback__)[-1]
                    where = f"{os.path.basename(last.filename)}:{last.lineno}"
                    chan.send(f"error:{type(e).__name__}:{e} ({where})".replace("\n", " "))
            finally:
                os._exit(status)
        os.close(p2c_r)
        os.close(c2p_w)
        self.pid = pid
        self.channel = Channel(c2p_r, p2c_w)
        _live[pid] = self

    def send(self, line: str) -> None:
        self.channel.send(line)

    def recv(self, timeout: float = TIMEOUT_S) -> str:
        line = self.channel.recv(timeout)
        if line.startswith("error:"):
            exc_type, _, message = line[6:].partition(":")
            raise ChildError(f"child: {exc_type}: {message}", exc_type)
        return line

    def wait(self, timeout: float = TIMEOUT_S) -> int:
        """Wait for a normal exit; returns the exit status, ChildError if killed or stuck."""
        deadline_polls = int(timeout / 0.01)
        for _ in range(deadline_polls):
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                _live.pop(self.pid, None)
                self.channel.close()
                if os.WIFSIGNALED(status):
                    sig = signal.Signals(os.WTERMSIG(status)).name
                    raise ChildError(f"child killed by {sig}")
                return os.WEXITSTATUS(status)
            select.select([], [], [], 0.01)
        raise ChildError(f"child did not exit within {timeout:.0f} s")

    def close(self) -> None:
        """Kill (if still running) and reap; idempotent."""
        if _live.pop(self.pid, None) is None:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(self.pid, 0)
        self.channel.close()

    def __enter__(self) -> Child:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def live_children() -> list[int]:
    """PIDs of children started here and not yet reaped (for tests and diagnostics)."""
    return sorted(_live)


def reap_all() -> None:
    """Kill and reap every child still registered."""
    for child in list(_live.values()):
        child.close()


atexit.register(reap_all)
