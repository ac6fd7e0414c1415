"""One ``kernel-run --setup`` at a time.

``--setup`` snapshots the machine's swap and huge-page settings, changes them and restores
the snapshot at the end. Two such runs that overlap restore from each other's snapshots
and leak huge pages, so the setup takes an exclusive ``flock`` on a lock file first; a
second run refuses at once and names the run holding the lock. The kernel drops the lock
when its holder exits, however it exits, so a crashed run never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from explorer.kernelrun.machine_setup import SetupError


def default_lock_path() -> Path:
    """``/run`` (root's runtime directory, which ``--setup`` needs anyway), else the
    user's cache directory."""
    if os.access("/run", os.W_OK):
        return Path("/run/cowspec-kernel-run.lock")
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cowspec"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    return base / "kernel-run.lock"


class SetupLockHeld(SetupError):
    """Another ``--setup`` run holds the lock."""


class SetupLock:
    """``with SetupLock():`` the machine is this run's to change until the block ends."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_lock_path()
        self.fd: int | None = None

    def __enter__(self) -> SetupLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise SetupLockHeld(
                f"another kernel-run --setup (pid {holder}) is changing this machine's swap "
                f"and huge pages (lock {self.path}); wait for it to end and run again"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self.fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
