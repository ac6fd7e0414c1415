"""Files in the user's own cache directory, read only when nobody else can have written them.

cowspec keeps what it can rebuild (the built parser, :mod:`pyspec.grammar_cache`; parsed
spec files, :mod:`pyspec.parse_cache`) under ``$XDG_CACHE_HOME/cowspec`` (else
``~/.cache/cowspec``). Whoever can write those files decides what the next run sees (as
root under ``kernel-run --setup``), so the directories are created private (0700), a file
is written whole under a temporary name and renamed into place (0600: a reader never sees
half a file), and a file is read only when it is a regular file, not a link, of at most a
given size, owned by the user, that neither group nor others may write, in a directory of
the same kind. Anything else reads as absent, and the caller rebuilds what it holds.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from pyspec.sourcefiles import read_at_most


def cache_dir() -> Path:
    """The user's own cache directory of cowspec, never a shared temporary one."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cowspec"


def trusted(st: os.stat_result) -> bool:
    """Ours, and nobody else may write it."""
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def read_private(path: Path, max_bytes: int) -> bytes | None:
    """The contents of ``path`` when it is trusted (see the module's docstring), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not (stat.S_ISREG(st.st_mode) and trusted(st) and st.st_size <= max_bytes
                and trusted(os.stat(path.parent))):
            return None
        data = read_at_most(fd, max_bytes)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= max_bytes else None


def private_dir(folder: Path) -> bool:
    """Create ``folder`` and the cowspec directory above it (0700) if needed; whether both
    are ours and now private."""
    base = cache_dir()
    try:
        for level in (base, folder) if folder.is_relative_to(base) else (folder,):
            level.mkdir(parents=True, exist_ok=True, mode=0o700)
            st = os.stat(level)
            if st.st_uid != os.getuid() or not stat.S_ISDIR(st.st_mode):
                return False
            if stat.S_IMODE(st.st_mode) & 0o077:
                os.chmod(level, 0o700)
    except OSError:
        return False
    return True


def write_private(path: Path, data: bytes) -> bool:
    """Write ``data`` to ``path`` atomically (0600) in a private directory; whether it
    was written. Best effort: a cache that cannot be written only costs the next run time."""
    folder = path.parent
    if not private_dir(folder):
        return False
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=path.suffix)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        return False
    return True
