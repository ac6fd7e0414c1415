"""The kernel model as shipped: where its spec files are, and which model is the reference.

The specs ship inside the package as data (``explorer/specs`` is a link to the source
tree's ``spec/``; pyproject.toml lists the files), so that ``pip install .`` without
``-e`` and then ``cowspec kernel-run`` still finds them. In a source tree the link
resolves to ``spec/`` itself, so paths shown to the user stay ``spec/kernel/...``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

#: The model others are compared with: the kernel the series produced.
REFERENCE_MODEL = "linux-5.19"


def kernel_spec_dir() -> Path:
    """The directory of the kernel model's top-level specs (``spec/kernel``)."""
    return Path(str(files("explorer") / "specs" / "kernel")).resolve()


def kernel_specs() -> list[Path]:
    """The kernel model's top-level spec files, sorted."""
    return sorted(kernel_spec_dir().glob("*.cow"))
