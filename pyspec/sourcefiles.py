"""Which files a spec may open, and reading them safely.

A spec names its imports, so a spec from elsewhere must not make cowspec read whatever
it likes: ``/dev/zero`` would grow memory without bound, a FIFO or ``/dev/urandom`` would
hang, and an error message could show a line of a private file. So an import resolves to
a regular file under the main spec's directory or an ``--include`` directory; an absolute
path, a ``..`` step or a symbolic link leading elsewhere needs ``--allow-outside``; every
file (the main spec too) must be a regular file of at most :data:`MAX_SPEC_BYTES`.
Refusals never quote the file's contents. A file that is not UTF-8 is reported at the
line and column of its first bad byte.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

#: The largest spec file cowspec reads (the kernel model's biggest file is about 30 KB).
MAX_SPEC_BYTES = 4 * 2**20


@dataclass(frozen=True)
class ImportPolicy:
    """Where imports may come from: the main spec's directory, then ``include``."""

    include: tuple[Path, ...] = ()
    allow_outside: bool = False


class SourceFileError(Exception):
    """A file cannot be used as spec source. ``line``/``col`` (1-based) point into the
    file itself when the problem is in its text (a byte that is not UTF-8)."""

    def __init__(self, message: str, line: int | None = None, col: int | None = None,
                 source_line: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col
        self.source_line = source_line


def resolve_import(importer: Path, target: str, root: Path, policy: ImportPolicy) -> Path:
    """The file ``import "target"`` in ``importer`` names, or :class:`SourceFileError`.

    Relative to the importing file first, then to each include directory, as C's
    ``-I``."""
    written = Path(target)
    escapes = written.is_absolute() or ".." in written.parts
    if escapes and not policy.allow_outside:
        raise SourceFileError(f"import \"{target}\" is an absolute path or steps out with "
                              "'..': allowed only with --allow-outside")
    candidates = [importer.parent / written]
    if not written.is_absolute():
        candidates += [d / written for d in policy.include]
    found = next((c for c in candidates if os.path.lexists(c)), candidates[0])
    if not policy.allow_outside:
        real = found.resolve()
        allowed = [root.resolve(), *(d.resolve() for d in policy.include)]
        if not any(real.is_relative_to(d) for d in allowed):
            raise SourceFileError(
                f"import \"{target}\" leads to {real}, outside the spec's directory "
                f"{allowed[0]} and the include directories (--include DIR, --allow-outside)")
    return found


def read_at_most(fd: int, limit: int) -> bytes:
    """What an open file holds, read up to one byte past ``limit``: a result longer than
    ``limit`` means the file is too large, whatever its size said when it was checked."""
    chunks, size = [], 0
    while size <= limit:
        chunk = os.read(fd, limit + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def read_source(path: Path) -> str:
    """The text of a spec file: a regular file of at most :data:`MAX_SPEC_BYTES`, UTF-8.

    Opened without blocking (a FIFO must not hang) and checked on the open descriptor,
    so a file swapped after the check cannot slip through."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    except OSError as exc:
        raise SourceFileError(f"cannot read {path}: {exc.strerror or 'cannot open'}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise SourceFileError(f"cannot read {path}: it is {_kind(mode)}, not a regular file")
        data = read_at_most(fd, MAX_SPEC_BYTES)
    except OSError as exc:
        raise SourceFileError(f"cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > MAX_SPEC_BYTES:
        raise SourceFileError(f"cannot read {path}: it is larger than {MAX_SPEC_BYTES:,} "
                              "bytes, the most a spec file may have")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, data, exc) from None


def _not_utf8(path: Path, data: bytes, exc: UnicodeDecodeError) -> SourceFileError:
    """Where the first bad byte is, as a line and column of the text around it."""
    start = data.rfind(b"\n", 0, exc.start) + 1
    end = data.find(b"\n", exc.start)
    line = data.count(b"\n", 0, exc.start) + 1
    col = len(data[start:exc.start].decode("utf-8", errors="replace")) + 1
    text = data[start:end if end >= 0 else len(data)].decode("utf-8", errors="replace")
    return SourceFileError(f"{path} is not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be "
                           "decoded", line, col, text)


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"
