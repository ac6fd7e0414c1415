"""Progress of a long search, as the user's stderr can show it.

On a terminal, one live line (rich's status bar when the optional extra
``cowspec[progress]`` is installed, else a plain line redrawn in place) that disappears
when the search ends. Anywhere else (a CI log, ``| tee``), TLC's habit: a line with a
timestamp every ``interval`` seconds (60 by default), which a log keeps.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from explorer.engine.interface import Progress

#: Seconds between two progress lines in a log (TLC prints one a minute).
LOG_INTERVAL_S = 60.0
#: Seconds between two redraws of the live line on a terminal.
TERMINAL_INTERVAL_S = 0.5


def counts(p: Progress) -> str:
    rate = p.distinct_states / p.elapsed_s if p.elapsed_s > 0 else 0.0
    return (
        f"depth {p.depth}, {p.distinct_states:,} distinct, {p.total_states:,} generated, "
        f"queue {p.queue:,}, {rate:,.0f} distinct states/s"
    )


class LogLines:
    """``2026-12-04 14:31:07 progress: depth 9, 43,369 distinct, ...`` per call."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, p: Progress) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        print(f"{stamp} progress: {counts(p)}", file=self.stream, flush=True)

    def end(self) -> None:
        """Lines stay in the log."""


class LiveLine:
    """One line redrawn in place, erased at the end."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.shown = False

    def __call__(self, p: Progress) -> None:
        self.stream.write(f"\r\x1b[K  searching: {counts(p)}, {p.elapsed_s:.0f} s")
        self.stream.flush()
        self.shown = True

    def end(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False


class RichBar:
    """rich's live status: a pulsing bar (a BFS has no known total), counts, elapsed."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.bar = Progress(
            BarColumn(bar_width=8),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(file=stream),
            transient=True,
        )
        self.task = self.bar.add_task("", total=None)
        self.started = False

    def __call__(self, p: Progress) -> None:
        if not self.started:
            self.bar.start()
            self.started = True
        self.bar.update(self.task, description=counts(p))

    def end(self) -> None:
        if self.started:
            self.bar.stop()
            self.started = False


Reporter = LogLines | LiveLine | RichBar


def reporter(stream: TextIO | None = None) -> Reporter:
    """What suits ``stream`` (stderr by default): a live line on a terminal, else log lines."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return LogLines(stream)
    try:
        return RichBar(stream)
    except ImportError:
        return LiveLine(stream)


def default_interval(stream: TextIO | None = None) -> float:
    return TERMINAL_INTERVAL_S if (stream or sys.stderr).isatty() else LOG_INTERVAL_S


def end(progress: object) -> None:
    """Take a live display off the screen once its search is over (no-op otherwise)."""
    if isinstance(progress, LogLines | LiveLine | RichBar):
        progress.end()
