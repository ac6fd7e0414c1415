"""What a binding is: a kernel-model scenario turned into a program and an observation.

A binding names the model scenario it mirrors (its class name; the model scenario for a
memory kind is that name plus the kind's suffix), the memory kinds it runs on, the
facilities it needs, and the model property its "bad" observation stands for. Its
docstring carries the side-by-side table (model step => system calls) in a fixed form
that the conformance document reproduces, so code and documentation cannot drift apart.
"""

from __future__ import annotations

import inspect
import os
import select
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

from explorer.kernelrun.facilities import Facilities
from explorer.kernelrun.memory import KIND_SUFFIX

#: Words for (good, bad) observations per model property.
OUTCOMES = {"Isolation": ("no leak", "leak"), "PinCoherent": ("coherent", "incoherent")}
#: The facility each memory kind needs besides the binding's own.
KIND_NEEDS = {"base": (), "swap": ("swap",), "thp": ("thp",), "hugetlb": ("hugetlb",)}
READ_TIMEOUT_S = 20.0


class ScenarioError(Exception):
    """The scenario could not be carried out as written (an unexpected failure)."""


@dataclass(frozen=True)
class Observation:
    """What the run showed: ``bad`` is the property's violation (leak / incoherent)."""

    bad: bool
    detail: str


class Binding(ABC):
    """Base class; subclasses set the class attributes and implement :meth:`observe`."""

    property: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    needs: ClassVar[tuple[str, ...]] = ()
    #: Why this kernel may disagree with the linux-5.19 model (written from real runs).
    explain: ClassVar[str] = ""

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def model_scenario(cls, kind: str) -> str:
        return cls.name() + KIND_SUFFIX[kind]

    @classmethod
    def outcome(cls, bad: bool) -> str:
        return OUTCOMES[cls.property][bad]

    @classmethod
    def missing(cls, kind: str, facs: Facilities) -> str | None:
        """Why this binding cannot run on ``kind`` here, or None if it can."""
        reasons = [facs.why_not(n) for n in cls.needs + KIND_NEEDS[kind] if not facs.has(n)]
        return "; ".join(reasons) or None

    @classmethod
    def summary(cls) -> str:
        """The first paragraph of the docstring."""
        return inspect.getdoc(cls).split("\n\n", 1)[0].replace("\n", " ")

    @classmethod
    def steps(cls) -> list[tuple[str, str]]:
        """The (model step, system calls) pairs of the docstring's ``Steps`` block.

        Each step is ``model step => system calls``; a step starts at the block's first
        indentation and may continue on more deeply indented lines.
        """
        lines = inspect.getdoc(cls).splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("Steps"))
        texts: list[str] = []
        indent = None
        for line in lines[start + 1:]:
            if not line.strip():
                break
            depth = len(line) - len(line.lstrip())
            if indent is None or depth <= indent:
                indent = depth
                texts.append(line.strip())
            else:
                texts[-1] += " " + line.strip()
        pairs = []
        for text in texts:
            model, _, calls = text.partition("=>")
            pairs.append((model.strip(), calls.strip()))
        return pairs

    @classmethod
    def observation(cls) -> str:
        """The docstring's ``Observation:`` paragraph."""
        doc = inspect.getdoc(cls)
        text = doc[doc.index("Observation:") + len("Observation:"):]
        return " ".join(text.split("\n\n", 1)[0].split())

    @abstractmethod
    def observe(self, kind: str, facs: Facilities) -> Observation:
        """Run the scenario on a fresh region of ``kind`` and report what was seen."""


def read_exact(fd: int, length: int) -> bytes:
    """Read exactly ``length`` bytes from a pipe, or fail after a timeout."""
    chunks: list[bytes] = []
    got = 0
    while got < length:
        ready, _, _ = select.select([fd], [], [], READ_TIMEOUT_S)
        if not ready:
            raise ScenarioError(f"pipe read timed out after {got} of {length} bytes")
        chunk = os.read(fd, length - got)
        if not chunk:
            raise ScenarioError(f"pipe closed after {got} of {length} bytes")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def describe(seen: bytes, candidates: list[tuple[str, bytes]], what: str) -> str:
    """Say in words which candidate content ``seen`` equals, or how far it is from the first."""
    for label, data in candidates:
        if seen == data:
            return f"{what} {label}"
    first = candidates[0][1]
    diff = sum(1 for a, b in zip(seen, first, strict=False) if a != b)
    return f"{what} differs from {candidates[0][0]!r} in {diff} of {len(first)} bytes"
