"""A perf map of a loaded module's machine code, so that ``perf`` names its functions.

Linux's ``perf`` attributes a sample to a function through the symbols of the file the
code was mapped from; code an MCJIT engine copied into memory has none, and its samples
show as bare addresses. perf reads ``/tmp/perf-PID.map`` for such code (the convention
JIT runtimes follow: Node's ``--perf-basic-prof``, CPython 3.12's ``-X perf``): a line
``START SIZE NAME`` per function, in hex. With ``COWSPEC_PERF_MAP=1`` set, every module
the compiled engine loads adds its functions there, each at the address the engine put
it and with the size the object file's symbol table gives it, the model's actions,
checks and defs included (``a_Fault``, ``c_Isolation``, ``d_unaffected``, under the
lowering's numbered names), so that ``perf record`` then ``perf report`` of a
``cowspec check`` show where its search spends its time, function by function
(docs/performance.md, "Profiling the machine code").

Only the object file's ELF symbol table is read, with :mod:`struct` (ELF64, little
endian, as LLVM emits for x86-64 and AArch64 Linux): no binutils needed.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path

#: The environment variable that turns the map on.
ENVIRONMENT = "COWSPEC_PERF_MAP"
_SHT_SYMTAB = 2
_STT_FUNC = 2


def enabled() -> bool:
    """Whether loaded modules are to be written to the perf map."""
    return os.environ.get(ENVIRONMENT, "") not in ("", "0")


def map_path() -> Path:
    """The map perf reads for this process."""
    return Path(f"/tmp/perf-{os.getpid()}.map")  # noqa: S108 - the path perf reads


def functions(obj: bytes) -> Iterator[tuple[str, int]]:
    """The defined functions of an ELF64 little-endian object file and their sizes in
    bytes, in symbol table order; nothing for another format."""
    if obj[:4] != b"\x7fELF" or obj[4] != 2 or obj[5] != 1:
        return
    shoff, = struct.unpack_from("<Q", obj, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", obj, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", obj, shoff + i * shentsize)
                for i in range(shnum)]
    for _, kind, _, _, offset, size, link, _, _, entsize in sections:
        if kind != _SHT_SYMTAB:
            continue
        strtab_offset = sections[link][4]
        for at in range(offset, offset + size, entsize):
            name_at, info, _, shndx, _, sym_size = struct.unpack_from("<IBBHQQ", obj, at)
            if info & 0xF != _STT_FUNC or shndx == 0 or sym_size == 0:
                continue
            end = obj.index(b"\0", strtab_offset + name_at)
            yield obj[strtab_offset + name_at:end].decode(), sym_size


def append(obj: bytes, address_of: Callable[[str], int]) -> None:
    """Add the functions of a loaded object file to this process's perf map, each at the
    address ``address_of`` gives it (0: not loaded, left out). Best effort, as the cache
    is: a map that cannot be written costs the profile its names, not the run."""
    lines = []
    for name, size in functions(obj):
        address = address_of(name)
        if address:
            lines.append(f"{address:x} {size:x} {name}\n")
    try:
        with map_path().open("a", encoding="ascii") as out:
            out.writelines(lines)
    except OSError:
        return
