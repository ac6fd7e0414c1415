"""The limits of a search (time, memory) and its progress reports, looked at now and then.

Engines call :meth:`Limits.poll` between units of work (every ``POLL_EVERY`` states, every
batch, every phase); the state and depth limits are the engines' own, since they cut at
an exact transition.
"""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

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


class Limits:
    """``--timeout``, ``--max-memory`` and the progress callback of one search."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.t0 = time.monotonic()
        self.last_progress = self.t0

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
        elif opts.max_memory_mb is not None and polls % 10 == 0 and rss_mb() > opts.max_memory_mb:
            stop = "max_memory"
        if opts.progress is not None and now - self.last_progress >= opts.progress_interval_s:
            opts.progress(progress(now - self.t0))
            self.last_progress = now
        return stop
