"""The THP and mTHP sysfs controls: which folio sizes exist and which are enabled.

cow.c runs every THP case once per folio size the kernel offers (the PMD size and every
mTHP size under /sys/kernel/mm/transparent_hugepage/hugepages-<size>kB), enabling one
size at a time so that the folio it gets is the one it asks for. The runner does the
same as root under ``--setup`` (which saves these settings and writes them back), and
otherwise uses a size only if the current settings already let MADV_HUGEPAGE get it.
"""

from __future__ import annotations

import os
import re

from explorer.kernelrun import procfs

THP_DIR = "/sys/kernel/mm/transparent_hugepage"
TOP_ENABLED = f"{THP_DIR}/enabled"
SIZE_DIR = re.compile(r"^hugepages-(\d+)kB$")


def selected(path: str) -> str:
    """The bracketed choice of a sysfs multiple-choice file ("always [madvise] never")."""
    text = procfs.read_text(path)
    m = re.search(r"\[(\w+)\]", text)
    return m.group(1) if m else text.strip()


def size_enabled_path(size: int) -> str:
    return f"{THP_DIR}/hugepages-{size // 1024}kB/enabled"


def sizes() -> list[int]:
    """Every anonymous THP folio size in bytes, ascending: the sizes with an enabled
    control (a size directory without one is not for anonymous memory), or only the PMD
    size on kernels before the per-size controls of 6.8."""
    try:
        names = os.listdir(THP_DIR)
    except OSError:
        return []
    found = sorted(int(m.group(1)) * 1024 for n in names
                   if (m := SIZE_DIR.match(n)) and os.path.exists(f"{THP_DIR}/{n}/enabled"))
    if found:
        return found
    try:
        return [procfs.read_int(f"{THP_DIR}/hpage_pmd_size")]
    except OSError:
        return []


def controls() -> list[str]:
    """Every enabled-file the runner may change: the global one and one per size."""
    paths = [TOP_ENABLED] if os.path.exists(TOP_ENABLED) else []
    return paths + [p for s in sizes() if os.path.exists(p := size_enabled_path(s))]


def snapshot() -> dict[str, str]:
    """The current choice of every control, to be written back by :func:`restore`."""
    return {path: selected(path) for path in controls()}


def restore(saved: dict[str, str]) -> list[str]:
    """Write ``saved`` back; returns the controls that do not read back as saved."""
    wrong = []
    for path, value in saved.items():
        if selected(path) != value:
            procfs.write_text(path, value)
        if selected(path) != value:
            wrong.append(f"{path} is [{selected(path)}], not [{value}]")
    return wrong


def madvise_gets(size: int) -> bool:
    """Whether MADV_HUGEPAGE memory may get a folio of ``size`` with the current settings."""
    path = size_enabled_path(size)
    if not os.path.exists(path):
        return os.path.exists(TOP_ENABLED) and selected(TOP_ENABLED) != "never"
    mode = selected(path)
    if mode == "inherit":
        mode = selected(TOP_ENABLED)
    return mode in ("always", "madvise")


def enable_only(size: int) -> None:
    """(root) Let MADV_HUGEPAGE memory get folios of ``size`` and of no other size.

    A control the kernel refuses to change is left as it is: the variant's own check
    (:func:`madvise_gets`, then the population test) turns that into a skip.
    """
    wanted = [(size_enabled_path(s), "madvise" if s == size else "never") for s in sizes()]
    if os.path.exists(TOP_ENABLED) and selected(TOP_ENABLED) == "never":
        wanted.append((TOP_ENABLED, "madvise"))
    for path, want in wanted:
        if os.path.exists(path) and selected(path) != want:
            try:
                procfs.write_text(path, want)
            except OSError:
                pass
