"""Diagnostics: every problem in a spec as ``file:line:col: error[CODE]: message``.

Each pass (parser, name resolution, type checks, model instantiation) collects
diagnostics instead of stopping at the first, so a user fixes a whole batch at once.
The codes are stable and documented in ``docs/language.md``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pyspec.exit_codes import EXIT_MODEL_ERROR, EXIT_SPEC_ERROR
from pyspec.model import SourcePos

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Diagnostic:
    """One finding. ``source_line`` is the offending line, kept for the caret display."""

    code: str
    message: str
    pos: SourcePos | None
    severity: Severity = "error"
    source_line: str | None = field(default=None, compare=False)

    def render(self) -> str:
        where = f"{self.pos}: " if self.pos else ""
        text = f"{where}{self.severity}[{self.code}]: {self.message}"
        if self.pos and self.source_line is not None:
            line = self.source_line.rstrip("\n").replace("\t", " ")
            caret = " " * (max(self.pos.col, 1) - 1) + "^"
            text += f"\n    {line}\n    {caret}"
        return text


class SourceCache:
    """Reads source lines on demand so diagnostics can show the offending line."""

    def __init__(self) -> None:
        self._texts: dict[str, list[str]] = {}

    def add(self, file: str, text: str) -> None:
        self._texts[file] = text.splitlines()

    def line(self, pos: SourcePos | None) -> str | None:
        if pos is None:
            return None
        lines = self._texts.get(pos.file)
        if lines is None:
            try:
                lines = Path(pos.file).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                return None
            self._texts[pos.file] = lines
        if 1 <= pos.line <= len(lines):
            return lines[pos.line - 1]
        return None


class SpecError(Exception):
    """The spec does not parse or does not check (exit code 150)."""

    exit_code = EXIT_SPEC_ERROR

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        errors = [d for d in diagnostics if d.severity == "error"]
        super().__init__(errors[0].render() if errors else "spec error")

    def render(self) -> str:
        errors = sum(1 for d in self.diagnostics if d.severity == "error")
        body = "\n".join(d.render() for d in self.diagnostics)
        return f"{body}\n{errors} error{'s' if errors != 1 else ''}"


class ModelConfigError(Exception):
    """A model or option that does not fit the spec: unknown model name, bad ``-D``
    value, a constant that does not exist (exit code 151)."""

    exit_code = EXIT_MODEL_ERROR

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.message = message
        self.diagnostics = diagnostics or []
        self.code = code

    def render(self) -> str:
        head = f"error[{self.code}]" if self.code else "error"
        lines = [f"{head}: {self.message}"] + [d.render() for d in self.diagnostics]
        return "\n".join(lines)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """A hint naming the candidate closest to a misspelt ``name`` (``"; did you mean
    'pinned'?"``), or ``""`` when none is close."""
    close = difflib.get_close_matches(name, sorted(set(candidates)), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""
