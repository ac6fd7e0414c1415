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

from explorer.kernelrun.children import Channel, Child
from explorer.kernelrun.facilities import Facilities
from explorer.kernelrun.memory import Region
from explorer.kernelrun.variants import FAMILIES, KIND_SUFFIX, Variant

#: Words for (good, bad) observations per model property.
OUTCOMES = {"Isolation": ("no leak", "leak"), "PinCoherent": ("coherent", "incoherent")}
READ_TIMEOUT_S = 300.0


def family_needs(family: str) -> tuple[str, ...]:
    """The facilities a memory family needs besides the binding's own."""
    needs = ("swap",) if family.endswith("swap") else ()
    if "thp" in family:
        needs += ("thp",)
    if family == "hugetlb":
        needs += ("hugetlb",)
    return needs


class ScenarioError(Exception):
    """The scenario could not be carried out as written (an unexpected failure)."""


@dataclass(frozen=True)
class Observation:
    """What the run showed: ``bad`` is the property's violation (leak / incoherent)."""

    bad: bool
    detail: str


def send_judgement(chan: Channel, obs: Observation) -> None:
    """The child's half of the cases where the child judges the parent's write: its
    observation as one line, which :func:`write_and_ask` reads."""
    chan.send(f"{int(obs.bad)}:{obs.detail}")


def write_and_ask(c: Child, region: Region, new: int) -> Observation:
    """The parent's last step of those cases: write pattern ``new`` into ``region``, tell
    the child, and return the child's judgement (:func:`send_judgement`) once it left."""
    region.write(new)
    c.send("written")
    bad, _, detail = c.recv().partition(":")
    c.wait()
    return Observation(bad=bad == "1", detail=detail)


class Binding(ABC):
    """Base class; subclasses set the class attributes and implement :meth:`observe`."""

    property: ClassVar[str]
    #: The memory families it runs on (cow.c's cases: every family).
    kinds: ClassVar[tuple[str, ...]] = FAMILIES
    needs: ClassVar[tuple[str, ...]] = ()
    #: Whether it runs on THP sizes below the PMD size (mTHP); the runner's own
    #: PMD-specific scenarios do not.
    mthp: ClassVar[bool] = True
    #: Why this kernel may disagree with the linux-5.19 model (written from real runs).
    explain: ClassVar[str] = ""

    @classmethod
    def name(cls) -> str:
        return cls.__name__

    @classmethod
    def model_scenario(cls, kind: str) -> str | None:
        """The model scenario of this binding on the model's memory ``kind`` (a family
        name that is also a model kind), or None when the model has no such kind."""
        suffix = KIND_SUFFIX.get(kind)
        return None if suffix is None else cls.name() + suffix

    @classmethod
    def scenario_for(cls, variant: Variant) -> str | None:
        """The model scenario that predicts ``variant``, or None ("no prediction")."""
        kind = variant.model_kind
        return None if kind is None else cls.model_scenario(kind)

    @classmethod
    def outcome(cls, bad: bool) -> str:
        return OUTCOMES[cls.property][bad]

    @classmethod
    def missing(cls, variant: Variant, facs: Facilities) -> str | None:
        """Why this binding cannot run on ``variant`` here, or None if it can."""
        needs = cls.needs + family_needs(variant.family)
        reasons = [facs.why_not(n) for n in needs if not facs.has(n)]
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
    def observe(self, variant: Variant, facs: Facilities) -> Observation:
        """Run the scenario on a fresh region of ``variant`` and report what was seen."""


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
