"""The limits of a search (time, memory) and its progress reports.

Engines call :meth:`Limits.poll` between units of work (every ``POLL_EVERY`` states, every
batch, every phase): there a stop is clean and the progress line is written. That alone is
not enough for hard limits: one state with 90,000 successors, one expensive invariant, one
numpy batch or a worker's memory can run far past ``--timeout`` or ``--max-memory``
between two polls. So while an engine searches (:meth:`Limits.guard`), a watchdog thread
looks at the clock and at the memory of the whole process tree (this process, its worker
processes and their shared-memory folders) several times a second, and on a breach
interrupts the main thread as Ctrl-C would; the engine's handler then records the limit
(:meth:`Limits.stop_reason`) instead of "interrupted". The state and depth limits are the
engines' own, since they cut at an exact transition.
"""

from __future__ import annotations

import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from explorer.engine.interface import Options, Progress
from explorer.result import StopReason

#: Dequeued states between two looks at the clock; every tenth look also reads the RSS.
POLL_EVERY = 1000


def rss_mb() -> float:
    """Resident memory now (Linux), else the peak: an earlier model's peak in the same
    process must not stop the next model's search."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


#: Seconds between two looks of the watchdog.
WATCH_EVERY = 0.05


def descendants(pid: int) -> list[int]:
    """The processes below ``pid`` (Linux ``/proc``: each thread's ``children`` file)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{p}/task/{task}/children", "rb") as f:
                    kids = [int(k) for k in f.read().split()]
            except (OSError, ValueError):
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def resident_mb(pid: int) -> float:
    """Resident memory of one process, 0 when it is gone."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


def shared_memory_mb(pid: int) -> float:
    """What the workers of process ``pid`` keep in /dev/shm (``cowspec-PID-*`` folders,
    :mod:`explorer.engine.workers`): tmpfs pages count against the machine's memory."""
    total = 0
    for folder in Path("/dev/shm").glob(f"cowspec-{pid}-*"):
        for f in folder.rglob("*"):
            try:
                total += f.stat().st_size
            except OSError:
                continue
    return total / 2**20


def tree_mb() -> float:
    """Resident memory of this process and every process below it, plus their shared
    memory: what ``--max-memory`` bounds."""
    me = os.getpid()
    return (rss_mb() + sum(resident_mb(p) for p in descendants(me))
            + shared_memory_mb(me))


class Limits:
    """``--timeout``, ``--max-memory`` and the progress callback of one search."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.t0 = time.monotonic()
        self.last_progress = self.t0
        #: The limit the watchdog enforced, if it did.
        self.breached: StopReason | None = None
        self.lock = threading.Lock()
        self.searching = False

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Hard ``--timeout`` and ``--max-memory`` for the search inside: a breach raises
        KeyboardInterrupt in the main thread, wherever it is (use :meth:`stop_reason` in
        the handler). Without either limit, or off the main thread, it does nothing."""
        opts = self.options
        if ((opts.timeout_s is None and opts.max_memory_mb is None)
                or threading.current_thread() is not threading.main_thread()):
            yield
            return
        self.searching = True
        watchdog = threading.Thread(target=self.watch, name="cowspec-limits", daemon=True)
        watchdog.start()
        try:
            yield
        finally:
            with self.lock:
                self.searching = False

    def watch(self) -> None:
        """The watchdog's loop: at most one interrupt, and none once the search is over."""
        opts = self.options
        main = threading.main_thread().ident
        while True:
            time.sleep(WATCH_EVERY)
            breach: StopReason | None = None
            if opts.timeout_s is not None and time.monotonic() - self.t0 >= opts.timeout_s:
                breach = "timeout"
            elif opts.max_memory_mb is not None and tree_mb() > opts.max_memory_mb:
                breach = "max_memory"
            with self.lock:
                if not self.searching:
                    return
                if breach is not None:
                    self.breached = breach
                    assert main is not None
                    signal.pthread_kill(main, signal.SIGINT)
                    return

    def stop_reason(self) -> StopReason:
        """Why a KeyboardInterrupt stopped the search: a limit the watchdog enforced, or
        the user (Ctrl-C, SIGTERM, SIGHUP)."""
        return self.breached or "interrupted"

    def elapsed(self) -> float:
        return time.monotonic() - self.t0

    def poll(self, polls: int, progress: Callable[[float], Progress]) -> StopReason | None:
        """Why the search must stop now, if it must; reports progress when it is time.
        ``polls`` counts the calls (memory is read on every tenth); ``progress(elapsed)``
        describes the search."""
        opts = self.options
        now = time.monotonic()
        stop: StopReason | None = None
        if opts.timeout_s is not None and now - self.t0 >= opts.timeout_s:
            stop = "timeout"
        elif opts.max_memory_mb is not None and polls % 10 == 0 and tree_mb() > opts.max_memory_mb:
            stop = "max_memory"
        if opts.progress is not None and now - self.last_progress >= opts.progress_interval_s:
            opts.progress(progress(now - self.t0))
            self.last_progress = now
        return stop
